/**
 * The seam between BoundedRunner and what starts processes: ProcessPool's
 * WorkerLauncher (pool workers), SpawnLauncher (Node's spawn), and the fake
 * launchers of the tests. A launcher starts what it is given and reports on
 * it; queueing, slots, lanes, timeouts and killing are the runner's.
 */
import type { JobUsage } from "../state/usage.js";
import type { LaunchSpec } from "./job.js";

/** How a job's own process ended, as a launcher saw it. */
export interface LaunchEnd {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly endedAt: number;
  readonly error: string | null;
  /** The command that ended the job (an index into LaunchSpec.commands). */
  readonly step: number;
  /** A followed job that never started: the one before it did not succeed (see Launcher.follow). */
  readonly notRun?: boolean;
  /** What each command that was reaped used (by index into LaunchSpec.commands), as the launcher could measure it. */
  readonly usage?: readonly (JobUsage | undefined)[];
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
 * outstanding, besides at most one follower each, so a launcher needs no
 * queue of its own. Handlers must not be called synchronously from `launch`
 * or `follow`.
 */
export interface Launcher {
  launch(spec: LaunchSpec, handlers: LaunchHandlers): LaunchHandle;
  /**
   * Optional: hands over a job to start right after `after` ends, in the
   * same slot, without waiting for the runner, and only if `after`
   * succeeded; otherwise it ends with `notRun`. `ended` comes for `after`
   * first. Null when it cannot (the runner then starts the job itself once
   * `after` ended).
   */
  follow?(after: LaunchHandle, spec: LaunchSpec, handlers: LaunchHandlers): LaunchHandle | null;
  /** Called once, when no launch is outstanding. */
  close(): Promise<void>;
}
