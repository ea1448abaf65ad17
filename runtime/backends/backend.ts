/**
 * The one interface every way of running a job implements: this machine's
 * pools (`local.ts`), a SLURM cluster (`slurm.ts`), and the fake the tests
 * drive (`test/runtime/fake-backend.ts`). The run loop decides what runs and
 * when; a backend only runs what it is given and says how it ended.
 *
 * A backend never sees the scheduler: a job is named by its task's index and
 * its number (JobKey), and a retry by its attempt number.
 */
import type { StepCommand } from "../jobs/expand.js";
import type { PlanTask } from "../../contract/plan.js";
import type { JobUsage } from "../state/usage.js";

/** Which job of the plan: its task's index in `plan.tasks` and its number in the task. */
export interface JobKey {
  readonly task: number;
  readonly job: number;
}

/** A job ready to run: its commands expanded, its log chosen, its attempt counted. */
export interface PreparedJob {
  readonly key: JobKey;
  readonly task: PlanTask;
  /** Every step of every element of the job, in the order they run (a fused chain; a batch's elements one after another). */
  readonly commands: readonly StepCommand[];
  /** Where the commands' stdout and stderr go (appended). */
  readonly log: string;
  /** 0 for the first attempt, 1 for the first retry, … */
  readonly attempt: number;
  /** Whether the run loop retries this attempt if it fails (SLURM holds retries to send them together). */
  readonly retriesLeft: boolean;
  /**
   * The job's lane (local commands only, see runtime/README.md): a job that
   * `follows` waits for the job before it in the lane and starts only if that
   * one succeeded; a job that does not may be followed.
   */
  readonly lane?: { readonly id: number; readonly follows: boolean } | undefined;
}

/** What a backend may use and must tell while it runs a job. */
export interface JobContext {
  /** The workflow's folder: every relative path of the job is relative to it. */
  readonly workdir: string;
  /** Aborted on Ctrl-C: the backend stops the job, which then ends `cancelled`. */
  readonly signal: AbortSignal;
  /** The job's first command started, at this time by the clock that saw it (a node's, for SLURM). */
  readonly onStart: (at: number) => void;
}

/**
 * How a job ended. A tagged union: a case added here is a compile error in
 * every switch over it (see `settle` in runtime/run/execute-job.ts).
 */
export type JobOutcome =
  | { readonly kind: "done"; readonly started: number; readonly usage?: StepUsage }
  | {
      readonly kind: "failed";
      readonly started: number;
      readonly exitCode: number | null;
      /** Index into PreparedJob.commands of the command that failed. */
      readonly step: number;
      /** The failing command as the summary shows it; the cause when no command is to blame (sbatch refused the array). */
      readonly command: string;
      /** Why, in words: `exit 3`, `timed out after 2 s`, `killed by SIGSEGV`, `threw Error: …`. */
      readonly reason: string;
      /** Another attempt would fail the same way (its software environment is missing): no retry. */
      readonly final?: boolean;
      readonly usage?: StepUsage;
    }
  | {
      readonly kind: "cancelled";
      readonly started: number;
      readonly exitCode: number | null;
      /** Index into PreparedJob.commands of the command Ctrl-C stopped (those before it succeeded), where the backend knows. */
      readonly step?: number;
      readonly usage?: StepUsage;
    }
  /** It never started: the job before it in its lane did not succeed. The run loop puts it back. */
  | { readonly kind: "not-run" }
  /**
   * It never started: its software environment failed the check another
   * job of it made and reported (issue 15). It ends as not run.
   */
  | { readonly kind: "unavailable"; readonly reason: string };

/**
 * What each command of a job used (issue 16), by index into
 * PreparedJob.commands, as far as the backend measured it: a command that
 * never ran, or could not be measured, has none.
 */
export type StepUsage = readonly (JobUsage | undefined)[];

export interface Backend {
  /**
   * Whether the start time in a job's outcome, taken where it ran (a SLURM
   * node), is better than when wfc saw it start (a poll later).
   */
  readonly remoteClock?: boolean;
  /**
   * Whether a job's `job-start` waits for `onStart` (a SLURM element that
   * starts when the cluster runs it, an `fn` call queued at its worker)
   * rather than being now.
   */
  startsLater(job: PreparedJob): boolean;
  /** Runs one job; resolves however it ended, never rejects for a job that fails. */
  run(job: PreparedJob, ctx: JobContext): Promise<JobOutcome>;
  /** Gets ready for about this many jobs (starts pool workers while the run sets up). */
  prestart?(jobs: number): void;
  /** Ctrl-C: stop everything running or submitted; each job then ends `cancelled`. */
  cancelAll?(): Promise<void>;
  /** A second Ctrl-C: kill what runs at once. */
  killAll?(): void;
  /** Stops the backend's own processes and timers once the run is over. */
  close(): Promise<void>;
}
