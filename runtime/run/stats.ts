import type { Plan } from "../../contract/plan.js";
import type { JobRef } from "../scheduler/scheduler.js";

/** One job of the critical path, with when it ran (epoch ms). */
export interface PathStep {
  readonly task: string;
  readonly job: number;
  readonly start: number;
  readonly end: number;
}

/** How hard a concurrency group was used over the run. */
export interface LimitUse {
  readonly group: string;
  readonly capacity: number;
  /** Milliseconds during which every slot was held. */
  readonly fullMs: number;
  /** Slot-milliseconds held, over capacity × wall time: 1 means full all along. */
  readonly share: number;
}

/**
 * What the summary says about where the time went, gathered as jobs start
 * and end: each job's times (to follow the critical path back through the
 * jobs that released one another) and every group's use over time.
 */
export class RunStats {
  readonly #plan: Plan;
  readonly #start: (Float64Array | undefined)[];
  readonly #end: (Float64Array | undefined)[];
  #last: { task: number; job: number; end: number } | undefined;
  readonly #capacity = new Map<string, number>();
  readonly #used = new Map<string, number>();
  readonly #since = new Map<string, number>();
  readonly #full = new Map<string, number>();
  readonly #held = new Map<string, number>();

  constructor(plan: Plan) {
    this.#plan = plan;
    this.#start = plan.tasks.map(() => undefined);
    this.#end = plan.tasks.map(() => undefined);
    for (const g of plan.groups) {
      this.#capacity.set(g.id, g.capacity);
      this.#used.set(g.id, 0);
      this.#full.set(g.id, 0);
      this.#held.set(g.id, 0);
    }
  }

  /** A job ran from `start` to `end` (ms). Call once per job that ran, in the order they end. */
  ran(ref: JobRef, start: number, end: number): void {
    // A dynamic task's jobs grow as the run goes (issue 14): its tables grow with them.
    const n = Math.max(ref.job + 1, this.#plan.tasks[ref.task]!.jobs ?? 0);
    this.#start[ref.task] = room(this.#start[ref.task], n);
    this.#end[ref.task] = room(this.#end[ref.task], n);
    this.#start[ref.task]![ref.job] = start;
    this.#end[ref.task]![ref.job] = end;
    if (this.#last === undefined || end >= this.#last.end) this.#last = { task: ref.task, job: ref.job, end };
  }

  /** A job took (`+1`) or gave back (`-1`) its slots in its groups at `time`. */
  hold(task: number, sign: 1 | -1, time: number): void {
    for (const { group, weight } of this.#plan.tasks[task]!.groups) {
      this.#advance(group, time);
      this.#used.set(group, this.#used.get(group)! + sign * weight);
    }
  }

  #advance(group: string, time: number): void {
    const since = this.#since.get(group) ?? time;
    const dt = Math.max(0, time - since);
    const used = this.#used.get(group)!;
    if (used >= this.#capacity.get(group)!) this.#full.set(group, this.#full.get(group)! + dt);
    this.#held.set(group, this.#held.get(group)! + used * dt);
    this.#since.set(group, Math.max(since, time));
  }

  /**
   * The chain of jobs, each made ready by the end of the one before, that
   * ends with the last job to finish: what a faster run must shorten.
   */
  criticalPath(releasedBy: (job: { task: number; job: number }) => JobRef | undefined): PathStep[] {
    const path: PathStep[] = [];
    let at: { task: number; job: number } | undefined = this.#last;
    while (at !== undefined) {
      const start = this.#start[at.task]?.[at.job];
      const end = this.#end[at.task]?.[at.job];
      // A job that did not run (up to date) ends the chain: nothing before it held the run up.
      if (start === undefined || end === undefined || Number.isNaN(start)) break;
      path.push({ task: this.#plan.tasks[at.task]!.id, job: at.job, start, end });
      at = releasedBy(at);
    }
    return path.reverse();
  }

  /** The group that was full the longest (ties: the most used), or null when none was ever used. */
  busiestLimit(from: number, to: number): LimitUse | null {
    let best: LimitUse | null = null;
    const wall = Math.max(1, to - from);
    for (const [group, capacity] of [...this.#capacity].sort(([a], [b]) => (a < b ? -1 : 1))) {
      this.#advance(group, to);
      const held = this.#held.get(group)!;
      if (held === 0) continue;
      const use = { group, capacity, fullMs: Math.round(this.#full.get(group)!), share: Math.min(1, held / (capacity * wall)) };
      if (best === null || use.fullMs > best.fullMs || (use.fullMs === best.fullMs && use.share > best.share)) best = use;
    }
    return best;
  }
}

/** `table` with room for `n` entries (NaN where nothing was written), grown by doubling. */
function room(table: Float64Array | undefined, n: number): Float64Array {
  if (table !== undefined && table.length >= n) return table;
  const grown = new Float64Array(Math.max(n, (table?.length ?? 0) * 2)).fill(NaN);
  if (table !== undefined) grown.set(table);
  return grown;
}
