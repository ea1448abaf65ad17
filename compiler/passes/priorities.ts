import type { Note } from "./executors.js";
import type { DraftTask } from "./tasks.js";

/** Seconds one element of a task is expected to take: the sum of its steps' `expected` (1 s each when unknown). */
export function elementSeconds(task: DraftTask): number {
  return task.stages.reduce((sum, s) => sum + (s.settings.expected ?? 1), 0) * task.stages[0]!.settings.batch;
}

/**
 * Priorities: the critical-path length from each task to the end of the
 * workflow (its own expected time plus its longest chain of consumers), so
 * the runtime starts long chains first. Tasks come in dependency order.
 */
export function priorities(ordered: readonly DraftTask[]): { priority: Map<string, number>; notes: Note[] } {
  const consumers = new Map<string, string[]>();
  for (const t of ordered) for (const d of new Set(t.deps.map((x) => x.task))) consumers.set(d, [...(consumers.get(d) ?? []), t.id]);
  const priority = new Map<string, number>();
  for (const task of [...ordered].reverse()) {
    const after = Math.max(0, ...(consumers.get(task.id) ?? []).map((c) => priority.get(c)!));
    priority.set(task.id, round(elementSeconds(task) + after));
  }
  const top = [...priority].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const notes: Note[] = top.map(([id, p]) => ({ topic: "priority", message: `\`${id}\`: ${p} s of critical path from its start` }));
  return { priority, notes };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
