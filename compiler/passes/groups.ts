import type { Workflow } from "../lower/ast.js";
import type { PlanGroup } from "../../contract/plan.js";
import type { Note } from "./executors.js";
import type { DraftTask } from "./tasks.js";

export interface Groups {
  readonly groups: PlanGroup[];
  /** Per task: the groups its jobs hold, with weights. */
  readonly membership: Map<string, { group: string; weight: number }[]>;
  readonly notes: Note[];
}

/**
 * Concurrency groups: each named limit used by some task becomes a group of
 * that capacity shared by its members; a stage's own cap (`limit: 5`) is a
 * group of its own. The runtime holds a job's groups while it runs; the
 * SLURM export turns shared groups into licenses and own caps into `%k`.
 */
export function concurrencyGroups(tasks: readonly DraftTask[], workflow: Workflow): Groups {
  const membership = new Map<string, { group: string; weight: number }[]>();
  const members = new Map<string, string[]>();
  const groups = new Map<string, PlanGroup>();
  for (const task of tasks) {
    const list: { group: string; weight: number }[] = [];
    for (const use of task.stages[0]!.limits) {
      if (use.kind === "named") {
        const limit = workflow.limits.get(use.name);
        if (limit === undefined) continue;
        const id = `limit:${use.name}`;
        groups.set(id, { id, capacity: limit.capacity, kind: "limit" });
        list.push({ group: id, weight: use.weight });
        members.set(id, [...(members.get(id) ?? []), `\`${task.id}\`${use.weight > 1 ? ` (weight ${use.weight})` : ""}`]);
      } else {
        const id = `cap:${task.id}`;
        groups.set(id, { id, capacity: use.cap, kind: "cap" });
        list.push({ group: id, weight: 1 });
        members.set(id, [`\`${task.id}\``]);
      }
    }
    membership.set(
      task.id,
      list.sort((a, b) => (a.group < b.group ? -1 : 1)),
    );
  }
  const sorted = [...groups.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const notes: Note[] = sorted.map((g) => ({
    topic: "group",
    message: `group \`${g.id}\`: at most ${g.capacity} slot${g.capacity === 1 ? "" : "s"} at once, held by ${members.get(g.id)!.join(", ")}`,
  }));
  if (workflow.jobs !== undefined)
    notes.push({ topic: "group", message: `workflow-wide: at most ${workflow.jobs} jobs at once (\`jobs\`; \`--jobs\` overrides)` });
  return { groups: sorted, membership, notes };
}
