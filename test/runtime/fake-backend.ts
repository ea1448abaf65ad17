/**
 * A backend whose jobs end when the test says so: the run loop, the
 * scheduler and the journal are real, only the running of commands is
 * scripted. Lanes behave as the runners' do: a follower waits for the job
 * before it in its lane and never starts if that one did not succeed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Backend, JobContext, JobOutcome, PreparedJob } from "../../runtime/backends/backend.js";

export interface FakeJob {
  readonly job: PreparedJob;
  readonly ctx: JobContext;
  /** `task#job@attempt`, with the task's id. */
  readonly name: string;
}

interface Waiting extends FakeJob {
  readonly resolve: (outcome: JobOutcome) => void;
}

/** A lane's last job: whether it ended, and how. */
interface LaneState {
  ended: boolean;
  ok: boolean;
  /** The follower waiting for it, if any. */
  next: Waiting | null;
}

export class FakeBackend implements Backend {
  /** Every job handed to the backend, in order (followers included, whether they started or not). */
  readonly received: string[] = [];
  /** Jobs started and not ended yet, by name. */
  readonly #running = new Map<string, Waiting>();
  readonly #lanes = new Map<number, LaneState>();
  #changed: (() => void) | undefined;
  closed = false;

  startsLater(job: PreparedJob): boolean {
    return job.lane?.follows === true;
  }

  run(job: PreparedJob, ctx: JobContext): Promise<JobOutcome> {
    return new Promise((resolve) => {
      const name = `${job.task.id}#${job.key.job}@${job.attempt}`;
      this.received.push(name);
      const waiting: Waiting = { job, ctx, name, resolve };
      const lane = job.lane === undefined ? undefined : this.#lanes.get(job.lane.id);
      if (job.lane?.follows === true && lane !== undefined && !lane.ended) {
        lane.next = waiting;
        return;
      }
      if (job.lane?.follows === true && lane !== undefined && !lane.ok) return resolve({ kind: "not-run" });
      this.#start(waiting);
    });
  }

  #start(w: Waiting): void {
    if (w.job.lane !== undefined) this.#lanes.set(w.job.lane.id, { ended: false, ok: false, next: null });
    if (w.ctx.signal.aborted) return this.#end(w, { kind: "cancelled", started: Date.now(), exitCode: null });
    this.#running.set(w.name, w);
    w.ctx.signal.addEventListener("abort", () => this.#end(w, { kind: "cancelled", started: Date.now(), exitCode: null }), {
      once: true,
    });
    w.ctx.onStart(Date.now());
    this.#changed?.();
  }

  #end(w: Waiting, outcome: JobOutcome): void {
    if (!this.#running.delete(w.name) && outcome.kind !== "cancelled") return;
    w.resolve(outcome);
    this.#changed?.();
    if (w.job.lane === undefined) return;
    const lane = this.#lanes.get(w.job.lane.id)!;
    lane.ended = true;
    lane.ok = outcome.kind === "done";
    const next = lane.next;
    lane.next = null;
    if (next === null) return;
    if (lane.ok) this.#start(next);
    else next.resolve({ kind: "not-run" });
  }

  /** The names of the jobs running now, sorted. */
  running(): string[] {
    return [...this.#running.keys()].sort();
  }

  /** Waits until exactly these jobs run (each `task#job@attempt`), in any order. */
  async until(names: readonly string[]): Promise<void> {
    const wanted = [...names].sort().join(" ");
    while (this.running().join(" ") !== wanted) await this.#change();
  }

  #change(): Promise<void> {
    return new Promise<void>((r) => (this.#changed = r));
  }

  /** Ends every job as done, as they start, until `run` settles; resolves with what it resolved with. */
  async succeedAll<T>(run: Promise<T>): Promise<T> {
    let over = false;
    void run.finally(() => {
      over = true;
      this.#changed?.();
    });
    while (!over) {
      // Ending a lane's job may start its follower at once: end until nothing runs.
      while (this.#running.size > 0) for (const name of this.running()) this.succeed(name);
      if (!over) await this.#change();
    }
    return run;
  }

  /** Ends a running job as done, having written its declared outputs (as a real job must, or the run fails it). */
  succeed(name: string): void {
    const w = this.#get(name);
    for (const c of w.job.commands)
      for (const path of c.outputs.flatMap((o) => o.paths)) {
        const abs = resolve(w.ctx.workdir, path);
        mkdirSync(dirname(abs), { recursive: true });
        writeFileSync(abs, `${w.name}\n`);
      }
    this.#end(w, { kind: "done", started: Date.now() });
  }

  /** Ends a running job as done without writing its outputs (the run then fails it for them). */
  succeedWithoutOutputs(name: string): void {
    this.#end(this.#get(name), { kind: "done", started: Date.now() });
  }

  /** Ends a running job as failed with an exit code. */
  fail(name: string, exitCode = 1): void {
    const w = this.#get(name);
    this.#end(w, { kind: "failed", started: Date.now(), exitCode, step: 0, command: `fake ${w.name}`, reason: `exit ${exitCode}` });
  }

  #get(name: string): Waiting {
    const w = this.#running.get(name);
    if (w === undefined) throw new Error(`${name} is not running (running: ${this.running().join(", ") || "nothing"})`);
    return w;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
