import { ElementIdentities, encodeValue } from "../../contract/identity.js";
import type { ElementEdge, Plan, PlanDep, PlanTask } from "../../contract/plan.js";

/** What the critical path needs of a record: its step, its element's identity, and when it ran. */
export interface PathRecord {
  readonly stage: string;
  readonly element: string;
  readonly start: number;
  readonly end: number;
}

/**
 * The critical path of a run: the longest chain (by the sum of their
 * durations) of records through the dependencies between elements, as
 * indices into `records`, first to last. A record depends on the records
 * of the elements its element waits for (the plan's element edges: the
 * same element, all of them, those whose variables match, an explicit map,
 * or the producer element that decided it), on its element's step before
 * it in a fused task, and on an earlier attempt of the same step. Records
 * of elements that ran in an earlier run are not there: the chain starts
 * at what this run ran.
 *
 * Linear in the records (plus a map edge's size): each step's records keep
 * the best chain ending in them per key of the edge that reads them, so an
 * `all` edge costs one lookup, not one per producer record.
 */
export function criticalPath(plan: Plan, records: readonly PathRecord[]): number[] {
  const taskOf = new Map<string, PlanTask>();
  for (const t of plan.tasks) for (const s of t.stages) taskOf.set(s, t);
  // Records by stage, each stage's in start order (retries after their first attempt).
  const byStage = new Map<string, number[]>();
  records.forEach((r, i) => {
    if (!taskOf.has(r.stage)) return;
    let list = byStage.get(r.stage);
    if (list === undefined) byStage.set(r.stage, (list = []));
    list.push(i);
  });
  for (const list of byStage.values()) list.sort((a, b) => records[a]!.start - records[b]!.start || a - b);

  const length = new Float64Array(records.length);
  const before = new Int32Array(records.length).fill(-1);
  /** Per stage: the best record ending each group, by how a consumer reads it. */
  const best = new Map<string, Map<string, number>>();
  const bestBy: BestBy = (stage, grouping, key) => {
    const id = `${stage}\0${grouping}`;
    let m = best.get(id);
    if (m !== undefined) return m;
    m = new Map();
    for (const i of byStage.get(stage) ?? []) {
      const k = key(records[i]!.element);
      if (k === undefined) continue;
      const was = m.get(k);
      if (was === undefined || length[i]! > length[was]!) m.set(k, i);
    }
    best.set(id, m);
    return m;
  };

  for (const task of plan.tasks) {
    task.stages.forEach((stage, s) => {
      const readers = predecessorsOf(plan, task, stage, s, bestBy);
      const lastAttempt = new Map<string, number>();
      for (const i of byStage.get(stage) ?? []) {
        const r = records[i]!;
        let from = -1;
        const consider = (p: number | undefined) => {
          if (p !== undefined && p !== i && (from === -1 || length[p]! > length[from]!)) from = p;
        };
        consider(lastAttempt.get(r.element));
        for (const read of readers) for (const p of read(r.element)) consider(p);
        lastAttempt.set(r.element, i);
        before[i] = from;
        length[i] = Math.max(0, r.end - r.start) + (from === -1 ? 0 : length[from]!);
      }
    });
  }

  let last = -1;
  for (let i = 0; i < records.length; i++)
    if (
      taskOf.has(records[i]!.stage) &&
      (last === -1 || length[i]! > length[last]! || (length[i] === length[last] && records[i]!.end > records[last]!.end))
    )
      last = i;
  const path: number[] = [];
  for (let i = last; i !== -1; i = before[i]!) path.push(i);
  return path.reverse();
}

/** A step's records, best (longest chain) per group; `grouping` names `key` (the same name, the same function) for the cache. */
type BestBy = (stage: string, grouping: string, key: (element: string) => string | undefined) => Map<string, number>;
/** For a record's element, the records (best per group) it waits for through one edge. */
type Reader = (element: string) => Iterable<number>;

/** How step `s` (`stage`) of `task` reads what it waits for: its element's step before it, and the deps that feed it. */
function predecessorsOf(plan: Plan, task: PlanTask, stage: string, s: number, bestBy: BestBy): Reader[] {
  const readers: Reader[] = [];
  if (s > 0) {
    const previous = bestBy(task.stages[s - 1]!, "element", (e) => e);
    readers.push((e) => one(previous.get(e)));
  }
  for (const dep of task.deps) {
    // A dep feeds one step's input (its `from` names the producer's step), or, for `after`, the task's first step.
    if ((dep.input?.step ?? task.stages[0]) !== stage) continue;
    const producer = plan.tasks.find((t) => t.id === dep.task);
    if (producer === undefined) continue;
    readers.push(edgeReader(dep, producerStage(task, dep, producer), producer, task, bestBy));
  }
  return readers;
}

/** The producer's step whose output the dep reads; its last step for `after` or when the plan does not say. */
function producerStage(consumer: PlanTask, dep: PlanDep, producer: PlanTask): string {
  const input = dep.input === null ? undefined : consumer.steps.find((st) => st.stage === dep.input!.step)?.inputs[dep.input.index];
  const from = input?.from.find((f) => f.task === producer.id)?.step;
  return from !== undefined && producer.stages.includes(from) ? from : producer.stages.at(-1)!;
}

function edgeReader(dep: PlanDep, stage: string, producer: PlanTask, consumer: PlanTask, bestBy: BestBy): Reader {
  const edge: ElementEdge = dep.edge;
  switch (edge.kind) {
    case "one-to-one": {
      const m = bestBy(stage, "element", (e) => e);
      return (e) => one(m.get(e));
    }
    case "all": {
      const m = bestBy(stage, "all", () => "");
      return () => one(m.get(""));
    }
    case "match": {
      const where = Object.entries(edge.where).map(([k, v]) => [k, encodeValue(v)] as const);
      const when = Object.entries(edge.when).map(([k, v]) => [k, encodeValue(v)] as const);
      const m = bestBy(stage, `match ${JSON.stringify([edge.on, edge.where])}`, (e) => {
        const vars = identityValues(e);
        if (!where.every(([k, v]) => vars.get(k) === v)) return undefined;
        return edge.on.map(([p]) => vars.get(p) ?? "").join(",");
      });
      return (e) => {
        const vars = identityValues(e);
        if (!when.every(([k, v]) => vars.get(k) === v)) return [];
        return one(m.get(edge.on.map(([, c]) => vars.get(c) ?? "").join(",")));
      };
    }
    case "expand": {
      // The producer element whose variables named in `per` are the consumer's (none: its one element).
      const per = consumer.space.dynamic?.per ?? [];
      const m = bestBy(stage, `expand ${JSON.stringify(per)}`, (e) => {
        const vars = identityValues(e);
        return per.map((v) => vars.get(v) ?? "").join(",");
      });
      return (e) => {
        const vars = identityValues(e);
        return one(m.get(per.map((v) => vars.get(v) ?? "").join(",")));
      };
    }
    case "map": {
      // Element numbers to identities: a map edge is between two static spaces.
      if (producer.space.dynamic !== undefined || consumer.space.dynamic !== undefined) return () => [];
      const m = bestBy(stage, "element", (e) => e);
      const producerIds = new ElementIdentities(producer.space);
      const consumerIds = new ElementIdentities(consumer.space);
      const index = new Map<string, number>();
      for (let j = 0; j < consumer.space.size; j++) index.set(consumerIds.of(j), j);
      return (e) => {
        const j = index.get(e);
        if (j === undefined) return [];
        const found: number[] = [];
        for (let k = edge.offsets[j]!; k < edge.offsets[j + 1]!; k++) {
          const p = m.get(producerIds.of(edge.indices[k]!));
          if (p !== undefined) found.push(p);
        }
        return found;
      };
    }
  }
}

function one(i: number | undefined): number[] {
  return i === undefined ? [] : [i];
}

/** An identity's variables and their values, as written (%-encoded): `s=a,chunk=3` → s: a, chunk: 3. */
export function identityValues(identity: string): Map<string, string> {
  const vars = new Map<string, string>();
  if (identity === "") return vars;
  for (const part of identity.replace(/@\d+$/, "").split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) vars.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return vars;
}
