/**
 * Which steps of a job must run, and why, in the words `--dry-run` and the
 * `job-end` events use; and what `--touch` does instead of running them.
 *
 * The unit is one step (stage) of one element, named by the element's
 * identity (contract/identity.ts): its journal record, its command's hash,
 * its outputs. A job is up to date when all its units are; otherwise each
 * element runs from its first out-of-date step on (a fused chain that
 * failed in its second step resumes there), and its up-to-date elements
 * (in a batch) do not run at all.
 */
import { existsSync, mkdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { PlanTask } from "../../contract/plan.js";
import { stepHash } from "../jobs/describe.js";
import type { Expander, StepCommand } from "../jobs/expand.js";
import type { Journal } from "../state/journal.js";
import { jobUnits, type Selection } from "./select.js";
import { patternPath } from "./expansion.js";

/** One step of one element of a job. */
export interface Unit {
  readonly stage: string;
  /** The element's identity. */
  readonly element: string;
  /** The element's number in its task's space (units of one element are next to each other). */
  readonly index: number;
  /** `--forcerun` forces it (select.ts): it runs even when up to date. */
  readonly forced: boolean;
  readonly command: StepCommand;
  /** `stepHash` of the command as it is now. */
  readonly hash: string;
}

export interface FreshnessOptions {
  readonly force: boolean;
  /** `--dry-run`: the outputs jobs would write. */
  readonly wouldWrite: ReadonlySet<string>;
  readonly workdir: string;
  /** A missing output it need not rebuild (a `temp` output nothing must read again, see lifetimes.ts). */
  readonly missingOk?: ((path: string) => boolean) | undefined;
}

/**
 * A job's units: each step of each of its elements `[first, end)`,
 * element-major, their commands expanded and hashed. A partial run
 * (`selection`, select.ts) has only the selected steps of the selected
 * elements: a prefix of the steps of each.
 */
export async function unitsOf(
  expander: Expander,
  t: number,
  task: PlanTask,
  first: number,
  end: number,
  selection?: Selection,
): Promise<Unit[]> {
  const units: Unit[] = [];
  for (const u of jobUnits(selection, t, first, end, task.steps.length)) {
    if (!u.selected) continue;
    const step = task.steps[u.step]!;
    const command = await expander.step(t, step, u.element);
    units.push({
      stage: step.stage,
      element: expander.identity(t, u.element),
      index: u.element,
      forced: u.forced,
      command,
      hash: stepHash(command),
    });
  }
  return units;
}

/** What of a job runs: its units to run, in order (element-major), and why; `why` undefined when it is up to date. */
export interface Decision {
  readonly run: readonly Unit[];
  readonly why: string | undefined;
}

/**
 * The units of a job (element-major) that must run: per element, from its
 * first out-of-date (or `--forcerun`) step on. `why` names that step
 * (in a fused job) and element (in a batch) of the first element that runs,
 * then the reason: `--force`, an input a dry run would rebuild, no record of
 * it, a failure last time, a changed command, a missing output, an input
 * newer than its outputs.
 */
export function decide(units: readonly Unit[], journal: Journal, options: FreshnessOptions): Decision {
  const run: Unit[] = [];
  let why: string | undefined;
  const fused = new Set(units.map((u) => u.stage)).size > 1;
  const batch = units.length > 0 && units[0]!.index !== units.at(-1)!.index;
  for (let at = 0; at < units.length;) {
    let steps = 1;
    while (at + steps < units.length && units[at + steps]!.index === units[at]!.index) steps++;
    for (let s = 0; s < steps; s++) {
      const unit = units[at + s]!;
      const reason = whyRun(unit, journal, options);
      if (reason === undefined) continue;
      run.push(...units.slice(at + earliest(units, at, s, steps, options), at + steps));
      if (why === undefined) {
        const where = [fused ? `step \`${unit.stage}\`` : "", batch ? `of ${unit.element}` : ""].filter(Boolean).join(" ");
        why = where === "" ? reason : `${where}: ${reason}`;
      }
      break;
    }
    at += steps;
  }
  return { run, why };
}

/**
 * Where an element that is out of date from step `from` on starts: earlier
 * when a step before it wrote a `temp` output that is gone (forgiven while
 * nothing read it) and a step that runs reads it.
 */
function earliest(units: readonly Unit[], at: number, from: number, steps: number, options: FreshnessOptions): number {
  const { missingOk, workdir } = options;
  if (missingOk === undefined) return from;
  for (let r = from - 1; r >= 0; r--) {
    const reads = new Set(units.slice(at + from, at + steps).flatMap((u) => u.command.inputs.flatMap((i) => i.paths)));
    const gone = (p: string) => reads.has(p) && missingOk(p) && mtime(resolve(workdir, p)) === undefined;
    if (units[at + r]!.command.outputs.some((o) => o.paths.some(gone))) from = r;
  }
  return from;
}

function whyRun(unit: Unit, journal: Journal, options: FreshnessOptions): string | undefined {
  if (options.force) return "--force";
  if (unit.forced) return "--forcerun";
  // In a dry run nothing is rebuilt, so what would be must count as changed downstream.
  const rebuilt = unit.command.inputs.flatMap((i) => i.paths).find((p) => options.wouldWrite.has(p));
  if (rebuilt !== undefined) return `input ${rebuilt} would be rebuilt`;
  return outOfDate(unit, journal, options);
}

function outOfDate(
  { stage, element, hash, command }: Unit,
  journal: Journal,
  { workdir, missingOk }: FreshnessOptions,
): string | undefined {
  const record = journal.get(stage, element);
  if (record === undefined || (record.status !== "done" && record.status !== "touched"))
    return record?.status === "failed" ? "it failed last time" : "it has not run";
  if (record.hash !== hash) return "its command changed";
  let oldestOutput = Infinity;
  for (const o of command.outputs) {
    // A pattern output (issue 14): the files the step decided when it ran.
    const paths = o.pattern === undefined ? o.paths : record.decided?.map((row) => patternPath(o.pattern!, row));
    if (paths === undefined) return "its record does not say what it decided";
    for (const path of paths) {
      const m = mtime(resolve(workdir, path));
      if (m === undefined && missingOk?.(path) === true) continue;
      if (m === undefined) return `output ${path} is missing`;
      oldestOutput = Math.min(oldestOutput, m);
    }
  }
  for (const i of command.inputs) {
    for (const path of i.paths) {
      const m = mtime(resolve(workdir, path));
      if (m !== undefined && m > oldestOutput) return `input ${path} is newer than its outputs`;
    }
  }
  return undefined;
}

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** `--touch`: an output gets the current time, or is created empty. */
export function touch(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const now = new Date();
  if (existsSync(path)) utimesSync(path, now, now);
  else writeFileSync(path, "");
}
