/** `.wfc/` at the start of a run: the lock, the journal, and the jobs a run that died left running. */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Plan } from "../../contract/plan.js";
import { Journal } from "../state/journal.js";
import { acquireLock } from "../state/lock.js";
import { findLeftovers, forgetLeftovers, stopGroups } from "../state/running-jobs.js";
import { StateError, layoutProblem, stateProblem } from "../state/state-problem.js";
import { RunError } from "./run-error.js";

/**
 * Takes the lock, or says in one line (a RunError: exit 2, nothing run)
 * what about `.wfc/` is in the way and the fix: a file where a folder
 * belongs, a full or read-only disk, no permission.
 */
export function lockState(stateDir: string, plan: Plan, dryRun: boolean) {
  const tasks = plan.tasks.map((t) => t.id);
  const problem = layoutProblem(stateDir, tasks);
  if (problem !== undefined) throw new RunError(problem);
  let lock: ReturnType<typeof acquireLock>;
  try {
    // Made on its own first: a recursive mkdir reports a read-only disk as ENOENT.
    if (!existsSync(stateDir)) mkdirSync(stateDir);
    lock = dryRun ? { ok: true as const, release: () => {} } : acquireLock(stateDir);
  } catch (error) {
    throw new RunError(stateProblem(error, (error as NodeJS.ErrnoException).path ?? join(stateDir, "lock"), stateDir));
  }
  if (!lock.ok) throw new RunError(lock.message);
  return lock;
}

/** Reads the journal under the lock (compacting it first, unless a dry run), or releases the lock and says what is in the way. */
export function readJournal(stateDir: string, lock: { release(): void }, dryRun: boolean): Journal {
  try {
    const journal = new Journal(stateDir);
    if (!dryRun) journal.compact();
    return journal;
  } catch (error) {
    lock.release();
    throw error instanceof StateError ? new RunError(error.message) : error;
  }
}

/** Stops the jobs a run that died left running (see RunningJobs), and says so; false when there were none. */
export async function stopLeftovers(stateDir: string, warn: (message: string) => void): Promise<boolean> {
  const left = findLeftovers(stateDir);
  if (left === null) return false;
  const groups = (n: number) => `${n} job process group${n === 1 ? "" : "s"}`;
  if (left.groups.length > 0) {
    await stopGroups(left.groups, 2000);
    warn(`stopped ${groups(left.groups.length)} left running by wfc run ${left.run}, which died`);
  }
  if (left.containers.length > 0) {
    // Their jobs were stopped with their groups above (or died with wfc): what runs under the engine goes too.
    const { removeLeftoverContainers } = await import("../environments/checks.js");
    const removed = await removeLeftoverContainers(left.containers);
    if (removed > 0) warn(`removed ${removed} container${removed === 1 ? "" : "s"} left by wfc run ${left.run}, which died`);
  }
  if (left.slurm.length > 0) {
    const { cancelLeftovers } = await import("../slurm/cluster.js");
    const cancelled = await cancelLeftovers(left.slurm);
    if (cancelled.length > 0)
      warn(
        `cancelled ${cancelled.length} SLURM job array${cancelled.length === 1 ? "" : "s"} (${cancelled.join(", ")}) left running by wfc run ${left.run}, which died`,
      );
  }
  if (left.unchecked.length > 0) {
    warn(
      `wfc run ${left.run} died and may have left ${groups(left.unchecked.length)} running (${left.unchecked.join(", ")}); this system cannot tell whose they are, so they were not stopped`,
    );
  }
  forgetLeftovers(stateDir);
  return true;
}
