/**
 * The run loop against the fake backend: the scheduler, the journal, the
 * events and the summary are real; each job ends when the test says so, so
 * retries, fail-fast, keep-going, lanes and Ctrl-C take the same path on
 * every run. (The same paths with real processes: test/e2e/, test/runtime/.)
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { compileFile } from "../../compiler/compile.js";
import type { Plan } from "../../contract/plan.js";
import { run, type RunConfig, type RunEvent, type RunSummary } from "../../runtime/run/run.js";
import { fixture } from "../e2e/helpers.js";
import { FakeBackend } from "./fake-backend.js";

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/** `make` fans out over 3 elements, `gather` reads them all; `retries` on `make`. */
async function compiled(retries = 0): Promise<{ dir: string; plan: Plan }> {
  const dir = fixture({
    "wf.yaml": `wfc: 1
name: fake
stages:
  make:
    foreach: { i: { range: [0, 3] } }
    outputs: "m/{i}.txt"
    retries: ${retries}
    run: "echo {i} > {outputs}"
  gather:
    inputs: [m/0.txt, m/1.txt, m/2.txt]
    outputs: "all.txt"
    run: "cat {inputs} > {outputs}"
`,
  });
  temporary.push(dir);
  const { plan, diagnostics } = await compileFile(join(dir, "wf.yaml"));
  expect(diagnostics).toEqual([]);
  return { dir, plan: plan! };
}

/** A run on the fake backend: its events (job-start, job-end and would-run, as `task#job status`), its summary. */
function start(dir: string, plan: Plan, config: RunConfig = {}, signal?: AbortSignal) {
  const fake = new FakeBackend();
  const events: RunEvent[] = [];
  const done: Promise<RunSummary> = run(plan, {
    planDir: dir,
    backend: fake,
    config,
    onEvent: (e) => events.push(e),
    ...(signal ? { signal } : {}),
  });
  const said = () =>
    events.flatMap((e) =>
      e.type === "job-start"
        ? [`${e.task}#${e.job} start`]
        : e.type === "job-end"
          ? [`${e.task}#${e.job} ${e.status}`]
          : e.type === "would-run"
            ? [`${e.task}#${e.job} would run: ${e.reason}`]
            : [],
    );
  return { fake, events, done, said };
}

describe("the run loop on a fake backend", () => {
  test("a failed attempt is retried with the attempt counted; the job ends once, done", async () => {
    const { dir, plan } = await compiled(2);
    const { fake, done, said } = start(dir, plan, { jobs: 1 });
    await fake.until(["make#0@0"]);
    fake.fail("make#0@0");
    await fake.until(["make#0@1"]);
    fake.fail("make#0@1");
    await fake.until(["make#0@2"]);
    fake.succeed("make#0@2");
    const summary = await fake.succeedAll(done);
    expect([summary.status, summary.done, summary.failed]).toEqual(["ok", 4, 0]);
    expect(said().filter((s) => s.startsWith("make#0"))).toEqual(["make#0 start", "make#0 done"]);
    expect(fake.received.filter((s) => s.startsWith("make#0"))).toEqual(["make#0@0", "make#0@1", "make#0@2"]);
  });

  test("the last attempt's failure is the job's: one failed job-end, one failure, the consumer never runs", async () => {
    const { dir, plan } = await compiled(1);
    const { fake, done, said } = start(dir, plan, { jobs: 1, keepGoing: true });
    await fake.until(["make#0@0"]);
    fake.fail("make#0@0", 3);
    await fake.until(["make#0@1"]);
    fake.fail("make#0@1", 4);
    const summary = await fake.succeedAll(done);
    expect([summary.status, summary.done, summary.failed, summary.notRun]).toEqual(["failed", 2, 1, 1]);
    expect(summary.failures.map((f) => [f.task, f.job, f.exitCode, f.reason])).toEqual([["make", 0, 4, "exit 4"]]);
    expect(said().filter((s) => s.startsWith("make#0"))).toEqual(["make#0 start", "make#0 failed"]);
    expect(fake.received.filter((s) => s.startsWith("gather"))).toEqual([]);
  });

  test("fail-fast: after a failure nothing more starts; running jobs finish", async () => {
    const { dir, plan } = await compiled();
    const { fake, done, said } = start(dir, plan, { jobs: 2 });
    // Two run at once; the third is the first one's follower in its lane, waiting behind it.
    await fake.until(["make#0@0", "make#1@0"]);
    fake.fail("make#0@0");
    fake.succeed("make#1@0");
    const summary = await done;
    expect([summary.status, summary.done, summary.failed, summary.notRun]).toEqual(["failed", 1, 1, 2]);
    expect(said()).toEqual(["make#0 start", "make#1 start", "make#0 failed", "make#1 done"]);
  });

  test("a lane's follower behind a failed job never starts and is put back: with --keep-going it runs later, once", async () => {
    const { dir, plan } = await compiled();
    const { fake, done, said } = start(dir, plan, { jobs: 1, keepGoing: true });
    await fake.until(["make#0@0"]);
    // make#1 was handed on behind make#0 in its lane, and waits there.
    expect(fake.received).toEqual(["make#0@0", "make#1@0"]);
    expect(said()).toEqual(["make#0 start"]);
    fake.fail("make#0@0");
    const summary = await fake.succeedAll(done);
    expect([summary.status, summary.done, summary.failed, summary.notRun]).toEqual(["failed", 2, 1, 1]);
    // Put back, it came again and ran once: one start, one end.
    expect(fake.received.filter((s) => s === "make#1@0").length).toBeGreaterThan(1);
    expect(said().filter((s) => s.startsWith("make#1"))).toEqual(["make#1 start", "make#1 done"]);
  });

  test("a lane's follower says it started when it starts, not when it is handed on", async () => {
    const { dir, plan } = await compiled();
    const { fake, done, said } = start(dir, plan, { jobs: 1 });
    await fake.until(["make#0@0"]);
    expect(fake.received).toEqual(["make#0@0", "make#1@0"]);
    expect(said()).toEqual(["make#0 start"]);
    fake.succeed("make#0@0");
    await fake.until(["make#1@0"]);
    expect(said().filter((s) => s.startsWith("make#1"))).toEqual(["make#1 start"]);
    expect((await fake.succeedAll(done)).status).toBe("ok");
  });

  test("a dry run hands nothing to the backend and says what would run and why", async () => {
    const { dir, plan } = await compiled();
    const { fake, done, said } = start(dir, plan, { dryRun: true });
    const summary = await done;
    expect(fake.received).toEqual([]);
    expect(said()).toEqual([
      "make#0 would run: it has not run",
      "make#1 would run: it has not run",
      "make#2 would run: it has not run",
      "gather#0 would run: input m/0.txt would be rebuilt",
    ]);
    // Issue 13 point 9: jobs that would run are not "up to date".
    expect([summary.status, summary.wouldRun, summary.skipped, summary.notRun]).toEqual(["ok", 4, 0, 0]);
  });

  test("Ctrl-C: every running job ends cancelled, nothing more starts, the run is interrupted", async () => {
    const { dir, plan } = await compiled();
    const abort = new AbortController();
    const { fake, done, said } = start(dir, plan, { jobs: 2 }, abort.signal);
    await fake.until(["make#0@0", "make#1@0"]);
    abort.abort();
    const summary = await done;
    expect([summary.status, summary.done, summary.failed]).toEqual(["interrupted", 0, 0]);
    expect(said().sort()).toEqual(["make#0 cancelled", "make#0 start", "make#1 cancelled", "make#1 start"]);
    expect(fake.received.filter((n) => n.startsWith("gather"))).toEqual([]);
  });

  // Issue 13 point 9: after Ctrl-C every job is in exactly one bucket of the summary.
  test("Ctrl-C: the summary adds up, cancelled jobs counted as cancelled, not as failed or not run", async () => {
    const { dir, plan } = await compiled();
    const abort = new AbortController();
    const { fake, done } = start(dir, plan, { jobs: 2 }, abort.signal);
    await fake.until(["make#0@0", "make#1@0"]);
    fake.succeed("make#0@0");
    await fake.until(["make#1@0", "make#2@0"]);
    abort.abort();
    const s = await done;
    expect({ status: s.status, done: s.done, skipped: s.skipped, failed: s.failed, cancelled: s.cancelled, notRun: s.notRun }).toEqual({
      status: "interrupted",
      done: 1,
      skipped: 0,
      failed: 0,
      cancelled: 2,
      notRun: 1,
    });
    expect(s.done + s.skipped + s.failed + s.cancelled + s.notRun).toBe(4);
  });

  test("a dry run after a partial run: would run and up to date add up to every job", async () => {
    const { dir, plan } = await compiled();
    const first = start(dir, plan, { jobs: 1 });
    await first.fake.until(["make#0@0"]);
    // The fake runs no command: the output is written as the job would have.
    mkdirSync(join(dir, "m"), { recursive: true });
    writeFileSync(join(dir, "m", "0.txt"), "0\n");
    first.fake.succeed("make#0@0");
    await first.fake.until(["make#1@0"]);
    first.fake.fail("make#1@0");
    await first.done;
    const s = await start(dir, plan, { dryRun: true }).done;
    expect([s.status, s.wouldRun, s.skipped, s.done, s.failed, s.cancelled, s.notRun]).toEqual(["ok", 3, 1, 0, 0, 0, 0]);
  });
  test("each job that ends has exactly one job-end event, after its job-start", async () => {
    const { dir, plan } = await compiled(1);
    const { fake, done, events } = start(dir, plan, { jobs: 3, keepGoing: true });
    await fake.until(["make#0@0", "make#1@0", "make#2@0"]);
    fake.fail("make#1@0");
    fake.succeed("make#0@0");
    await fake.until(["make#1@1", "make#2@0"]);
    fake.succeed("make#2@0");
    fake.succeed("make#1@1");
    await fake.until(["gather#0@0"]);
    fake.succeed("gather#0@0");
    await done;
    const ends = events.filter((e) => e.type === "job-end").map((e) => `${e.task}#${e.job}`);
    expect(ends.sort()).toEqual(["gather#0", "make#0", "make#1", "make#2"]);
    for (const e of events) {
      if (e.type !== "job-end") continue;
      const started = events.findIndex((s) => s.type === "job-start" && s.task === e.task && s.job === e.job);
      expect(started).toBeGreaterThanOrEqual(0);
      expect(started).toBeLessThan(events.indexOf(e));
    }
  });
});

describe("a job's outputs after it succeeds", () => {
  /** One job on a SLURM executor: wfc waits for a shared file system by default there. */
  async function onSlurm(): Promise<{ dir: string; plan: Plan }> {
    const dir = fixture({
      "wf.yaml": `wfc: 1
executors: { cluster: { type: slurm } }
stages:
  node:
    executor: cluster
    outputs: "out/n.txt"
    run: "echo n > {outputs}"
`,
    });
    temporary.push(dir);
    const { plan, diagnostics } = await compileFile(join(dir, "wf.yaml"));
    expect(diagnostics).toEqual([]);
    return { dir, plan: plan! };
  }

  /** The job exits 0 before its output shows, as a node's file on a slow shared file system; it shows a moment later. */
  async function lateOutput(config: RunConfig) {
    const { dir, plan } = await onSlurm();
    const { fake, done, said } = start(dir, plan, config);
    await fake.until(["node#0@0"]);
    fake.succeedWithoutOutputs("node#0@0");
    setTimeout(() => {
      mkdirSync(join(dir, "out"), { recursive: true });
      writeFileSync(join(dir, "out/n.txt"), "n\n");
    }, 300);
    return { summary: await done, said };
  }

  test("on SLURM a late output passes: wfc waits a few seconds for it by default", async () => {
    const { summary, said } = await lateOutput({});
    expect([summary.status, summary.done, summary.failed]).toEqual(["ok", 1, 0]);
    expect(said()).toEqual(["node#0 start", "node#0 done"]);
  });

  test("with --latency-wait 0 it fails, the missing path named", async () => {
    const { summary, said } = await lateOutput({ latencyWait: 0 });
    expect([summary.status, summary.done, summary.failed]).toEqual(["failed", 0, 1]);
    expect(said()).toEqual(["node#0 start", "node#0 failed"]);
    expect(summary.failures.map((f) => f.reason)).toEqual(['exit 0 but it did not write a declared output: "out/n.txt"']);
  });
});

// Issue 13 point 8: Ctrl-C at any moment of start-up stops the run before anything starts.
describe("Ctrl-C during start-up", () => {
  async function interruptedAt(when: "before run()" | "while the lock is taken over") {
    const { dir, plan } = await compiled();
    const abort = new AbortController();
    if (when === "before run()") abort.abort();
    else {
      // A lock left by a dead run (a pid above Linux's pid_max) makes start-up warn as it takes the lock over: Ctrl-C comes then.
      mkdirSync(join(dir, ".wfc"), { recursive: true });
      writeFileSync(join(dir, ".wfc", "lock"), `${2 ** 22 + 1}\n`);
    }
    const fake = new FakeBackend();
    const events: RunEvent[] = [];
    const warnings: string[] = [];
    const summary = await run(plan, {
      planDir: dir,
      backend: fake,
      config: { jobs: 2 },
      signal: abort.signal,
      onEvent: (e) => events.push(e),
      onWarning: (m) => {
        warnings.push(m);
        abort.abort();
      },
    });
    return { dir, fake, events, summary, warnings };
  }

  test.each(["before run()", "while the lock is taken over"] as const)(
    "aborted %s: nothing starts, the run is interrupted, the lock released",
    async (when) => {
      const { dir, fake, events, summary, warnings } = await interruptedAt(when);
      if (when !== "before run()") expect(warnings.length).toBeGreaterThan(0);
      expect(fake.received).toEqual([]);
      expect(events.filter((e) => e.type === "job-start")).toEqual([]);
      expect([summary.status, summary.done, summary.cancelled, summary.notRun]).toEqual(["interrupted", 0, 0, 4]);
      expect(existsSync(join(dir, ".wfc", "lock"))).toBe(false);
    },
  );
});
