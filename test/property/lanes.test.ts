/**
 * Lanes across the layers: the real Scheduler and the real BoundedRunner,
 * driven as the run loop drives them (take, hand on followers in their
 * lanes, put back what the runner skipped, retry outside the lane), over a
 * fake launcher whose processes end when the test says, with the exit
 * status a random failure pattern gives. Random plans, random orders of
 * ends, launchers that can or cannot `follow` (the pool's `K` requests, or
 * the runner's own sequencing), lanes on or off.
 *
 * fast-check prints the seed and the shrunk counterexample on failure; rerun
 * one with `fc.assert(..., { seed, path })`.
 */
import fc from "fast-check";
import { expect, test } from "vitest";
import { BoundedRunner } from "../../runtime/executors/bounded-runner.js";
import type { LaunchSpec } from "../../runtime/executors/job.js";
import type { LaunchHandle, LaunchHandlers, Launcher } from "../../runtime/executors/launcher.js";
import type { Plan } from "../../contract/plan.js";
import { Scheduler, type JobRef } from "../../runtime/scheduler/scheduler.js";
import { plan, shStep, task } from "../runtime/plans.js";

/** One process of the fake launcher. */
interface Proc {
  readonly id: string;
  readonly handlers: LaunchHandlers;
  state: "behind" | "starting" | "running" | "ended";
  /** For a followed launch: the process it waits for, and the one that waits for this one. */
  after: Proc | null;
  next: Proc | null;
  exitCode: number | null;
}

/**
 * Starts nothing real: a launch is "running" once its `started` came, and
 * ends when the test calls `end`. With `canFollow`, a followed launch waits
 * at the launcher, as a `K` request waits at a pool worker: it starts when
 * the process before it ended with 0, else it ends `notRun`.
 */
class FakeLauncher implements Launcher {
  readonly procs: Proc[] = [];
  readonly follow?: Launcher["follow"];
  readonly #handles = new WeakMap<LaunchHandle, Proc>();
  #pid = 100;

  constructor(
    canFollow: boolean,
    /** Called as a process starts (before the runner hears of it). */
    private readonly onStart: (id: string) => void,
  ) {
    if (canFollow) this.follow = (after, spec, handlers) => this.#follow(after, spec, handlers);
  }

  launch(spec: LaunchSpec, handlers: LaunchHandlers): LaunchHandle {
    const proc = this.#proc(spec, handlers, "starting");
    queueMicrotask(() => this.#start(proc));
    return this.#handle(proc);
  }

  #follow(after: LaunchHandle, spec: LaunchSpec, handlers: LaunchHandlers): LaunchHandle | null {
    const before = this.#handles.get(after);
    if (before === undefined || before.state === "ended" || before.next !== null) return null;
    const proc = this.#proc(spec, handlers, "behind");
    proc.after = before;
    before.next = proc;
    return this.#handle(proc);
  }

  /** The running process `proc` exits with `exitCode`. */
  end(proc: Proc, exitCode: number): void {
    if (proc.state !== "running") throw new Error(`test bug: ending ${proc.id} in state ${proc.state}`);
    proc.state = "ended";
    proc.exitCode = exitCode;
    proc.handlers.ended({ exitCode, signal: null, endedAt: Date.now(), error: null, step: 0 });
    const next = proc.next;
    if (next === null) return;
    next.after = null;
    if (exitCode === 0) {
      next.state = "starting";
      queueMicrotask(() => this.#start(next));
    } else {
      next.state = "ended";
      queueMicrotask(() => next.handlers.ended({ exitCode: null, signal: null, endedAt: Date.now(), error: null, step: 0, notRun: true }));
    }
  }

  running(): Proc[] {
    return this.procs.filter((p) => p.state === "running");
  }

  async close(): Promise<void> {}

  #proc(spec: LaunchSpec, handlers: LaunchHandlers, state: Proc["state"]): Proc {
    const proc: Proc = { id: spec.id, handlers, state, after: null, next: null, exitCode: null };
    this.procs.push(proc);
    return proc;
  }

  #start(proc: Proc): void {
    proc.state = "running";
    this.onStart(proc.id);
    proc.handlers.started(++this.#pid, Date.now());
  }

  #handle(proc: Proc): LaunchHandle {
    const handle: LaunchHandle = { abandon: () => {} };
    this.#handles.set(handle, proc);
    return handle;
  }
}

/** Random plans of command tasks (the followable kind): sizes, one-to-one and all-to-one edges, a limit, retries, priorities. */
const arbPlan = fc
  .record({
    tasks: fc.array(
      fc.record({
        size: fc.integer({ min: 1, max: 6 }),
        dep: fc.option(fc.tuple(fc.nat(), fc.boolean()), { nil: undefined }),
        limited: fc.boolean(),
        retries: fc.integer({ min: 0, max: 1 }),
        priority: fc.integer({ min: 0, max: 2 }),
        cpus: fc.integer({ min: 1, max: 2 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    max: fc.integer({ min: 1, max: 3 }),
    capacity: fc.integer({ min: 1, max: 2 }),
    cores: fc.integer({ min: 1, max: 4 }),
  })
  .map((r): { plan: Plan; cores: number; max: number } => {
    const tasks = r.tasks.map((t, k) => {
      const dep = t.dep !== undefined && k > 0 ? t.dep : undefined;
      const from = dep === undefined ? undefined : r.tasks[dep[0] % k]!;
      const oneToOne = dep !== undefined && dep[1] && from!.size === t.size;
      return task(`t${k}`, t.size, {
        steps: [shStep(`t${k}`)],
        deps: dep === undefined ? [] : [{ task: `t${dep[0] % k}`, edge: { kind: oneToOne ? "one-to-one" : "all" }, input: null }],
        groups: t.limited ? [{ group: "lim", weight: 1 }] : [],
        retries: t.retries,
        priority: t.priority,
        resources: { cpus: t.cpus, mem: null, time: null },
      });
    });
    const built = plan(tasks, {
      executors: { local: { type: "processes", max: r.max, runs: ["fn", "run"] } },
      groups: [{ id: "lim", capacity: r.capacity, kind: "limit" }],
    });
    return { plan: built, cores: r.cores, max: r.max };
  });

/** Over all runs: what the plans exercised, so a generator that never reaches a case fails the test. */
const seen = { followed: 0, putBack: 0, retried: 0 };

const flush = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

test("lanes across scheduler and runner: at most one start per attempt, followers only after a leader that succeeded, put-back jobs run later, limits hold, every job accounted for", async () => {
  await fc.assert(
    fc.asyncProperty(
      arbPlan,
      fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
      fc.boolean(),
      fc.boolean(),
      async ({ plan, cores, max }, picks, failures, slow, canFollow, lanes) => {
        const s = new Scheduler(plan, { cores, lanes });
        const key = (ref: { task: number; job: number }) => `${plan.tasks[ref.task]!.id}#${ref.job}`;
        /** Per submission to the runner (`t0#3@1/7`: job, attempt, serial): its job, its lane, whether it was handed on, how often it started. */
        const attempts = new Map<string, { ref: JobRef; lane: number | undefined; follows: boolean; starts: number }>();
        /** Per attempt (`t0#3@1`): how often it started, whatever the submission. */
        const startsOf = new Map<string, number>();
        /** Per lane, the submissions in it, in order. */
        const laneLog = new Map<number, string[]>();
        let serial = 0;
        /** What went wrong inside callbacks and job promises, asserted empty after every step (a throw there would escape fast-check). */
        const problems: string[] = [];
        const check = (ok: boolean, what: string) => void (ok || problems.push(what));
        const exitOf = new Map<string, number>();
        const putBack = new Set<string>();
        const startedJobs = new Set<string>();
        const finished = new Map<string, "done" | "failed">();
        let failureIndex = 0;
        /**
         * Submissions still being prepared (the run loop expands a job's
         * commands and checks whether it is up to date first): a slow one
         * reaches the runner only after the next process ended, maybe its leader.
         */
        const preparing: (() => void)[] = [];
        let slowIndex = 0;
        const prepare = () =>
          slow[slowIndex++ % slow.length] ? new Promise<void>((resolve) => preparing.push(resolve)) : Promise.resolve();
        const prepared = () => {
          for (const resolve of preparing.splice(0)) resolve();
        };

        const launcher = new FakeLauncher(canFollow, (id) => {
          const a = attempts.get(id)!;
          a.starts++;
          const attempt = id.split("/")[0]!;
          startsOf.set(attempt, (startsOf.get(attempt) ?? 0) + 1);
          check(startsOf.get(attempt) === 1, `${attempt} started twice`);
          startedJobs.add(key(a.ref));
          // Jobs of a lane never overlap: each starts after every one that came before it ended (or never started);
          // a follower (handed on) starts only if the one right before it in the lane succeeded.
          if (a.lane !== undefined) {
            const before = laneLog.get(a.lane)!;
            const earlier = before.slice(0, before.indexOf(id));
            for (const e of earlier) check(attempts.get(e)!.starts === 0 || exitOf.has(e), `${id} started before ${e} ended`);
            const prev = earlier.at(-1);
            if (prev !== undefined && a.follows) check(exitOf.get(prev) === 0, `follower ${id} started after ${prev} failed or never ran`);
          }
          // Limits: processes at once, per executor, per cores, per named limit.
          const live = launcher.procs.filter((p) => p.state === "running" || p.id === id).map((p) => attempts.get(p.id)!.ref);
          check(live.length <= max, `${live.length} processes at once, executor max ${max}`);
          const cpus = live.reduce((n, r) => n + plan.tasks[r.task]!.resources.cpus, 0);
          check(live.length <= 1 || cpus <= Math.max(1, cores), `${cpus} cpus in use on ${cores} cores`);
          const limited = live.filter((r) => plan.tasks[r.task]!.groups.length > 0).length;
          check(limited <= 1 || limited <= plan.groups[0]!.capacity, `${limited} holders of a limit of ${plan.groups[0]!.capacity}`);
        });
        const runner = new BoundedRunner(launcher, { size: max });

        const runJob = async (ref: JobRef, lane: number | undefined): Promise<void> => {
          const t = plan.tasks[ref.task]!;
          await prepare();
          for (let attempt = 0; attempt <= t.retries; attempt++) {
            const id = `${key(ref)}@${attempt}/${++serial}`;
            // A first attempt goes in the lane, and `follows`: whichever of a lane's jobs reaches the runner first
            // (the leader may take longer to prepare), the next waits behind it and never starts after a failure.
            // A retry runs outside the lane (it must neither wait behind nor be skipped with a follower), and
            // nothing is handed on behind it (`leaveLane`).
            const inLane = attempt === 0 ? lane : undefined;
            const handedOn = inLane !== undefined;
            attempts.set(id, { ref, lane: inLane, follows: handedOn, starts: 0 });
            if (inLane !== undefined) laneLog.set(inLane, [...(laneLog.get(inLane) ?? []), id]);
            const result = await runner.run({
              id,
              kind: "argv",
              argv: ["true"],
              cwd: "/",
              log: "/dev/null",
              ...(inLane ? { lane: inLane } : {}),
              ...(handedOn ? { follows: true } : {}),
            });
            if (result.notRun) {
              check(attempts.get(id)!.starts === 0, `${id} skipped, yet it started`);
              putBack.add(key(ref));
              s.putBack(ref);
              return;
            }
            exitOf.set(id, result.exitCode!);
            if (result.exitCode === 0) {
              finished.set(key(ref), "done");
              s.finish(ref, "done");
              return;
            }
            if (attempt < t.retries) s.leaveLane(ref);
          }
          finished.set(key(ref), "failed");
          s.finish(ref, "failed");
        };

        const running = new Set<Promise<void>>();
        const start = (ref: JobRef, lane: number | undefined) => {
          check(!finished.has(key(ref)), `${key(ref)} taken after it finished`);
          const p = runJob(ref, lane)
            .catch((error: unknown) => void problems.push(String(error)))
            .finally(() => running.delete(p));
          running.add(p);
        };
        for (let i = 0; ; i++) {
          for (const ref of s.take()) start(ref, s.lane(ref));
          for (const { job, lane } of s.handOn()) start(job, lane);
          await flush();
          expect(problems).toEqual([]);
          // Nothing running, and nothing could start: the run is over.
          if (running.size === 0) break;
          expect(i, "the run does not end").toBeLessThan(1000);
          const live = launcher.running();
          if (live.length === 0) expect(preparing.length, "jobs wait, yet no process runs").toBeGreaterThan(0);
          else {
            const proc = live[picks[i % picks.length]! % live.length]!;
            launcher.end(proc, failures[failureIndex++ % failures.length]! ? 1 : 0);
          }
          prepared();
          await flush();
          expect(problems).toEqual([]);
        }
        await runner.close();

        // Every job is accounted for: done, failed, or never taken (a dependency failed).
        expect(s.idle).toBe(true);
        const total = plan.tasks.reduce((n, t) => n + (t.jobs ?? 0), 0);
        const waiting = plan.tasks.reduce((n, _, t) => n + s.stateCounts(t).waiting, 0);
        expect(s.counts.done + s.counts.failed + waiting).toBe(total);
        for (let t = 0; t < plan.tasks.length; t++) expect([s.stateCounts(t).ready, s.stateCounts(t).running]).toEqual([0, 0]);
        expect(finished.size).toBe(s.counts.done + s.counts.failed);
        if (s.counts.failed === 0) expect(s.counts.done).toBe(total);
        // A job put back ran later, or is blocked behind a failure that came after.
        for (const k of putBack) if (finished.has(k)) expect(startedJobs.has(k), `${k} put back, finished without running`).toBe(true);
        if (s.counts.failed === 0) for (const k of putBack) expect(finished.get(k)).toBe("done");
        if (!lanes) expect(putBack.size).toBe(0);
        seen.followed += [...laneLog.values()].filter((l) => l.length > 1).length;
        seen.putBack += putBack.size;
        seen.retried += [...startsOf.keys()].filter((k) => !k.endsWith("@0")).length;
      },
    ),
    { numRuns: 300 },
  );
  expect(
    Object.values(seen).every((n) => n > 0),
    JSON.stringify(seen),
  ).toBe(true);
});
