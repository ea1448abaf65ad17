import fc from "fast-check";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { compileFile } from "../../compiler/compile.js";
import type { ElementEdge, PlanTask } from "../../contract/plan.js";
import { FN_CALLS_PER_WORKER, Scheduler, type JobRef } from "../../runtime/scheduler/scheduler.js";
import { repoRoot } from "../e2e/helpers.js";
import { fnStep, plan, shStep, task } from "./plans.js";

const dep = (from: string, edge: ElementEdge) => ({ task: from, edge, input: null });
const names = (s: Scheduler, jobs: JobRef[]) => jobs.map((j) => `${s.tasks[j.task]!.id}#${j.job}`);

describe("the scheduler", () => {
  test("element i of B starts as soon as element i of A is done, before the rest of A", () => {
    const s = new Scheduler(plan([task("a", 3), task("b", 3, { deps: [dep("a", { kind: "one-to-one" })] })]), { cores: 8 });
    const first = s.take();
    expect(names(s, first)).toEqual(["a#0", "a#1", "a#2"]);
    s.finish(first[1]!, "done");
    expect(names(s, s.take())).toEqual(["b#1"]);
  });

  test("an all-to-one edge is a barrier", () => {
    const s = new Scheduler(plan([task("a", 2), task("b", 1, { deps: [dep("a", { kind: "all" })] })]), { cores: 8 });
    const [a0, a1] = s.take();
    s.finish(a0!, "done");
    expect(s.take()).toEqual([]);
    s.finish(a1!, "done");
    expect(names(s, s.take())).toEqual(["b#0"]);
  });

  test("a match edge waits only for the producer elements with the same key", () => {
    const a = task("a", 4, { space: { vars: [{ name: "s", values: ["x", "x", "y", "y"] }], zip: [], size: 4 } });
    const b = task("b", 2, {
      space: { vars: [{ name: "s", values: ["x", "y"] }], zip: [], size: 2 },
      deps: [dep("a", { kind: "match", on: [["s", "s"]], where: {}, when: {} })],
    });
    const s = new Scheduler(plan([a, b]), { cores: 8 });
    const jobs = s.take();
    s.finish(jobs[2]!, "done");
    s.finish(jobs[3]!, "done");
    expect(names(s, s.take())).toEqual(["b#1"]);
  });

  test("a batch starts when all of its elements are ready", () => {
    const s = new Scheduler(plan([task("a", 4), task("b", 4, { batch: 2, deps: [dep("a", { kind: "one-to-one" })] })]), { cores: 8 });
    const a = s.take();
    s.finish(a[0]!, "done");
    expect(s.take()).toEqual([]);
    s.finish(a[1]!, "done");
    expect(s.take()).toEqual([{ task: 1, job: 0, first: 0, end: 2 }]);
  });

  test("a failure blocks its dependents but not the rest; stop() starts nothing more", () => {
    const s = new Scheduler(plan([task("a", 2), task("b", 2, { deps: [dep("a", { kind: "one-to-one" })] })]), { cores: 8 });
    const [a0, a1] = s.take();
    s.finish(a0!, "failed");
    s.finish(a1!, "done");
    const b = s.take();
    expect(names(s, b)).toEqual(["b#1"]);
    s.stop();
    s.finish(b[0]!, "done");
    expect(s.idle).toBe(true);
    expect(s.stateCounts(1)).toMatchObject({ waiting: 1, done: 1 });
  });

  test("the critical path starts first", () => {
    const s = new Scheduler(plan([task("short", 1, { priority: 1 }), task("long", 1, { priority: 5 })], { jobs: 1 }), { cores: 8 });
    expect(names(s, s.take())).toEqual(["long#0"]);
  });

  test("Ruffus sample: 3 ftp jobs across both stage1 stages, 5 stage2 jobs, 10 in all", async () => {
    const compiled = await compileFile(join(repoRoot, "samples/ruffus-jobs-limit/workflow.yaml"));
    const p = {
      ...compiled.plan!,
      executors: { processes: { type: "processes" as const, max: null, runs: ["fn", "run"] as ("fn" | "run")[] } },
    };
    const s = new Scheduler(p, { cores: 64 });
    let peakFtp = 0;
    let peakStage2 = 0;
    const running: JobRef[] = [];
    for (;;) {
      running.push(...s.take());
      if (running.length === 0) break;
      const ids = running.map((j) => s.tasks[j.task]!.id);
      peakFtp = Math.max(peakFtp, ids.filter((id) => id.startsWith("stage1")).length);
      peakStage2 = Math.max(peakStage2, ids.filter((id) => id === "stage2").length);
      expect(running.length).toBeLessThanOrEqual(10);
      // Finish stage2 jobs last, so they pile up against their cap.
      const next = running.findIndex((j) => s.tasks[j.task]!.id !== "stage2");
      s.finish(running.splice(next === -1 ? 0 : next, 1)[0]!, "done");
    }
    expect([peakFtp, peakStage2]).toEqual([3, 5]);
    expect(s.counts).toEqual({ done: 30, failed: 0, skipped: 0 });
  });
});

describe("the scheduler, simulated on random plans", () => {
  const arbPlan = fc
    .record({
      groups: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
      jobs: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
      cores: fc.integer({ min: 1, max: 4 }),
      max: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
      tasks: fc.array(
        fc.record({
          fn: fc.boolean(),
          size: fc.integer({ min: 0, max: 5 }),
          batch: fc.integer({ min: 1, max: 3 }),
          cpus: fc.integer({ min: 1, max: 3 }),
          groups: fc.array(fc.record({ g: fc.nat(), weight: fc.integer({ min: 1, max: 3 }) }), { maxLength: 2 }),
          deps: fc.array(fc.record({ from: fc.nat(), kind: fc.constantFrom("one-to-one", "all", "map"), seed: fc.nat() }), {
            maxLength: 2,
          }),
          priority: fc.nat({ max: 5 }),
        }),
        { minLength: 1, maxLength: 6 },
      ),
    })
    .map((r) => {
      const tasks: PlanTask[] = [];
      r.tasks.forEach((t, k) => {
        const deps = t.deps
          .filter(() => k > 0)
          .map((d) => {
            const from = d.from % k;
            const producer = tasks[from]!;
            let edge: ElementEdge = { kind: "all" };
            if (d.kind === "one-to-one" && producer.space.size === t.size) edge = { kind: "one-to-one" };
            if (d.kind === "map") {
              const offsets = [0];
              const indices: number[] = [];
              for (let j = 0; j < t.size; j++) {
                for (let x = 0; x < producer.space.size; x++) if ((d.seed >> ((j + x) % 16)) & 1) indices.push(x);
                offsets.push(indices.length);
              }
              edge = { kind: "map", offsets, indices };
            }
            return dep(producer.id, edge);
          });
        const groups =
          r.groups.length === 0
            ? []
            : t.groups.map((g) => ({ group: `g${g.g % r.groups.length}`, weight: Math.min(g.weight, r.groups[g.g % r.groups.length]!) }));
        const unique = [...new Map(groups.map((g) => [g.group, g])).values()];
        tasks.push(
          task(`t${k}`, t.size, {
            batch: t.batch,
            deps,
            groups: unique,
            priority: t.priority,
            resources: { cpus: t.cpus, mem: null, time: null },
            steps: [
              {
                stage: `t${k}`,
                action: t.fn ? { kind: "fn", module: "m.mjs", export: "f" } : { kind: "shell", command: ["true"], shell: "sh" },
                inputs: [],
                outputs: [],
                env: {},
              },
            ],
          }),
        );
      });
      return {
        plan: plan(tasks, {
          jobs: r.jobs,
          groups: r.groups.map((c, i) => ({ id: `g${i}`, capacity: c, kind: "limit" as const })),
          executors: { local: { type: "processes", max: r.max, runs: ["fn", "run"] } },
        }),
        cores: r.cores,
      };
    });

  // A run loop as run.ts drives it: jobs start when taken; with `follows`,
  // running jobs are handed a follower, which waits behind its leader (it
  // starts when the leader ends, or is put back when the leader failed, as
  // the worker skips it), or ends at once (up to date) while the leader runs.
  test("no limit is ever exceeded, every dependency is respected, and everything runs (with followers, too)", () => {
    fc.assert(
      fc.property(
        arbPlan,
        fc.array(fc.nat(), { minLength: 50, maxLength: 50 }),
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
        fc.boolean(),
        ({ plan: p, cores }, picks, failures, follows) => {
          const s = new Scheduler(p, { cores });
          const doneElements = p.tasks.map((t) => new Uint8Array(t.space.size));
          const failedElements = p.tasks.map((t) => new Uint8Array(t.space.size));
          const running: JobRef[] = [];
          /** Followers waiting behind a running job (not running themselves yet). */
          const behind = new Map<JobRef, JobRef>();
          let step = 0;
          const elementReady = (t: number, e: number) =>
            p.tasks[t]!.deps.every((d) => {
              const pi = p.tasks.findIndex((x) => x.id === d.task);
              const done = doneElements[pi]!;
              if (d.edge.kind === "one-to-one") return done[e] === 1;
              if (d.edge.kind === "all") return done.every((x) => x === 1);
              if (d.edge.kind === "map") return d.edge.indices.slice(d.edge.offsets[e], d.edge.offsets[e + 1]).every((k) => done[k] === 1);
              return true;
            });
          const checkReady = (j: JobRef) => {
            for (let e = j.first; e < j.end; e++)
              expect(elementReady(j.task, e), `${p.tasks[j.task]!.id}[${e}] started too early`).toBe(true);
          };
          const end = (job: JobRef, outcome: "done" | "failed" | "skipped") => {
            s.finish(job, outcome);
            for (let e = job.first; e < job.end; e++) (outcome === "failed" ? failedElements : doneElements)[job.task]![e] = 1;
          };
          for (;;) {
            for (const j of s.take()) {
              checkReady(j);
              running.push(j);
            }
            for (const j of follows ? running : []) {
              if (behind.has(j)) continue;
              const f = s.follow(j);
              if (f === undefined) continue;
              expect(f.task).toBe(j.task);
              expect(p.tasks[j.task]!.steps.every((x) => x.action.kind !== "fn")).toBe(true);
              checkReady(f);
              behind.set(j, f);
            }
            // Invariants on what runs now. A queued `fn` call weighs 1/FN_CALLS_PER_WORKER
            // of a worker, a core and a `--jobs` slot; a command weighs a whole one.
            const whole = FN_CALLS_PER_WORKER;
            const weight = (j: JobRef) => (p.tasks[j.task]!.steps[0]!.action.kind === "fn" ? 1 : whole);
            const units = running.reduce((n, j) => n + weight(j), 0);
            const cpus = running.reduce((n, j) => n + p.tasks[j.task]!.resources.cpus * weight(j), 0);
            if (running.length > 1) expect(cpus).toBeLessThanOrEqual(Math.max(cores, p.jobs ?? 0) * whole);
            if (p.jobs !== null && running.length > 1) expect(units).toBeLessThanOrEqual(p.jobs * whole);
            const workers = p.executors.local!.max ?? p.jobs ?? Math.max(1, cores - 1);
            if (running.length > 1) expect(units).toBeLessThanOrEqual(workers * whole);
            for (const g of p.groups) {
              const used = running.reduce((n, j) => n + (p.tasks[j.task]!.groups.find((x) => x.group === g.id)?.weight ?? 0), 0);
              const holders = running.filter((j) => p.tasks[j.task]!.groups.some((x) => x.group === g.id)).length;
              if (holders > 1) expect(used).toBeLessThanOrEqual(g.capacity);
            }
            if (running.length === 0) break;
            const pick = picks[step % picks.length]!;
            const fail = failures[step % failures.length]! && step % 7 === 0;
            step++;
            // Now and then a follower is up to date: it ends while its leader runs.
            const waiting = [...behind];
            if (pick % 5 === 0 && waiting.length > 0) {
              const [leader, f] = waiting[pick % waiting.length]!;
              behind.delete(leader);
              end(f, "skipped");
              continue;
            }
            const job = running.splice(pick % running.length, 1)[0]!;
            end(job, fail ? "failed" : "done");
            const f = behind.get(job);
            behind.delete(job);
            if (f === undefined) continue;
            if (fail) s.putBack(f);
            else running.push(f);
          }
          expect(s.idle).toBe(true);
          // Liveness: without failures, every job ran.
          if (s.counts.failed === 0) expect(s.counts.done + s.counts.skipped).toBe(p.tasks.reduce((n, t) => n + (t.jobs ?? 0), 0));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("fn calls in batches", () => {
  test("a local pool of 2 workers is handed 2 × FN_CALLS_PER_WORKER fn calls at once, and 2 commands", () => {
    const executors = { local: { type: "processes" as const, max: 2, runs: ["fn", "run"] as ("fn" | "run")[] } };
    const fns = new Scheduler(plan([task("f", 1000, { steps: [fnStep("f")] })], { executors }), { cores: 8 });
    expect(fns.take()).toHaveLength(2 * FN_CALLS_PER_WORKER);
    const cmds = new Scheduler(plan([task("c", 1000, { steps: [shStep("c")] })], { executors }), { cores: 8 });
    expect(cmds.take()).toHaveLength(2);
  });

  test("a named limit still counts every fn call whole", () => {
    const p = plan([task("f", 100, { steps: [fnStep("f")], groups: [{ group: "db", weight: 1 }] })], {
      groups: [{ id: "db", capacity: 3, kind: "limit" }],
    });
    expect(new Scheduler(p, { cores: 8 }).take()).toHaveLength(3);
  });

  test("commands and fn calls share an executor: queued calls take their share of a worker", () => {
    const executors = { local: { type: "processes" as const, max: 1, runs: ["fn", "run"] as ("fn" | "run")[] } };
    const p = plan([task("c", 5, { steps: [shStep("c")], priority: 1 }), task("f", 100, { steps: [fnStep("f")] })], { executors });
    const s = new Scheduler(p, { cores: 8 });
    // The command takes the one worker whole; no call fits beside it.
    expect(s.take().map((j) => s.tasks[j.task]!.id)).toEqual(["c"]);
  });
});

describe("followers: the next job of a task handed on in its leader's slot", () => {
  const one = { local: { type: "processes" as const, max: 1, runs: ["fn", "run"] as ("fn" | "run")[] } };

  test("a follower takes over what its leader holds: nothing more starts, and the slot stays busy until both ended", () => {
    const s = new Scheduler(plan([task("c", 3, { steps: [shStep("c")] })], { executors: one }), { cores: 8 });
    const [a] = s.take();
    const b = s.follow(a!)!;
    expect(names(s, [a!, b])).toEqual(["c#0", "c#1"]);
    expect(s.follow(a!)).toBeUndefined(); // one follower at a time
    expect(s.follow(b)).toBeUndefined(); // nor behind one whose leader still runs
    s.finish(a!, "done");
    expect(s.take()).toEqual([]); // b holds the worker now
    expect(names(s, [s.follow(b)!])).toEqual(["c#2"]);
    s.finish(b, "done");
    expect(s.running).toBe(1);
  });

  test("a follower put back (its leader failed) is ready again and takes nothing with it", () => {
    const s = new Scheduler(plan([task("c", 2, { steps: [shStep("c")] })], { executors: one }), { cores: 8 });
    const [a] = s.take();
    const b = s.follow(a!)!;
    s.finish(a!, "failed");
    s.putBack(b);
    expect(names(s, s.take())).toEqual(["c#1"]);
    expect(s.counts).toEqual({ done: 0, failed: 1, skipped: 0 });
  });

  test("following never jumps the queue: a ready job of a higher-priority task goes first", () => {
    const executors = { ...one, other: { type: "processes" as const, max: 1, runs: ["fn", "run"] as ("fn" | "run")[] } };
    const p = plan(
      [
        task("pre", 1, { steps: [shStep("pre")], executor: "other", priority: 9 }),
        task("high", 1, { steps: [shStep("high")], priority: 5, deps: [dep("pre", { kind: "all" })] }),
        task("low", 3, { steps: [shStep("low")] }),
      ],
      { executors },
    );
    const s = new Scheduler(p, { cores: 8 });
    const [pre, low] = s.take();
    expect(names(s, [pre!, low!])).toEqual(["pre#0", "low#0"]);
    expect(names(s, [s.follow(low!)!])).toEqual(["low#1"]); // nothing better is waiting yet
    s.finish(pre!, "done"); // high is ready now, and waits for the worker
    s.finish(low!, "done");
    const next = s.take();
    expect(next).toEqual([]); // low#1 holds the worker
    const held = { task: 2, job: 1, first: 1, end: 2 };
    expect(s.follow(held)).toBeUndefined();
    s.finish(held, "done");
    expect(names(s, s.take())).toEqual(["high#0"]);
  });

  test("a higher-priority task waiting for a limit another lane holds does not stop a lower one from following", () => {
    const two = { local: { type: "processes" as const, max: 2, runs: ["fn", "run"] as ("fn" | "run")[] } };
    const p = plan(
      [
        task("limited", 3, { steps: [shStep("limited")], priority: 9, groups: [{ group: "one", weight: 1 }] }),
        task("free", 3, { steps: [shStep("free")], priority: 1 }),
      ],
      { executors: two, groups: [{ id: "one", capacity: 1, kind: "limit" }] },
    );
    const s = new Scheduler(p, { cores: 8 });
    const [limited, free] = s.take();
    expect(names(s, [limited!, free!])).toEqual(["limited#0", "free#0"]);
    // limited#1 is ready and ranks higher, but free#0's slot is no use to it: the limit is limited#0's.
    expect(names(s, [s.follow(free!)!])).toEqual(["free#1"]);
    expect(names(s, [s.follow(limited!)!])).toEqual(["limited#1"]);
  });

  test("a lane is the slot its jobs share: a follower is in its leader's lane, which outlives the leader, and a new slot gets a new lane", () => {
    const s = new Scheduler(plan([task("c", 3, { steps: [shStep("c")] })], { executors: one }), { cores: 8 });
    const [a] = s.take();
    const lane = s.lane(a!)!;
    const [{ job: b, after, lane: shared }] = s.handOn() as [{ job: JobRef; after: JobRef; lane: number }];
    expect([names(s, [after, b]), shared, s.lane(b)]).toEqual([["c#0", "c#1"], lane, lane]);
    expect(s.handOn()).toEqual([]); // b waits behind a: nothing more is handed on
    s.finish(a!, "done");
    expect(s.lane(a!)).toBeUndefined();
    expect(
      names(
        s,
        s.handOn().map((h) => h.job),
      ),
    ).toEqual(["c#2"]); // b holds the slot now, and is followed in turn
    s.finish(b, "failed");
    s.putBack({ task: 0, job: 2, first: 2, end: 3 });
    const [again] = s.take();
    expect(names(s, [again!])).toEqual(["c#2"]);
    expect(s.lane(again!)).toBeGreaterThan(lane); // lane ids are never reused
  });

  test("a job that left its lane (a retry runs outside it) is followed no more, and keeps its slot", () => {
    const s = new Scheduler(plan([task("c", 3, { steps: [shStep("c")] })], { executors: one }), { cores: 8 });
    const [a] = s.take();
    s.leaveLane(a!);
    expect(s.follow(a!)).toBeUndefined();
    expect(s.handOn()).toEqual([]);
    expect(s.take()).toEqual([]);
    s.finish(a!, "done");
    expect(names(s, s.take())).toEqual(["c#1"]);
  });

  test("lanes off (WFC_LANES=0, or the option): nothing is followable, every job takes and frees its own slot", () => {
    const p = plan([task("c", 3, { steps: [shStep("c")] })], { executors: one });
    const saved = process.env.WFC_LANES;
    process.env.WFC_LANES = "0";
    try {
      const s = new Scheduler(p, { cores: 8 });
      const [a] = s.take();
      expect([s.followable(0), s.follow(a!), s.lane(a!), s.handOn()]).toEqual([false, undefined, undefined, []]);
    } finally {
      if (saved === undefined) delete process.env.WFC_LANES;
      else process.env.WFC_LANES = saved;
    }
    const off = new Scheduler(p, { cores: 8, lanes: false });
    expect(off.followable(0)).toBe(false);
    expect(off.follow(off.take()[0]!)).toBeUndefined();
    expect(new Scheduler(p, { cores: 8, lanes: true }).followable(0)).toBe(true);
  });

  test("fn calls (batched instead) and SLURM jobs (arrays instead) are never followed", () => {
    const fnStep = { stage: "f", action: { kind: "fn" as const, module: "m.mjs", export: "f" }, inputs: [], outputs: [], env: {} };
    const fns = new Scheduler(plan([task("f", 100, { steps: [fnStep] })], { executors: one }), { cores: 8 });
    expect(fns.follow(fns.take()[0]!)).toBeUndefined();
    const slurm = { cluster: { type: "slurm" as const, max: 1, runs: ["fn", "run"] as ("fn" | "run")[] } };
    const s = new Scheduler(plan([task("c", 3, { steps: [shStep("c")], executor: "cluster" })], { executors: slurm }), { cores: 8 });
    expect(s.follow(s.take()[0]!)).toBeUndefined();
  });
});
