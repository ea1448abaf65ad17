/**
 * The run loop: start what the scheduler hands out, hand running jobs'
 * lanes on to their next job (Scheduler.follow), wait for a job to end,
 * again, until nothing runs and nothing can start.
 *
 * Lanes are driven here and only here: the scheduler owns them (which job
 * may follow which, in which lane: runtime/scheduler/lanes.ts), this loop
 * hands followers to their backend with the lane, and a job's execution
 * takes a retry out of its lane (see runtime/README.md for the states).
 */
import type { JobRef } from "../scheduler/scheduler.js";
import type { RunContext } from "./context.js";
import { executeJob } from "./execute-job.js";

export async function runLoop(run: RunContext): Promise<void> {
  const { scheduler } = run;
  const running = new Set<Promise<void>>();
  let wake: (() => void) | undefined;

  const start = (ref: JobRef, lane: number | undefined, follows: boolean): void => {
    const p = executeJob(run, ref, lane === undefined ? undefined : { id: lane, follows }).then(() => {
      running.delete(p);
      wake?.();
    });
    running.add(p);
  };

  const onAbort = () => wake?.();
  run.signal.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      if (run.signal.aborted) scheduler.stop();
      for (const ref of scheduler.take()) start(ref, scheduler.lane(ref), false);
      // A running job alone in its lane may get the task's next ready job behind it.
      for (const { job, lane } of scheduler.handOn()) start(job, lane, true);
      // Nothing running and nothing could start: the run is over.
      if (running.size === 0) break;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    await Promise.all(running);
    run.signal.removeEventListener("abort", onAbort);
  }
}
