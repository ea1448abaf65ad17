import { isAbsolute, resolve } from "node:path";

/** One command to run on this machine: an argv without a shell, or a string for `sh -c`. */
export interface JobSpec {
  /** The caller's name for the job; only used in error messages. */
  readonly id: string;
  readonly kind: "argv" | "shell";
  /** For `kind: "argv"`: the program (looked up on PATH) and its arguments, passed as they are. */
  readonly argv?: readonly string[];
  /** For `kind: "shell"`: run as `/bin/sh -c COMMAND`. */
  readonly command?: string;
  /** Working directory (relative paths are resolved against `process.cwd()` when the job is submitted). */
  readonly cwd: string;
  /**
   * Variables added to (or replacing ones in) the runner's environment: Node's
   * `process.env` at spawn time for SpawnRunner, when the worker started for ProcessPool.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** stdout and stderr are both appended to this file, created if missing. */
  readonly log: string;
  /** Kill the job's process group after this long (SIGTERM, then SIGKILL after the runner's grace period). */
  readonly timeoutMs?: number;
}

/** How a job ended. Times are epoch milliseconds with sub-millisecond fractions. */
export interface JobResult {
  /** The exit code when the job's process exited; null when a signal ended it or it never started. */
  readonly exitCode: number | null;
  /** The signal that ended the job's process, e.g. `"SIGTERM"`. */
  readonly signal: string | null;
  /** The job's process id, which is also its process-group id; 0 if it never started. */
  readonly pid: number;
  /** Taken just before the fork (ProcessPool: by the worker; SpawnRunner: just before spawn). */
  readonly startedAt: number;
  /** Taken just after the job's process was reaped. */
  readonly endedAt: number;
  /** The job ran past its `timeoutMs` and was killed. */
  readonly timedOut: boolean;
  /** The job was cancelled (AbortSignal or killAll), before or while it ran. */
  readonly cancelled: boolean;
  /**
   * Why the job could not run to completion on its own terms, when the reason
   * is not in the exit status: a missing cwd, an unwritable log, a program
   * that cannot be executed, a worker process that died. Null otherwise.
   */
  readonly error: string | null;
}

/** Optional notifications about one job. */
export interface JobEvents {
  /** The job's process exists now (it may already have exited). */
  readonly started?: (pid: number, startedAt: number) => void;
}

/** Runs jobs with bounded parallelism; ProcessPool and SpawnRunner both implement it. */
export interface JobRunner {
  /** How many jobs may run at once. */
  readonly size: number;
  /**
   * Queues a job; it starts when a slot is free. Never rejects for a job that
   * fails: the result says how it ended. Throws (synchronously) only for a
   * malformed job or a closed runner, which are bugs in the caller.
   */
  run(job: JobSpec, signal?: AbortSignal, events?: JobEvents): Promise<JobResult>;
  /** Cancels queued jobs and kills running ones (SIGTERM to each process group, SIGKILL after `graceMs`). */
  killAll(graceMs?: number): Promise<void>;
  /** Refuses new jobs, waits for queued and running ones, then stops the runner's own processes. */
  close(): Promise<void>;
}

/** A job checked and normalized for launching: absolute paths, the argv to execute. */
export interface LaunchSpec {
  readonly id: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: readonly (readonly [string, string])[];
  readonly log: string;
}

/** Epoch milliseconds with a sub-millisecond fraction. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

const ENV_NAME = /^[^=\0]+$/;

/**
 * Checks a job and turns it into what a launcher executes. Throws a TypeError
 * naming the job and the field: a malformed job is a bug in the caller (the
 * plan was validated long before), not a job failure.
 */
export function toLaunchSpec(job: JobSpec): LaunchSpec {
  const bad = (what: string): never => {
    throw new TypeError(`job ${JSON.stringify(job.id)}: ${what}`);
  };
  const text = (name: string, value: unknown): string => {
    if (typeof value !== "string") return bad(`${name} must be a string`);
    // Every value ends up in a C string (argv, environ, a path): NUL cannot be passed.
    if (value.includes("\0")) return bad(`${name} contains a NUL character`);
    return value;
  };
  if (typeof job.id !== "string") return bad("id must be a string");
  let argv: string[];
  if (job.kind === "argv") {
    if (!Array.isArray(job.argv) || job.argv.length === 0) return bad("argv must be a non-empty array");
    argv = job.argv.map((a, i) => text(`argv[${i}]`, a));
    if (argv[0] === "") bad("argv[0] must not be empty");
  } else if (job.kind === "shell") {
    argv = ["/bin/sh", "-c", text("command", job.command)];
  } else {
    return bad(`kind must be "argv" or "shell", not ${JSON.stringify(job.kind)}`);
  }
  const env = Object.entries(job.env ?? {}).map(([k, v]): [string, string] => {
    if (!ENV_NAME.test(k)) bad(`environment variable name ${JSON.stringify(k)} is empty or contains "=" or NUL`);
    return [k, text(`env.${k}`, v)];
  });
  const cwd = text("cwd", job.cwd);
  const log = text("log", job.log);
  if (cwd === "") bad("cwd must not be empty");
  if (log === "") bad("log must not be empty");
  if (job.timeoutMs !== undefined && !(Number.isFinite(job.timeoutMs) && job.timeoutMs > 0)) {
    bad(`timeoutMs must be a positive number, not ${job.timeoutMs}`);
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(p));
  return { id: job.id, argv, cwd: abs(cwd), env, log: abs(log) };
}
