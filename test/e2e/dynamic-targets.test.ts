/**
 * Partial runs of a workflow whose jobs decide a stage's elements (issue 14):
 * targets, `--until` and `--forcerun` on the reads-split sample, where each
 * sample's split decides its chunks (A: 3, B: 1, C: 2). A target selects
 * per producer element (`map[sample=A]`), or one chunk (`map[sample=C,chunk=2]`,
 * or its path); a chunk the split did not decide fails the run with what it
 * decided. Real jobs through the built CLI, on a copy of the sample.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { copySample, fixture, jobsRan, jsonEvents, wfc } from "./helpers.js";

/** The files under `dir/sub`, sorted; empty when it does not exist. */
function files(dir: string, sub: string): string[] {
  const at = join(dir, sub);
  if (!existsSync(at)) return [];
  return readdirSync(at, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(at.length + 1))
    .sort();
}

/** Runs `wfc run workflow.yaml ARGS --json`: what ran (task#job, known ones) and the run's end. */
async function runJson(dir: string, ...args: string[]) {
  const r = await wfc(["run", "workflow.yaml", ...args, "--json"], { cwd: dir });
  const end = jsonEvents(r.stdout).find((e) => e.type === "run-end")!;
  const ran = jsonEvents(r.stdout)
    .filter((e) => e.type === "job-end" && e.status === "done")
    .map((e) => e.task as string);
  return { ...r, ran: ran.sort(), summary: (end as unknown as { summary: Record<string, unknown> }).summary };
}

describe("targets on a dynamic stage", () => {
  test("the stage: every chunk of every sample and their splits, nothing downstream", async () => {
    const dir = copySample("reads-split");
    const r = await runJson(dir, "map");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.ran).toEqual(["map", "map", "map", "map", "map", "map", "split", "split", "split"]);
    expect(files(dir, "work/mapped")).toEqual(["A/1.tsv", "A/2.tsv", "A/3.tsv", "B/1.tsv", "C/1.tsv", "C/2.tsv"]);
    expect(existsSync(join(dir, "results"))).toBe(false);
    expect(r.summary).toMatchObject({ status: "ok", done: 9, notRun: 0 });
  });

  test("stage[sample=A]: that sample's split and every chunk it makes; the other samples' splits never run", async () => {
    const dir = copySample("reads-split");
    const r = await runJson(dir, "map[sample=A]");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.ran).toEqual(["map", "map", "map", "split"]);
    expect(files(dir, "work/chunks")).toEqual(["A/1.fq", "A/2.fq", "A/3.fq"]);
    expect(files(dir, "work/mapped")).toEqual(["A/1.tsv", "A/2.tsv", "A/3.tsv"]);
    // The expand event counts only the jobs that run: 3 of A's.
    const expands = jsonEvents(r.stdout).filter((e) => e.type === "expand");
    expect(expands.map((e) => [e.element, e.jobs, e.more])).toEqual([["sample=A", 3, false]]);
  });

  test("stage[sample=C,chunk=2] and its output's path: that one chunk, after its sample's split", async () => {
    const dir = copySample("reads-split");
    const r = await runJson(dir, "map[sample=C,chunk=2]");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.ran).toEqual(["map", "split"]);
    expect(files(dir, "work/mapped")).toEqual(["C/2.tsv"]);
    expect(files(dir, "work/chunks")).toEqual(["C/1.fq", "C/2.fq"]);

    const path = await runJson(dir, "work/mapped/C/1.tsv");
    expect(path.exitCode, path.stderr).toBe(0);
    // C's split is up to date: it expands from its record, and only chunk 1 runs.
    expect(path.ran).toEqual(["map"]);
    expect(files(dir, "work/mapped")).toEqual(["C/1.tsv", "C/2.tsv"]);
  });

  test("a chunk the split did not decide: the run fails (exit 1) and says what the split decided", async () => {
    const dir = copySample("reads-split");
    const r = await wfc(["run", "workflow.yaml", "map[sample=C,chunk=3]"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("error: target `map[sample=C,chunk=3]` was not made: `split[sample=C]` decided chunk 1, 2, not 3");
    expect(r.stderr).toMatch(/^failed: 1 done/m);
    // A path no chunk of the sample has, as a target: the same.
    const path = await runJson(dir, "work/mapped/B/2.tsv");
    expect(path.exitCode).toBe(1);
    expect(path.summary).toMatchObject({
      status: "failed",
      reason: "target `work/mapped/B/2.tsv` was not made: `split[sample=B]` decided chunk 1, not 2",
    });
    expect(files(dir, "work/mapped")).toEqual([]);
  });

  test("stage[chunk=3] selects that chunk of every sample that has one; a chunk no sample has fails the run", async () => {
    const dir = copySample("reads-split");
    const r = await runJson(dir, "map[chunk=3]");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.ran).toEqual(["map", "split", "split", "split"]);
    expect(files(dir, "work/mapped")).toEqual(["A/3.tsv"]);
    const none = await wfc(["run", "workflow.yaml", "map[chunk=9]"], { cwd: dir });
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain("error: target `map[chunk=9]` was not made: none of the 3 elements of `split` it names decided chunk=9");
  });

  test("a file of the split's own pattern output: that sample's split, and the run fails if it did not write it", async () => {
    const dir = copySample("reads-split");
    const r = await runJson(dir, "work/chunks/A/3.fq");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.ran).toEqual(["split"]);
    const none = await wfc(["run", "workflow.yaml", "work/chunks/B/2.fq"], { cwd: dir });
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain("error: target `work/chunks/B/2.fq` was not made: `split[sample=B]` decided chunk 1, not 2");
    // Up to date now: it is checked against what the journal says the split decided.
    const again = await wfc(["run", "workflow.yaml", "work/chunks/B/2.fq"], { cwd: dir });
    expect([again.exitCode, again.stderr]).toEqual([1, expect.stringContaining("decided chunk 1, not 2")]);
  });

  test("a stage downstream: merge[sample=B] and its output run B's split, chunks and merge only", async () => {
    const dir = copySample("reads-split");
    const r = await runJson(dir, "merge[sample=B]");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.ran).toEqual(["map", "merge", "split"]);
    expect(files(dir, "work/chunks")).toEqual(["B/1.fq"]);
    expect(files(dir, "results")).toEqual(["mapped/B.tsv"]);

    const path = await runJson(dir, "results/mapped/C.tsv");
    expect(path.exitCode, path.stderr).toBe(0);
    expect(path.ran).toEqual(["map", "map", "merge", "split"]);
    expect(files(dir, "results")).toEqual(["mapped/B.tsv", "mapped/C.tsv"]);
    expect(files(dir, "work/chunks")).toEqual(["B/1.fq", "C/1.fq", "C/2.fq"]);
  });

  test("--until map: every split and chunk, no merge nor summary", async () => {
    const dir = copySample("reads-split");
    const r = await runJson(dir, "--until", "map");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.ran.filter((t) => t === "map")).toHaveLength(6);
    expect(r.ran.filter((t) => t !== "map")).toEqual(["split", "split", "split"]);
    expect(existsSync(join(dir, "results"))).toBe(false);
  });
});

describe("--forcerun on a workflow with a dynamic stage", () => {
  test("--forcerun map re-runs every chunk and what is downstream, not the splits; --forcerun split re-runs all", async () => {
    const dir = copySample("reads-split");
    expect((await wfc(["run", "workflow.yaml"], { cwd: dir })).exitCode).toBe(0);
    const map = await runJson(dir, "--forcerun", "map");
    expect(map.exitCode, map.stderr).toBe(0);
    expect(jobsRan(map.stdout).filter((j) => j.startsWith("split"))).toEqual([]);
    expect(map.ran).toEqual([...Array<string>(6).fill("map"), "merge", "merge", "merge", "summarize"]);
    expect(map.summary).toMatchObject({ status: "ok", done: 10, skipped: 3 });

    const split = await runJson(dir, "--forcerun", "split");
    expect(split.summary).toMatchObject({ status: "ok", done: 13, skipped: 0 });
    // Within a target: only B's.
    const b = await runJson(dir, "--forcerun", "split", "merge[sample=B]");
    expect(b.ran).toEqual(["map", "merge", "split"]);
  });
});

describe("--dry-run of a partial run on a dynamic stage", () => {
  test("says how many of the selected jobs are known, and which wait for a producer", async () => {
    const dir = copySample("reads-split");
    const before = await runJson(dir, "merge[sample=A]", "--dry-run");
    expect(before.exitCode, before.stderr).toBe(0);
    // Only sample A's block: known once split[sample=A] has run.
    expect(before.summary).toMatchObject({ wouldRun: 1, notRun: 1, unknown: [{ task: "map", from: "split", known: 0, blocks: 1 }] });
    const plain = await wfc(["run", "workflow.yaml", "merge[sample=A]", "--dry-run"], { cwd: dir });
    expect(plain.stderr).toContain("map: 0 jobs known; more are known only once `split` has run (it decides them)");

    expect((await wfc(["run", "workflow.yaml", "split[sample=A]"], { cwd: dir })).exitCode).toBe(0);
    const after = await runJson(dir, "merge[sample=A]", "--dry-run");
    // split[sample=A] is up to date: its 3 chunks are known, and would run with the merge.
    expect(after.summary).toMatchObject({ status: "ok", wouldRun: 4, skipped: 1, notRun: 0 });
    expect(after.summary.unknown).toBeUndefined();
  });
});

/** split → map → filter (fused: both per chunk) → merge, in a temp folder: a has 3 chunks, b 2. */
const fused = `wfc: 1
params:
  samples: [a, b]
stages:
  split:
    foreach: { sample: "{params.samples}" }
    inputs: "in/{sample}.txt"
    outputs: "chunks/{sample}/{chunk}.txt"
    decides: [chunk]
    run: 'mkdir -p chunks/{sample}; for i in $(seq 1 $(cat {inputs})); do echo $i > chunks/{sample}/$i.txt; done'
  map:
    foreach: { sample: "{params.samples}", chunk: { from: split } }
    inputs: "chunks/{sample}/{chunk}.txt"
    outputs: "mapped/{sample}/{chunk}.txt"
    run: "cat {inputs} {inputs} > {outputs}"
  filter:
    foreach: { sample: "{params.samples}", chunk: { from: split } }
    inputs: "mapped/{sample}/{chunk}.txt"
    outputs: "filtered/{sample}/{chunk}.txt"
    run: "head -1 {inputs} > {outputs}"
  merge:
    foreach: { sample: "{params.samples}" }
    inputs: "filtered/{sample}/*.txt"
    outputs: "merged/{sample}.txt"
    run: "cat {inputs} > {outputs}"
`;

describe("a fused pair of dynamic stages (map+filter, one job per chunk)", () => {
  test("the first stage runs only that step; filter[…,chunk=2] one element; --forcerun filter only that step", async () => {
    const dir = fixture({ "wf.yaml": fused, "in/a.txt": "3\n", "in/b.txt": "2\n" });
    const run = async (...args: string[]) => {
      const r = await wfc(["run", "wf.yaml", ...args, "--json"], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      return jobsRan(r.stdout);
    };
    expect(await run("map")).toHaveLength(2 + 5);
    expect(files(dir, "mapped")).toEqual(["a/1.txt", "a/2.txt", "a/3.txt", "b/1.txt", "b/2.txt"]);
    expect(files(dir, "filtered")).toEqual([]);

    expect(await run("filter[sample=b,chunk=2]")).toEqual(["map+filter#1"]);
    expect(files(dir, "filtered")).toEqual(["b/2.txt"]);

    // merge[sample=a] needs a's filter steps; --forcerun filter forces those steps, not map's.
    const mapped = statSync(join(dir, "mapped/a/1.txt")).mtimeMs;
    const r = await wfc(["run", "wf.yaml", "merge[sample=a]", "--forcerun", "filter", "--json"], { cwd: dir });
    const ends = jsonEvents(r.stdout).filter((e) => e.type === "job-end" && e.status === "done");
    expect(ends.map((e) => e.task)).toEqual(["map+filter", "map+filter", "map+filter", "merge"]);
    // map's outputs were not written again.
    expect(statSync(join(dir, "mapped/a/1.txt")).mtimeMs).toBe(mapped);
    expect(files(dir, "filtered")).toEqual(["a/1.txt", "a/2.txt", "a/3.txt", "b/2.txt"]);
    expect(files(dir, "merged")).toEqual(["a.txt"]);
  });
});
