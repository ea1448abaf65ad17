/**
 * A plan with a dynamic space through the built CLI (issue 14): progress
 * lines and `--json` events as jobs become known, the dry run's summary, and
 * partial runs. The plan is built by hand to the
 * contract (test/runtime/dynamic-plans.ts); the language is covered where
 * the compiler is tested.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { pipeline } from "../runtime/dynamic-plans.js";
import { fixture, jobsRan, jsonEvents, wfc } from "./helpers.js";

function workflowDir(counts: Record<string, number>): string {
  const dir = fixture(Object.fromEntries(Object.entries(counts).map(([s, n]) => [`in/${s}.txt`, `${n}\n`])));
  writeFileSync(
    join(dir, "plan.json"),
    JSON.stringify({ ...pipeline(Object.keys(counts)), source: { file: "plan.json", format: "json", sha256: "0".repeat(64) } }),
  );
  return dir;
}

describe("wfc run on a plan whose jobs decide elements", () => {
  test("progress counts jobs as they become known; --json has an expand event per producer element", async () => {
    const dir = workflowDir({ a: 2, b: 1 });
    const plain = await wfc(["run", "plan.json", "--jobs", "2"], { cwd: dir });
    expect(plain.exitCode).toBe(0);
    const lines = plain.stdout.trim().split("\n");
    // 2 splits and 2 merges are known at the start; the 3 maps come as the splits end (before each split's line).
    const totals = lines.map((l) => Number(/^\[\d+\/(\d+)\]/.exec(l)![1]));
    expect(totals[0]).toBeGreaterThan(4);
    expect(totals).toEqual([...totals].sort((x, y) => x - y));
    expect(lines.at(-1)).toMatch(/^\[7\/7\] done/);
    expect(plain.stderr).toMatch(/ok: 7 done, 0 up to date, 0 failed, 0 not run/);

    const again = await wfc(["run", "plan.json", "--json"], { cwd: dir });
    const expands = jsonEvents(again.stdout).filter((e) => e.type === "expand");
    expect(expands.map((e) => [e.task, e.from, e.element, e.jobs]).sort()).toEqual([
      ["map", "split", "s=a", 2],
      ["map", "split", "s=b", 1],
    ]);
    expect(expands.at(-1)!.more).toBe(false);
  });

  test("a dry run names the stage whose jobs wait for a producer", async () => {
    const dir = workflowDir({ a: 2 });
    const dry = await wfc(["run", "plan.json", "--dry-run"], { cwd: dir });
    expect(dry.exitCode).toBe(0);
    expect(dry.stderr).toContain("map: 0 jobs known; more are known only once `split` has run (it decides them)");
    expect(dry.stderr).toMatch(/would run 1, 0 up to date, 1 not run/);
  });

  test("targets, --until and --forcerun run part of it (WFC266, which refused them, is retired)", async () => {
    const dir = workflowDir({ a: 2, b: 1 });
    const merge = await wfc(["run", "plan.json", "merge[s=b]", "--json"], { cwd: dir });
    expect(merge.exitCode, merge.stderr).toBe(0);
    expect(jobsRan(merge.stdout)).toEqual(["map#0", "merge#1", "split#1"]);
    const until = await wfc(["run", "plan.json", "--until", "map"], { cwd: dir });
    expect(until.exitCode, until.stderr).toBe(0);
    expect(until.stderr).toMatch(/ok: 3 done, 2 up to date/);
    const forced = await wfc(["run", "plan.json", "--forcerun", "split"], { cwd: dir });
    expect(forced.stderr).toMatch(/ok: 7 done, 0 up to date/);
  });
});
