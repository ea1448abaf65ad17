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
    // A task after a dynamic one is laid out by the expansion that submits it: as many arrays, the same shape.
    const count = arrays.length > 0 ? arrays.length : Math.ceil((task.jobs ?? 0) / layout.maxArraySize);
    calls += count;
    const first = arrays[0] ?? (count > 0 ? layout.shapes.get(task.id) : undefined);
    if (task.jobs === null) {
      const d = task.space.dynamic;
      notes.push({
        topic: "slurm",
        message: `\`${task.id}\` on \`${task.executor}\`: its arrays are known only at run time; each is submitted once an element of \`${d?.from.task ?? "?"}\` has run and told its values`,
      });
      continue;
    }
    const parts = [
      `${count} array${count === 1 ? "" : "s"} of ${count === 1 ? task.jobs : `up to ${layout.maxArraySize}`} (${task.jobs} job${task.jobs === 1 ? "" : "s"})`,
    ];
    if (first?.throttle !== null && first?.throttle !== undefined) parts.push(`throttle %${first.throttle}`);
    for (const l of first?.licenses ?? []) parts.push(`--licenses=${l}`);
    for (const kind of ["aftercorr", "afterok", "afterany"] as const) {
      const on = [...new Set(arrays.flatMap((a) => a.dependencies.filter((d) => d.kind === kind).map((d) => taskOf.get(d.on)!)))];
      for (const t of on) if (t !== task.id) parts.push(`${kind} on \`${t}\``);
    }
    // A dynamic producer has no arrays at export: the dependency is made when its arrays are submitted.
    const late = [...new Set(task.deps.map((d) => d.task))].filter((t) => plan.tasks.find((x) => x.id === t)?.jobs === null);
    for (const t of late.sort()) parts.push(`after \`${t}\`, whose arrays are submitted at run time`);
    notes.push({ topic: "slurm", message: `\`${task.id}\` on \`${task.executor}\`: ${parts.join(", ")}` });
  }
  if (layout.licenses.length > 0)
    notes.push({ topic: "slurm", message: `the cluster's slurm.conf must have Licenses=${layout.licenses.join(",")}` });
  for (const note of layout.notes) notes.push({ topic: "slurm", message: note });
  notes.push({ topic: "slurm", message: `${calls} sbatch call${calls === 1 ? "" : "s"} in all` });
  return notes;
}

/**
 * Which tasks expand at run time and after what, for `--explain`: a
 * dynamic space's blocks are known now, its elements once the producer
 * element of each block has run.
 */
export function dynamicNotes(plan: Plan): Note[] {
  const notes: Note[] = [];
  for (const task of plan.tasks) {
    const d = task.space.dynamic;
    if (d === undefined) continue;
    const vars = d.vars.map((v) => `\`${v}\``).join(", ");
    const step = plan.tasks.find((t) => t.id === d.from.task)?.steps.find((s) => s.stage === d.from.step);
    const output = step?.outputs[d.from.output];
    const shown = output === undefined ? "" : ` \`${templateText(output.template)}\``;
    const what = d.from.kind === "files" ? `the files matching${shown}` : `the lines of${shown}`;
    const per =
      d.per.length > 0
        ? `per element of \`${d.from.step}\` (by ${d.per.map((p) => `\`${p}\``).join(", ")})`
        : `after the one element of \`${d.from.step}\``;
    notes.push({
      topic: "dynamic",
      message: `\`${task.id}\` expands at run time: ${vars} ${d.vars.length === 1 ? "is" : "are"} read from ${what}, ${per}; ${task.space.size} block${task.space.size === 1 ? "" : "s"} known now, jobs known after \`${d.from.task}\` runs`,
    });
  }
  return notes;
}

function templateText(parts: Plan["tasks"][number]["steps"][number]["outputs"][number]["template"]): string {
  return parts
    .map((p) =>
      typeof p === "string"
        ? p
        : "var" in p
          ? `{${p.field === undefined ? p.var : `${p.var}.${p.field}`}}`
          : "param" in p
            ? `{params.${p.param}}`
            : "",
    )
    .join("");
}
