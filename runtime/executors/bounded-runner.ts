import { Entry, notRunEnd, succeeded, type Stop } from "./entry.js";
import { epochMs, toLaunchSpec, type JobEvents, type JobResult, type JobRunner, type JobSpec } from "./job.js";
import type { LaunchHandle, LaunchHandlers, Launcher } from "./launcher.js";
import { KILL_WAIT_MS, signalGroup, terminateGroup } from "./process-group.js";

export type { LaunchEnd, LaunchHandle, LaunchHandlers, Launcher } from "./launcher.js";

export interface BoundedRunnerOptions {
  /** Jobs running at once (for ProcessPool: worker processes); an integer ≥ 1. */
  readonly size: number;
  /** Grace period between SIGTERM and SIGKILL for timeouts and aborts (default 2000 ms). */
  readonly killGraceMs?: number;
  /** How long after SIGKILL a job's process may take to be reaped before the runner abandons it (default 5000 ms). */
  readonly killWaitMs?: number;
}

/**
 * The part both runners share: a FIFO queue in front of `size` slots, per-job
 * timeouts, cancellation through AbortSignal or killAll, and killing a job by
 * process group with escalation (STYLE habits 10 and 11). The launcher only
 * starts processes and reports on them.
 *
 * Lanes (JobSpec.lane): a job whose lane has a job in the runner waits
 * behind it instead of taking a slot, starts in that job's slot when it
 * ended, and only if it succeeded (else it ends `notRun`; a job that
 * `follows` also when the job before it had failed before it came). A
 * launcher that can `follow` is handed it at once, so it starts without a
 * round trip through Node: what makes thousands of short jobs as fast as ninja's.
 * That is all the runner knows of lanes: which jobs share one, and why
 * they may, is the scheduler's (scheduler/lanes.ts, runtime/README.md).
 *
 * Invariants: the entries that own a slot never exceed `size`, and at most
 * one entry per lane is started; every entry reaches "done" exactly once,
 * and its promise resolves then and only then.
 */
export class BoundedRunner implements JobRunner {
  readonly size: number;
  readonly killGraceMs: number;
  readonly #killWaitMs: number;
  #launcher: Launcher;
  #queue: Entry[] = [];
  #head = 0;
  /** Entries owning a slot. */
  #slots = 0;
  /** Per lane, its last entry, until it is done and succeeded (a failed one stays, for a later job that `follows`). */
  #lanes = new Map<number, Entry>();
  #pending = new Set<Entry>();
  #closed = false;
  #closing: Promise<void> | null = null;
  /** One abort listener per distinct signal, however many jobs share it (one AbortController per run). */
  #bySignal = new Map<AbortSignal, { entries: Set<Entry>; listener: () => void }>();

  constructor(launcher: Launcher, options: BoundedRunnerOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`size must be an integer ≥ 1, not ${options.size}`);
    this.size = options.size;
    this.killGraceMs = options.killGraceMs ?? 2000;
    this.#killWaitMs = options.killWaitMs ?? KILL_WAIT_MS;
    this.#launcher = launcher;
  }

  run(job: JobSpec, signal?: AbortSignal, events?: JobEvents): Promise<JobResult> {
    if (this.#closed) throw new Error(`cannot run job ${JSON.stringify(job.id)}: the runner is closed`);
    const entry = new Entry(toLaunchSpec(job), job.timeoutMs, signal, events, job.lane);
    this.#pending.add(entry);
    if (signal?.aborted) {
      this.#stop(entry, "cancel", 0);
      return entry.done;
    }
    if (signal) this.#watch(entry, signal);
    const before = job.lane === undefined ? undefined : this.#lanes.get(job.lane);
    entry.before = before;
    if (job.lane !== undefined) this.#lanes.set(job.lane, entry);
    // Behind the lane's last job, unless that one has ended already (it may still be settling: killing its group).
    if (before !== undefined && before.end === null && before.state !== "done") {
      before.next = entry;
      if (before.state === "running" && before.handle !== null) this.#follow(before, entry);
      return entry.done;
    }
    // Handed on behind a job that ended without success before this one came: it never starts.
    if (before !== undefined && job.follows === true && !succeeded(before)) {
      entry.end = notRunEnd(epochMs());
      this.#settle(entry);
      return entry.done;
    }
    this.#queue.push(entry);
    this.#pump();
    return entry.done;
  }

  async killAll(graceMs = this.killGraceMs): Promise<void> {
    const all = [...this.#pending];
    for (const entry of all) this.#stop(entry, "cancel", graceMs);
    await Promise.all(all.map((e) => e.done));
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= Promise.all([...this.#pending].map((e) => e.done)).then(() => this.#launcher.close());
    return this.#closing;
  }

  #pump(): void {
    while (this.#slots < this.size && this.#head < this.#queue.length) {
      const entry = this.#queue[this.#head++]!;
      if (entry.state !== "queued") continue; // cancelled while queued
      this.#start(entry);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #start(entry: Entry): void {
    entry.ownsSlot = true;
    if (++this.#slots > this.size) throw new Error(`bug: ${this.#slots} jobs running in a runner of size ${this.size}`);
    this.#launch(entry, null);
  }

  /** Hands `entry` to the launcher to start after `before`; if it cannot, the entry waits for `before` to end. */
  #follow(before: Entry, entry: Entry): void {
    if (this.#launcher.follow === undefined) return;
    this.#launch(entry, before.handle);
  }

  #launch(entry: Entry, after: LaunchHandle | null): void {
    entry.state = "running";
    let reported = false;
    const handlers: LaunchHandlers = {
      started: (pid, startedAt) => {
        if (reported) throw new Error(`bug: job ${entry.spec.id} reported as started after its end`);
        const first = entry.pid === 0;
        entry.pid = pid;
        entry.events?.group?.(pid);
        entry.startedAt ??= startedAt;
        clearTimeout(entry.startWait);
        clearTimeout(entry.timer);
        // Stopped while the previous command was ending: this one goes too.
        if (entry.stop !== null) this.#terminate(entry);
        else if (entry.timeoutMs !== undefined)
          entry.timer = setTimeout(() => this.#stop(entry, "timeout", this.killGraceMs), entry.timeoutMs);
        if (first) entry.events?.started?.(pid, startedAt);
      },
      ended: (end) => {
        if (reported) throw new Error(`bug: job ${entry.spec.id} reported as ended twice`);
        reported = true;
        clearTimeout(entry.timer);
        clearTimeout(entry.startWait);
        entry.end = end;
        if (entry.termination) void entry.termination.then(() => this.#settle(entry));
        else this.#settle(entry);
        if (entry.ownsSlot) this.#passSlot(entry);
        this.#pump();
      },
    };
    if (after === null) entry.handle = this.#launcher.launch(entry.spec, handlers);
    else {
      entry.handle = this.#launcher.follow!(after, entry.spec, handlers);
      if (entry.handle === null) {
        // The launcher cannot take it now: it waits for the job before it, as without `follow`.
        entry.state = "queued";
        return;
      }
    }
    // A job that waited in the lane behind this one while this one was queued.
    if (entry.next?.state === "queued") this.#follow(entry, entry.next);
  }

  /** A slot's job ended: its lane's next job takes the slot (started already, or now), else the slot is free. */
  #passSlot(entry: Entry): void {
    entry.ownsSlot = false;
    const next = entry.next;
    if (next === null || next.state === "done") {
      this.#slots--;
      return;
    }
    if (next.state === "running") {
      next.ownsSlot = true;
      return;
    }
    // Waiting in the lane: it starts now, or never if the job before it did not succeed.
    if (succeeded(entry)) {
      this.#slots--;
      this.#start(next);
      return;
    }
    // It never runs; the slot passes down the lane and is freed once, at its end.
    next.end = notRunEnd(epochMs());
    this.#settle(next);
    this.#passSlot(next);
  }

  /** Cancels a queued entry at once; asks a running one to stop (first reason wins). */
  #stop(entry: Entry, reason: Stop, graceMs: number): void {
    if (entry.state === "queued") {
      entry.stop = reason;
      this.#settle(entry);
    } else if (entry.state === "running" && entry.stop !== null && entry.end === null && graceMs < entry.stopGraceMs) {
      // Stopping already, and now in a hurry (a second Ctrl-C): no more grace.
      entry.stopGraceMs = graceMs;
      if (entry.pid !== 0 && graceMs === 0) signalGroup(entry.pid, "SIGKILL");
    } else if (entry.state === "running" && entry.stop === null && entry.end === null) {
      entry.stop = reason;
      entry.stopGraceMs = graceMs;
      clearTimeout(entry.timer);
      if (entry.pid !== 0) this.#terminate(entry);
      else if (!entry.ownsSlot) {
        // Followed, not started: it starts (and is terminated then) or ends with the job before it, which is stopped too.
      } else {
        // Not started yet: `started` terminates it as soon as its pid is known,
        // unless the launcher is stuck before it has one (e.g. in the kernel).
        const waitMs = graceMs + this.#killWaitMs;
        entry.startWait = setTimeout(() => entry.handle?.abandon(`the job did not start within ${waitMs} ms of being stopped`), waitMs);
      }
    }
  }

  #terminate(entry: Entry): void {
    entry.termination = terminateGroup(entry.pid, entry.stopGraceMs, () => entry.end !== null, this.#killWaitMs).then(() => {
      if (entry.end === null) {
        entry.handle?.abandon(
          `process ${entry.pid} did not exit after SIGKILL (uninterruptible sleep?); the runner stopped waiting for it`,
        );
      }
    });
  }

  /**
   * The lane's last job ended. One that succeeded closes the lane; a failed
   * one stays, for a later job that `follows`. One that never ran (its
   * worker died before it, or the job before it failed) says nothing about
   * the lane: the job before it is the lane's last again, so a job handed on
   * anew behind a leader that still runs waits for that leader, rather than
   * being skipped for a job that never ran (and put back, again and again).
   */
  #leaveLane(entry: Entry, lane: number, before: Entry | undefined): void {
    if (succeeded(entry)) this.#lanes.delete(lane);
    else if (entry.end?.notRun === true) {
      if (before === undefined || succeeded(before)) this.#lanes.delete(lane);
      else this.#lanes.set(lane, before);
    }
  }

  #settle(entry: Entry): void {
    if (entry.state === "done") throw new Error(`bug: job ${entry.spec.id} settled twice`);
    entry.state = "done";
    this.#pending.delete(entry);
    const before = entry.before;
    entry.before = undefined; // a long lane must not keep every job before it alive
    if (entry.lane !== undefined && this.#lanes.get(entry.lane) === entry) this.#leaveLane(entry, entry.lane, before);
    if (entry.signal) this.#unwatch(entry, entry.signal);
    const now = epochMs();
    const end = entry.end ?? { exitCode: null, signal: null, endedAt: now, error: null, step: 0 };
    entry.resolve({
      exitCode: end.exitCode,
      signal: end.signal,
      pid: entry.pid,
      step: end.step,
      startedAt: entry.startedAt ?? end.endedAt,
      endedAt: end.endedAt,
      timedOut: entry.stop === "timeout",
      cancelled: entry.stop === "cancel",
      error: end.error,
      notRun: end.notRun === true,
      ...(end.usage !== undefined ? { usage: end.usage } : {}),
    });
  }

  #watch(entry: Entry, signal: AbortSignal): void {
    let watch = this.#bySignal.get(signal);
    if (!watch) {
      const entries = new Set<Entry>();
      const listener = () => {
        this.#bySignal.delete(signal);
        for (const e of entries) this.#stop(e, "cancel", this.killGraceMs);
      };
      watch = { entries, listener };
      this.#bySignal.set(signal, watch);
      signal.addEventListener("abort", listener, { once: true });
    }
    watch.entries.add(entry);
  }

  #unwatch(entry: Entry, signal: AbortSignal): void {
    const watch = this.#bySignal.get(signal);
    if (!watch) return;
    watch.entries.delete(entry);
    if (watch.entries.size === 0) {
      signal.removeEventListener("abort", watch.listener);
      this.#bySignal.delete(signal);
    }
  }
}
