/**
 * Lanes: the slots of one task's jobs that move from a job to the next.
 *
 * Why: thousands of short jobs of one task are as fast as ninja's only if
 * the next one starts the instant the previous one ends, without a round
 * trip through Node. So while a job runs, the scheduler may hand on the
 * task's next ready job in the same slot (Scheduler.follow), and the runner
 * starts it the moment the first ends, unless that one failed: then the
 * follower never starts and is put back (Scheduler.putBack).
 *
 * A lane is opened when a job of a followable task is taken, holding what
 * that job holds (executor, cores, `--jobs`, named limits); it has at most
 * two running jobs: the one in the slot and its follower, waiting behind
 * it. When the job in the slot ends, the follower takes the slot over with
 * everything it holds; when the last job of a lane ends, the lane closes and
 * its slot is released. A lane's id is the `lane` of the runner's JobSpec,
 * so the runner needs to know nothing about the scheduler. runtime/README.md
 * has the state diagram.
 *
 * `WFC_LANES=0` in the environment turns lanes off (nothing is ever
 * followed: every job takes and releases its own slot), to find out
 * whether a wrong result comes from them.
 */

/** Whether lanes are on, as the environment says: on unless `WFC_LANES=0`. */
export function lanesFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.WFC_LANES !== "0";
}

/** One open lane: a task's slot and the running jobs in it. */
interface Lane {
  readonly id: number;
  readonly task: number;
  /** The job in the slot, then its follower if one was handed on (running, not started yet or waiting). */
  readonly jobs: number[];
  /** A job of it that runs on outside the lane (a retry): nothing may follow it any more. -1 for none. */
  outside: number;
}

/**
 * The open lanes, by id and by job. Ids count up from 1 and are never
 * reused, so a runner never confuses a lane with an earlier one.
 */
export class Lanes {
  readonly #byId = new Map<number, Lane>();
  /** Per task and job: the id of the lane it runs in, or 0. */
  readonly #of: Int32Array[];
  #last = 0;

  constructor(jobsPerTask: readonly number[]) {
    this.#of = jobsPerTask.map((n) => new Int32Array(n));
  }

  /** Room for `jobs` jobs of a task whose jobs grow (a dynamic task). */
  grow(task: number, jobs: number): void {
    const before = this.#of[task]!;
    if (jobs <= before.length) return;
    const after = new Int32Array(jobs);
    after.set(before);
    this.#of[task] = after;
  }

  /** A job just took a slot of its own: it opens a lane; returns its id. */
  open(task: number, job: number): number {
    const id = ++this.#last;
    this.#byId.set(id, { id, task, jobs: [job], outside: -1 });
    this.#of[task]![job] = id;
    return id;
  }

  /** The id of the lane a running job is in; undefined for a job without one. */
  laneOf(task: number, job: number): number | undefined {
    const id = this.#of[task]![job]!;
    return id === 0 ? undefined : id;
  }

  /** Whether `job` holds its lane's slot alone, so a follower may be handed on behind it. */
  canFollow(task: number, job: number): boolean {
    const lane = this.#lane(task, job);
    return lane !== undefined && lane.outside !== job && lane.jobs.length === 1 && lane.jobs[0] === job;
  }

  /** `next` waits behind `job` in its lane (check `canFollow` first). */
  follow(task: number, job: number, next: number): number {
    const lane = this.#lane(task, job)!;
    lane.jobs.push(next);
    this.#of[task]![next] = lane.id;
    return lane.id;
  }

  /** Nothing may follow `job` any more (it runs on outside its lane, e.g. a retry); a follower already handed on stays. */
  close(task: number, job: number): void {
    const lane = this.#lane(task, job);
    if (lane !== undefined) lane.outside = job;
  }

  /**
   * A job of a lane stops running (ended, or put back). Returns whether its
   * lane's slot is free now: false while the other job of the lane still
   * runs, which keeps the slot (a follower takes it over from its leader;
   * a leader keeps it when its follower ends first or is put back).
   */
  leave(task: number, job: number): boolean {
    const lane = this.#lane(task, job);
    if (lane === undefined) return true;
    this.#of[task]![job] = 0;
    lane.jobs.splice(lane.jobs.indexOf(job), 1);
    if (lane.outside === job) lane.outside = -1;
    if (lane.jobs.length > 0) return false;
    this.#byId.delete(lane.id);
    return true;
  }

  /** Running jobs that hold their lane's slot alone, oldest lane first: the ones that may be followed now. */
  *alone(): IterableIterator<{ readonly task: number; readonly job: number }> {
    for (const lane of this.#byId.values())
      if (lane.jobs.length === 1 && lane.outside !== lane.jobs[0]) yield { task: lane.task, job: lane.jobs[0]! };
  }

  #lane(task: number, job: number): Lane | undefined {
    const id = this.#of[task]![job]!;
    return id === 0 ? undefined : this.#byId.get(id);
  }
}
