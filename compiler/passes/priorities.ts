import type { Note } from "./executors.js";
import type { Groups } from "./groups.js";
import type { DraftTask } from "./tasks.js";

/** Seconds one element of a task is expected to take: the sum of its steps' `expected` (1 s each when unknown). */
export function elementSeconds(task: DraftTask): number {
  return task.stages.reduce((sum, s) => sum + (s.settings.expected ?? 1), 0) * task.stages[0]!.settings.batch;
}

/**
 * Priorities: how long the workflow needs at least once a task may start,
 * so the runtime starts what is most urgent first. That is the longer of
 * the critical path from the task (its own expected time plus its longest
 * chain of consumers) and the time its busiest concurrency group needs to
 * drain (the group's work over its capacity: 30 one-second jobs under a
 * limit of 1 need 30 s, however short their chain). A task's producers
 * inherit its urgency through the chain. Tasks come in dependency order.
 */
export function priorities(
  ordered: readonly DraftTask[],
  groups: Pick<Groups, "groups" | "membership"> = { groups: [], membership: new Map() },
): { priority: Map<string, number>; notes: Note[] } {
  const consumers = new Map<string, string[]>();
  for (const t of ordered) for (const d of new Set(t.deps.map((x) => x.task))) consumers.set(d, [...(consumers.get(d) ?? []), t.id]);
  // Seconds of work each group must get through, one slot at a time.
  const capacity = new Map(groups.groups.map((g) => [g.id, g.capacity]));
  const drain = new Map<string, number>();
  for (const task of ordered) {
    const work = elementSeconds(task) * Math.ceil(task.stages[0]!.fanout.size / task.stages[0]!.settings.batch);
    for (const m of groups.membership.get(task.id) ?? [])
      drain.set(m.group, (drain.get(m.group) ?? 0) + (work * Math.min(m.weight, capacity.get(m.group)!)) / capacity.get(m.group)!);
  }
  const priority = new Map<string, number>();
  const why = new Map<string, string>();
  for (const task of [...ordered].reverse()) {
    const after = Math.max(0, ...(consumers.get(task.id) ?? []).map((c) => priority.get(c)!));
    const path = round(elementSeconds(task) + after);
    let busiest: [string, number] | undefined;
    for (const m of groups.membership.get(task.id) ?? []) {
      const d = round(drain.get(m.group)!);
      if (d > path && (busiest === undefined || d > busiest[1])) busiest = [m.group, d];
    }
    priority.set(task.id, busiest?.[1] ?? path);
    if (busiest) why.set(task.id, `group \`${busiest[0]}\` needs ${busiest[1]} s to get through its work`);
  }
  const top = [...priority].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const notes: Note[] = top.map(([id, p]) => ({
    topic: "priority",
    message: `\`${id}\`: ${p} s ${why.has(id) ? `(${why.get(id)!})` : "of critical path from its start"}`,
  }));
  return { priority, notes };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
