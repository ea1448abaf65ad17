/**
 * The launcher behind ProcessPool: hands each launch to an idle worker
 * process (pool-worker.ts), a lane's next job to the worker of the job
 * before it as a `K` request (pool-protocol.ts), turns the workers' replies
 * into the launch's `started`/`ended`, and replaces workers that die. A
 * launcher of a detected program falls back to the next program (and at
 * last to SpawnLauncher) when its interpreter cannot run the worker. See
 * the comment at the top of process-pool.ts for why and how.
 */
import { dirname } from "node:path";
import { epochMs, type LaunchSpec } from "./job.js";
import type { LaunchHandle, LaunchHandlers, Launcher } from "./launcher.js";
import { encodeRequest, type Figures, type Reply } from "./pool-protocol.js";
import type { JobUsage } from "../state/usage.js";
import { exitsWithin, notRun, removeSpools, Worker, type Assignment } from "./pool-worker.js";
import { signalGroup, signalName } from "./process-group.js";
import type { WorkerProgram } from "./worker-program.js";

/** Consecutive workers dying before their first line that break the pool. */
const MAX_START_FAILURES = 3;
/** close(): how long an idle worker may take to exit after end-of-file, then after SIGKILL. */
const EXIT_WAIT_MS = 5000;

/** What a launcher of a detected program does when its interpreter turns out unable to run the worker. */
export interface Fallback {
  /** Called at the first worker's `R`. */
  readonly started: (() => void) | null;
  /** The launcher to use instead (its worker `how`, saying `stderr`). */
  readonly fallBack: (how: string, stderr: string) => Launcher & { prestart?(count: number): void; pids?(): number[] };
}

export class WorkerLauncher implements Launcher {
  #workers: Worker[] = [];
  readonly #handles = new WeakMap<LaunchHandle, Assignment>();
  #startFailures = 0;
  /** A worker said `R`: the interpreter runs the program, and a later start failure is bad luck, not a reason to fall back. */
  #started = false;
  #prestarted = 0;
  #broken: string | null = null;
  /** Where every launch goes once this program fell back. */
  #next: ReturnType<Fallback["fallBack"]> | null = null;

  constructor(
    readonly size: number,
    readonly program: WorkerProgram,
    readonly graceMs: number,
    readonly fallback: Fallback | null,
  ) {}

  pids(): number[] {
    const own = this.#workers.filter((w) => w.child.pid !== undefined).map((w) => w.child.pid!);
    return [...own, ...(this.#next?.pids?.() ?? [])];
  }

  prestart(count: number): void {
    this.#prestarted = Math.max(this.#prestarted, count);
    if (this.#next !== null) return this.#next.prestart?.(count);
    while (this.#workers.length < Math.min(count, this.size) && this.#broken === null) {
      const worker = new Worker(this.program, this.graceMs, this.#onReply, this.#onClose);
      worker.setRef(false);
      this.#workers.push(worker);
    }
  }

  launch(spec: LaunchSpec, handlers: LaunchHandlers): LaunchHandle {
    if (this.#next !== null) return this.#next.launch(spec, handlers);
    const job: Assignment = { spec, handlers, worker: null, seq: 0, pid: 0, step: 0, stepStart: 0, usage: [] };
    this.#assign(job);
    return this.#handle(job);
  }

  /**
   * Writes the job to the worker running `after`, as a `K` request: the
   * worker starts it the moment `after` ends (if `after` succeeded), with no
   * round trip through Node in between. Null when that worker already has a
   * next job or is gone.
   */
  follow(after: LaunchHandle, spec: LaunchSpec, handlers: LaunchHandlers): LaunchHandle | null {
    const before = this.#handles.get(after);
    if (this.#next !== null) return this.#next.follow?.(before?.moved ?? after, spec, handlers) ?? null;
    const worker = before?.worker;
    if (worker == null || worker.jobs.length !== 1 || worker.jobs[0] !== before) return null;
    const job: Assignment = { spec, handlers, worker, seq: ++worker.seq, pid: 0, step: 0, stepStart: 0, usage: [] };
    worker.jobs.push(job);
    worker.folders.add(dirname(spec.log));
    worker.stdin.write(encodeRequest(job.seq, spec, true));
    return this.#handle(job);
  }

  #handle(job: Assignment): LaunchHandle {
    const handle: LaunchHandle = { abandon: (reason) => (job.moved ? job.moved.abandon(reason) : this.#abandon(job, reason)) };
    this.#handles.set(handle, job);
    return handle;
  }

  #assign(job: Assignment): void {
    if (this.#next !== null) {
      job.worker = null;
      job.moved = this.#next.launch(job.spec, job.handlers);
      return;
    }
    if (this.#broken !== null) {
      const error = this.#broken;
      job.worker = null;
      queueMicrotask(() => job.handlers.ended({ exitCode: null, signal: null, endedAt: epochMs(), error, step: 0 }));
      return;
    }
    let worker = this.#workers.find((w) => w.jobs.length === 0);
    if (!worker) {
      if (this.#workers.length >= this.size) throw new Error(`bug: no idle worker among ${this.#workers.length} of ${this.size}`);
      worker = new Worker(this.program, this.graceMs, this.#onReply, this.#onClose);
      this.#workers.push(worker);
    }
    worker.seq += 1;
    worker.jobs.push(job);
    worker.folders.add(dirname(job.spec.log));
    job.worker = worker;
    job.seq = worker.seq;
    worker.setRef(true);
    worker.stdin.write(encodeRequest(worker.seq, job.spec));
  }

  /**
   * The job's worker is stuck (in waitpid on an unkillable process, or in the
   * kernel itself, e.g. chdir into a dead NFS mount): end the job now, drop the
   * worker from the pool so a fresh one takes the slot, and kill it. Its
   * 'close' may never come; it is not waited for.
   */
  #abandon(job: Assignment, reason: string): void {
    const worker = job.worker;
    // Only the job a worker is on can be stuck; one waiting behind it ends with it (below).
    if (worker === null || worker.job !== job) return;
    worker.abandoned = true;
    const [, ...next] = worker.jobs.splice(0);
    this.#workers = this.#workers.filter((w) => w !== worker);
    worker.child.kill("SIGKILL");
    worker.setRef(false);
    removeSpools(worker);
    job.handlers.ended({ exitCode: null, signal: null, endedAt: epochMs(), error: `${reason}; its worker was killed`, step: job.step });
    notRun(next);
  }

  /**
   * Hands every launch from now on to the next program's launcher: the jobs of
   * workers that die before `R` (this one's, and those of its siblings still
   * starting), and new ones. Workers that did start keep their jobs.
   */
  #fallBack(how: string, stderr: string): void {
    this.#next = this.fallback!.fallBack(how, stderr);
    if (this.#prestarted > 0) this.#next.prestart?.(this.#prestarted);
  }

  async close(): Promise<void> {
    await this.#next?.close();
    await Promise.all(
      this.#workers.map(async (w) => {
        w.setRef(true);
        w.stdin.end();
        if (await exitsWithin(w, EXIT_WAIT_MS)) return;
        w.child.kill("SIGKILL");
        if (!(await exitsWithin(w, EXIT_WAIT_MS))) w.setRef(false); // stuck in the kernel: stop waiting
      }),
    );
  }

  #onReply = (worker: Worker, reply: Reply | null, line: string): void => {
    const job = worker.job;
    if (reply?.type === "ready") {
      worker.markReady();
      this.#startFailures = 0;
      if (!this.#started) this.fallback?.started?.();
      this.#started = true;
      return;
    }
    if (reply === null || job === null || reply.seq !== job.seq) {
      // Not our protocol: the worker is not trustworthy any more.
      worker.stderr += `unexpected line from worker: ${JSON.stringify(line.slice(0, 200))}\n`;
      worker.child.kill("SIGKILL");
      return;
    }
    switch (reply.type) {
      case "started":
        job.pid = reply.pid;
        job.stepStart = reply.at ?? epochMs();
        job.handlers.started(reply.pid, job.stepStart);
        return;
      case "skipped":
        worker.jobs.shift();
        job.handlers.ended({ exitCode: null, signal: null, endedAt: reply.at ?? epochMs(), error: null, step: 0, notRun: true });
        if (worker.job === null) worker.setRef(false);
        return;
      case "exited":
      case "failed": {
        if (reply.type === "exited") job.usage[job.step] = usageOf((reply.at ?? epochMs()) - job.stepStart, reply.usage);
        // The worker goes on with the job's next command by itself.
        if (reply.type === "exited" && reply.status === 0 && job.step + 1 < job.spec.commands.length) {
          job.step += 1;
          return;
        }
        worker.jobs.shift();
        const endedAt = reply.at ?? epochMs();
        const step = job.step;
        if (reply.type === "failed") {
          job.handlers.ended({ exitCode: null, signal: null, endedAt, error: reply.message, step });
        } else {
          // Raw wait status: low 7 bits are the terminating signal, the next byte the exit code.
          const sig = reply.status & 0x7f;
          job.handlers.ended({
            exitCode: sig === 0 ? reply.status >> 8 : null,
            signal: sig === 0 ? null : signalName(sig),
            endedAt,
            error: null,
            step,
            usage: job.usage,
          });
        }
        // `ended` usually hands this worker the next job at once; unreference it only if not.
        if (worker.job === null) worker.setRef(false);
        return;
      }
    }
  };

  #onClose = (worker: Worker, code: number | null, signal: NodeJS.Signals | null): void => {
    if (worker.abandoned) return;
    // A worker that read end-of-file removed its spools; one that died did not.
    if (code !== 0) removeSpools(worker);
    this.#workers = this.#workers.filter((w) => w !== worker);
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
    const stderr = worker.stderr.trim();
    const reason = `worker process ${worker.child.pid ?? "(not started)"} ${how}${stderr ? `: ${stderr}` : ""}`;
    if (!worker.ready && ++this.#startFailures >= MAX_START_FAILURES && this.fallback === null) {
      this.#broken = `cannot start pool workers (${this.program.interpreter}): ${reason}`;
    }
    // A worker that exits on its own before `R` when none ever said it (a python3 older than 3.8 says why and
    // exits; a broken install fails to load) cannot run here: the pool moves on at once rather than try again.
    if (
      !worker.ready &&
      this.fallback !== null &&
      this.#next === null &&
      (this.#startFailures >= MAX_START_FAILURES || (code !== null && !this.#started))
    ) {
      this.#fallBack(how, stderr);
    }
    const [job, ...next] = worker.jobs.splice(0);
    if (job === undefined) return;
    if (!worker.ready) {
      // It never read the request: start the job on a fresh worker (or fail it if the pool is broken).
      this.#assign(job);
    } else {
      // Nobody is left to wait for the job: kill its group rather than leave an orphan.
      if (job.pid !== 0) signalGroup(job.pid, "SIGKILL");
      const fate = job.pid !== 0 ? "the job's process group was killed" : "the job may not have started";
      job.handlers.ended({ exitCode: null, signal: null, endedAt: epochMs(), error: `${reason}; ${fate}`, step: job.step });
    }
    // A job waiting behind it never started: it goes back to its caller, which decides again.
    notRun(next);
  };
}

/**
 * A command's usage from its `E` line: wall time by the worker's clock, the
 * rest as wait4 said (blocks are 512 bytes); none from a worker that did not
 * measure (WFC_MEASURE=0).
 */
function usageOf(wallMs: number, f: Figures | null): JobUsage | undefined {
  if (f === null) return undefined;
  return {
    wallMs: Math.max(0, Math.round(wallMs * 1000) / 1000),
    ...(f.userUs !== null ? { userMs: f.userUs / 1000 } : {}),
    ...(f.sysUs !== null ? { sysMs: f.sysUs / 1000 } : {}),
    ...(f.maxRssKb !== null ? { maxRssKb: f.maxRssKb } : {}),
    ...(f.inBlocks !== null ? { readBytes: f.inBlocks * 512 } : {}),
    ...(f.outBlocks !== null ? { writeBytes: f.outBlocks * 512 } : {}),
    via: "wait4",
  };
}
