import type { LimitUse } from "../lower/ast.js";
import type { Note } from "./executors.js";
import { topologicalOrder, type DraftTask } from "./tasks.js";

/**
 * Stage fusion: a chain A → B becomes one task that runs A then B per
 * element, when B's elements depend one-to-one on A's, A feeds nothing else
 * (so no other path A ⇝ B can exist and the fused graph gains no cycle), both
 * run on the same executor with the same limits and resources, and neither
 * says `fuse: false`.
 *
 * Whether A may fuse into B depends only on A, B and their edge, so every
 * pair is judged once; the fused tasks are then the trees those pairs form
 * (each task fuses into at most one consumer). Linear in stages and edges.
 */
export function fuse(tasks: readonly DraftTask[]): { tasks: DraftTask[]; notes: Note[] } {
  const ordered = topologicalOrder(tasks);
  const byId = new Map(ordered.map((t) => [t.id, t]));
  const consumers = new Map<string, Set<string>>();
  for (const t of ordered) for (const d of t.deps) consumers.set(d.task, (consumers.get(d.task) ?? new Set()).add(t.id));

  const into = new Map<string, string>();
  const refused: [string, string, string][] = [];
  for (const b of ordered) {
    for (const producer of [...new Set(b.deps.map((d) => d.task))].sort()) {
      const reason = whyNot(byId.get(producer)!, b, consumers.get(producer)!);
      if (reason === undefined) into.set(producer, b.id);
      else refused.push([producer, b.id, reason]);
    }
  }

  // Each task's group is named by the last task of its tree; consumers come later in `ordered`.
  const root = new Map<string, string>();
  for (const t of [...ordered].reverse()) root.set(t.id, into.has(t.id) ? root.get(into.get(t.id)!)! : t.id);
  const members = new Map<string, DraftTask[]>();
  for (const t of ordered) members.set(root.get(t.id)!, [...(members.get(root.get(t.id)!) ?? []), t]);
  const groupId = new Map<string, string>();
  for (const [r, list] of members) groupId.set(r, fusedId(list.flatMap((t) => t.stages.map((s) => s.name))));
  const idOf = (task: string) => groupId.get(root.get(task)!)!;

  const out: DraftTask[] = [];
  for (const [r, list] of members) {
    const id = groupId.get(r)!;
    const deps = list.flatMap((t) => t.deps);
    const executor = byId.get(r)!.executor;
    const outside = deps.filter((d) => idOf(d.task) !== id).map((d) => ({ ...d, task: idOf(d.task) }));
    out.push({
      id,
      stages: list.flatMap((t) => t.stages),
      // Fused steps that expand alike from one producer: an `expand` that feeds no input says nothing a fed one does not.
      deps: outside.filter(
        (d) =>
          !(
            d.edge.kind === "expand" &&
            d.input === null &&
            outside.some((e) => e !== d && e.task === d.task && e.edge.kind === "expand" && e.input !== null)
          ),
      ),
      internal: [...list.flatMap((t) => t.internal ?? []), ...deps.filter((d) => idOf(d.task) === id)],
      ...(executor ? { executor } : {}),
    });
  }
  const notes: Note[] = [
    ...[...into].map(([a, b]): Note => ({
      topic: "fusion",
      message: `\`${a}\` → \`${b}\` fused into \`${idOf(b)}\`: one job per element runs both`,
    })),
    ...refused.map(([a, b, reason]): Note => ({ topic: "fusion", message: `\`${idOf(a)}\` → \`${idOf(b)}\` not fused: ${reason}` })),
  ].filter((n, i, all) => all.findIndex((m) => m.message === n.message) === i);
  return { tasks: out, notes };
}

/** `a+b+c`; a long chain is named by its ends, so ids (repeated in the plan) stay short. */
function fusedId(stages: readonly string[]): string {
  return stages.length <= 3 ? stages.join("+") : `${stages[0]}+…+${stages.at(-1)}`;
}

const EDGE_WORDS = {
  "one-to-one": "one-to-one",
  all: "all-to-one (a barrier)",
  match: "grouped by variables",
  map: "an element map",
  expand: "an expansion at run time",
} as const;

/** Why A → B may not fuse; undefined when it may. */
function whyNot(a: DraftTask, b: DraftTask, consumersOfA: ReadonlySet<string>): string | undefined {
  const edges = b.deps.filter((d) => d.task === a.id);
  if (!edges.every((d) => d.edge.kind === "one-to-one")) {
    const kinds = [
      ...new Set(edges.map((d) => (d.input === null && d.edge.kind !== "expand" ? "`after` (a barrier)" : EDGE_WORDS[d.edge.kind]))),
    ].join(" and ");
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
