import type { ElementEdge } from "../plan/element-edges.js";
import type { Plan, PlanDep, PlanTask } from "../../contract/plan.js";
import { edgeLines, taskLabeller, titleLines } from "./labels.js";
import { legendOf, type Legend } from "./legend.js";
import { UniqueKeys } from "./unique-keys.js";

/**
 * The plan as a drawing, independent of the output language: one node per
 * task, a cluster of step nodes per fused task, one edge per dependency.
 * Keys are distinct across nodes and clusters; every list is sorted.
 */
export interface GraphModel {
  readonly title: readonly string[];
  /** Unfused tasks, by task id. */
  readonly nodes: readonly GraphNode[];
  /** Fused tasks, by task id. */
  readonly clusters: readonly GraphCluster[];
  /** Dependencies between tasks, sorted by endpoints, then label. */
  readonly edges: readonly GraphEdge[];
  /** What each kind of edge drawn means; drawn only when asked for (`wfc graph` does by default). */
  readonly legend: Legend | null;
}

export interface GraphNode {
  readonly key: string;
  readonly lines: readonly string[];
}

export interface GraphCluster {
  readonly key: string;
  readonly lines: readonly string[];
  /** One node per step, in step order; each runs right after the one before it, per element. Or one per job (the job graph). */
  readonly nodes: readonly GraphNode[];
  /** Whether the nodes are drawn as a chain (a fused task's steps), or apart (a task's jobs). */
  readonly chained: boolean;
}

export interface GraphEdge {
  /** Node keys: a task's node, or one step's node inside a cluster. */
  readonly from: string;
  readonly to: string;
  /** Set when the edge leaves or enters a fused task as a whole rather than one of its steps. */
  readonly fromCluster: string | null;
  readonly toCluster: string | null;
  readonly kind: ElementEdge["kind"];
  /** An `after` dependency (no input is read). */
  readonly after: boolean;
  readonly lines: readonly string[];
}

interface Placed {
  readonly task: PlanTask;
  /** The node key of the task, or of each step when fused. */
  readonly node: string | null;
  readonly steps: ReadonlyMap<string, string>;
  readonly cluster: string | null;
  /** The node an edge to / from the task as a whole attaches to. */
  readonly first: string;
  readonly last: string;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Plan → drawing. Pure and total: a dependency on a task the plan lacks is left out. */
export function graphModel(plan: Plan): GraphModel {
  const keys = new UniqueKeys();
  const taskLines = taskLabeller(plan);
  const placed = new Map<string, Placed>();
  const nodes: GraphNode[] = [];
  const clusters: GraphCluster[] = [];
  for (const task of [...plan.tasks].sort((a, b) => byString(a.id, b.id))) {
    if (placed.has(task.id)) continue; // a repeated id: the first one is drawn
    if (task.steps.length <= 1) {
      const node = keys.claim(task.id);
      nodes.push({ key: node, lines: taskLines(task) });
      placed.set(task.id, { task, node, steps: new Map(), cluster: null, first: node, last: node });
      continue;
    }
    const cluster = keys.claim(task.id);
    const steps = new Map<string, string>();
    const members: GraphNode[] = [];
    for (const step of task.steps) {
      const key = keys.claim(`${task.id}/${step.stage}`);
      if (!steps.has(step.stage)) steps.set(step.stage, key);
      members.push({ key, lines: [step.stage] });
    }
    clusters.push({ key: cluster, lines: taskLines(task), nodes: members, chained: true });
    placed.set(task.id, { task, node: null, steps, cluster, first: members[0]!.key, last: members.at(-1)!.key });
  }

  const edges = new Map<string, GraphEdge>();
  for (const consumer of placed.values()) {
    for (const dep of consumer.task.deps) {
      const producer = placed.get(dep.task);
      if (producer === undefined) continue;
      for (const edge of depEdges(producer, consumer, dep)) {
        const id = JSON.stringify([edge.from, edge.to, edge.fromCluster, edge.toCluster, edge.after, edge.lines, edge.kind]);
        edges.set(id, edge);
      }
    }
  }
  const sorted = [...edges.keys()].sort(byString).map((id) => edges.get(id)!);
  return { title: titleLines(plan), nodes, clusters, edges: sorted, legend: legendOf(sorted, keys) };
}

/** The edges drawn for one dependency: from the step(s) that write the input to the step that reads it. */
function depEdges(producer: Placed, consumer: Placed, dep: PlanDep): GraphEdge[] {
  const common = { kind: dep.edge.kind, after: dep.input === null, lines: dep.input === null ? ["after"] : edgeLines(dep.edge) };

  // Into a fused consumer: the step that reads the input, else the task as a whole.
  const reader = consumer.node ?? (dep.input === null ? undefined : consumer.steps.get(dep.input.step));
  const to = reader ?? consumer.first;
  const toCluster = reader === undefined ? consumer.cluster : null;

  if (producer.node !== null) return [{ ...common, from: producer.node, to, fromCluster: null, toCluster }];
  // A fused producer: the steps whose outputs the input names, else the task as a whole.
  const input = dep.input === null ? undefined : consumer.task.steps.find((s) => s.stage === dep.input!.step)?.inputs[dep.input.index];
  const writers = [...new Set((input?.from ?? []).filter((f) => f.task === producer.task.id).map((f) => producer.steps.get(f.step)))]
    .filter((k) => k !== undefined)
    .sort(byString);
  if (writers.length > 0) return writers.map((from) => ({ ...common, from, to, fromCluster: null, toCluster }));
  return [{ ...common, from: producer.last, to, fromCluster: producer.cluster, toCluster }];
}
