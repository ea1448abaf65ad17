import { isAbsolute, resolve } from "node:path";
import { simpleCommandArgv } from "./simple-command.js";
import type { JobUsage } from "../state/usage.js";

/** One command: an argv without a shell, or a string for a shell. */
export interface Command {
  readonly kind: "argv" | "shell";
  /** For `kind: "argv"`: the program (looked up on PATH) and its arguments, passed as they are. */
  readonly argv?: readonly string[];
  /**
   * For `kind: "shell"`: run as `/bin/sh -c COMMAND`, or `bash -euo pipefail
   * -c COMMAND` (bash looked up on PATH) when `shell` is `"bash"`, or
   * directly when it has no shell syntax (simple-command.ts).
   */
  readonly command?: string;
  /** For `kind: "shell"`: which shell (default `"sh"`); see SHELL_ARGV. */
  readonly shell?: "bash" | "sh";
  /**
   * Variables added to (or replacing ones in) the runner's environment: Node's
   * `process.env` at spawn time for SpawnRunner, when the worker started for ProcessPool.
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** A job to run on this machine: one command, or several run in order while each exits 0. */
export interface JobSpec extends Command {
  /** The caller's name for the job; only used in error messages. */
  readonly id: string;
  /**
   * Commands to run after this one, in order, each only if the one before
   * exited 0 (a fused job's steps). ProcessPool sends them to its worker as
   * one request, so they cost no round trip through Node between them.
   */
  readonly then?: readonly Command[];
  /** Working directory (relative paths are resolved against `process.cwd()` when the job is submitted). */
  readonly cwd: string;
  /** stdout and stderr (of every command) are both appended to this file, created if missing. */
  readonly log: string;
  /** Kill a command's process group after it ran this long (SIGTERM, then SIGKILL after the runner's grace period). */
  readonly timeoutMs?: number;
  /**
   * Jobs of one lane run one after another in one slot: a job waits for the
   * lane's job before it and starts only if that one succeeded (else its
   * result says `notRun`). ProcessPool writes it to that job's worker at
   * once, so it starts the moment the one before ends. The caller keeps a
   * lane's jobs within what one slot may run (wfc: the jobs of a task that
   * the scheduler hands on from one to the next, `Scheduler.lane`).
   */
  readonly lane?: number;
  /**
   * With `lane`: the job was handed on behind the lane's job before it (wfc:
   * a follower), so it never starts unless that one succeeded, even when
   * that one ended before this job came (its caller took a while to prepare
   * it): it then ends `notRun` at once. Without it, a job that comes after
   * the lane's job before it ended starts as any job.
   */
  readonly follows?: boolean;
}

/** How a job ended. Times are epoch milliseconds with sub-millisecond fractions. */
export interface JobResult {
  /** The exit code when the job's process exited; null when a signal ended it or it never started. */
  readonly exitCode: number | null;
  /** The signal that ended the job's process, e.g. `"SIGTERM"`. */
  readonly signal: string | null;
  /** The last command's process id, which is also its process-group id; 0 if it never started. */
  readonly pid: number;
  /** Which command ended the job: 0 for the job's own, 1 for `then[0]`, …; the last one when all exited 0. */
  readonly step: number;
  /** Taken just before the first fork (ProcessPool: by the worker; SpawnRunner: just before spawn). */
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
  /** The job never started: it was in a lane behind a job that did not succeed (see JobSpec.lane). */
  readonly notRun: boolean;
  /**
   * What each command used (issue 16), by index: 0 for the job's own, 1
   * for `then[0]`, …; a command that never ran, or was not reaped (its
   * runner gave up on it), has none. ProcessPool measures with wait4;
   * SpawnRunner only times them.
   */
  readonly usage?: readonly (JobUsage | undefined)[];
}

/** Optional notifications about one job. */
export interface JobEvents {
  /** The job's first process exists now (it may already have exited). */
  readonly started?: (pid: number, startedAt: number) => void;
  /** A command of the job started, as the leader of process group `pgid` (every command of a fused job, in order). */
  readonly group?: (pgid: number) => void;
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

/** A job checked and normalized for launching: absolute paths, the argvs to execute in order. */
export interface LaunchSpec {
  readonly id: string;
  readonly commands: readonly LaunchCommand[];
  readonly cwd: string;
  readonly log: string;
}

export interface LaunchCommand {
  readonly argv: readonly string[];
  readonly env: readonly (readonly [string, string])[];
}

/** Epoch milliseconds with a sub-millisecond fraction. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

const ENV_NAME = /^[^=\0]+$/;

/**
 * The argv before a shell command. bash gets strict mode as options rather
 * than a `set` line in front of the command, so the command is run as
 * written: `-e` stops at the first failing command, `-u` fails on an unset
 * variable, `-o pipefail` fails a pipe when any command in it fails (sh
 * would report only the last one's status: a truncated `bwa | samtools`
 * ends 0). bash is found on PATH (it is not always /bin/bash).
 */
export const SHELL_ARGV = {
  bash: ["bash", "-euo", "pipefail", "-c"],
  sh: ["/bin/sh", "-c"],
} as const satisfies Record<"bash" | "sh", readonly string[]>;

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
  const commands = [job, ...(job.then ?? [])].map((c, i) => launchCommand(c, i === 0 ? "" : `then[${i - 1}].`, text, bad));
  const cwd = text("cwd", job.cwd);
  const log = text("log", job.log);
  if (cwd === "") bad("cwd must not be empty");
  if (log === "") bad("log must not be empty");
  if (job.timeoutMs !== undefined && !(Number.isFinite(job.timeoutMs) && job.timeoutMs > 0)) {
    bad(`timeoutMs must be a positive number, not ${job.timeoutMs}`);
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(p));
  return { id: job.id, commands, cwd: abs(cwd), log: abs(log) };
}

function launchCommand(
  c: Command,
  at: string,
  text: (name: string, value: unknown) => string,
  bad: (what: string) => never,
): LaunchCommand {
  let argv: string[];
  if (c.kind === "argv") {
    if (!Array.isArray(c.argv) || c.argv.length === 0) return bad(`${at}argv must be a non-empty array`);
    argv = c.argv.map((a, i) => text(`${at}argv[${i}]`, a));
    if (argv[0] === "") bad(`${at}argv[0] must not be empty`);
  } else if (c.kind === "shell") {
    const command = text(`${at}command`, c.command);
    const shell = c.shell ?? "sh";
    if (shell !== "bash" && shell !== "sh") return bad(`${at}shell must be "bash" or "sh", not ${JSON.stringify(shell)}`);
    // A command without shell syntax has no pipe and expands no variable, so
    // bash's strict mode could not change how it ends: it skips the shell either way.
    argv = simpleCommandArgv(command) ?? [...SHELL_ARGV[shell], command];
  } else {
    return bad(`${at}kind must be "argv" or "shell", not ${JSON.stringify(c.kind)}`);
  }
  const env = Object.entries(c.env ?? {}).map(([k, v]): [string, string] => {
    if (!ENV_NAME.test(k)) bad(`${at}environment variable name ${JSON.stringify(k)} is empty or contains "=" or NUL`);
    return [k, text(`${at}env.${k}`, v)];
  });
  return { argv, env };
}
