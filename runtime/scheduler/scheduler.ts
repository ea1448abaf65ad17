import type { Plan, PlanTask } from "../../contract/plan.js";
import { Lanes, lanesFromEnvironment } from "./lanes.js";
import { Readiness } from "./readiness.js";
import { RunElements } from "./elements.js";
import type { DynamicSpace } from "../../contract/plan.js";
import { Semaphore } from "./semaphore.js";
import { executorWorkers } from "../../contract/workers.js";

/** A job: elements `[first, end)` of one task, run serially (a batch), or one element. */
export interface JobRef {
  readonly task: number;
  readonly job: number;
  readonly first: number;
  readonly end: number;
}

export type JobState = "waiting" | "ready" | "running" | "done" | "failed" | "skipped";

export interface SchedulerOptions {
  /** Workflow-wide cap on running jobs (`--jobs`, else the plan's `jobs`); undefined for none. */
  readonly jobs?: number;
  /** Cores of this machine: local jobs' `cpus` never add up beyond them. */
  readonly cores: number;
  /**
   * Whether named limits that only SLURM tasks share are SLURM licenses,
   * enforced by the cluster (default false: wfc enforces them). Stage caps
   * of SLURM tasks are always the arrays' `%k`; `--jobs` and the plan's
   * `jobs` count local jobs only.
   */
  readonly slurmLicenses?: boolean;
  /** Whether jobs may be handed on in their lanes (see `follow`); default: on unless `WFC_LANES=0` (lanes.ts). */
  readonly lanes?: boolean;
  /**
   * A partial run (targets, `--until`): per task, per element, non-zero for
   * the elements that run; undefined for all of a task. A job runs if one
   * of its elements does, and waits only for those; the others never become ready.
   */
  readonly only?: readonly (ArrayLike<number> | undefined)[];
  /** The run's elements (made from the plan when not given). */
  readonly elements?: RunElements;
  /**
   * A dynamic task's block became elements `[first, end)`: called before
   * any of them may be ready, so a partial run can fill in `only` for them
   * (its array for the task may be replaced: `only` is read afresh each time).
   */
  readonly onExpand?: (task: number, block: number, first: number, end: number) => void;
}

/** The elements a producer element's end added to a dynamic task. */
export interface Expanded {
  readonly task: number;
  readonly block: number;
  readonly first: number;
  readonly end: number;
}

/**
 * How many `fn` calls make one busy worker. An `fn` call is tens of
 * microseconds of work, less than a round trip to its thread, so a local
 * pool is handed calls in batches: up to this many per worker are in flight
 * (queued at the worker), each weighing 1/FN_CALLS_PER_WORKER of a worker,
 * a core and a `--jobs` slot. Named limits still count every call whole.
 */
export const FN_CALLS_PER_WORKER = 32;
const WHOLE = FN_CALLS_PER_WORKER;

/**
 * The scheduler core: an I/O-free ready queue (STYLE habit 9). It knows
 * which jobs may start now, given element-wise dependencies, every
 * concurrency group, each executor's worker count, the machine's cores and
 * the workflow-wide cap, and prefers tasks on the critical path. Executors
 * and the clock live elsewhere; tests drive it with fake jobs.
 */
export class Scheduler {
  readonly tasks: readonly PlanTask[];
  /** Every task's elements: a dynamic task's grow as its producer's elements end (`expand`). */
  readonly elements: RunElements;
  readonly #readiness: Readiness;
  /** Per task: jobs so far (a static task: all of them; a dynamic one grows, one element a job). */
  readonly #jobs: number[];
  /** Per task: elements not yet ready, per job. */
  readonly #notReady: Int32Array[];
  readonly #state: Uint8Array[];
  readonly #ready: number[][];
  readonly #readyHead: number[];
  /** Task indexes by priority (critical path first), then plan order. */
  readonly #order: number[];
  /** Rank in `#order` of each task, and the ranks of tasks with ready jobs: `take()` visits only those. */
  readonly #rank: number[];
  readonly #readyRanks = new Set<number>();
  readonly #groups = new Map<string, Semaphore>();
  readonly #executors = new Map<string, Semaphore | undefined>();
  readonly #executorTypes = new Map<string, string>();
  readonly #global: Semaphore | undefined;
  readonly #cores: Semaphore;
  /** Per task and job: the job whose end made it ready (task, job), or -1: what a critical path follows. */
  readonly #releasedByTask: Int32Array[];
  readonly #releasedByJob: Int32Array[];
  #finishing: JobRef | undefined;
  /** Per task: what one job weighs on its executor, the cores and `--jobs`: 1 for local `fn` tasks, else WHOLE. */
  readonly #weight: number[];
  /** Per task: the groups wfc enforces (a SLURM task's caps and licensed limits are the cluster's to enforce), sorted as locks should be. */
  readonly #enforced: (readonly PlanTask["groups"][number][])[];
  /** Per task: whether its jobs may follow one another in one slot (see `follow`). */
  readonly #followable: boolean[];
  /** The slots of followable tasks' jobs, which move from a job to its follower (lanes.ts). */
  readonly #lanes: Lanes;
  readonly #only: readonly (ArrayLike<number> | undefined)[] | undefined;
  readonly #onExpand: SchedulerOptions["onExpand"];
  #running = 0;
  #stopped = false;
  readonly counts = { done: 0, failed: 0, skipped: 0 };

  constructor(plan: Plan, options: SchedulerOptions) {
    this.tasks = plan.tasks;
    this.elements = options.elements ?? new RunElements(plan);
    this.#jobs = this.tasks.map((t, i) => t.jobs ?? this.elements.of(i).size);
    for (const g of plan.groups) this.#groups.set(g.id, new Semaphore(g.id, g.capacity));
    const jobs = options.jobs ?? plan.jobs ?? undefined;
    // Executors, cores and `--jobs` count in units of 1/WHOLE (see FN_CALLS_PER_WORKER).
    for (const [name, e] of Object.entries(plan.executors)) {
      const workers = executorWorkers(e, jobs, options.cores);
      this.#executors.set(name, workers === undefined ? undefined : new Semaphore(`executor ${name}`, workers * WHOLE));
      this.#executorTypes.set(name, e.type);
    }
    this.#global = jobs === undefined ? undefined : new Semaphore("jobs", jobs * WHOLE);
    // `--jobs` above the core count oversubscribes on purpose (jobs that mostly
    // wait), as `make -j` and Snakemake's `--cores` do.
    this.#cores = new Semaphore("cores", Math.max(1, options.cores, jobs ?? 0) * WHOLE);
    this.#weight = this.tasks.map((t) =>
      this.#executorTypes.get(t.executor) !== "slurm" && t.steps.length > 0 && t.steps.every((s) => s.action.kind === "fn") ? 1 : WHOLE,
    );
    const slurmOnly = new Set(
      plan.groups
        .filter((g) => g.kind === "limit" && this.tasks.every((t) => !t.groups.some((x) => x.group === g.id) || !this.#localTask(t)))
        .map((g) => g.id),
    );
    const kinds = new Map(plan.groups.map((g) => [g.id, g.kind]));
    this.#enforced = this.tasks.map((t) =>
      (this.#localTask(t)
        ? [...t.groups]
        : t.groups.filter((g) => kinds.get(g.group) !== "cap" && !(options.slurmLicenses === true && slurmOnly.has(g.group)))
      ).sort((a, b) => (a.group < b.group ? -1 : 1)),
    );
    const lanes = options.lanes ?? lanesFromEnvironment();
    this.#followable = this.tasks.map(
      (t, i) => lanes && this.#localTask(t) && this.#weight[i] === WHOLE && t.steps.every((s) => s.action.kind !== "fn"),
    );
    this.#lanes = new Lanes(this.#jobs.map((n, t) => (this.tasks[t]!.jobs === null ? 16 : n)));
    this.#only = options.only;
    this.#onExpand = options.onExpand;
    this.#notReady = this.tasks.map((t, i) => {
      const counts = new Int32Array(t.jobs ?? 16);
      const only = options.only?.[i];
      if (t.jobs === null) return counts;
      if (only === undefined) for (let j = 0; j < t.jobs; j++) counts[j] = Math.min(t.batch, t.space.size - j * t.batch);
      // A job none of whose elements runs counts 0 and is never made ready (see the readiness callback).
      else for (let e = 0; e < t.space.size; e++) if (only[e]) counts[Math.floor(e / t.batch)]!++;
      return counts;
    });
    this.#state = this.tasks.map((t) => new Uint8Array(t.jobs ?? 16));
    this.#ready = this.tasks.map(() => []);
    this.#readyHead = this.tasks.map(() => 0);
    this.#order = this.tasks.map((_, i) => i).sort((a, b) => this.tasks[b]!.priority - this.tasks[a]!.priority || a - b);
    this.#rank = [];
    this.#order.forEach((t, r) => (this.#rank[t] = r));
    this.#releasedByTask = this.tasks.map((t) => new Int32Array(t.jobs ?? 16).fill(-1));
    this.#releasedByJob = this.tasks.map((t) => new Int32Array(t.jobs ?? 16).fill(-1));
    const only = options.only;
    // A partial run's element waits only for the deps feeding the steps it runs (`only`: how many, per element).
    const feeds = this.tasks.map((t) =>
      t.deps.map((d) =>
        d.input === null
          ? 0
          : Math.max(
              0,
              t.steps.findIndex((s) => s.stage === d.input!.step),
            ),
      ),
    );
    const waits = (task: number, dep: number, element: number) => only?.[task] === undefined || feeds[task]![dep]! < only[task]![element]!;
    this.#readiness = new Readiness(
      this.tasks,
      this.elements,
      (task, element) => {
        if (this.#only?.[task] !== undefined && !this.#only[task]![element]) return;
        const job = Math.floor(element / this.tasks[task]!.batch);
        if (--this.#notReady[task]![job]! === 0 && this.#state[task]![job] === STATE.waiting) {
          if (this.#finishing) {
            this.#releasedByTask[task]![job] = this.#finishing.task;
            this.#releasedByJob[task]![job] = this.#finishing.job;
          }
          this.#state[task]![job] = STATE.ready;
          this.#ready[task]!.push(job);
          this.#readyRanks.add(this.#rank[task]!);
        }
      },
      waits,
    );
    this.#readiness.start();
  }

  /** Jobs of a task so far: a dynamic task's grow with its elements. */
  jobsOf(task: number): number {
    return this.#jobs[task]!;
  }

  /**
   * Element `element` of producer task `task` ended well, and `rows` says
   * what it decided for each dynamic space it feeds (issue 14): the blocks
   * it expands become elements, one job each, which wait for what they
   * depend on and are ready at once when that is nothing. Call before
   * `finish` of the producer's job. Returns what it added, in plan order.
   * `rows` undefined for a space: the element did not decide it in this
   * run (a partial run left that step out), and its blocks stay as they are.
   */
  expand(task: number, element: number, rows: (dynamic: DynamicSpace) => readonly (readonly string[])[] | undefined): Expanded[] {
    const out: Expanded[] = [];
    // The producer's job releases them: a critical path runs through it.
    const finishing = this.#finishing;
    this.#finishing = this.#ref(task, Math.floor(element / this.tasks[task]!.batch));
    try {
      this.#expandFrom(task, element, rows, out);
    } finally {
      this.#finishing = finishing;
    }
    return out;
  }

  #expandFrom(
    task: number,
    element: number,
    rows: (dynamic: DynamicSpace) => readonly (readonly string[])[] | undefined,
    out: Expanded[],
  ): void {
    for (const { task: d, blocks } of this.elements.expansionsOf(task, element)) {
      const elements = this.elements.dynamic(d)!;
      const decided = rows(elements.dynamic);
      if (decided === undefined) continue;
      for (const block of blocks) {
        if (elements.expanded[block]) continue;
        const { first, end } = elements.expand(block, decided);
        this.#grow(d, end);
        this.#onExpand?.(d, block, first, end);
        this.#readiness.grow(d, block, first, end);
        out.push({ task: d, block, first, end });
      }
    }
  }

  /** Room for a dynamic task's jobs up to `end` (one element a job): waiting, each for its one element. */
  #grow(t: number, end: number): void {
    const from = this.#jobs[t]!;
    this.#jobs[t] = end;
    if (end > this.#state[t]!.length) {
      const size = Math.max(end, this.#state[t]!.length * 2);
      const grown = <A extends Int32Array | Uint8Array>(a: A, make: (n: number) => A, fill?: number): A => {
        const b = make(size);
        if (fill !== undefined) b.fill(fill);
        b.set(a);
        return b;
      };
      this.#notReady[t] = grown(this.#notReady[t]!, (n) => new Int32Array(n));
      this.#state[t] = grown(this.#state[t]!, (n) => new Uint8Array(n));
      this.#releasedByTask[t] = grown(this.#releasedByTask[t]!, (n) => new Int32Array(n), -1);
      this.#releasedByJob[t] = grown(this.#releasedByJob[t]!, (n) => new Int32Array(n), -1);
      this.#lanes.grow(t, size);
    }
    for (let j = from; j < end; j++) this.#notReady[t]![j] = 1;
  }

  /** Jobs that may start now; they are marked running. Empty when nothing fits or after `stop()`. */
  take(): JobRef[] {
    const out: JobRef[] = [];
    if (this.#stopped) return out;
    // Only tasks with ready jobs, in priority order: a 10,000-task plan costs nothing per idle task.
    for (const r of [...this.#readyRanks].sort((a, b) => a - b)) {
      const t = this.#order[r]!;
      const queue = this.#ready[t]!;
      while (this.#readyHead[t]! < queue.length) {
        if (!this.#fits(t)) break;
        const job = queue[this.#readyHead[t]!++]!;
        this.#acquire(t);
        this.#state[t]![job] = STATE.running;
        this.#running++;
        if (this.#followable[t]) this.#lanes.open(t, job);
        out.push(this.#ref(t, job));
      }
      if (this.#readyHead[t]! >= queue.length) this.#readyRanks.delete(r);
    }
    return out;
  }

  /**
   * The next job to run in `job`'s slot once `job` ends, taken now so that
   * its executor can start it without a round trip (JobSpec.lane): a ready
   * job of the same task, which needs exactly what `job` holds, and takes
   * it over instead of acquiring anything. Only for local command tasks
   * (`fn` calls are batched instead), only for a job alone in its lane
   * (not followed already, nor following one still running), and only when
   * no task of higher priority waits that could take the slot instead
   * (`#outranked`): following must not jump the queue. Undefined when there is none.
   */
  follow(job: JobRef): JobRef | undefined {
    const t = job.task;
    if (this.#stopped || !this.#followable[t] || this.#state[t]![job.job] !== STATE.running) return undefined;
    if (!this.#lanes.canFollow(t, job.job)) return undefined;
    const queue = this.#ready[t]!;
    if (this.#readyHead[t]! >= queue.length) return undefined;
    if (this.#outranked(t)) return undefined;
    const next = queue[this.#readyHead[t]!++]!;
    if (this.#readyHead[t]! >= queue.length) this.#readyRanks.delete(this.#rank[t]!);
    this.#state[t]![next] = STATE.running;
    this.#running++;
    this.#lanes.follow(t, job.job, next);
    return this.#ref(t, next);
  }

  /** `follow` for every running job alone in its lane, with the lane both share (the runner's JobSpec.lane). */
  handOn(): { readonly job: JobRef; readonly after: JobRef; readonly lane: number }[] {
    const out: { job: JobRef; after: JobRef; lane: number }[] = [];
    for (const { task, job } of [...this.#lanes.alone()]) {
      const after = this.#ref(task, job);
      const next = this.follow(after);
      if (next !== undefined) out.push({ job: next, after, lane: this.#lanes.laneOf(task, job)! });
    }
    return out;
  }

  /** The lane a running job is in (the runner's JobSpec.lane); undefined when it has none (lanes off, or not followable). */
  lane(job: JobRef): number | undefined {
    return this.#lanes.laneOf(job.task, job.job);
  }

  /**
   * The job runs on outside its lane (a retry, which must neither wait for
   * nor be skipped with a follower): nothing follows it from now on. It keeps its slot.
   */
  leaveLane(job: JobRef): void {
    this.#lanes.close(job.task, job.job);
  }

  /**
   * Whether a task of higher priority than `t` has a ready job that could
   * start in the slot a job of `t` frees when it ends: following must not
   * take that slot from it. One that would not fit even then (it waits for
   * a limit someone else holds) does not stand in the way.
   */
  #outranked(t: number): boolean {
    const rank = this.#rank[t]!;
    const higher = [...this.#readyRanks].filter((r) => r < rank);
    if (higher.length === 0) return false;
    this.#release(t);
    const fits = higher.some((r) => this.#fits(this.#order[r]!));
    this.#acquire(t);
    return fits;
  }

  /**
   * A job taken by `follow` that never started (the job before it failed,
   * so its executor skipped it): it is ready again, as if never taken.
   */
  putBack(job: JobRef): void {
    if (this.#state[job.task]![job.job] !== STATE.running)
      throw new Error(`putBack of a job that is not running: ${this.tasks[job.task]!.id}#${job.job}`);
    this.#end(job);
    this.#state[job.task]![job.job] = STATE.ready;
    this.#ready[job.task]!.push(job.job);
    this.#readyRanks.add(this.#rank[job.task]!);
  }

  /**
   * A taken job ended. `done` and `skipped` (up to date, or `--touch`)
   * release its dependents; `failed` blocks them.
   */
  finish(job: JobRef, outcome: "done" | "failed" | "skipped"): void {
    if (this.#state[job.task]![job.job] !== STATE.running)
      throw new Error(`finish of a job that is not running: ${this.tasks[job.task]!.id}#${job.job}`);
    this.#end(job);
    this.#state[job.task]![job.job] = STATE[outcome];
    this.counts[outcome]++;
    this.#finishing = job;
    const only = this.#only?.[job.task];
    if (outcome !== "failed")
      for (let e = job.first; e < job.end; e++) if (only === undefined || only[e]) this.#readiness.complete(job.task, e);
    this.#finishing = undefined;
  }

  /** Whether a task's jobs are `fn` calls that wait at their worker in batches (see FN_CALLS_PER_WORKER). */
  queued(task: number): boolean {
    return this.#weight[task] === 1;
  }

  /** Whether a task's jobs can be handed on from one to the next (see `follow`). */
  followable(task: number): boolean {
    return this.#followable[task]!;
  }

  /** The job whose end made this one ready: undefined for a job that waited for nothing. */
  releasedBy(job: { task: number; job: number }): JobRef | undefined {
    const task = this.#releasedByTask[job.task]![job.job]!;
    return task < 0 ? undefined : this.#ref(task, this.#releasedByJob[job.task]![job.job]!);
  }

  isRunning(job: JobRef): boolean {
    return this.#state[job.task]![job.job] === STATE.running;
  }

  /** Fail fast: start nothing more; running jobs finish. */
  stop(): void {
    this.#stopped = true;
  }

  get running(): number {
    return this.#running;
  }

  /** Nothing runs and nothing more can start: the run is over. */
  get idle(): boolean {
    return this.#running === 0 && (this.#stopped || this.#readyRanks.size === 0);
  }

  /** Jobs in a state, per task (for the summary: waiting ones at the end were blocked by a failure). */
  stateCounts(task: number): Record<JobState, number> {
    const counts: Record<JobState, number> = { waiting: 0, ready: 0, running: 0, done: 0, failed: 0, skipped: 0 };
    const states = this.#state[task]!;
    for (let j = 0; j < this.#jobs[task]!; j++) counts[NAMES[states[j]!]!]++;
    return counts;
  }

  /** A job stops running: what it holds is released, unless the other job of its lane still runs and keeps it. */
  #end(job: JobRef): void {
    if (this.#lanes.leave(job.task, job.job)) this.#release(job.task);
    this.#running--;
  }

  #ref(task: number, job: number): JobRef {
    const t = this.tasks[task]!;
    return { task, job, first: job * t.batch, end: Math.min(this.elements.of(task).size, (job + 1) * t.batch) };
  }

  /** Local jobs use this machine's cores and count toward `--jobs`; SLURM jobs use the cluster's. */
  #localTask(task: PlanTask): boolean {
    return this.#executorTypes.get(task.executor) !== "slurm";
  }

  #fits(t: number): boolean {
    const task = this.tasks[t]!;
    const w = this.#weight[t]!;
    const local = this.#localTask(task);
    if (local && this.#global && !this.#global.fits(w)) return false;
    const executor = this.#executors.get(task.executor);
    if (executor && !executor.fits(w)) return false;
    if (local && !this.#cores.fits(task.resources.cpus * w)) return false;
    return this.#enforced[t]!.every((g) => this.#groups.get(g.group)!.fits(g.weight));
  }

  #acquire(t: number): void {
    this.#hold(t, (s, n) => s?.acquire(n));
  }

  #release(t: number): void {
    this.#hold(t, (s, n) => s?.release(n));
  }

  /** Acquires or releases what a job of task `t` holds; groups in sorted order, though nothing here waits. */
  #hold(t: number, each: (s: Semaphore | undefined, weight: number) => void): void {
    const task = this.tasks[t]!;
    const w = this.#weight[t]!;
    const local = this.#localTask(task);
    if (local) each(this.#global, w);
    each(this.#executors.get(task.executor), w);
    if (local) each(this.#cores, task.resources.cpus * w);
    for (const g of this.#enforced[t]!) each(this.#groups.get(g.group)!, g.weight);
  }
}

const STATE = { waiting: 0, ready: 1, running: 2, done: 3, failed: 4, skipped: 5 } as const;
const NAMES: readonly JobState[] = ["waiting", "ready", "running", "done", "failed", "skipped"];
