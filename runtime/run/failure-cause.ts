import type { JobResult } from "../executors/job.js";
import type { OomWatch } from "./oom.js";

/** `2 s`, `0.5 s`: a stage's `timeout`, as the workflow gave it. */
export function timeoutText(seconds: number): string {
  return `timed out after ${seconds} s`;
}

/**
 * Why a command job failed, in words for the summary, the `job-end` event
 * and the log: `exit 3`, `timed out after 2 s`, `killed by SIGSEGV`,
 * `killed by SIGKILL (out of memory: the kernel's OOM killer)`, or the
 * runner's own error (a log it could not open, a worker that died).
 */
export function commandCause(result: JobResult, timeout: number | null, oom: OomWatch): string {
  // A timeout ends in SIGTERM or SIGKILL sent by the runner: the timeout is the cause.
  if (result.timedOut) return timeoutText(timeout ?? 0);
  if (result.error !== null) return result.error;
  if (result.signal !== null) {
    const byOom = result.signal === "SIGKILL" && oom.claim();
    return `killed by ${result.signal}${byOom ? " (out of memory: the kernel's OOM killer)" : ""}`;
  }
  if (result.exitCode !== null) return `exit ${result.exitCode}`;
  return "ended without an exit status";
}
