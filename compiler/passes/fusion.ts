import type { LimitUse } from "../lower/ast.js";
import type { Note } from "./executors.js";
import type { DraftTask } from "./tasks.js";

/**
 * Stage fusion: a chain A → B becomes one task that runs A then B per
 * element, when B's elements depend one-to-one on A's, A feeds nothing else
 * (so no other path A ⇝ B can exist and the fused graph gains no cycle), both
 * run on the same executor with the same limits and resources, and neither
 * says `fuse: false`. Repeats until nothing more fuses, so chains collapse.
 */
export function fuse(tasks: readonly DraftTask[]): { tasks: DraftTask[]; notes: Note[] } {
  let current = [...tasks];
  const notes: Note[] = [];
  for (;;) {
    const merged = firstFusible(current);
    if (merged === undefined) break;
    const { a, b } = merged;
    const fused: DraftTask = {
      id: `${a.id}+${b.stages.map((s) => s.name).join("+")}`,
      stages: [...a.stages, ...b.stages],
      deps: [...a.deps, ...b.deps.filter((d) => d.task !== a.id)],
      internal: [...(a.internal ?? []), ...(b.internal ?? []), ...b.deps.filter((d) => d.task === a.id)],
      ...(a.executor ? { executor: a.executor } : {}),
    };
    notes.push({ topic: "fusion", message: `\`${a.id}\` → \`${b.id}\` fused into \`${fused.id}\`: one job per element runs both` });
    current = current
      .filter((t) => t !== a && t !== b)
      .map((t) => ({ ...t, deps: t.deps.map((d) => (d.task === a.id || d.task === b.id ? { ...d, task: fused.id } : d)) }));
    current.push(fused);
  }
  // What did not fuse, and why, among the tasks that remain.
  for (const [a, b, reason] of pairs(current)) {
    if (reason !== undefined) notes.push({ topic: "fusion", message: `\`${a.id}\` → \`${b.id}\` not fused: ${reason}` });
  }
  return { tasks: current, notes };
}

/** Every producer → consumer pair of tasks, in a stable order, with the reason it may not fuse. */
function pairs(tasks: readonly DraftTask[]): [DraftTask, DraftTask, string | undefined][] {
  const consumers = new Map<string, Set<string>>();
  for (const t of tasks) for (const d of t.deps) consumers.set(d.task, (consumers.get(d.task) ?? new Set()).add(t.id));
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const out: [DraftTask, DraftTask, string | undefined][] = [];
  for (const b of [...tasks].sort((x, y) => (x.id < y.id ? -1 : 1))) {
    for (const producer of [...new Set(b.deps.map((d) => d.task))].sort()) {
      const a = byId.get(producer)!;
      out.push([a, b, whyNot(a, b, consumers.get(a.id)!)]);
    }
  }
  return out;
}

function firstFusible(tasks: readonly DraftTask[]): { a: DraftTask; b: DraftTask } | undefined {
  const found = pairs(tasks).find(([, , reason]) => reason === undefined);
  return found && { a: found[0], b: found[1] };
}

const EDGE_WORDS = {
  "one-to-one": "one-to-one",
  all: "all-to-one (a barrier)",
  match: "grouped by variables",
  map: "an element map",
} as const;

/** Why A → B may not fuse; undefined when it may. */
function whyNot(a: DraftTask, b: DraftTask, consumersOfA: ReadonlySet<string>): string | undefined {
  const edges = b.deps.filter((d) => d.task === a.id);
  if (!edges.every((d) => d.edge.kind === "one-to-one")) {
    const kinds = [...new Set(edges.map((d) => (d.input === null ? "`after` (a barrier)" : EDGE_WORDS[d.edge.kind])))].join(" and ");
    return `the dependency is ${kinds}, not one-to-one`;
  }
  if (consumersOfA.size > 1)
    return `\`${a.id}\` also feeds ${[...consumersOfA]
      .filter((c) => c !== b.id)
      .sort()
      .map((c) => `\`${c}\``)
      .join(", ")}`;
  const sa = a.stages.at(-1)!;
  const sb = b.stages[0]!;
  if (!a.stages.every((s) => s.settings.fuse) || !b.stages.every((s) => s.settings.fuse)) return "`fuse: false`";
  if (a.executor?.name !== b.executor?.name) return `different executors (\`${a.executor?.name}\`, \`${b.executor?.name}\`)`;
  if (limitKey(sa.limits) !== limitKey(sb.limits)) return "different limits";
  const ra = sa.settings;
  const rb = sb.settings;
  if (ra.cpus !== rb.cpus || ra.mem !== rb.mem || ra.time !== rb.time) return "different resources (cpus, mem or time)";
  if (ra.batch !== rb.batch) return "different `batch`";
  if (ra.retries !== rb.retries || ra.timeout !== rb.timeout) return "different `retries` or `timeout`";
  return undefined;
}

function limitKey(limits: readonly LimitUse[]): string {
  return limits
    .map((l) => (l.kind === "cap" ? `cap:${l.cap}` : `${l.name}:${l.weight}`))
    .sort()
    .join(",");
}
