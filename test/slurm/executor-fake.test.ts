/**
 * The SLURM executor's state machine against FakeSlurmClient: real element
 * scripts as child processes, SLURM's decisions scripted by the test. Every
 * wait is on an event (an outcome, a submission, a number of queue reads,
 * the executor's own clock), never on a duration, so each test takes the
 * same path on every run.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test, type TestContext } from "vitest";
import { compileFile } from "../../compiler/compile.js";
import type { Plan } from "../../contract/plan.js";
import { cancelLeftovers } from "../../runtime/slurm/cluster.js";
import type { JobRef } from "../../runtime/scheduler/scheduler.js";
import { SlurmExecutor, type Attempt, type SlurmOutcome } from "../../runtime/slurm/executor.js";
import { slurmLayout } from "../../contract/slurm-layout.js";
import { fixture } from "../e2e/helpers.js";
import { FakeSlurmClient, type ElementPlan } from "./fake-client.js";

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/** `work` fans out over 4 elements on the cluster; `clock` is another task, whose held element keeps the executor polling. */
async function setup(): Promise<{ dir: string; plan: Plan }> {
  const dir = fixture({
    "wf.yaml": `wfc: 1
name: fake
executors:
  cluster: { type: slurm }
stages:
  work:
    foreach: { i: { range: [0, 4] } }
    outputs: "w/{i}.txt"
    executor: cluster
    run: "echo {i} > {outputs}"
  clock:
    outputs: "clock.txt"
    executor: cluster
    run: "touch {outputs}"
`,
  });
  temporary.push(dir);
  const { plan, diagnostics } = await compileFile(join(dir, "wf.yaml"));
  expect(diagnostics).toEqual([]);
  return { dir, plan: plan! };
}

const FIRST: Attempt = { retry: false, retriesLeft: true };
const RETRY: Attempt = { retry: true, retriesLeft: false };

/** An executor on a fake cluster, stopped (and its elements killed) when the test ends. */
async function cluster(ctx: TestContext, planOf?: ConstructorParameters<typeof FakeSlurmClient>[0]) {
  const { dir, plan } = await setup();
  const fake = new FakeSlurmClient(planOf);
  const executor = new SlurmExecutor({ plan, layout: slurmLayout(plan), workdir: dir, stateDir: join(dir, ".wfc"), env: {}, client: fake });
  ctx.onTestFinished(() => {
    executor.close();
    fake.stopAll();
  });
  const task = (id: string) => plan.tasks.findIndex((t) => t.id === id);
  const ref = (id: string, job: number): JobRef => ({ task: task(id), job, first: job, end: job + 1 });
  const log = (id: string, job: number) => join(dir, `${id}.${job}.log`);
  const run = (id: string, job: number, scripts: string[], attempt: Attempt = FIRST): Promise<SlurmOutcome> =>
    executor.run(ref(id, job), scripts, log(id, job), () => {}, attempt);
  /** Waits until the executor has read the queue `n` more times: at least that many of its poll periods went by. */
  const polls = async (n: number) => {
    const from = fake.queueCalls;
    await fake.until(() => fake.queueCalls >= from + n);
  };
  const arrays = () => fake.submissions.map((s) => s.args.find((a) => a.startsWith("--array="))!);
  return { dir, fake, executor, run, log, polls, arrays };
}

const run: ElementPlan = { behaviour: { kind: "run" } };

describe("the SLURM executor on a fake cluster", () => {
  test("two elements failing a poll apart: their retries go out as ONE array of their indices", async (ctx) => {
    // The race a real cluster showed under CI load: element 0 failed, its retry came back
    // while element 1 still ran, went out alone, and element 1's retry went as a second array.
    const c = await cluster(ctx, ({ submission, index }) => ({ ...run, hold: submission === 0 && index === 1 }));
    const first0 = c.run("work", 0, ["exit 3"]);
    const first1 = c.run("work", 1, ["exit 4"]);
    expect(await first0).toMatchObject({ ok: false, exitCode: 3, cancelled: false });
    // The run loop hands element 0's retry back (after its backoff) while element 1 is still on the cluster.
    const retry0 = c.run("work", 0, ["echo again"], RETRY);
    // Longer than the submission window: a retry let go at once would have been submitted by now.
    await c.polls(2);
    expect(c.arrays()).toEqual(["--array=0-1"]);
    c.fake.release(0, 1);
    expect(await first1).toMatchObject({ ok: false, exitCode: 4 });
    const retry1 = c.run("work", 1, ["true"], RETRY);
    expect(await retry0).toMatchObject({ ok: true, exitCode: 0 });
    expect(await retry1).toMatchObject({ ok: true, exitCode: 0 });
    expect(c.arrays()).toEqual(["--array=0-1", "--array=0-1"]);
    expect(readFileSync(c.log("work", 0), "utf8")).toBe("again\n");
  });

  test("two elements failing together, retries back at different times (backoff jitter): one array", async (ctx) => {
    const c = await cluster(ctx, ({ submission }) => ({ ...run, hold: submission === 0 }));
    const clock = c.run("clock", 0, ["true"]);
    await c.fake.until(() => c.fake.submissions.length === 1);
    const firsts = [c.run("work", 0, ["exit 1"]), c.run("work", 2, ["exit 1"]), c.run("work", 3, ["true"])];
    const outcomes = await Promise.all(firsts);
    expect(outcomes.map((o) => o.ok)).toEqual([false, false, true]);
    const retry0 = c.run("work", 0, ["true"], RETRY);
    // Nothing of `work` is on the cluster any more, but element 2's retry is still to come.
    await c.polls(2);
    expect(c.arrays()).toEqual(["--array=0", "--array=0,2-3"]);
    const retry2 = c.run("work", 2, ["true"], RETRY);
    expect((await Promise.all([retry0, retry2])).map((o) => o.ok)).toEqual([true, true]);
    expect(c.arrays()).toEqual(["--array=0", "--array=0,2-3", "--array=0,2"]);
    c.fake.release(0, 0);
    expect(await clock).toMatchObject({ ok: true });
  });

  test("an element SLURM purges before its status line is written fails with the cause, not a hang", async (ctx) => {
    const c = await cluster(ctx, ({ index }) => (index === 1 ? { behaviour: { kind: "purge" } } : run));
    const [ok, purged] = await Promise.all([c.run("work", 0, ["true"]), c.run("work", 1, ["true"])]);
    expect(ok).toMatchObject({ ok: true });
    expect(purged).toMatchObject({
      ok: false,
      exitCode: null,
      cancelled: false,
      reason: "SLURM job 1000_1 left the queue without a result (purged before wfc saw it end, or its node lost it)",
    });
    expect(readFileSync(c.log("work", 1), "utf8")).toBe(`wfc: ${purged.reason}\n`);
    // A failed submission's folder stays for a look.
    expect(existsSync(join(c.dir, ".wfc", "slurm"))).toBe(true);
  });

  test("elements ending TIMEOUT, OUT_OF_MEMORY, NODE_FAIL or FAILED without a result: SLURM's state, signal and words", async (ctx) => {
    const said = "slurmstepd: error: *** JOB 1000 ON n1 CANCELLED AT 2026-12-03T09:00:00 DUE TO TIME LIMIT ***";
    const plans: ElementPlan[] = [
      { behaviour: { kind: "end", state: "TIMEOUT", exit: { code: 0, signal: 15 }, said } },
      { behaviour: { kind: "end", state: "OUT_OF_MEMORY", exit: { code: 0, signal: 9 } } },
      { behaviour: { kind: "end", state: "NODE_FAIL", exit: { code: 0, signal: 0 } } },
      { behaviour: { kind: "end", state: "FAILED", exit: { code: 2, signal: 0 } } },
    ];
    const c = await cluster(ctx, ({ index }) => plans[index]!);
    const outcomes = await Promise.all([0, 1, 2, 3].map((i) => c.run("work", i, ["true"])));
    expect(outcomes.map((o) => [o.ok, o.exitCode, o.cancelled, o.reason])).toEqual([
      [false, null, false, "SLURM job 1000_0 ended TIMEOUT (signal 15)"],
      [false, null, false, "SLURM job 1000_1 ended OUT_OF_MEMORY (signal 9)"],
      [false, null, false, "SLURM job 1000_2 ended NODE_FAIL"],
      [false, 2, false, "SLURM job 1000_3 ended FAILED"],
    ]);
    expect(readFileSync(c.log("work", 0), "utf8")).toBe(`${said}\nwfc: SLURM job 1000_0 ended TIMEOUT (signal 15)\n`);
  });

  test("a fused element ended by SLURM in its second step, without a result, says step 1 (its first step succeeded)", async (ctx) => {
    const c = await cluster(ctx, () => run);
    // The second step kills the element's script, as SLURM does at a time limit: no status line is written.
    // The script is the step's parent, or its grandparent past the perl that measures the step (issue 16).
    const killScript = 'p=$PPID; if [ "$(cat /proc/$p/comm)" = perl ]; then p=$(ps -o ppid= -p $p); fi; kill -KILL $p; sleep 1';
    const [fused, single] = await Promise.all([c.run("work", 0, ["echo one", killScript]), c.run("work", 1, [killScript])]);
    expect([fused.ok, fused.step, fused.reason]).toEqual([false, 1, "SLURM job 1000_0 ended CANCELLED (signal 9)"]);
    expect([single.ok, single.step]).toEqual([false, 0]);
  });

  test("squeue failing for a while: nothing is taken as ended or purged, and following resumes", async (ctx) => {
    const c = await cluster(ctx, ({ index }) =>
      index === 1 ? { behaviour: { kind: "end", state: "TIMEOUT", exit: { code: 0, signal: 15 } } } : { ...run, hold: index === 2 },
    );
    c.fake.queueDown(6);
    const outcomes = [c.run("work", 0, ["true"]), c.run("work", 1, ["true"]), c.run("work", 2, ["echo late"])];
    // Its status line is seen without squeue.
    expect(await outcomes[0]).toMatchObject({ ok: true });
    await c.fake.until(() => c.fake.queueCalls >= 6);
    // The outage is over: the held element runs, the timed-out one is seen as SLURM says.
    c.fake.release(0, 2);
    expect(await outcomes[1]).toMatchObject({ ok: false, reason: "SLURM job 1000_1 ended TIMEOUT (signal 15)" });
    expect(await outcomes[2]).toMatchObject({ ok: true });
    expect(readFileSync(c.log("work", 2), "utf8")).toBe("late\n");
  });

  test("sbatch refusing: every job of the array fails with sbatch's words", async (ctx) => {
    const c = await cluster(ctx);
    const refused = "sbatch failed (exit 1): sbatch: error: Batch job submission failed: Invalid partition name specified";
    c.fake.refuseNext = refused;
    const outcomes = await Promise.all([c.run("work", 0, ["true"]), c.run("work", 1, ["true"])]);
    expect(outcomes.map((o) => [o.ok, o.reason])).toEqual([
      [false, refused],
      [false, refused],
    ]);
    expect(c.fake.submissions).toEqual([]);
  });

  test("cancel on abort: submitted arrays are cancelled, running and pending elements end cancelled, nothing more goes out", async (ctx) => {
    const c = await cluster(ctx, ({ index }) => ({ ...run, hold: index === 1 }));
    const outcomes = [c.run("work", 0, ["echo started; sleep 30"]), c.run("work", 1, ["true"])];
    await c.fake.until(
      () => c.fake.stateOf(0, 0) === "RUNNING" && existsSync(c.log("work", 0)) && readFileSync(c.log("work", 0), "utf8") !== "",
    );
    await c.executor.cancelAll();
    const ended = await Promise.all(outcomes);
    expect(ended.map((o) => [o.ok, o.cancelled])).toEqual([
      [false, true],
      [false, true],
    ]);
    expect(c.fake.cancels).toEqual([["1000"]]);
    expect([c.fake.stateOf(0, 0), c.fake.stateOf(0, 1)]).toEqual(["CANCELLED", "CANCELLED"]);
    // After the abort, a job handed in is cancelled without reaching the cluster.
    expect(await c.run("work", 2, ["true"])).toMatchObject({ ok: false, cancelled: true });
    expect(c.fake.submissions).toHaveLength(1);
  });
});

describe("cancelLeftovers on a fake cluster (arrays a dead run left)", () => {
  /** Submits an array straight to the fake, as a run that died would have. */
  const leave = async (fake: FakeSlurmClient, dir: string, indices: string, body: string) => {
    const script = join(dir, `left-${fake.submissions.length}.sh`);
    writeFileSync(script, `#!/bin/bash\n${body}\n`);
    const r = await fake.sbatch([`--array=${indices}`, `--output=${join(dir, "left-%a.out")}`, script], { cwd: dir, env: {} });
    if (!r.ok) throw new Error(r.message);
    return r.id;
  };

  test("only arrays with elements still queued or running are cancelled, and it waits until they ended", async (ctx) => {
    const { dir } = await setup();
    const fake = new FakeSlurmClient(({ index }) => ({ ...run, hold: index === 1 }));
    ctx.onTestFinished(() => fake.stopAll());
    const live = await leave(fake, dir, "0-1", "sleep 30");
    const done = await leave(fake, dir, "0", "true");
    await fake.until(() => fake.stateOf(0, 0) === "RUNNING" && fake.stateOf(1, 0) === "COMPLETED");
    expect(await cancelLeftovers([live, done], 60_000, fake)).toEqual([live]);
    expect(fake.cancels).toEqual([[live]]);
    expect([fake.stateOf(0, 0), fake.stateOf(0, 1)]).toEqual(["CANCELLED", "CANCELLED"]);
  });

  test("squeue not answering: every id is cancelled", async (ctx) => {
    const { dir } = await setup();
    const fake = new FakeSlurmClient();
    ctx.onTestFinished(() => fake.stopAll());
    const id = await leave(fake, dir, "0", "true");
    await fake.until(() => fake.stateOf(0, 0) === "COMPLETED");
    fake.queueDown(1);
    expect(await cancelLeftovers([id], 60_000, fake)).toEqual([id]);
    expect(fake.cancels).toEqual([[id]]);
  });
});
