/**
 * What a run reports: its events (`--json` prints them as NDJSON; see
 * schema/events.schema.json), its failures and its summary.
 */
import { unreachable } from "../../contract/unreachable.js";
import { staleInputsMessage, type StaleInputs } from "../jobs/stale-inputs.js";
import type { LimitUse, PathStep } from "./stats.js";
import type { JobUsage } from "../state/usage.js";

/** What a run reports as it goes (`--json` prints these as NDJSON; see schema/events.schema.json). */
export type RunEvent =
  | { readonly type: "run-start"; readonly time: number; readonly tasks: number; readonly jobs: number }
  | {
      readonly type: "job-start";
      readonly time: number;
      readonly task: string;
      readonly job: number;
      readonly elements: readonly [number, number];
    }
  | {
      readonly type: "job-end";
      readonly time: number;
      readonly task: string;
      readonly job: number;
      readonly elements: readonly [number, number];
      readonly status: "done" | "failed" | "skipped" | "cancelled";
      readonly start: number;
      readonly exitCode: number | null;
      readonly reason?: string;
      readonly log?: string;
      /** Why a job that ran was not up to date: `step \`b\` of s=x: it failed last time` (see runtime/run/freshness.ts). */
      readonly why?: string;
      /** What the job used (issue 16), when it ran and was measured: its wall time, CPU summed over its steps, the largest peak RSS. */
      readonly usage?: JobUsage;
    }
  | {
      readonly type: "would-run";
      readonly task: string;
      readonly job: number;
      readonly reason: string;
      readonly commands: readonly string[];
    }
  | {
      /** Jobs of a task went to SLURM as one job array. */
      readonly type: "slurm-submit";
      readonly time: number;
      readonly task: string;
      readonly jobId: string;
      readonly jobs: number;
      /** sbatch's arguments, the array script last. */
      readonly sbatch: readonly string[];
    }
  | {
      /**
       * Files on disk that a gathering input's glob matches but that no
       * producer element writes in this run: not gathered, left in place.
       * Once per such input, before its first job (runtime/jobs/stale-inputs.ts).
       */
      readonly type: "stale-inputs";
      readonly time: number;
      readonly task: string;
      readonly stage: string;
      /** The input's name, or its position among the stage's inputs (from 0). */
      readonly input: string | number;
      readonly glob: string;
      /** The first STALE_PATHS_LISTED of them, sorted. */
      readonly paths: readonly string[];
      readonly count: number;
      /** The warning `wfc run` prints. */
      readonly message: string;
    }
  | {
      /**
       * A producer element ended and decided a dynamic task's elements
       * (issue 14): `jobs` new jobs of `task`, the elements `[first, end)`,
       * from element `element` (its identity) of `from`. Totals grow by `jobs`
       * (a partial run's: those of them it runs).
       */
      readonly type: "expand";
      readonly time: number;
      readonly task: string;
      readonly from: string;
      readonly element: string;
      readonly jobs: number;
      readonly elements: readonly [number, number];
      /** Whether more of `task`'s jobs may come (some of its elements wait for a producer element still). */
      readonly more: boolean;
    }
  | { readonly type: "run-end"; readonly time: number; readonly summary: RunSummary };

/** How many stale files a `stale-inputs` event lists (`count` says how many there are). */
export const STALE_PATHS_LISTED = 100;

export interface RunFailure {
  readonly task: string;
  readonly job: number;
  /** The stage (step of the task) that failed, when one did. */
  readonly stage?: string;
  /** The identity of the element it failed for (`s=a,chunk=3`; empty for a stage without variables). */
  readonly element?: string;
  readonly command: string;
  readonly exitCode: number | null;
  /** Why it failed, in words: `exit 3`, `timed out after 2 s`, `killed by SIGSEGV`, `threw Error: …`, with `disk full: …` when its disk is. */
  readonly reason: string;
  readonly log: string;
  readonly tail: string;
}

/** A run's end: `done + skipped + failed + cancelled + notRun` (+ `wouldRun` in a dry run) is every job of the plan. */
export interface RunSummary {
  readonly status: "ok" | "failed" | "interrupted";
  readonly done: number;
  readonly skipped: number;
  readonly failed: number;
  /** Jobs stopped by Ctrl-C (or the caller's signal) while they ran: they run again next time. */
  readonly cancelled: number;
  /** Jobs that never ran: downstream of a failure, or not started after fail-fast or Ctrl-C. */
  readonly notRun: number;
  /** `--dry-run` only: the jobs that would run (not in `skipped`, which then counts only the up-to-date ones). */
  readonly wouldRun?: number;
  /** Why the run did not complete every job when no failed job says it (jobs that never became ready), or a target that was not made (select.ts: its producer did not decide the element it names). */
  readonly reason?: string;
  readonly wallMs: number;
  readonly failures: readonly RunFailure[];
  /** The chain of jobs, each released by the end of the one before, that ends with the last job to finish. */
  readonly criticalPath: readonly PathStep[];
  /** The concurrency group (named limit or stage cap) that was full the longest; null when no job held one. */
  readonly busiestLimit: LimitUse | null;
  /**
   * Dynamic tasks (issue 14) with jobs not known at the end: `blocks` of
   * their elements wait for a producer element of `from` that did not end
   * well (a dry run, a failure, Ctrl-C); `known` jobs were. Absent when none.
   */
  readonly unknown?: readonly { readonly task: string; readonly from: string; readonly known: number; readonly blocks: number }[];
}

/** How a job that had started or was due to start ended, as its `job-end` event says it. */
export type JobEnd =
  | { readonly status: "done"; readonly log: string }
  | { readonly status: "skipped"; readonly reason: string }
  | { readonly status: "failed"; readonly exitCode: number | null; readonly reason: string; readonly log?: string }
  | { readonly status: "cancelled"; readonly exitCode: number | null; readonly log?: string };

/** The one place a `job-end` event is made. */
export function jobEndEvent(
  job: { readonly task: string; readonly job: number; readonly elements: readonly [number, number] },
  end: JobEnd,
  times: { readonly start: number; readonly end: number },
  usage?: JobUsage,
): Extract<RunEvent, { type: "job-end" }> {
  const event = endEvent(job, end, times);
  // Added, not spread: no copy of the event per job.
  if (usage !== undefined) (event as { usage?: JobUsage }).usage = usage;
  return event;
}

function endEvent(
  job: { readonly task: string; readonly job: number; readonly elements: readonly [number, number] },
  end: JobEnd,
  times: { readonly start: number; readonly end: number },
): Extract<RunEvent, { type: "job-end" }> {
  const { task, job: number, elements } = job;
  const { start, end: time } = times;
  // Written out, not spread: one of these per job, 100,000 in a big fan-out. Fields
  // in the order the events always had them, so `--json` output stays the same.
  switch (end.status) {
    case "done":
      return { type: "job-end", time, task, job: number, elements, status: "done", start, exitCode: 0, log: end.log };
    case "skipped":
      return { type: "job-end", time, task, job: number, elements, status: "skipped", start, exitCode: null, reason: end.reason };
    case "failed":
      return end.log === undefined
        ? { type: "job-end", time, task, job: number, elements, status: "failed", start, exitCode: end.exitCode, reason: end.reason }
        : {
            type: "job-end",
            time,
            task,
            job: number,
            elements,
            status: "failed",
            start,
            exitCode: end.exitCode,
            reason: end.reason,
            log: end.log,
          };
    case "cancelled":
      return end.log === undefined
        ? { type: "job-end", time, task, job: number, elements, status: "cancelled", start, exitCode: end.exitCode }
        : { type: "job-end", time, task, job: number, elements, status: "cancelled", start, exitCode: end.exitCode, log: end.log };
    default:
      return unreachable(end);
  }
}

/** The `stale-inputs` event for what a gathering input left out. */
export function staleInputsEvent(s: StaleInputs): RunEvent {
  const { task, stage, input, glob, paths } = s;
  const listed = paths.slice(0, STALE_PATHS_LISTED);
  return {
    type: "stale-inputs",
    time: Date.now(),
    task,
    stage,
    input,
    glob,
    paths: listed,
    count: paths.length,
    message: staleInputsMessage(s),
  };
}
