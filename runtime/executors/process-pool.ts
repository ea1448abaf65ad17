/**
 * ProcessPool: `size` persistent worker processes that each start jobs with a
 * cheap fork/exec, so a job does not cost a spawn from Node.
 *
 * Why: spawning from Node costs more than a short job itself: libuv forks the
 * whole Node process (the bigger the heap, the slower) and every start and
 * exit goes through the event loop. ninja and make start jobs from a small C
 * process. A worker here is a small interpreter running one of two ~60-line
 * programs, workers/worker.py (posix_spawn, i.e. vfork: preferred) or
 * workers/worker.pl (fork: the fallback), speaking the line protocol in
 * pool-protocol.ts: Node writes a length-delimited request, the worker starts
 * the job as the leader of its own process group with stdin from /dev/null and
 * stdout+stderr appended to the log, replies `S <pid>`, waits, and replies
 * `E <raw wait status>`, with timestamps taken next to the fork and the wait.
 *
 * Why not a long-lived /bin/sh, the first candidate (2,500 serial /bin/true
 * jobs on this 2-core machine; bench/spawn.mjs has the whole table):
 * - POSIX sh cannot put a job in its own process group: dash's `set -m` needs
 *   a terminal, and `setsid PROG` costs a second exec per job (dash + setsid:
 *   1.26 ms a job; perl fork + setpgrp + exec: 0.9 ms; python posix_spawn: 0.7 ms).
 * - `wait` folds "killed by SIGTERM" and "exit 143" into one number; both
 *   interpreters give the raw wait status.
 * - sh has no sub-millisecond clock without forking `date`.
 * - Length-delimited fields need no quoting at all, so no value can be
 *   misparsed, and environment names need not be shell identifiers.
 * Between them, python3 and perl cover Linux distributions, macOS and HPC
 * clusters (perl-base is Essential in Debian, so node:*-slim images have it);
 * where neither is on PATH (Alpine), `ProcessPool.detect()` returns null and the
 * caller uses SpawnRunner. A pool made without an explicit `worker` falls
 * back by itself when its interpreter cannot run the worker (a python3 older
 * than 3.8 first on PATH, a broken perl): python, then perl, then spawning
 * each job from Node, with one warning (worker-program.ts).
 *
 * Workers start at their first job, or all at once with `prestart()` (as
 * `wfc run` does, so that no job waits for one). They run detached (their
 * own session, so a terminal's Ctrl-C reaches Node, which decides what to
 * kill), and are unreferenced while idle, so a forgotten pool does not keep
 * Node alive; when Node exits, an idle worker reads end-of-file and exits.
 * A busy one waits for its job and for end-of-file at once (select(2) on its
 * stdin and a SIGCHLD self-pipe), so when Node dies with jobs running (kill
 * -9, a crash) each worker stops its job's process groups (SIGTERM, SIGKILL
 * after the grace) and exits: jobs die with their runner. A
 * worker that dies is replaced on the next launch: if it died before its `R`
 * line it never read the job, which is launched again on a fresh worker;
 * otherwise the job's process group is killed (no orphan) and the job ends
 * with an `error`. Three workers in a row dying before `R` break the pool:
 * later jobs end at once with the reason. A pool of a detected program
 * falls back instead, at once if its very first workers exit on their own.
 *
 * A job's log is not created per job. Each worker keeps an empty spool file
 * (`.wfc-spool-<worker pid>`) in the log's folder and hard-links it as the
 * job's log when the job starts, so the log fills as the job runs; a job
 * that succeeded without printing anything has the link removed and its
 * spool serves the next job, one that printed or failed keeps it (the worker
 * makes a new spool), and so does one that left a process running in its
 * process group (a `cmd &`), which may yet write to it. Creating a file is
 * the costliest part of a short job after the exec itself (ext4 searches its
 * inode bitmaps, slower still after many deletions); a link and an unlink
 * are directory entries only: 5,000 silent jobs ran 10-15% faster. Where a
 * log already exists (a retry's second attempt) or links are refused, the
 * worker appends to the log itself.
 * A worker removes its spools when it exits; one that is killed leaves an
 * empty `.wfc-spool-*` behind, which the pool removes.
 *
 * Lanes (BoundedRunner): a job followed by another is given it right away as
 * a `K` request, which the worker reads once the first job ended and starts
 * if that one succeeded, with no round trip through Node between them.
 *
 * Measured with bench/spawn.mjs (5,000 `/bin/true` jobs, 2 at a time, 2 cores):
 * python pool 2.05 s, perl pool 2.70 s, SpawnRunner 5.3 s (9.0 s from a
 * 1.1 GB Node process, where the pool does not slow down), xargs -P2 2.4 s,
 * ninja -j2 1.9 s. What is left between the pool and ninja is mostly the two
 * pipe round trips a job makes through Node's event loop.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { BoundedRunner, type BoundedRunnerOptions, type LaunchHandle, type LaunchHandlers, type Launcher } from "./bounded-runner.js";
import { epochMs, type LaunchSpec } from "./job.js";
import { encodeRequest, parseReply, type Reply } from "./pool-protocol.js";
import { signalGroup, signalName } from "./process-group.js";
import { SpawnLauncher } from "./spawn-runner.js";
import { detectWorkerProgram, fallbackWarning, skip, workerArgs, type Skipped, type WorkerProgram } from "./worker-program.js";

export interface ProcessPoolOptions extends BoundedRunnerOptions {
  /**
   * Default: `ProcessPool.detect()`, falling back to the next program (and at
   * last to spawning from Node) if its interpreter cannot run the worker; the
   * constructor throws if detect() finds nothing. A program given here is used
   * as is: workers that cannot start fail the jobs.
   */
  readonly worker?: WorkerProgram;
  /** The one line saying a fallback happened, and why (default: stderr, prefixed `wfc: `). */
  readonly onWarning?: (message: string) => void;
}

export class ProcessPool extends BoundedRunner {
  readonly #workers: WorkerLauncher;

  /** The worker program this machine can run (see worker-program.ts): python3, else perl; null if neither (use SpawnRunner). */
  static detect(): WorkerProgram | null {
    return detectWorkerProgram();
  }

  constructor(options: ProcessPoolOptions) {
    const graceMs = Math.round(options.killGraceMs ?? 2000);
    const warn = options.onWarning ?? ((message: string) => process.stderr.write(`wfc: ${message}\n`));
    /**
     * The launcher for `program`, which hands over to the next program's when
     * its interpreter cannot run the worker; `passed`: the interpreters passed
     * over before it, warned about once its first worker started.
     */
    const launcher = (program: WorkerProgram, passed: readonly Skipped[]): WorkerLauncher =>
      new WorkerLauncher(options.size, program, graceMs, {
        started: passed.length > 0 ? () => warn(fallbackWarning(passed, program)) : null,
        fallBack: (how, stderr) => {
          const { next, skipped } = skip(program, how, stderr);
          const all = skipped === null ? passed : [...passed, skipped];
          if (next !== null) return launcher(next, all);
          if (all.length > 0) warn(fallbackWarning(all, null));
          return new SpawnLauncher(Math.ceil(graceMs / 1000));
        },
      });
    const workers =
      options.worker !== undefined
        ? new WorkerLauncher(options.size, options.worker, graceMs, null)
        : launcher(ProcessPool.#detected(), []);
    super(workers, options);
    this.#workers = workers;
  }

  static #detected(): WorkerProgram {
    const program = ProcessPool.detect();
    if (program === null) throw new Error("ProcessPool needs python3 (≥ 3.8) or perl on PATH; use SpawnRunner instead");
    return program;
  }

  /**
   * Starts up to `count` workers now rather than at their first jobs, so
   * that their start-up (10-20 ms of an interpreter's) overlaps the caller's
   * own and no job waits for it; idle, they do not keep Node alive.
   */
  prestart(count: number): void {
    this.#workers.prestart(count);
  }

  /** The pids of the live worker processes (for diagnostics and tests). */
  workerPids(): number[] {
    return this.#workers.pids();
  }
}

/** Consecutive workers dying before their first line that break the pool. */
const MAX_START_FAILURES = 3;
/** A worker that has not said `R` by then is killed (and counts as a start failure): not the interpreter we expect. */
const START_TIMEOUT_MS = 30_000;
/** close(): how long an idle worker may take to exit after end-of-file, then after SIGKILL. */
const EXIT_WAIT_MS = 5000;
/** Bytes of a worker's stderr kept for the message when it dies. */
const STDERR_TAIL = 2000;

/** One launch; it moves to a fresh worker if its worker dies before reading it. */
interface Assignment {
  readonly spec: LaunchSpec;
  readonly handlers: LaunchHandlers;
  worker: Worker | null;
  /** Its launch on the next program's launcher, once this one fell back (see WorkerLauncher.#fallBack). */
  moved?: LaunchHandle;
  seq: number;
  pid: number;
  /** The command running (or about to): an index into spec.commands. */
  step: number;
}

class Worker {
  readonly child: ChildProcess;
  readonly stdin: Writable;
  readonly closed: Promise<void>;
  ready = false;
  /** Given up on by the pool (killed, no longer counted); its end is not news. */
  abandoned = false;
  /** The job it runs, then the one written to it to run next (a `K` request), if any. */
  jobs: Assignment[] = [];
  seq = 0;
  /** Folders of the logs it was given: where it may have left a spool. */
  readonly folders = new Set<string>();
  stderr = "";
  #partial = "";
  #referenced = true;
  #startTimer: NodeJS.Timeout;

  constructor(
    program: WorkerProgram,
    graceMs: number,
    onReply: (w: Worker, r: Reply | null, line: string) => void,
    onClose: (w: Worker, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {
    this.child = spawn(program.interpreter, workerArgs(program, graceMs), { stdio: ["pipe", "pipe", "pipe"], detached: true });
    const { stdin, stdout, stderr } = this.child as ChildProcess & { stdin: Writable; stdout: Readable; stderr: Readable };
    this.stdin = stdin;
    // EPIPE when the worker has died: its 'close' event handles that.
    stdin.on("error", () => {});
    stdout.setEncoding("latin1");
    stdout.on("data", (chunk: string) => {
      const lines = (this.#partial + chunk).split("\n");
      this.#partial = lines.pop()!;
      for (const line of lines) onReply(this, parseReply(line), line);
    });
    stderr.setEncoding("utf8");
    stderr.on("data", (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL)));
    this.child.on("error", (err) => (this.stderr += `${err.message}\n`));
    this.#startTimer = setTimeout(() => {
      this.stderr += `no "R" line within ${START_TIMEOUT_MS} ms\n`;
      this.child.kill("SIGKILL");
    }, START_TIMEOUT_MS);
    this.#startTimer.unref();
    // 'close' comes after the last stdout data, so a final `E` line is never lost.
    this.closed = new Promise((resolve) =>
      this.child.on("close", (code, signal) => {
        clearTimeout(this.#startTimer);
        onClose(this, code, signal);
        resolve();
      }),
    );
  }

  /** The job the worker is on: its replies are about this one. */
  get job(): Assignment | null {
    return this.jobs[0] ?? null;
  }

  markReady(): void {
    this.ready = true;
    clearTimeout(this.#startTimer);
  }

  /** An idle worker must not keep Node's event loop alive. */
  setRef(ref: boolean): void {
    if (ref === this.#referenced) return;
    this.#referenced = ref;
    const streams = [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as (null | { ref(): void; unref(): void })[];
    for (const s of streams) {
      if (ref) s?.ref();
      else s?.unref();
    }
  }
}

/** What a launcher of a detected program does when its interpreter turns out unable to run the worker. */
interface Fallback {
  /** Called at the first worker's `R`. */
  readonly started: (() => void) | null;
  /** The launcher to use instead (its worker `how`, saying `stderr`). */
  readonly fallBack: (how: string, stderr: string) => Launcher & { prestart?(count: number): void; pids?(): number[] };
}

class WorkerLauncher implements Launcher {
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
    const job: Assignment = { spec, handlers, worker: null, seq: 0, pid: 0, step: 0 };
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
    const job: Assignment = { spec, handlers, worker, seq: ++worker.seq, pid: 0, step: 0 };
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
        job.handlers.started(reply.pid, reply.at ?? epochMs());
        return;
      case "skipped":
        worker.jobs.shift();
        job.handlers.ended({ exitCode: null, signal: null, endedAt: reply.at ?? epochMs(), error: null, step: 0, notRun: true });
        if (worker.job === null) worker.setRef(false);
        return;
      case "exited":
      case "failed": {
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

/** The empty spool files a worker that died may have left beside its jobs' logs. */
function removeSpools(worker: Worker): void {
  const pid = worker.child.pid;
  if (pid === undefined) return;
  for (const folder of worker.folders) rmSync(join(folder, `.wfc-spool-${pid}`), { force: true });
}

/** Jobs written to a worker after the one it was on, which it will never run. */
function notRun(jobs: readonly Assignment[]): void {
  for (const job of jobs) job.handlers.ended({ exitCode: null, signal: null, endedAt: epochMs(), error: null, step: 0, notRun: true });
}

async function exitsWithin(worker: Worker, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const exited = await Promise.race([worker.closed.then(() => true), timeout]);
  clearTimeout(timer);
  return exited;
}
