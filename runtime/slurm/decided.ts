/**
 * What a producer element decided, read back from the disk after its job
 * ran, for the SLURM export's expansion job (expand-job.ts): its pattern
 * output listed per segment (runtime/run/expansion.ts `listPattern`, the
 * rules of contract/expansion.ts), or its `lines` file read.
 *
 * A file matching the pattern counts only if the job made or changed it:
 * its ctime (which no copy or archive can set back) is not before the
 * mark the job's array script left when it started (export.ts,
 * `started/TASK.JOB`). One an earlier run left is reported, never used.
 */
import { lstat, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Binding } from "../../contract/elements.js";
import { decidedPattern, parseLines, sortRows } from "../../contract/expansion.js";
import type { Plan, PlanTask } from "../../contract/plan.js";
import { expandPath } from "../../contract/template.js";
import { listPattern } from "../run/expansion.js";

/** A reason the rows cannot be known: the expansion fails with it, and nothing after it is submitted. */
export class DecidedError extends Error {}

/** Where a producer's decisions are: its step, the output, and whether it is a pattern or a `lines` file. */
export interface DecisionSource {
  readonly kind: "files" | "lines";
  readonly task: PlanTask;
  readonly step: string;
  readonly output: number;
}

/**
 * The rows producer element `k` (with `bindings`) decided: a pattern's
 * files in the one row order (sortRows), or a file's lines in file order.
 * Paths that matched but that its job did not write go to `leftAlone`.
 */
export async function decidedRows(
  plan: Plan,
  source: DecisionSource,
  k: number,
  bindings: ReadonlyMap<string, Binding>,
  dirs: { readonly workdir: string; readonly exportDir: string },
  leftAlone: string[],
): Promise<string[][]> {
  const producer = source.task;
  const step = producer.steps.find((s) => s.stage === source.step)!;
  const template = step.outputs[source.output]!.template;
  const params = (name: string) => plan.params[name];
  const what = `element ${k} of \`${producer.id}\``;
  if (source.kind === "files") {
    const pattern = decidedPattern(template, bindings, params, step.decides ?? []);
    if (pattern === undefined) throw new DecidedError(`the pattern output of ${what} has a placeholder with no value`);
    // The job's start mark (export.ts): what it did not make or change since is an earlier run's.
    const job = Math.floor(k / producer.batch);
    const mark = await stat(join(dirs.exportDir, "started", `${producer.id}.${job}`), { bigint: true }).catch(() => undefined);
    if (mark === undefined)
      throw new DecidedError(`${what} left no start mark (started/${producer.id}.${job}): did its job run from this export?`);
    const rows: string[][] = [];
    for (const [path, row] of listPattern(dirs.workdir, pattern)) {
      const made = await lstat(join(dirs.workdir, path), { bigint: true }).catch(() => undefined);
      if (made !== undefined && made.ctimeNs >= mark.mtimeNs) rows.push(row);
      else leftAlone.push(path);
    }
    return sortRows(rows);
  }
  const path = expandPath(template, bindings, params);
  if (path === undefined) throw new DecidedError(`the lines file of ${what} has a placeholder with no value`);
  let text: string;
  try {
    text = await readFile(join(dirs.workdir, path), "utf8");
  } catch (error) {
    throw new DecidedError(
      `cannot read ${JSON.stringify(path)}, which ${what} wrote: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const parsed = parseLines(text);
  if ("rows" in parsed) return parsed.rows;
  const p = parsed.problem;
  throw new DecidedError(
    p.kind === "repeated"
      ? `${JSON.stringify(path)} line ${p.line} repeats ${JSON.stringify(p.value)} (first on line ${p.first}): one element per value`
      : `${JSON.stringify(path)} line ${p.line} holds a NUL byte`,
  );
}
