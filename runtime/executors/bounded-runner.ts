import { epochMs, toLaunchSpec, type JobEvents, type JobResult, type JobRunner, type JobSpec, type LaunchSpec } from "./job.js";
import { KILL_WAIT_MS, terminateGroup } from "./process-group.js";

/** How a job's own process ended, as a launcher saw it. */
export interface LaunchEnd {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly endedAt: number;
  readonly error: string | null;
  /** The command that ended the job (an index into LaunchSpec.commands). */
  readonly step: number;
}

/**
 * What a launcher reports about one job, in this order: `started` once per
 * command that started (never again after `ended`), then `ended` exactly once.
 */
export interface LaunchHandlers {
  /** A command's process exists and leads its own process group (pgid = pid). */
  started(pid: number, startedAt: number): void;
  /** The job's process has been reaped, or could not be started, or its supervisor died. */
  ended(end: LaunchEnd): void;
}

/** What the runner can do to one launch besides signalling its process group. */
export interface LaunchHandle {
  /**
   * The job's process survived SIGKILL (a process in uninterruptible sleep,
   * e.g. on a dead NFS mount): stop waiting for it and call `ended` with `reason`
   * as the error, freeing the slot (the pool sacrifices the job's worker).
   */
  abandon(reason: string): void;
}

/**
 * Starts processes. The runner never has more than `size` launches
 * outstanding, so a launcher needs no queue of its own. Handlers must not be
 * called synchronously from `launch`.
 */
export interface Launcher {
  launch(spec: LaunchSpec, handlers: LaunchHandlers): LaunchHandle;
  /** Called once, when no launch is outstanding. */
  close(): Promise<void>;
}

export interface BoundedRunnerOptions {
  /** Jobs running at once (for ProcessPool: worker processes); an integer ≥ 1. */
  readonly size: number;
  /** Grace period between SIGTERM and SIGKILL for timeouts and aborts (default 2000 ms). */
  readonly killGraceMs?: number;
  /** How long after SIGKILL a job's process may take to be reaped before the runner abandons it (default 5000 ms). */
  readonly killWaitMs?: number;
}

type Stop = "timeout" | "cancel";

/** One job from `run()` to its result. */
class Entry {
  state: "queued" | "running" | "done" = "queued";
  pid = 0;
  startedAt: number | null = null;
  timer: NodeJS.Timeout | undefined;
  stop: Stop | null = null;
  stopGraceMs = 0;
  /** Stop requested before the pid was known: how long to wait for it. */
  startWait: NodeJS.Timeout | undefined;
  handle: LaunchHandle | null = null;
  /** Set while the process group is being killed; the result waits for it. */
  termination: Promise<unknown> | null = null;
  end: LaunchEnd | null = null;
  readonly done: Promise<JobResult>;
  resolve!: (result: JobResult) => void;

  constructor(
    readonly spec: LaunchSpec,
    readonly timeoutMs: number | undefined,
    readonly signal: AbortSignal | undefined,
    readonly events: JobEvents | undefined,
  ) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }
}

/**
 * The part both runners share: a FIFO queue in front of `size` slots, per-job
 * timeouts, cancellation through AbortSignal or killAll, and killing a job by
 * process group with escalation (STYLE habits 10 and 11). The launcher only
 * starts processes and reports on them.
 *
 * Invariants: `running` equals the number of entries in state "running" and
 * never exceeds `size`; every entry reaches "done" exactly once, and its
 * promise resolves then and only then.
 */
export class BoundedRunner implements JobRunner {
  readonly size: number;
  readonly killGraceMs: number;
  readonly #killWaitMs: number;
  #launcher: Launcher;
  #queue: Entry[] = [];
  #head = 0;
  #running = new Set<Entry>();
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

  /** Jobs started and not yet ended. */
  get running(): number {
    return this.#running.size;
  }

  run(job: JobSpec, signal?: AbortSignal, events?: JobEvents): Promise<JobResult> {
    if (this.#closed) throw new Error(`cannot run job ${JSON.stringify(job.id)}: the runner is closed`);
    const entry = new Entry(toLaunchSpec(job), job.timeoutMs, signal, events);
    this.#pending.add(entry);
    if (signal?.aborted) {
      this.#stop(entry, "cancel", 0);
      return entry.done;
    }
    if (signal) this.#watch(entry, signal);
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
    while (this.#running.size < this.size && this.#head < this.#queue.length) {
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
    entry.state = "running";
    this.#running.add(entry);
    if (this.#running.size > this.size) throw new Error(`bug: ${this.#running.size} jobs running in a runner of size ${this.size}`);
    let reported = false;
    entry.handle = this.#launcher.launch(entry.spec, {
      started: (pid, startedAt) => {
        if (reported) throw new Error(`bug: job ${entry.spec.id} reported as started after its end`);
        const first = entry.pid === 0;
        entry.pid = pid;
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
        this.#running.delete(entry);
        if (entry.termination) void entry.termination.then(() => this.#settle(entry));
        else this.#settle(entry);
        this.#pump();
      },
    });
  }

  /** Cancels a queued entry at once; asks a running one to stop (first reason wins). */
  #stop(entry: Entry, reason: Stop, graceMs: number): void {
    if (entry.state === "queued") {
      entry.stop = reason;
      this.#settle(entry);
    } else if (entry.state === "running" && entry.stop === null && entry.end === null) {
      entry.stop = reason;
      entry.stopGraceMs = graceMs;
      clearTimeout(entry.timer);
      if (entry.pid !== 0) this.#terminate(entry);
      else {
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

  #settle(entry: Entry): void {
    if (entry.state === "done") throw new Error(`bug: job ${entry.spec.id} settled twice`);
    entry.state = "done";
    this.#pending.delete(entry);
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
