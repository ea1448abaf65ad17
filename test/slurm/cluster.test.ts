/**
 * The SLURM behaviour wfc's export relies on, checked with real jobs on the local
 * cluster from .ci/slurm/up.sh (skipped without one, a failure on CI). Each check
 * reads the jobs' own start and end times, so it holds whatever squeue says.
 * SLURM schedules with about 1 s granularity: keep arrays to a few elements.
 */
import { test, type TestContext } from "vitest";
import { Jobs, describeSlurm, maxOverlap, waitForJobs, type JobStates } from "./cluster.js";

const statesOf = (states: JobStates) => [...states.values()].map((s) => s.state);

/** A test's own jobs and scratch folder, cleaned up when it finishes. */
function jobsFor({ onTestFinished }: TestContext): Jobs {
  const jobs = new Jobs();
  onTestFinished(() => jobs.cleanup());
  return jobs;
}

describeSlurm("SLURM cluster (.ci/slurm/up.sh)", () => {
  // Concurrently: the 8 CPUs the node advertises are enough for all of them at once.
  test.concurrent("sbatch --parsable prints only the job id, and the job runs", async (ctx) => {
    const { expect } = ctx;
    const jobs = jobsFor(ctx);
    const { id, out } = await jobs.submit([]);
    expect(id).toMatch(/^\d+$/);
    const states = await waitForJobs([id]);
    expect(states.get(id)).toEqual({ state: "COMPLETED", reason: "None" });
    expect(jobs.intervals(out).size).toBe(1);
  });

  test.concurrent("--array=0-5%2 runs all 6 elements, never more than 2 at once", async (ctx) => {
    const { expect } = ctx;
    const jobs = jobsFor(ctx);
    const { id, out } = await jobs.submit(["--array=0-5%2"], [1]);
    const states = await waitForJobs([id], 30_000);
    expect(statesOf(states)).toEqual(Array(6).fill("COMPLETED"));
    const runs = jobs.intervals(out);
    expect([...runs.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    // exactly 2: the throttle, not a lack of CPUs, is what held the others back
    expect(maxOverlap(runs.values())).toBe(2);
  });

  test.concurrent("--licenses=one:1 lets one element of two arrays run at a time", async (ctx) => {
    const { expect } = ctx;
    const jobs = jobsFor(ctx);
    const a = await jobs.submit(["--array=0-1", "--licenses=one:1"], [0.5]);
    const b = await jobs.submit(["--array=0-1", "--licenses=one:1"], [0.5]);
    const states = await waitForJobs([a.id, b.id], 30_000);
    expect(statesOf(states)).toEqual(Array(4).fill("COMPLETED"));
    const runs = [...jobs.intervals(a.out).values(), ...jobs.intervals(b.out).values()];
    expect(runs).toHaveLength(4);
    expect(maxOverlap(runs)).toBe(1);
  });

  test.concurrent("aftercorr is element-wise: B_i waits for A_i only, and is cancelled when A_i fails", async (ctx) => {
    const { expect } = ctx;
    const jobs = jobsFor(ctx);
    // A_0 is slow, A_1 quick, A_2 quick and failing
    const a = await jobs.submit(["--array=0-2"], [3, 0.2, 0.2], [0, 0, 1]);
    const b = await jobs.submit(["--array=0-2", `--dependency=aftercorr:${a.id}`]);
    const states = await waitForJobs([a.id, b.id], 30_000);
    const [ranA, ranB] = [jobs.intervals(a.out), jobs.intervals(b.out)];
    expect(states.get(`${a.id}_2`)?.state).toBe("FAILED");
    expect(ranB.get(1)!.start).toBeGreaterThanOrEqual(ranA.get(1)!.end);
    expect(ranB.get(1)!.start, "B_1 started before A_0 ended").toBeLessThan(ranA.get(0)!.end);
    expect(ranB.get(0)!.start).toBeGreaterThanOrEqual(ranA.get(0)!.end);
    expect(ranB.has(2), "B_2 never ran").toBe(false);
    expect(states.get(`${b.id}_2`)).toEqual({ state: "CANCELLED", reason: "DependencyNeverSatisfied" });
  });

  test.concurrent("afterok on a failed element cancels the dependent instead of leaving it pending forever", async (ctx) => {
    const { expect } = ctx;
    const jobs = jobsFor(ctx);
    const x = await jobs.submit(["--array=0-1"], [0], [0, 3]);
    const onOk = await jobs.submit([`--dependency=afterok:${x.id}_0`]);
    const onFailed = await jobs.submit([`--dependency=afterok:${x.id}_1`]);
    const onArray = await jobs.submit([`--dependency=afterok:${x.id}`]);
    const states = await waitForJobs([x.id, onOk.id, onFailed.id, onArray.id]);
    expect(states.get(`${x.id}_1`)).toEqual({ state: "FAILED", reason: "NonZeroExitCode" });
    expect(states.get(onOk.id)?.state).toBe("COMPLETED");
    for (const dependent of [onFailed, onArray]) {
      expect(states.get(dependent.id)).toEqual({ state: "CANCELLED", reason: "DependencyNeverSatisfied" });
      expect(jobs.intervals(dependent.out).size).toBe(0);
    }
  });
});
