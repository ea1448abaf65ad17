import { describe, expect, test } from "vitest";
import type { ElementEdge, PlanTask } from "../../contract/plan.js";
import { Scheduler, type JobRef } from "../../runtime/scheduler/scheduler.js";
import { plan, shStep, task } from "./plans.js";

/**
 * Dynamic index spaces in the scheduler (issue 14): a producer element's
 * end adds its consumers' elements, which are ready at once; consumers of
 * the dynamic task wait for the blocks that have not expanded yet.
 */
const dep = (from: string, edge: ElementEdge) => ({ task: from, edge, input: null });
const names = (s: Scheduler, jobs: JobRef[]) => jobs.map((j) => `${s.tasks[j.task]!.id}#${j.job}`);
const samples = (values: string[]) => ({ vars: [{ name: "s", values }], zip: [], size: values.length });

function dynamic(id: string, values: string[], extra: Partial<PlanTask> = {}): PlanTask {
  return task(id, values.length, {
    space: { ...samples(values), dynamic: { vars: ["c"], from: { kind: "files", task: "split", step: "split", output: 0 }, per: ["s"] } },
    jobs: null,
    steps: [shStep(id)],
    deps: [dep("split", { kind: "expand" })],
    ...extra,
  });
}

function pipeline(values = ["a", "b"], cores = 8) {
  const split = task("split", values.length, { space: samples(values), steps: [{ ...shStep("split"), decides: ["c"] }] });
  const map = dynamic("map", values);
  const merge = task("merge", values.length, {
    space: samples(values),
    deps: [dep("map", { kind: "match", on: [["s", "s"]], where: {}, when: {} })],
  });
  const all = task("all", 1, { space: { vars: [], zip: [], size: 1 }, deps: [dep("map", { kind: "all" })] });
  return new Scheduler(plan([split, map, merge, all]), { cores });
}

describe("dynamic spaces in the scheduler", () => {
  test("a producer element's values become jobs at once, before the rest of the producer ends", () => {
    const s = pipeline();
    const [a, b] = s.take();
    expect(s.jobsOf(1)).toBe(0);
    const added = s.expand(a!.task, a!.job, () => [["1"], ["2"]]);
    expect(added).toEqual([{ task: 1, block: 0, first: 0, end: 2 }]);
    s.finish(a!, "done");
    expect(names(s, s.take())).toEqual(["map#0", "map#1"]);
    expect(s.elements.of(1).identity(1)).toBe("s=a,c=2");
    expect(s.elements.of(1).value(0, "c")).toBe("1");
    void b;
  });

  test("a gather per sample waits for its block to expand and its elements, not for other samples", () => {
    const s = pipeline();
    const [a, b] = s.take();
    s.expand(a!.task, a!.job, () => [["1"], ["2"]]);
    s.finish(a!, "done");
    const [m0, m1] = s.take();
    s.finish(m0!, "done");
    expect(names(s, s.take())).toEqual([]);
    s.finish(m1!, "done");
    // merge[a] is ready; merge[b] waits for split[b]; `all` waits for every block.
    expect(names(s, s.take())).toEqual(["merge#0"]);
    s.expand(b!.task, b!.job, () => []);
    s.finish(b!, "done");
    // Sample b decided nothing: its gather goes on at once, and so does the barrier.
    expect(names(s, s.take()).sort()).toEqual(["all#0", "merge#1"]);
  });

  test("a failed producer element never expands: its block's consumers never become ready", () => {
    const s = pipeline(["a"]);
    const [a] = s.take();
    s.finish(a!, "failed");
    expect(s.take()).toEqual([]);
    expect(s.idle).toBe(true);
    expect(s.stateCounts(2)).toMatchObject({ waiting: 1 });
  });

  test("blocks whose values no producer element has expand empty at the start", () => {
    const split = task("split", 1, { space: samples(["a"]), steps: [{ ...shStep("split"), decides: ["c"] }] });
    const map = dynamic("map", ["a", "zzz"]);
    const merge = task("merge", 2, {
      space: samples(["a", "zzz"]),
      deps: [dep("map", { kind: "match", on: [["s", "s"]], where: {}, when: {} })],
    });
    const s = new Scheduler(plan([split, map, merge]), { cores: 8 });
    expect(names(s, s.take()).sort()).toEqual(["merge#1", "split#0"]);
  });

  test("a chained dynamic task of the same space waits one to one, and the numbers agree", () => {
    const split = task("split", 2, { space: samples(["a", "b"]), steps: [{ ...shStep("split"), decides: ["c"] }] });
    const map = dynamic("map", ["a", "b"]);
    const filter = dynamic("filter", ["a", "b"], { deps: [dep("split", { kind: "expand" }), dep("map", { kind: "one-to-one" })] });
    const s = new Scheduler(plan([split, map, filter]), { cores: 8 });
    const [a, b] = s.take();
    s.expand(b!.task, b!.job, () => [["x"], ["y"], ["z"]]);
    s.finish(b!, "done");
    s.expand(a!.task, a!.job, () => [["1"]]);
    s.finish(a!, "done");
    const maps = s.take();
    expect(names(s, maps)).toEqual(["map#0", "map#1", "map#2", "map#3"]);
    expect([0, 1, 2, 3].map((i) => s.elements.of(2).identity(i))).toEqual([0, 1, 2, 3].map((i) => s.elements.of(1).identity(i)));
    s.finish(maps[3]!, "done");
    expect(names(s, s.take())).toEqual(["filter#3"]);
  });

  test("thousands of blocks grow the job tables without losing a job", () => {
    const values = Array.from({ length: 3000 }, (_, i) => `s${i}`);
    const s = pipeline(values, 100_000);
    const producers = s.take();
    expect(producers).toHaveLength(3000);
    let expected = 0;
    for (const p of producers) {
      const n = p.job % 4;
      expected += n;
      s.expand(p.task, p.job, () => Array.from({ length: n }, (_, k) => [String(k)]));
      s.finish(p, "done");
    }
    const taken = s.take();
    const maps = taken.filter((j) => j.task === 1);
    expect(maps).toHaveLength(expected);
    // Samples that decided nothing have their gather ready already.
    expect(taken.length - maps.length).toBe(750);
    for (const m of maps) s.finish(m, "done");
    const rest = s.take();
    expect(rest).toHaveLength(3000 - 750 + 1);
    expect(s.stateCounts(1)).toMatchObject({ done: expected, waiting: 0 });
  });
});
