/**
 * The right-sizing rules (runtime/suggest/rules.ts) on synthetic
 * measurements: p95, the roundings and minimums, fused tasks as one
 * request, batched commands' shared figures, failures not counted, and too
 * few measurements said rather than guessed.
 */
import { describe, expect, test } from "vitest";
import type { Plan } from "../../contract/plan.js";
import { cpusRule, memRule, p95, suggest, timeRule, type Measurement } from "../../runtime/suggest/rules.js";
import type { JobUsage } from "../../runtime/state/usage.js";

function m(stage: string, element: string, usage: Partial<JobUsage>, status: "done" | "failed" = "done"): Measurement {
  return { stage, element, status, end: 1, usage: { wallMs: 1000, via: "wait4", ...usage }, source: "j" };
}

/** The fields of a plan `suggest` reads: tasks, their stages and resources. */
function plan(tasks: { id: string; stages: string[]; resources: { cpus: number; mem: number | null; time: number | null } }[]): Plan {
  return { tasks } as unknown as Plan;
}

describe("the rules", () => {
  test("p95 is the nearest rank: of 1..20 it is 19, of 1..3 it is 3", () => {
    expect(p95(Array.from({ length: 20 }, (_, i) => 20 - i))).toBe(19);
    expect(p95([3, 1, 2])).toBe(3);
    expect(p95(Array.from({ length: 100 }, (_, i) => i + 1))).toBe(95);
  });

  test("mem: p95 peak RSS × 1.2, rounded up to 64 MiB steps, at least 128 MiB", () => {
    expect(memRule(1024)).toBe(128); // 1 MiB
    expect(memRule(100 * 1024)).toBe(128); // 120 MiB
    expect(memRule(110 * 1024)).toBe(192); // 132 MiB
    expect(memRule(160 * 1024)).toBe(192); // exactly 192 MiB
    expect(memRule(160 * 1024 + 1)).toBe(256);
    expect(memRule(1000 * 1024)).toBe(1216); // 1200 MiB → 19 × 64
  });

  test("time: p95 wall × 1.5, rounded up to the minute, at least a minute", () => {
    expect(timeRule(0.2)).toBe(60);
    expect(timeRule(40)).toBe(60);
    expect(timeRule(40.1)).toBe(120);
    expect(timeRule(3600)).toBe(5400);
  });

  test("cpus: the p95 ratio of CPU to wall rounded up, a clock tick over 1 still 1, at least 1", () => {
    expect(cpusRule(0)).toBe(1);
    expect(cpusRule(0.3)).toBe(1);
    expect(cpusRule(1.02)).toBe(1);
    expect(cpusRule(1.3)).toBe(2);
    expect(cpusRule(3.9)).toBe(4);
  });
});

describe("suggest", () => {
  test("per stage: p95 of each figure over its elements, with the figure it started from", () => {
    const ms = Array.from({ length: 20 }, (_, i) =>
      m("align", `s=${i}`, { wallMs: (i + 1) * 1000, userMs: (i + 1) * 1800, sysMs: (i + 1) * 200, maxRssKb: (i + 1) * 10 * 1024 }),
    );
    const [s, ...rest] = suggest(ms);
    expect(rest).toEqual([]);
    expect(s).toEqual({
      stages: ["align"],
      jobs: 20,
      failed: 0,
      mem: { value: 256, p95: 190 * 1024, measured: 20 }, // 190 MiB × 1.2 = 228 → 256
      time: { value: 60, p95: 19, measured: 20 }, // 28.5 s → 1 min
      cpus: { value: 2, p95: 2, measured: 20 }, // (1.8 + 0.2) / 1
    });
  });

  test("fewer than 3 measured jobs: too few, nothing suggested", () => {
    const [s] = suggest([m("a", "x=1", { maxRssKb: 1, userMs: 1 }), m("a", "x=2", { maxRssKb: 1, userMs: 1 })]);
    expect(s!.mem).toEqual({ kind: "too-few", measured: 2 });
    expect(s!.time).toEqual({ kind: "too-few", measured: 2 });
    expect(s!.cpus).toEqual({ kind: "too-few", measured: 2 });
  });

  test("failed jobs are counted apart and never sized from; a figure no job had is not measured", () => {
    const ms = [m("a", "x=1", {}), m("a", "x=2", {}), m("a", "x=3", {}), m("a", "x=4", { wallMs: 1, maxRssKb: 999_999_999 }, "failed")];
    const [s] = suggest(ms);
    expect(s!.jobs).toBe(3);
    expect(s!.failed).toBe(1);
    expect(s!.time).toEqual({ value: 60, p95: 1, measured: 3 });
    expect(s!.mem).toEqual({ kind: "not-measured" });
    expect(s!.cpus).toEqual({ kind: "not-measured" });
  });

  test("a fused task is one request: wall summed per element, RSS the largest, current from the plan", () => {
    const ms = ["1", "2", "3"].flatMap((e) => [
      m("a", `x=${e}`, { wallMs: 30_000, maxRssKb: 200 * 1024, userMs: 30_000 }),
      m("b", `x=${e}`, { wallMs: 30_000, maxRssKb: 300 * 1024, userMs: 30_000 }),
    ]);
    const p = plan([
      { id: "a", stages: ["a", "b"], resources: { cpus: 1, mem: 4096, time: null } },
      { id: "c", stages: ["c"], resources: { cpus: 1, mem: null, time: null } },
    ]);
    const [s, ...rest] = suggest(ms, p);
    expect(rest).toEqual([]);
    expect(s!.stages).toEqual(["a", "b"]);
    expect(s!.task).toBe("a");
    expect(s!.current).toEqual({ cpus: 1, mem: 4096, time: null });
    expect(s!.mem).toMatchObject({ value: 384 }); // 300 × 1.2 = 360 → 384
    expect(s!.time).toMatchObject({ value: 120, p95: 60 }); // 90 s → 2 min
    expect(s!.cpus).toMatchObject({ value: 1 });
  });

  test("a command shared by a batch's elements: its wall and CPU split between them, its RSS as it is", () => {
    const ms = ["1", "2", "3"].map((e) => m("a", `x=${e}`, { wallMs: 300_000, userMs: 300_000, maxRssKb: 1024 * 1024, shared: 5 }));
    const [s] = suggest(ms);
    expect(s!.time).toMatchObject({ value: 120, p95: 60 });
    expect(s!.cpus).toMatchObject({ value: 1, p95: 1 });
    expect(s!.mem).toMatchObject({ value: 1280 }); // 1024 × 1.2 = 1228.8 → 1280
  });
});
