import type { PlanTask } from "./plan.js";

/**
 * What `{cpus}` stands for in a job's commands: the cores it may use where
 * it runs. On SLURM, what the job asks for (`--cpus-per-task`: the stage's
 * `cpus`, else its executor's `cpus`), which the allocation gives it, both
 * in `wfc run` and `wfc export slurm`; on this machine, the stage's `cpus`
 * scaled down to the cores it has (Snakemake's `{threads}` and `--cores`),
 * since a job never holds more of them at once (runtime/scheduler/).
 */
export function commandCpus(
  task: PlanTask,
  where: { readonly slurm: Readonly<Record<string, unknown>> } | { readonly cores: number },
): number {
  if ("slurm" in where) return slurmCpus(task, where.slurm);
  return Math.max(1, Math.min(task.resources.cpus, Math.floor(where.cores)));
}

/** A SLURM job's cpus: the stage's when it asks for more than one, else its executor's `cpus` (default 1). */
export function slurmCpus(task: PlanTask, slurm: Readonly<Record<string, unknown>>): number {
  return task.resources.cpus > 1 ? task.resources.cpus : Number(slurm.cpus ?? 1);
}
