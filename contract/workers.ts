import type { PlanExecutor } from "./plan.js";

/**
 * How many jobs an executor runs at once: its `max`; for a local pool without
 * one, `--jobs` (or the plan's `jobs`) when given, else this machine's CPUs
 * less one (at least one). SLURM executors without `max` are not capped here.
 */
export function executorWorkers(executor: PlanExecutor, jobs: number | undefined, cores: number): number | undefined {
  if (executor.max !== null) return executor.max;
  if (executor.type === "slurm") return undefined;
  return jobs ?? builtinWorkers(cores);
}

/** Workers of a local pool without `max` or `--jobs`: all CPUs but one (left for wfc and the system), at least one. */
export function builtinWorkers(cpus: number): number {
  return Math.max(1, Math.floor(cpus) - 1);
}
