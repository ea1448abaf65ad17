/**
 * Outputs with a lifetime (a stage's `temp` and `protected`, see
 * contract/plan.ts PlanPath.lifetime).
 *
 * `temp`: removed once every job of this run that reads it has succeeded
 * (or was up to date). A later run does not rebuild a missing temp output
 * while every job that reads it is up to date; it does when one of them must
 * run, which the run works out before its first job (`TempOutputs.prepare`).
 *
 * `protected`: made read-only after its job succeeded; a run that would
 * rebuild one stops that job with the path, since overwriting it is what the
 * user asked wfc never to do.
 */
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { resolve } from "node:path";
import type { Plan, PlanTask } from "../../contract/plan.js";
import type { StepCommand } from "../jobs/expand.js";
import type { JobRef } from "../scheduler/scheduler.js";
import type { RunContext } from "./context.js";
import { decide, unitsOf, type Unit } from "./freshness.js";

/** The paths of a job's outputs that have this lifetime. */
export function outputsWith(task: PlanTask, commands: readonly StepCommand[], lifetime: "temp" | "protected"): string[] {
  const paths: string[] = [];
  for (const c of commands) {
    const step = task.steps.find((s) => s.stage === c.stage);
    c.outputs.forEach((o, i) => {
      if (step?.outputs[i]?.lifetime === lifetime) paths.push(...o.paths);
    });
  }
  return paths;
}

/** Whether any output of the plan is `temp`: only then does a run look ahead. */
export function hasTempOutputs(plan: Plan): boolean {
  return plan.tasks.some((t) => t.steps.some((s) => s.outputs.some((o) => o.lifetime === "temp")));
}

/** The first protected output of a job that is there already (a run would overwrite it), else undefined. */
export function protectedInTheWay(workdir: string, paths: readonly string[]): string | undefined {
  return paths.find((p) => lstatSync(resolve(workdir, p), { throwIfNoEntry: false }) !== undefined);
}

/**
 * Takes the write permission off protected outputs that are files. A
 * folder (an output path like `out/` or `out/.`, which a value can make of
 * `out/{sample}`) may hold what other jobs wrote, and a symbolic link
 * points to what may not be the workflow's: both are left alone. Returns
 * the paths it could not or would not change.
 */
export function protect(workdir: string, paths: readonly string[]): string[] {
  const failed: string[] = [];
  for (const p of paths) {
    try {
      const stat = lstatSync(resolve(workdir, p));
      if (stat.isSymbolicLink()) continue;
      if (!stat.isFile()) throw new Error("not a file");
      chmodSync(resolve(workdir, p), stat.mode & 0o7555);
    } catch {
      failed.push(p);
    }
  }
  return failed;
}

/** One job's part in the temp bookkeeping. */
interface JobTemps {
  /** Temp outputs of other jobs (or its own earlier steps) that it reads. */
  readonly reads: readonly string[];
  /** Why it must run although it is up to date otherwise: a job that must run reads a temp output of it that is gone. */
  neededBy?: string;
}

export class TempOutputs {
  readonly #jobs = new Map<string, JobTemps>();
  /** Per temp output: the jobs of this run that read it and have not yet succeeded. */
  readonly #readers = new Map<string, number>();
  readonly #temp = new Set<string>();

  private constructor() {}

  /**
   * Looks at every job of the plan before the first starts: which temp
   * outputs each reads, and which jobs whose temp outputs are gone may stay
   * up to date (none of their readers must run). Undefined for a plan
   * without temp outputs, which costs nothing.
   */
  static async prepare(run: RunContext): Promise<TempOutputs | undefined> {
    if (!hasTempOutputs(run.plan)) return undefined;
    const temps = new TempOutputs();
    type Job = {
      readonly ref: JobRef;
      readonly key: string;
      readonly name: string;
      readonly units: readonly Unit[];
    };
    const jobs: (Job & { readonly temp: readonly string[] })[] = [];
    for (const [t, task] of run.plan.tasks.entries()) {
      for (let j = 0; j < (task.jobs ?? 0); j++) {
        const first = j * task.batch;
        const ref: JobRef = { task: t, job: j, first, end: Math.min(first + task.batch, task.space.size) };
        let units: Unit[];
        try {
          units = await unitsOf(run.expander, t, task, ref.first, ref.end, run.config.selection);
        } catch {
          // It fails when it runs, with the cause; meanwhile it reads and forgives nothing (Ctrl-C: nothing runs anyway).
          continue;
        }
        // A partial run (targets) leaves it out: it neither runs nor reads.
        if (units.length === 0) continue;
        const temp = outputsWith(
          task,
          units.map((u) => u.command),
          "temp",
        );
        for (const p of temp) temps.#temp.add(p);
        jobs.push({ ref, key: keyOf(ref), name: `${task.id}#${j}`, units, temp });
      }
    }
    for (const { key, units } of jobs) {
      const reads = [...new Set(units.flatMap((u) => u.command.inputs.flatMap((i) => i.paths)).filter((p) => temps.#temp.has(p)))];
      for (const p of reads) temps.#readers.set(p, (temps.#readers.get(p) ?? 0) + 1);
      temps.#jobs.set(key, { reads });
    }
    // A dynamic task's jobs (issue 14) are not known yet, so nobody can tell when the last of them has read a temp
    // output: what the tasks they depend on write stays for the whole run (a temp output is never removed early).
    const feedDynamic = new Set(run.plan.tasks.filter((t) => t.space.dynamic !== undefined).flatMap((t) => t.deps.map((d) => d.task)));
    for (const { ref, temp } of jobs)
      if (feedDynamic.has(run.plan.tasks[ref.task]!.id)) for (const p of temp) temps.#readers.set(p, Infinity);
    // Which jobs must run, with gone temp outputs forgiven; then a job whose gone temp output a job that must run reads
    // must run too, which may make more jobs run downstream of it: again, until nothing changes.
    const missingOk = (p: string) => temps.#temp.has(p);
    const forced = new Set<string>();
    const readersOf = new Map<string, string[]>();
    const names = new Map(jobs.map(({ key, name }) => [key, name]));
    for (const { key } of jobs) {
      for (const p of temps.#jobs.get(key)!.reads) {
        const readers = readersOf.get(p);
        if (readers === undefined) readersOf.set(p, [key]);
        else readers.push(key);
      }
    }
    for (;;) {
      const wouldWrite = new Set<string>();
      const runs = new Set<string>();
      for (const { key, units } of jobs) {
        const options = { force: run.config.force === true, wouldWrite, workdir: run.workdir, missingOk, mtimes: run.mtimes };
        const decision = decide(units, run.journal, options);
        if (decision.why === undefined && !forced.has(key)) continue;
        runs.add(key);
        // What it would write: the steps that run (all of them when it runs only to bring back a gone temp output).
        for (const u of decision.why === undefined ? units : decision.run)
          for (const o of u.command.outputs) for (const p of o.paths) wouldWrite.add(p);
      }
      let changed = false;
      for (const { key, temp } of jobs) {
        if (runs.has(key)) continue;
        const gone = temp.filter((p) => lstatSync(resolve(run.workdir, p), { throwIfNoEntry: false }) === undefined);
        for (const p of gone) {
          const reader = (readersOf.get(p) ?? []).find((r) => r !== key && runs.has(r));
          if (reader === undefined) continue;
          forced.add(key);
          changed = true;
          temps.#jobs.get(key)!.neededBy = `temp output ${p} is gone and ${names.get(reader)!} must read it`;
          break;
        }
      }
      if (!changed) return temps;
    }
  }

  /** Whether a missing output is a temp one, which alone makes no job out of date (see `neededAgain`). */
  readonly isTemp = (path: string): boolean => this.#temp.has(path);

  /** Why a job that is up to date but for its gone temp outputs must run (a job that must run reads one), else undefined. */
  neededAgain(ref: JobRef): string | undefined {
    return this.#jobs.get(keyOf(ref))?.neededBy;
  }

  /**
   * A job succeeded or was up to date: the temp outputs it read that no
   * other job of this run still has to read are removed. Returns them.
   */
  succeeded(ref: JobRef, workdir: string, warn: (message: string) => void): string[] {
    const removed: string[] = [];
    for (const p of this.#jobs.get(keyOf(ref))?.reads ?? []) {
      const left = this.#readers.get(p)! - 1;
      this.#readers.set(p, left);
      if (left > 0) continue;
      // Declared outputs are inside the workflow's folder (the expander refuses others). Only a file (or a link, never
      // followed) goes: a folder (`out/` or `out/.`, which a value can make of `out/{sample}`) may hold what other jobs wrote.
      const abs = resolve(workdir, p);
      const stat = lstatSync(abs, { throwIfNoEntry: false });
      if (stat === undefined) continue;
      if (stat.isDirectory()) {
        warn(`temp output ${JSON.stringify(p)} is a folder, so it was left in place: temp removes files only`);
        continue;
      }
      try {
        unlinkSync(abs);
        removed.push(p);
      } catch (error) {
        warn(`could not remove temp output ${JSON.stringify(p)}: ${(error as Error).message}`);
      }
    }
    return removed;
  }
}

function keyOf(ref: { readonly task: number; readonly job: number }): string {
  return `${ref.task}#${ref.job}`;
}
