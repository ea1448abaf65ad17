import { ElementSpace } from "../../contract/elements.js";
import type { ElementEdge, Plan, PlanTask } from "../../contract/plan.js";
import { unreachable } from "../../contract/unreachable.js";
import { EdgeReader } from "../../contract/element-edges.js";
import { taskLabeller } from "./labels.js";
import { legendOf } from "./legend.js";
import type { GraphCluster, GraphEdge, GraphModel, GraphNode } from "./model.js";
import { UniqueKeys } from "./unique-keys.js";

/** The most jobs `wfc graph --jobs` draws: past this a drawing is a hairball, and the task graph says more. */
export const MAX_DRAWN_JOBS = 500;
/** The most job-to-job edges it draws (an `all` edge between two 300-job tasks alone has 90,000). */
export const MAX_DRAWN_JOB_EDGES = 5000;

export type JobGraph =
  { readonly ok: true; readonly model: GraphModel; readonly jobs: number } | { readonly ok: false; readonly problem: JobGraphProblem };

export type JobGraphProblem =
  | { readonly kind: "too-many-jobs"; readonly jobs: number; readonly limit: number }
  | { readonly kind: "too-many-edges"; readonly edges: number; readonly limit: number }
  /** A task whose elements a producer decides while the workflow runs: its jobs are not known yet. */
  | { readonly kind: "dynamic"; readonly task: string };

/** The problem as one sentence for the command line. */
export function jobGraphProblemText(problem: JobGraphProblem): string {
  switch (problem.kind) {
    case "too-many-jobs":
      return `the job graph would have ${problem.jobs} jobs, more than the ${problem.limit} it draws; draw the task graph instead (without --jobs)`;
    case "too-many-edges":
      return `the job graph would have ${problem.edges} edges between jobs, more than the ${problem.limit} it draws; draw the task graph instead (without --jobs)`;
    case "dynamic":
      return `task \`${problem.task}\` gets its jobs while the workflow runs (from what a job decides), so there is no job graph before the run; draw the task graph instead (without --jobs)`;
    default:
      return unreachable(problem);
  }
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The plan job by job: a cluster per task holding one node per job, and an
 * edge from job P to job C when an element of C waits for an element of P
 * (the plan's element edges, read the way the scheduler reads them:
 * runtime/scheduler/readiness.ts), once per pair and kind. Only for plans
 * whose jobs are all known, up to MAX_DRAWN_JOBS and MAX_DRAWN_JOB_EDGES.
 */
export function jobGraphModel(plan: Plan): JobGraph {
  const tasks = [...plan.tasks].sort((a, b) => byString(a.id, b.id));
  const dynamic = tasks.find((t) => t.jobs === null || t.space.dynamic !== undefined);
  if (dynamic !== undefined) return { ok: false, problem: { kind: "dynamic", task: dynamic.id } };
  const jobs = tasks.reduce((n, t) => n + t.jobs!, 0);
  if (jobs > MAX_DRAWN_JOBS) return { ok: false, problem: { kind: "too-many-jobs", jobs, limit: MAX_DRAWN_JOBS } };

  const keys = new UniqueKeys();
  const taskLines = taskLabeller(plan);
  const spaces = new Map(tasks.map((t) => [t.id, new ElementSpace(t.space)]));
  /** Per task: the node key of each job. */
  const jobKeys = new Map<string, string[]>();
  const clusters: GraphCluster[] = [];
  for (const task of tasks) {
    if (jobKeys.has(task.id)) continue; // a repeated id: the first one is drawn
    const cluster = keys.claim(task.id);
    const space = spaces.get(task.id)!;
    const nodes: GraphNode[] = [];
    for (let j = 0; j < task.jobs!; j++) nodes.push({ key: keys.claim(`${task.id}#${j}`), lines: jobLines(task, space, j) });
    jobKeys.set(
      task.id,
      nodes.map((n) => n.key),
    );
    clusters.push({ key: cluster, lines: taskLines(task), nodes, chained: false });
  }

  const reader = new EdgeReader();
  const edges = new Map<string, GraphEdge>();
  for (const consumer of tasks) {
    for (const dep of consumer.deps) {
      const producer = tasks.find((t) => t.id === dep.task);
      if (producer === undefined) continue;
      const after = dep.input === null;
      for (const [p, c] of elementPairs(dep.edge, spaces.get(producer.id)!, spaces.get(consumer.id)!, reader)) {
        const from = jobKeys.get(producer.id)![Math.floor(p / producer.batch)]!;
        const to = jobKeys.get(consumer.id)![Math.floor(c / consumer.batch)]!;
        const id = JSON.stringify([from, to, dep.edge.kind, after]);
        if (!edges.has(id)) edges.set(id, { from, to, fromCluster: null, toCluster: null, kind: dep.edge.kind, after, lines: [] });
        if (edges.size > MAX_DRAWN_JOB_EDGES)
          return { ok: false, problem: { kind: "too-many-edges", edges: countEdges(plan, spaces, reader), limit: MAX_DRAWN_JOB_EDGES } };
      }
    }
  }
  // An `after` that repeats what an input already orders between the same two jobs adds nothing to draw.
  const ordered = new Set([...edges.values()].filter((e) => !e.after).map((e) => JSON.stringify([e.from, e.to])));
  const sorted = [...edges.keys()]
    .sort(byString)
    .map((id) => edges.get(id)!)
    .filter((e) => !e.after || !ordered.has(JSON.stringify([e.from, e.to])));
  const title = [plan.name, `${jobs} job${jobs === 1 ? "" : "s"} in ${tasks.length} task${tasks.length === 1 ? "" : "s"}`];
  return { ok: true, jobs, model: { title, nodes: [], clusters, edges: sorted, legend: legendOf(sorted, keys) } };
}

/** A job's label: `task#j` as `wfc run` names it, then its element's values (or which elements, for a batch). */
function jobLines(task: PlanTask, space: ElementSpace, job: number): string[] {
  const first = job * task.batch;
  const end = Math.min(task.space.size, first + task.batch);
  if (end - first > 1) return [`${task.id}#${job}`, `elements ${first}-${end - 1}`];
  const values = task.space.vars.map((v) => `${v.name}=${space.value(first, v.name) ?? ""}`);
  return values.length > 0 ? [`${task.id}#${job}`, values.join(", ")] : [`${task.id}#${job}`];
}

/** How many element pairs an edge of each dep has, for the refusal's message (counted, not built). */
function countEdges(plan: Plan, spaces: ReadonlyMap<string, ElementSpace>, reader: EdgeReader): number {
  let n = 0;
  for (const consumer of plan.tasks) {
    for (const dep of consumer.deps) {
      const producer = plan.tasks.find((t) => t.id === dep.task);
      if (producer === undefined) continue;
      const seen = new Set<string>();
      for (const [p, c] of elementPairs(dep.edge, spaces.get(producer.id)!, spaces.get(consumer.id)!, reader)) {
        seen.add(`${Math.floor(p / producer.batch)} ${Math.floor(c / consumer.batch)}`);
      }
      n += seen.size;
    }
  }
  return n;
}

/**
 * Every (producer element, consumer element) pair an element edge makes one
 * wait for the other, as the runtime reads the edge (contract/element-edges.ts).
 * The plan's loader checks a map edge's indices; one outside the producer is
 * still left out rather than drawn to nowhere.
 */
function* elementPairs(edge: ElementEdge, ps: ElementSpace, cs: ElementSpace, reader: EdgeReader): Generator<[number, number]> {
  for (let c = 0; c < cs.size; c++) {
    for (const p of reader.producerElements(edge, c, ps, cs)) if (p >= 0 && p < ps.size) yield [p, c];
  }
}
