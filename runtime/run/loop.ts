/**
 * The run loop: start what the scheduler hands out, hand running jobs'
 * lanes on to their next job (Scheduler.follow), wait for a job to end,
 * again, until nothing runs and nothing can start.
 *
 * Lanes are driven here and only here: a job the scheduler hands on to a
 * follower shares its lane, so the runner starts the follower the moment
 * the leader ends (see runtime/README.md for the states of a lane).
 */
import type { JobRef } from "../scheduler/scheduler.js";
import type { RunContext } from "./context.js";
import { executeJob } from "./execute-job.js";

/** A job the loop started, and the one that follows it in its lane. */
interface Started {
  readonly ref: JobRef;
  readonly lane: number;
  follower: Started | null;
  ended: boolean;
}

export async function runLoop(run: RunContext): Promise<void> {
  const { scheduler } = run;
  const running = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  let lanes = 0;
  /** Running jobs of tasks whose jobs can be followed, not followed yet. */
  const leaders = new Set<Started>();

  const start = (ref: JobRef, lane?: number): Started => {
    const job: Started = { ref, lane: lane ?? ++lanes, follower: null, ended: false };
    if (lane === undefined && scheduler.followable(ref.task)) leaders.add(job);
    const p = executeJob(run, ref, { id: job.lane, follows: lane !== undefined }).then(() => {
      job.ended = true;
      leaders.delete(job);
      // Its follower holds the slot now, and may be followed in turn.
      if (job.follower !== null && !job.follower.ended) leaders.add(job.follower);
      running.delete(p);
      wake?.();
    });
    running.add(p);
    return job;
  };

  const onAbort = () => wake?.();
  run.signal.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      if (run.signal.aborted) scheduler.stop();
      for (const ref of scheduler.take()) start(ref);
      for (const leader of leaders) {
        const next = scheduler.follow(leader.ref);
        if (next === undefined) continue;
        leaders.delete(leader);
        leader.follower = start(next, leader.lane);
      }
      // Nothing running and nothing could start: the run is over.
      if (running.size === 0) break;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    await Promise.all(running);
    run.signal.removeEventListener("abort", onAbort);
  }
}
