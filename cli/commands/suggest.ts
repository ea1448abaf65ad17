import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { visible } from "../../compiler/diagnostics/visible.js";
import { shown as shownValue } from "../../compiler/passes/resources.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import type { Plan } from "../../contract/plan.js";
import { readMeasurements, type ReadResult } from "../../runtime/suggest/measurements.js";
import { isSuggested, MIN_JOBS, RULES, suggest, type NotSuggested, type Suggested, type Suggestion } from "../../runtime/suggest/rules.js";
import { errorLine, ExitCode, status, type Io } from "../io.js";
import { linkNoClobber } from "./config.js";
import { printDiagnostics } from "../print-diagnostics.js";
import { planFor, type PlanSource } from "./plan-for.js";
import { suggestedConfigText, SUGGEST_MARKER } from "./suggest-file.js";

export interface SuggestCommandOptions extends PlanSource {
  /** `-o FILE`: write the suggestions as a config file. */
  readonly output?: string;
  /** Replace `-o FILE` even when wfc did not write it. */
  readonly force: boolean;
  /** `--plan FILE`: a plan or a workflow, for what the stages request now (default: the newest run's plan). */
  readonly plan?: string;
  /** For the written file's header; a parameter so tests can fix it. */
  readonly now?: Date;
}

/**
 * `wfc suggest [DIR|TRACE ...] [-o FILE]`: what each stage's jobs used →
 * what they should request (runtime/suggest/rules.ts), printed as current
 * vs suggested with the rule, and on request written as a config file of
 * `[resources.STAGE]` tables that the next compile reads. 2 when an input
 * cannot be read, nothing was measured, or `-o` names a file wfc did not write.
 */
export async function suggestCommand(inputs: readonly string[], options: SuggestCommandOptions, io: Io): Promise<number> {
  // `--plan` first: it also tells an export's measured steps apart by stage.
  let given: Plan | undefined;
  if (options.plan !== undefined) {
    const planned = await planFor(options.plan, options, io);
    if (typeof planned === "number") return planned;
    given = planned.plan;
  }
  const read = readMeasurements(inputs.length === 0 ? ["."] : inputs, io.cwd, given);
  if (read.problems.length > 0) {
    const diagnostics: Diagnostic[] = read.problems.map((p) => ({
      severity: "error",
      code: "WFC306",
      message: p.message,
      location: { file: p.file },
      help: p.help,
    }));
    printDiagnostics(diagnostics, () => undefined, "wfc suggest's inputs", io);
    return ExitCode.invalid;
  }
  if (read.measurements.length === 0) {
    const shown = read.sources.map((s) => s.path).join(", ");
    printDiagnostics(
      [
        {
          severity: "error",
          code: "WFC307",
          message: `no measured jobs in ${shown}: its records carry no usage`,
          location: { file: read.sources[0]?.path ?? "." },
          help: "run the workflow with a wfc that measures jobs (`wfc run --force` measures every job again), then ask again",
        },
      ],
      () => undefined,
      "wfc suggest's inputs",
      io,
    );
    return ExitCode.invalid;
  }

  const plan: Plan | undefined = given ?? read.newestRun?.plan;
  const planFrom = given !== undefined ? options.plan : read.newestRun?.path;
  const all = suggest(read.measurements, plan);
  const known = new Set(plan?.tasks.flatMap((t) => t.stages) ?? []);
  // A stage the plan no longer has would be a WFC304 warning at every compile: said here, and left out.
  const gone = plan === undefined ? [] : all.filter((s) => s.stages.some((stage) => !known.has(stage)));
  const suggestions = all.filter((s) => !gone.includes(s));

  // A refused -o is bad input: said before anything is printed.
  const refused = options.output === undefined ? undefined : await refuseOverwrite(options.output, io.cwd, options.force);
  if (refused !== undefined && refused !== null) {
    printDiagnostics([refused.diagnostic], (path) => (path === refused.file.path ? refused.file : undefined), options.output!, io);
    return ExitCode.invalid;
  }
  io.stdout.write(summaryText(read, suggestions, gone, planFrom));
  if (options.output === undefined) return ExitCode.ok;
  const text = suggestedConfigText(suggestions, { sources: read.sources, planFrom, now: options.now ?? new Date() });
  const failed = await writeSuggestions(resolve(io.cwd, options.output), text, refused === null);
  if (failed !== undefined) {
    io.stderr.write(errorLine(`cannot write \`${options.output}\`: ${failed}`));
    return ExitCode.invalid;
  }
  const written = suggestions.filter((s) => [s.mem, s.time, s.cpus].some(isSuggested)).flatMap((s) => s.stages).length;
  status(
    io,
    `\nWrote ${visible(options.output)}: resources for ${written} stage${written === 1 ? "" : "s"}. Use it with \`--config ${visible(options.output)}\` (repeat --config to stack it on another config: the first wins).\n`,
  );
  return ExitCode.ok;
}

/**
 * wfc never destroys what it did not create: an existing file without the
 * marker line `wfc suggest` writes first is refused (WFC305), unless `--force`.
 * Null when there is no file (it is then written only if none appeared
 * meanwhile), undefined when it may be replaced.
 */
async function refuseOverwrite(
  path: string,
  cwd: string,
  force: boolean,
): Promise<{ diagnostic: Diagnostic; file: SourceFile } | null | undefined> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, path), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    const file = new SourceFile(path, "");
    return {
      file,
      diagnostic: {
        severity: "error",
        code: "WFC305",
        message:
          code === "EISDIR"
            ? `\`${path}\` is a folder, not a config file`
            : `cannot read \`${path}\` to check who wrote it (${code ?? "unknown error"})`,
        location: { file: path },
        help: "name a file with -o",
      },
    };
  }
  if (force || text.startsWith(SUGGEST_MARKER)) return undefined;
  const firstLine = text.split("\n", 1)[0]!;
  const file = new SourceFile(path, text);
  return {
    file,
    diagnostic: {
      severity: "error",
      code: "WFC305",
      message: `\`${path}\` was not written by \`wfc suggest\`; it is left as it is`,
      location: { file: path, span: { start: 0, end: firstLine.length } },
      expected: `a file whose first line is \`${SUGGEST_MARKER}…\`, or none`,
      help: `write the suggestions to another file (-o wfc.suggested.toml), or give --force to replace this one`,
    },
  };
}

/**
 * The file written whole (a temporary file renamed into place); a new one
 * is linked into place so that a file someone wrote meanwhile is never
 * replaced. The cause when it cannot be written.
 */
async function writeSuggestions(target: string, text: string, isNew: boolean): Promise<string | undefined> {
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await mkdir(dirname(target), { recursive: true });
  } catch (error) {
    return `cannot make its folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  try {
    await writeFile(temp, text, { flag: "wx" });
    if (isNew) await linkNoClobber(temp, target);
    else await rename(temp, target);
    return undefined;
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    return code === "EEXIST" ? "it appeared while wfc was writing; run again" : (code ?? (error as Error).message);
  }
}

function summaryText(
  read: ReadResult,
  suggestions: readonly Suggestion[],
  gone: readonly Suggestion[],
  planFrom: string | undefined,
): string {
  const out: string[] = [];
  const measured = read.measurements.length;
  out.push(
    `Measured ${measured} step${measured === 1 ? "" : "s"} of elements (each one's last measured run) from ${read.sources
      .map((s) => `${visible(s.path)} (${s.measured} measured record${s.measured === 1 ? "" : "s"})`)
      .join(", ")}.`,
  );
  out.push(
    planFrom === undefined
      ? "Current requests: unknown (no run record with a plan; give --plan FILE)."
      : `Current requests from ${visible(planFrom)}.`,
  );
  out.push(`Rules: mem = ${RULES.mem}; time = ${RULES.time}; cpus = ${RULES.cpus}.`);
  for (const s of suggestions) {
    const head = `${s.stages.map((n) => `\`${n}\``).join(", ")}${s.stages.length > 1 ? ` (fused in task \`${s.task}\`: one request for the job)` : ""}: ${s.jobs} job${s.jobs === 1 ? "" : "s"} measured${s.failed > 0 ? `, ${s.failed} failed not counted` : ""}`;
    out.push("");
    if (![s.mem, s.time, s.cpus].some(isSuggested) && [s.mem, s.time, s.cpus].every((v) => !isSuggested(v) && v.kind === "too-few")) {
      out.push(`${head}: too few measurements (at least ${MIN_JOBS} needed), nothing suggested`);
      continue;
    }
    out.push(head);
    const rows = (["mem", "time", "cpus"] as const).map((key) => [key, shownCurrent(key, s.current), ...row(key, s[key])] as const);
    const w1 = Math.max(...rows.map((r) => r[1].length));
    const w2 = Math.max(...rows.map((r) => r[2].length));
    for (const [key, current, value, why] of rows) out.push(`  ${key.padEnd(4)}  ${current.padStart(w1)} → ${value.padEnd(w2)}  ${why}`);
  }
  for (const s of gone) {
    out.push("", `${s.stages.map((n) => `\`${visible(n)}\``).join(", ")}: not a stage of the plan any more; left out`);
  }
  return out.join("\n") + "\n";
}

function shownCurrent(key: "mem" | "time" | "cpus", current: Suggestion["current"]): string {
  if (current === undefined) return "?";
  const value = current[key];
  return value === null ? "none" : shownValue(key, value);
}

/** The suggested value (or `kept`) and why. */
function row(key: "mem" | "time" | "cpus", value: Suggested | NotSuggested): [string, string] {
  if (!isSuggested(value)) {
    return [
      "kept",
      value.kind === "too-few" ? `too few measurements: ${value.measured} of the ${MIN_JOBS} needed` : "not measured on this executor",
    ];
  }
  const figure =
    key === "mem"
      ? `p95 peak RSS ${mebibytes(value.p95)}`
      : key === "time"
        ? `p95 wall ${seconds(value.p95)}`
        : `p95 CPU/wall ${value.p95.toFixed(2)}`;
  return [shownValue(key, value.value), `${figure} over ${value.measured}`];
}

function mebibytes(kb: number): string {
  return `${(kb / 1024).toFixed(1)}M`;
}

function seconds(s: number): string {
  return `${s < 10 ? s.toFixed(2) : s.toFixed(1)}s`;
}
