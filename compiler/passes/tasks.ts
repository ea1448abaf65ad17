import type { ExecutorDef, Stage, Workflow } from "../lower/ast.js";
import type { StageEdge } from "../graph/dependencies.js";
import type { DynamicSource } from "../graph/dynamic.js";
import { deriveElementEdge, type ElementEdge } from "../plan/element-edges.js";

/** Why a task waits for another, element by element. */
export interface DraftDep {
  readonly task: string;
  readonly edge: ElementEdge;
  /** The step (stage) and input index it feeds; null for `after`. */
  readonly input: { readonly step: string; readonly index: number } | null;
  /** The producer's step (stage) and output index; null for `after`. */
  readonly output: { readonly step: string; readonly index: number } | null;
  readonly why: string;
}

export interface Assignment {
  readonly name: string;
  readonly def: ExecutorDef;
  /** Which rule chose it, for `--explain`. */
  readonly reason: string;
}

/**
 * A task during optimization: one stage, or a fused chain of stages that
 * runs per element in one job. Passes return new tasks; none mutates one.
 */
export interface DraftTask {
  readonly id: string;
  readonly stages: readonly Stage[];
  readonly deps: readonly DraftDep[];
  /** Dependencies between the steps of a fused task (satisfied inside one job). */
  readonly internal?: readonly DraftDep[];
  readonly executor?: Assignment;
}

/**
 * One task per stage, with element-level edges worked out from the
 * templates. A dynamic stage's every dependency on its producer is `expand`
 * (its elements exist once that producer element has run, so they wait for
 * nothing more from it), with the input it feeds, or none.
 */
export function initialTasks(
  workflow: Workflow,
  edges: readonly StageEdge[],
  dynamic: ReadonlyMap<string, DynamicSource> = new Map(),
): DraftTask[] {
  const deps = new Map<string, DraftDep[]>();
  const expandWhy = (to: string) => {
    const source = dynamic.get(to)!;
    return `\`${to}\` expands at run time: ${source.kind === "files" ? `one element per file` : "one element per line of the file"} each element of \`${source.producer}\` writes`;
  };
  for (const e of [...edges.filter((x) => x.kind !== "expand"), ...edges.filter((x) => x.kind === "expand")]) {
    const list = deps.get(e.to) ?? [];
    if (e.kind === "after") {
      list.push({ task: e.from, edge: { kind: "all" }, input: null, output: null, why: `\`after: ${e.from}\`` });
    } else if (e.kind === "expand") {
      if (!list.some((d) => d.task === e.from && d.edge.kind === "expand")) {
        list.push({ task: e.from, edge: { kind: "expand" }, input: null, output: null, why: expandWhy(e.to) });
      }
    } else if (dynamic.get(e.to)?.producer === e.from) {
      const consumer = workflow.stages.get(e.to)!;
      const producer = workflow.stages.get(e.from)!;
      list.push({
        task: e.from,
        edge: { kind: "expand" },
        input: { step: e.to, index: consumer.inputs.indexOf(e.input) },
        output: { step: e.from, index: producer.outputs.indexOf(e.output) },
        why: expandWhy(e.to),
      });
    } else {
      const consumer = workflow.stages.get(e.to)!;
      const producer = workflow.stages.get(e.from)!;
      const derived = deriveElementEdge(workflow, producer, e.output, consumer, e.input, dynamic);
      list.push({
        task: e.from,
        edge: derived.edge,
        input: { step: e.to, index: consumer.inputs.indexOf(e.input) },
        output: { step: e.from, index: producer.outputs.indexOf(e.output) },
        why: derived.why,
      });
    }
    deps.set(e.to, list);
  }
  return [...workflow.stages.values()].map((stage) => ({ id: stage.name, stages: [stage], deps: deps.get(stage.name) ?? [] }));
}

/** Tasks in dependency order, ties broken by id, so plans are byte-identical run to run. */
export function topologicalOrder(tasks: readonly DraftTask[]): DraftTask[] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const indegree = new Map(tasks.map((t) => [t.id, new Set(t.deps.map((d) => d.task)).size]));
  const consumers = new Map<string, string[]>();
  for (const t of tasks) for (const from of new Set(t.deps.map((d) => d.task))) consumers.set(from, [...(consumers.get(from) ?? []), t.id]);
  const ready = tasks
    .filter((t) => indegree.get(t.id) === 0)
    .map((t) => t.id)
    .sort();
  const out: DraftTask[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    out.push(byId.get(id)!);
    for (const c of consumers.get(id) ?? []) {
      const n = indegree.get(c)! - 1;
      indegree.set(c, n);
      if (n === 0) {
        // Keep `ready` sorted: a binary insert keeps this O(n log n) overall.
        let lo = 0;
        let hi = ready.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (ready[mid]! < c) lo = mid + 1;
          else hi = mid;
        }
        ready.splice(lo, 0, c);
      }
    }
  }
  return out;
}
