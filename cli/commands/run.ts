import { closeSync, openSync, statSync, writeSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { run, RunError, type RunEvent, type RunSummary } from "../../runtime/run/run.js";
import { detail, errorLine, ExitCode, interruptExitCode, isQuiet, useColor, warningLine, type Io } from "../io.js";
import { visible, visibleSource } from "../../compiler/diagnostics/visible.js";
import { batched, type Batched } from "../progress/batched.js";
import { traceFormat, traceHeader, traceRow } from "../../runtime/run/trace.js";
import type { UnitEnd } from "../../runtime/run/usage.js";
import { submitLine, wantsAscii } from "../progress/render.js";
import { planFor, type PlanSource, type Planned } from "./plan-for.js";
import type { Selection } from "../../runtime/run/select.js";

export interface RunCommandOptions extends PlanSource {
  /** `--directory DIR`: run the jobs there instead of the plan's (or the workflow's) folder. */
  readonly directory?: string;
  /** `wfc run FILE TARGET…`, `--until`, `--forcerun`: what to run of the plan (targets.ts). */
  readonly targets?: readonly string[];
  readonly until?: readonly string[];
  readonly forcerun?: readonly string[];
  readonly jobs?: number;
  /** `--latency-wait`: seconds to wait for a finished job's outputs. */
  readonly latencyWait?: number;
  readonly keepGoing: boolean;
  readonly force: boolean;
  readonly dryRun: boolean;
  readonly touch: boolean;
  readonly json: boolean;
  /** `--trace FILE`: a row per step of each element as it ends (runtime/run/trace.ts). */
  readonly trace?: string;
  /** `--events FILE`: the NDJSON events to a file, whatever the terminal shows. */
  readonly events?: string;
  /** wfc's own arguments, for the run's record. */
  readonly argv?: readonly string[];
  /** Aborted on Ctrl-C / SIGTERM / SIGHUP by bin.ts, the signal's name as its reason. */
  readonly signal?: AbortSignal;
  /** Aborted on a second one: every running job gets SIGKILL at once. */
  readonly kill?: AbortSignal;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Plain progress lines (not a TTY), one per job that ran, failed, was touched or cancelled (`--verbose`: or was up to date). */
function lineFor(event: RunEvent, done: { n: number }, total: number, verbose = false): string | undefined {
  if (event.type === "job-end") {
    // A cancelled job is not progress: it runs again next time.
    if (event.status !== "cancelled") done.n++;
    // Progress is what ran: the summary counts what was up to date (a no-op run of 50,000 jobs prints one line).
    if (event.status === "skipped" && event.reason === "up to date" && !verbose) return undefined;
    const name = `${event.task}#${event.job}`;
    const took = event.status === "skipped" ? (event.reason ?? "") : seconds(event.time - event.start);
    return `[${done.n}/${total}] ${event.status.padEnd(9)} ${name} ${took}`.trimEnd();
  }
  if (event.type === "would-run")
    return `would run ${event.task}#${event.job}: ${visible(event.reason)}\n  ${event.commands.map((c) => multiline(c, "    ")).join("\n  ")}`;
  if (event.type === "slurm-submit") return submitLine(event);
  return undefined;
}

/** A command as shown: its own lines kept (indented), anything hidden in them escaped. */
function multiline(text: string, indent: string): string {
  return text.split("\n").map(visibleSource).join(`\n${indent}`);
}

function summaryText(s: RunSummary): string {
  const lines: string[] = [];
  for (const f of s.failures) {
    // Commands, reasons and logs carry values and job output: escapes are shown, never sent to the terminal.
    lines.push(`failed: ${f.task}#${f.job} (${visible(f.reason)})`);
    // Which element (and, in a fused task, which step) by identity: the job number changes when the list does.
    if (f.element) lines.push(`  element: ${f.element}${f.stage !== undefined && f.stage !== f.task ? ` (step \`${f.stage}\`)` : ""}`);
    if (f.command) lines.push(`  command: ${multiline(f.command, "    ")}`);
    if (f.log) lines.push(`  log: ${visible(f.log)}`);
    if (f.tail) lines.push(...f.tail.split("\n").map((l) => `  | ${visibleSource(l)}`));
  }
  // A dynamic task's jobs are known once its producer has run (issue 14).
  for (const u of s.unknown ?? [])
    lines.push(
      `${u.task}: ${u.known} job${u.known === 1 ? "" : "s"} known; more are known only once \`${u.from}\` has run (it decides them)`,
    );
  if (s.reason !== undefined) lines.push(`error: ${visible(s.reason)}`);
  lines.push(...whereTimeWent(s));
  lines.push(`${s.status}: ${counts(s).join(", ")} in ${seconds(s.wallMs)}`);
  return lines.join("\n") + "\n";
}

/** The summary's buckets, which add up to the plan's jobs; `cancelled` only when Ctrl-C stopped jobs. */
function counts(s: RunSummary): string[] {
  // A dry run ran nothing: it says what it would run and what is up to date.
  if (s.wouldRun !== undefined) {
    const also = [s.failed > 0 ? `${s.failed} failed` : "", s.notRun > 0 ? `${s.notRun} not run` : ""];
    return [`would run ${s.wouldRun}`, `${s.skipped} up to date`, ...also.filter(Boolean)];
  }
  const cancelled = s.cancelled > 0 ? [`${s.cancelled} cancelled`] : [];
  return [`${s.done} done`, `${s.skipped} up to date`, `${s.failed} failed`, ...cancelled, `${s.notRun} not run`];
}

/** The critical path and the busiest limit, one line each. */
function whereTimeWent(s: RunSummary): string[] {
  const lines: string[] = [];
  const path = s.criticalPath;
  if (path.length > 0) {
    const names = path.map((p) => `${p.task}#${p.job}`);
    const shown = names.length <= 6 ? names : [...names.slice(0, 3), `… ${names.length - 5} more …`, ...names.slice(-2)];
    const running = path.reduce((ms, p) => ms + (p.end - p.start), 0);
    const span = path[path.length - 1]!.end - path[0]!.start;
    lines.push(
      `critical path: ${shown.join(" → ")} (${path.length} job${path.length === 1 ? "" : "s"}, ${seconds(running)} running of ${seconds(span)})`,
    );
  }
  const busiest = s.busiestLimit;
  if (busiest !== null) {
    const name = busiest.group.startsWith("cap:")
      ? `${busiest.group.slice(4)}'s own limit of ${busiest.capacity}`
      : `${busiest.group.replace(/^limit:/, "")} (${busiest.capacity} slot${busiest.capacity === 1 ? "" : "s"})`;
    lines.push(`busiest limit: ${name}, full for ${seconds(busiest.fullMs)}, ${Math.round(busiest.share * 100)}% of its slots used`);
  }
  return lines;
}

/** `wfc run FILE`: 0 when everything ran, 1 when a job failed or jobs never ran, 2 for bad input, 129/130/143 when stopped by SIGHUP/Ctrl-C/SIGTERM. */
export async function runCommand(file: string, options: RunCommandOptions, io: Io): Promise<number> {
  let workdir: string | undefined;
  if (options.directory !== undefined) {
    workdir = resolve(io.cwd, options.directory);
    if (!isDirectory(workdir)) {
      io.stderr.write(errorLine(`--directory ${options.directory}: no such folder`));
      return ExitCode.invalid;
    }
  }
  const planned = await planFor(file, options, io);
  if (typeof planned === "number") return planned;
  const quiet = isQuiet(io);
  if (planned.moved !== undefined && workdir === undefined && !quiet)
    io.stderr.write(
      warningLine(
        `${file} was compiled from ${planned.moved.source}, which is not there (was the plan moved?): its jobs run in ${planned.moved.workdir}, where its \`workdir\` points; --directory DIR runs them elsewhere`,
      ),
    );
  detail(io, `jobs run in ${workdir ?? resolve(io.cwd, planned.planDir, planned.plan.workdir)}`);
  const selection = await selectionFor(planned, workdir, options, io);
  if (typeof selection === "number") return selection;
  const jobsOf = (t: number) => selection?.jobs[t] ?? planned.plan.tasks[t]!.jobs ?? 0;
  // A dynamic task's jobs are counted as they become known (`expand` events).
  const total = { n: planned.plan.tasks.reduce((n, _, t) => n + jobsOf(t), 0) };
  const done = { n: 0 };
  // A live display on a terminal; plain lines (or NDJSON) anywhere else.
  // The live display (and its terminal libraries) is loaded only for a terminal.
  const display =
    !options.json && !options.dryRun && !quiet && io.stderr.isTTY === true && io.env.TERM !== "dumb"
      ? await import("../progress/display.js").then(({ createProgressDisplay }) =>
          createProgressDisplay(io.stderr, {
            // A partial run shows only the stages it runs.
            tasks: planned.plan.tasks
              .map((t, i) => ({ id: t.id, jobs: jobsOf(i), more: t.jobs === null && someBlock(selection, i, t.space.size) }))
              .filter((t) => t.jobs > 0 || t.more || selection === undefined),
            color: useColor(io.stderr, io.env),
            ascii: wantsAscii(io.env),
          }),
        )
      : undefined;
  const out = batched(io.stdout);
  const files = openFiles(options, io);
  if (typeof files === "number") return files;
  try {
    const summary = await run(planned.plan, {
      planDir: planned.planDir,
      ...(workdir !== undefined ? { workdir } : {}),
      config: {
        cores: availableParallelism(),
        keepGoing: options.keepGoing,
        force: options.force,
        dryRun: options.dryRun,
        touch: options.touch,
        ...(selection !== undefined ? { selection } : {}),
        ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
        ...(options.latencyWait !== undefined ? { latencyWait: options.latencyWait } : {}),
      },
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.kill ? { kill: options.kill } : {}),
      invocation: { argv: options.argv ?? [], cwd: io.cwd, workflow: resolve(io.cwd, file) },
      ...(files.trace !== undefined ? { onUnitEnd: files.trace } : {}),
      onEvent: (event) => {
        files.events?.(event);
        if (options.json) out.write(JSON.stringify(event) + "\n");
        else if (event.type === "stale-inputs" && !display) {
          out.flush();
          if (!quiet) io.stderr.write(warningLine(event.message));
        } else if (display) display.onEvent(event);
        else {
          if (event.type === "expand") total.n += event.jobs;
          const line = lineFor(event, done, total.n, io.verbosity === "verbose");
          // --quiet: what a dry run would run is its output; progress is not.
          if (quiet && event.type !== "would-run") return;
          if (line !== undefined) out.write(line + "\n");
        }
      },
    });
    out.flush();
    files.close();
    display?.stop();
    if (!options.json && !(quiet && summary.status === "ok")) io.stderr.write(summaryText(summary));
    if (summary.status === "interrupted") return interruptExitCode(options.signal?.reason);
    return summary.status === "ok" ? ExitCode.ok : ExitCode.jobFailed;
  } catch (error) {
    out.flush();
    files.close();
    display?.stop();
    if (error instanceof RunError) {
      io.stderr.write(errorLine(`${error.message}`));
      return ExitCode.invalid;
    }
    throw error;
  }
}

/** Where `--trace` and `--events` write, as the run goes. */
interface RunFiles {
  readonly trace?: (units: readonly UnitEnd[]) => void;
  readonly events?: (event: RunEvent) => void;
  /** Writes what is buffered and closes the files. */
  close(): void;
}

/**
 * Opens `--trace` and `--events` before the run (the trace with its header):
 * a file that cannot be written is bad input (exit 2), found before any job
 * runs. Each is written in batches, a turn of the event loop at a time, so
 * a reader sees each row soon after its job ends.
 */
function openFiles(options: RunCommandOptions, io: Io): RunFiles | number {
  const opened: { fd: number; out: Batched }[] = [];
  const open = (flag: string, name: string): { fd: number; out: Batched } | number => {
    const path = resolve(io.cwd, name);
    try {
      const fd = openSync(path, "w");
      const file = { fd, out: batched({ write: (text: string) => writeSync(fd, text) }) };
      opened.push(file);
      return file;
    } catch (error) {
      for (const f of opened) closeSync(f.fd);
      io.stderr.write(errorLine(`${flag} ${name}: cannot write it: ${(error as Error).message}`));
      return ExitCode.invalid;
    }
  };
  let trace: RunFiles["trace"];
  let events: RunFiles["events"];
  if (options.trace !== undefined) {
    const file = open("--trace", options.trace);
    if (typeof file === "number") return file;
    const format = traceFormat(options.trace);
    file.out.write(traceHeader(format));
    trace = (units) => {
      for (const u of units) file.out.write(traceRow(u, format));
    };
  }
  if (options.events !== undefined) {
    const file = open("--events", options.events);
    if (typeof file === "number") return file;
    events = (event) => file.out.write(JSON.stringify(event) + "\n");
  }
  let closed = false;
  return {
    ...(trace !== undefined ? { trace } : {}),
    ...(events !== undefined ? { events } : {}),
    close() {
      if (closed) return;
      closed = true;
      for (const f of opened) {
        f.out.flush();
        closeSync(f.fd);
      }
    },
  };
}

/** Whether a dynamic task has blocks that run (a partial run may leave all of them out): its jobs may come. */
function someBlock(selection: Selection | undefined, task: number, blocks: number): boolean {
  const choice = selection?.dynamic?.[task];
  return choice === undefined ? blocks > 0 : choice.elements.length > 0 || choice.steps.some((s) => s > 0);
}

/** The targets' selection (undefined: the whole plan), or the exit code after their diagnostics. */
async function selectionFor(
  planned: Planned,
  workdir: string | undefined,
  options: RunCommandOptions,
  io: Io,
): Promise<Selection | undefined | number> {
  const request = { targets: options.targets ?? [], until: options.until ?? [], forcerun: options.forcerun ?? [] };
  if (request.targets.length + request.until.length + request.forcerun.length === 0) return undefined;
  const { selectTargets } = await import("./targets.js");
  const where = workdir ?? resolve(io.cwd, planned.planDir, planned.plan.workdir);
  const result = selectTargets(planned.plan, { ...request, workdir: where, cwd: io.cwd });
  if (result.ok) return result.selection;
  const { formatDiagnostic, formatSummary } = await import("../../compiler/diagnostics/format.js");
  const color = useColor(io.stderr, io.env);
  for (const d of result.diagnostics) io.stderr.write(formatDiagnostic(d, () => undefined, { color }) + "\n\n");
  io.stderr.write(formatSummary(result.diagnostics, "the targets") + "\n");
  return ExitCode.invalid;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
