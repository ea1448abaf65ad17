import { ElementSpace } from "../../contract/elements.js";
import type { ElementEdge, Plan, PlanTask } from "../../contract/plan.js";
import { unreachable } from "../../contract/unreachable.js";
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

  const edges = new Map<string, GraphEdge>();
  for (const consumer of tasks) {
    for (const dep of consumer.deps) {
      const producer = tasks.find((t) => t.id === dep.task);
      if (producer === undefined) continue;
      const after = dep.input === null;
      for (const [p, c] of elementPairs(dep.edge, spaces.get(producer.id)!, spaces.get(consumer.id)!)) {
        const from = jobKeys.get(producer.id)![Math.floor(p / producer.batch)]!;
        const to = jobKeys.get(consumer.id)![Math.floor(c / consumer.batch)]!;
        const id = JSON.stringify([from, to, dep.edge.kind, after]);
        if (!edges.has(id)) edges.set(id, { from, to, fromCluster: null, toCluster: null, kind: dep.edge.kind, after, lines: [] });
        if (edges.size > MAX_DRAWN_JOB_EDGES)
          return { ok: false, problem: { kind: "too-many-edges", edges: countEdges(plan, spaces), limit: MAX_DRAWN_JOB_EDGES } };
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
function countEdges(plan: Plan, spaces: ReadonlyMap<string, ElementSpace>): number {
  let n = 0;
  for (const consumer of plan.tasks) {
    for (const dep of consumer.deps) {
      const producer = plan.tasks.find((t) => t.id === dep.task);
      if (producer === undefined) continue;
      const seen = new Set<string>();
      for (const [p, c] of elementPairs(dep.edge, spaces.get(producer.id)!, spaces.get(consumer.id)!)) {
        seen.add(`${Math.floor(p / producer.batch)} ${Math.floor(c / consumer.batch)}`);
      }
      n += seen.size;
    }
  }
  return n;
}

/** Every (producer element, consumer element) pair an element edge makes one wait for the other. */
function* elementPairs(edge: ElementEdge, ps: ElementSpace, cs: ElementSpace): Generator<[number, number]> {
  switch (edge.kind) {
    case "one-to-one":
      for (let i = 0; i < Math.min(ps.size, cs.size); i++) yield [i, i];
      return;
    case "all":
      for (let c = 0; c < cs.size; c++) for (let p = 0; p < ps.size; p++) yield [p, c];
      return;
    case "map":
      // The plan's loader checks the map; a pair outside either space is still left out rather than drawn to nowhere.
      for (let c = 0; c < cs.size; c++) {
        for (let k = edge.offsets[c] ?? 0; k < (edge.offsets[c + 1] ?? 0); k++) {
          const p = edge.indices[k];
          if (p !== undefined && p >= 0 && p < ps.size) yield [p, c];
        }
      }
      return;
    case "match": {
      // Keyed as the scheduler keys them: the `on` variables' values, among producers whose values are `where`, for consumers whose values are `when`.
      const key = (space: ElementSpace, i: number, vars: readonly string[], fixed: Readonly<Record<string, string>>) => {
        for (const [name, value] of Object.entries(fixed)) if (space.value(i, name) !== value) return undefined;
        return vars.map((v) => space.value(i, v) ?? "").join("\u0000");
      };
      const byKey = new Map<string, number[]>();
      for (let p = 0; p < ps.size; p++) {
        const k = key(
          ps,
          p,
          edge.on.map(([a]) => a),
          edge.where,
        );
        if (k === undefined) continue;
        const list = byKey.get(k);
        if (list) list.push(p);
        else byKey.set(k, [p]);
      }
      for (let c = 0; c < cs.size; c++) {
        const k = key(
          cs,
          c,
          edge.on.map(([, b]) => b),
          edge.when,
        );
        for (const p of k === undefined ? [] : (byKey.get(k) ?? [])) yield [p, c];
      }
      return;
    }
    case "expand":
      // Refused before: a dynamic consumer has no elements before the run.
      return;
    default:
      return unreachable(edge);
  }
}
