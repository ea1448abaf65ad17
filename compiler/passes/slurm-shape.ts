import type { Plan } from "../../contract/plan.js";
import { slurmLayout, type SlurmArray } from "../../contract/slurm-layout.js";
import type { Note } from "./executors.js";

/**
 * What `wfc export slurm` would submit for the tasks on SLURM executors
 * (the export's own layout, so the two never disagree): arrays per task,
 * throttles, licenses and dependencies. Shown by `--explain` before
 * anything runs.
 */
export function slurmShape(plan: Plan): Note[] {
  const onSlurm = new Set(plan.tasks.filter((t) => plan.executors[t.executor]?.type === "slurm").map((t) => t.id));
  if (onSlurm.size === 0) return [];
  const layout = slurmLayout(plan);
  const taskOf = new Map(layout.arrays.map((a) => [a.name, a.task]));
  const arraysOf = new Map<string, SlurmArray[]>();
  for (const a of layout.arrays) {
    if (!arraysOf.has(a.task)) arraysOf.set(a.task, []);
    arraysOf.get(a.task)!.push(a);
  }
  const notes: Note[] = [];
  let calls = 0;
  for (const task of plan.tasks) {
    if (!onSlurm.has(task.id)) continue;
    const arrays = arraysOf.get(task.id) ?? [];
    calls += arrays.length;
    const first = arrays[0];
    const parts = [
      `${arrays.length} array${arrays.length === 1 ? "" : "s"} of ${arrays.length === 1 ? task.jobs : `up to ${layout.maxArraySize}`} (${task.jobs} job${task.jobs === 1 ? "" : "s"})`,
    ];
    if (first?.throttle !== null && first?.throttle !== undefined) parts.push(`throttle %${first.throttle}`);
    for (const l of first?.licenses ?? []) parts.push(`--licenses=${l}`);
    for (const kind of ["aftercorr", "afterok", "afterany"] as const) {
      const on = [...new Set(arrays.flatMap((a) => a.dependencies.filter((d) => d.kind === kind).map((d) => taskOf.get(d.on)!)))];
      for (const t of on) if (t !== task.id) parts.push(`${kind} on \`${t}\``);
    }
    notes.push({ topic: "slurm", message: `\`${task.id}\` on \`${task.executor}\`: ${parts.join(", ")}` });
  }
  if (layout.licenses.length > 0)
    notes.push({ topic: "slurm", message: `the cluster's slurm.conf must have Licenses=${layout.licenses.join(",")}` });
  for (const note of layout.notes) notes.push({ topic: "slurm", message: note });
  notes.push({ topic: "slurm", message: `${calls} sbatch call${calls === 1 ? "" : "s"} in all` });
  return notes;
}
