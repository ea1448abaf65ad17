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
 * The pieces: this file (the pool, and which program it runs), worker-launcher.ts
 * (launches onto workers, replies, replacing and falling back), pool-worker.ts
 * (one worker process), pool-protocol.ts (the lines between them), and
 * bounded-runner.ts (queue, slots, lanes, timeouts, killing), shared with SpawnRunner.
 *
 * Measured with bench/spawn.mjs (5,000 `/bin/true` jobs, 2 at a time, 2 cores):
 * python pool 2.05 s, perl pool 2.70 s, SpawnRunner 5.3 s (9.0 s from a
 * 1.1 GB Node process, where the pool does not slow down), xargs -P2 2.4 s,
 * ninja -j2 1.9 s. What is left between the pool and ninja is mostly the two
 * pipe round trips a job makes through Node's event loop.
 */
import { BoundedRunner, type BoundedRunnerOptions } from "./bounded-runner.js";
import { SpawnLauncher } from "./spawn-runner.js";
import { WorkerLauncher } from "./worker-launcher.js";
import { detectWorkerProgram, fallbackWarning, skip, type Skipped, type WorkerProgram } from "./worker-program.js";

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
