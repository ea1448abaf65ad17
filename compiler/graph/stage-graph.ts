import { DirectedGraph, MultiDirectedGraph } from "graphology";
import type { StageEdge } from "./dependencies.js";

/**
 * The graph the optimization passes walk: one node per task, one edge
 * producer → consumer per pair, however many dependencies the pair has
 * (graphology, as the design names it; STYLE habit 18).
 */
export type TaskGraph = DirectedGraph;

/** The stage graph cycle detection walks: every dependency is an edge, with its reason. */
export type StageGraph = MultiDirectedGraph<Record<string, never>, { readonly edge: StageEdge; readonly order: number }>;

/** Builds the task graph; nodes in the order given, edges from each task's `deps` (producers by `task`). */
export function taskGraph(tasks: readonly { readonly id: string; readonly deps: readonly { readonly task: string }[] }[]): TaskGraph {
  const graph = new DirectedGraph();
  for (const t of tasks) graph.addNode(t.id);
  // A dependency on a task that is not in the list is a compiler bug: addEdge throws.
  for (const t of tasks) for (const d of t.deps) if (!graph.hasEdge(d.task, t.id)) graph.addEdge(d.task, t.id);
  return graph;
}

/**
 * Node ids in dependency order, ties broken by id, so plans are byte-identical
 * run to run (Kahn's algorithm with a sorted ready list). Nodes on a cycle
 * never become ready and are left out; validation reports cycles before this.
 */
export function topologicalIds(graph: TaskGraph): string[] {
  const indegree = new Map<string, number>();
  const ready: string[] = [];
  graph.forEachNode((id) => {
    const n = graph.inDegree(id);
    indegree.set(id, n);
    if (n === 0) ready.push(id);
  });
  ready.sort();
  const out: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    out.push(id);
    graph.forEachOutNeighbor(id, (c) => {
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
    });
  }
  return out;
}

/** Builds the stage graph; edges between stages not in `stages` are left out (they cannot close a cycle). */
export function stageGraph(stages: readonly string[], edges: readonly StageEdge[]): StageGraph {
  const graph: StageGraph = new MultiDirectedGraph();
  for (const s of stages) graph.mergeNode(s);
  edges.forEach((edge, order) => {
    if (graph.hasNode(edge.from) && graph.hasNode(edge.to)) graph.addEdge(edge.from, edge.to, { edge, order });
  });
  return graph;
}

/** A stage's outgoing dependencies by consumer name, then in the order they were found. */
export function sortedOutEdges(graph: StageGraph, stage: string): StageEdge[] {
  return graph
    .mapOutEdges(stage, (_key, attributes) => attributes)
    .sort((a, b) => (a.edge.to < b.edge.to ? -1 : a.edge.to > b.edge.to ? 1 : a.order - b.order))
    .map((a) => a.edge);
}
