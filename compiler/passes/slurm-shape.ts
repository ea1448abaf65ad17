import type { Plan } from "../../runtime/plan.js";
import type { Note } from "./executors.js";

/** SLURM's default MaxArraySize is 1001 (indices 0..1000). */
export const DEFAULT_MAX_ARRAY_SIZE = 1001;

/**
 * What `wfc export slurm` would submit for the tasks on SLURM executors:
 * arrays per task, throttles, licenses and dependency types. Shown by
 * `--explain` before anything runs.
 */
export function slurmShape(plan: Plan): Note[] {
  const notes: Note[] = [];
  let calls = 0;
  const groups = new Map(plan.groups.map((g) => [g.id, g]));
  for (const task of plan.tasks) {
    const executor = plan.executors[task.executor]!;
    if (executor.type !== "slurm") continue;
    const max = Number(executor.slurm?.maxArraySize ?? DEFAULT_MAX_ARRAY_SIZE);
    const arrays = Math.max(1, Math.ceil(task.jobs / max));
    calls += arrays;
    const parts = [
      `${arrays} array${arrays === 1 ? "" : "s"} of ${arrays === 1 ? task.jobs : `up to ${max}`} (${task.jobs} job${task.jobs === 1 ? "" : "s"})`,
    ];
    for (const { group, weight } of task.groups) {
      const g = groups.get(group)!;
      if (g.kind === "cap") parts.push(`throttle %${g.capacity}`);
      else if (executor.slurm?.licenses === false) parts.push(`limit \`${group.slice(6)}\` serialized (licenses off)`);
      else parts.push(`--licenses=${group.slice(6)}:${weight} (admin: Licenses=${group.slice(6)}:${g.capacity})`);
    }
    for (const dep of task.deps) {
      const kind = dep.edge.kind === "one-to-one" ? "aftercorr" : "afterok";
      parts.push(`${kind} on \`${dep.task}\``);
    }
    notes.push({ topic: "slurm", message: `\`${task.id}\` on \`${task.executor}\`: ${parts.join(", ")}` });
  }
  if (calls > 0) notes.push({ topic: "slurm", message: `${calls} sbatch call${calls === 1 ? "" : "s"} in all` });
  return notes;
}
