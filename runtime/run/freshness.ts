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
import { existsSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { PlanTask } from "../../contract/plan.js";
import { stepHash } from "../jobs/describe.js";
import type { Expander, ResolvedPath, StepCommand } from "../jobs/expand.js";
import type { StepFingerprints } from "./fingerprint.js";
import type { Journal } from "../state/journal.js";
import { jobUnits, type Selection } from "./select.js";
import { patternPath } from "./expansion.js";
import { Mtimes } from "./mtimes.js";
import { environmentText } from "../environments/environments.js";

/**
 * One step of one element of a job as an up-to-date check sees it: its
 * paths and its command's hash. Its command is there when it was built;
 * the journal may vouch for it instead (fingerprint.ts).
 */
export interface Checked {
  readonly stage: string;
  /** The element's identity. */
  readonly element: string;
  /** The element's number in its task's space (units of one element are next to each other). */
  readonly index: number;
  /** `--forcerun` forces it (select.ts): it runs even when up to date. */
  readonly forced: boolean;
  readonly inputs: readonly ResolvedPath[];
  readonly outputs: readonly ResolvedPath[];
  /** `stepHash` of the command as it is now. */
  readonly hash: string;
  /** Its step's fingerprint, which its record keeps; undefined for a step that has none. */
  readonly fp: string | undefined;
  readonly command?: StepCommand;
}

/** One step of one element of a job, its command built: what a job runs. */
export interface Unit extends Checked {
  readonly command: StepCommand;
}

export interface FreshnessOptions {
  readonly force: boolean;
  /** `--dry-run`: the outputs jobs would write. */
  readonly wouldWrite: ReadonlySet<string>;
  readonly workdir: string;
  /** A missing output it need not rebuild (a `temp` output nothing must read again, see lifetimes.ts). */
  readonly missingOk?: ((path: string) => boolean) | undefined;
  /** The run's cache of modification times (mtimes.ts); default: each `decide` looks on its own. */
  readonly mtimes?: Mtimes | undefined;
  /** A step's image digest now, when the engine can tell (issue 15; runtime/environments/). */
  readonly digestNow?: ((stage: string) => string | undefined) | undefined;
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
  fingerprints?: StepFingerprints,
): Promise<Unit[]> {
  const units: Unit[] = [];
  for (const u of jobUnits(selection, t, first, end, task.steps.length)) {
    if (!u.selected) continue;
    const step = task.steps[u.step]!;
    const command = await expander.step(t, step, u.element);
    const { inputs, outputs } = command;
    const element = expander.identity(t, u.element);
    const fp = fingerprints?.of(t, u.step);
    units.push({ stage: step.stage, element, index: u.element, forced: u.forced, inputs, outputs, hash: stepHash(command), fp, command });
  }
  return units;
}

/**
 * A job's units as `unitsOf` makes them, but without building the command
 * of a unit whose record the journal vouches for: one that ended well
 * with its step's fingerprint as it is now has the record's hash.
 */
export async function checkedUnitsOf(
  expander: Expander,
  journal: Journal,
  fingerprints: StepFingerprints,
  t: number,
  task: PlanTask,
  first: number,
  end: number,
  selection?: Selection,
): Promise<Checked[]> {
  const units: Checked[] = [];
  for (const u of jobUnits(selection, t, first, end, task.steps.length)) {
    if (!u.selected) continue;
    const step = task.steps[u.step]!;
    const element = expander.identity(t, u.element);
    const fp = fingerprints.of(t, u.step);
    const record = fp === undefined ? undefined : journal.get(step.stage, element);
    const base = { stage: step.stage, element, index: u.element, forced: u.forced, fp };
    if (record !== undefined && record.fp === fp && (record.status === "done" || record.status === "touched")) {
      units.push({ ...base, ...expander.paths(t, step, u.element), hash: record.hash });
      continue;
    }
    const command = await expander.step(t, step, u.element);
    units.push({ ...base, inputs: command.inputs, outputs: command.outputs, hash: stepHash(command), command });
  }
  return units;
}

/** The options with the cache every check reads. */
type Checks = FreshnessOptions & { readonly mtimes: Mtimes };

/** What of a job runs: its units to run, in order (element-major), and why; `why` undefined when it is up to date. */
export interface Decision<U extends Checked = Unit> {
  readonly run: readonly U[];
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
export function decide<U extends Checked>(units: readonly U[], journal: Journal, given: FreshnessOptions): Decision<U> {
  const options: Checks = { ...given, mtimes: given.mtimes ?? new Mtimes(given.workdir) };
  const run: U[] = [];
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
function earliest(units: readonly Checked[], at: number, from: number, steps: number, options: Checks): number {
  const { missingOk, mtimes } = options;
  if (missingOk === undefined) return from;
  for (let r = from - 1; r >= 0; r--) {
    const reads = new Set(units.slice(at + from, at + steps).flatMap((u) => u.inputs.flatMap((i) => i.paths)));
    const gone = (p: string) => reads.has(p) && missingOk(p) && mtimes.get(p) === undefined;
    if (units[at + r]!.outputs.some((o) => o.paths.some(gone))) from = r;
  }
  return from;
}

function whyRun(unit: Checked, journal: Journal, options: Checks): string | undefined {
  if (options.force) return "--force";
  if (unit.forced) return "--forcerun";
  // In a dry run nothing is rebuilt, so what would be must count as changed downstream.
  const rebuilt = unit.inputs.flatMap((i) => i.paths).find((p) => options.wouldWrite.has(p));
  if (rebuilt !== undefined) return `input ${rebuilt} would be rebuilt`;
  return outOfDate(unit, journal, options);
}

function outOfDate(
  { stage, element, hash, inputs, outputs, command }: Checked,
  journal: Journal,
  { missingOk, mtimes, digestNow }: Checks,
): string | undefined {
  const record = journal.get(stage, element);
  if (record === undefined || (record.status !== "done" && record.status !== "touched"))
    return record?.status === "failed" ? "it failed last time" : "it has not run";
  // A command the journal vouched for has the record's hash: one with another hash was built.
  if (record.hash !== hash)
    return record.environment !== environmentText(command?.environment) ? "environment changed" : "its command changed";
  // The same image reference may name other contents now (re-tagged, pulled again); unknown now: compared by reference.
  const digest = record.digest !== undefined ? digestNow?.(stage) : undefined;
  if (digest !== undefined && digest !== record.digest) return `environment changed (its image is ${digest} now)`;
  let oldestOutput = Infinity;
  for (const o of outputs) {
    // A pattern output (issue 14): the files the step decided when it ran.
    const paths = o.pattern === undefined ? o.paths : record.decided?.map((row) => patternPath(o.pattern!, row));
    if (paths === undefined) return "its record does not say what it decided";
    for (const path of paths) {
      const m = mtimes.get(path);
      if (m === undefined && missingOk?.(path) === true) continue;
      if (m === undefined) return `output ${path} is missing`;
      oldestOutput = Math.min(oldestOutput, m);
    }
  }
  for (const i of inputs) {
    for (const path of i.paths) {
      const m = mtimes.get(path);
      if (m !== undefined && m > oldestOutput) return `input ${path} is newer than its outputs`;
    }
  }
  return undefined;
}

/** `--touch`: an output gets the current time, or is created empty. */
export function touch(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const now = new Date();
  if (existsSync(path)) utimesSync(path, now, now);
  else writeFileSync(path, "");
}
