/**
 * The reads-split sample end to end (issue 14): each sample's split decides
 * how many chunks it has (3, 1 and 2 here), map runs once per chunk of each
 * sample, merge gathers exactly each sample's chunks, and a re-run is all up
 * to date; a sample with more reads now re-runs only that sample's jobs and
 * the summary. Real jobs through the built CLI, on a copy of the sample.
 */
import { appendFileSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { copySample, jobsRan, jsonEvents, wfc } from "./helpers.js";

/** The chunk files each sample's split wrote, sorted. */
const chunks = (dir: string, sample: string) => readdirSync(join(dir, "work/chunks", sample)).sort();

/** What results/mapped/SAMPLE.tsv must hold: the lines map.mjs wrote for its chunks, in chunk order. */
const mappedLines = (dir: string, sample: string) =>
  chunks(dir, sample)
    .map((f) => readFileSync(join(dir, "work/mapped", sample, f.replace(/\.fq$/, ".tsv")), "utf8"))
    .join("");

const SUMMARY = "sample\treads\tmapped\nA\t10\t9\nB\t3\t3\nC\t7\t5\n";

describe("samples/reads-split: per-sample chunk counts the data decides", () => {
  test("3, 1 and 2 chunks: one map job per chunk, merges take exactly their sample's chunks, a re-run is up to date", async () => {
    const dir = copySample("reads-split");
    const r = await wfc(["run", "workflow.yaml", "--json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("warning");

    expect(chunks(dir, "A")).toEqual(["1.fq", "2.fq", "3.fq"]);
    expect(chunks(dir, "B")).toEqual(["1.fq"]);
    expect(chunks(dir, "C")).toEqual(["1.fq", "2.fq"]);
    // Every read of a sample is in exactly one chunk, in order.
    for (const s of ["A", "B", "C"]) {
      const whole = readFileSync(join(dir, "data", `${s}.fq`), "utf8");
      expect(
        chunks(dir, s)
          .map((f) => readFileSync(join(dir, "work/chunks", s, f), "utf8"))
          .join(""),
        s,
      ).toBe(whole);
    }
    const ran = jobsRan(r.stdout);
    expect(ran.filter((j) => j.startsWith("split#"))).toHaveLength(3);
    expect(ran.filter((j) => j.startsWith("map#"))).toHaveLength(3 + 1 + 2);
    expect(ran.filter((j) => j.startsWith("merge#"))).toHaveLength(3);
    expect(ran.filter((j) => j.startsWith("summarize#"))).toHaveLength(1);
    // Each split expanded into its own number of map jobs.
    const expands = jsonEvents(r.stdout).filter((e) => e.type === "expand") as unknown as { element: string; jobs: number }[];
    expect(expands.map((e) => [e.element, e.jobs]).sort()).toEqual([
      ["sample=A", 3],
      ["sample=B", 1],
      ["sample=C", 2],
    ]);

    for (const s of ["A", "B", "C"]) expect(readFileSync(join(dir, "results/mapped", `${s}.tsv`), "utf8"), s).toBe(mappedLines(dir, s));
    expect(readFileSync(join(dir, "results/mapped/C.tsv"), "utf8")).toBe(
      "C.1\tchr1\t76\nC.2\t*\t0\nC.3\tchr1\t77\nC.4\tchr1\t51\nC.5\tchr1\t207\nC.6\t*\t0\nC.7\tchr1\t58\n",
    );
    expect(readFileSync(join(dir, "results/summary.tsv"), "utf8")).toBe(SUMMARY);

    const again = await wfc(["run", "workflow.yaml"], { cwd: dir });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^ok: 0 done, 13 up to date, 0 failed, 0 not run in /m);
  });

  test("workflow.toml is the same workflow: byte-identical results", async () => {
    const [yaml, toml] = [copySample("reads-split"), copySample("reads-split")];
    expect((await wfc(["run", "workflow.yaml", "--jobs", "1"], { cwd: yaml })).exitCode).toBe(0);
    const r = await wfc(["run", "workflow.toml"], { cwd: toml });
    expect(r.exitCode, r.stderr).toBe(0);
    for (const file of ["results/summary.tsv", "results/mapped/A.tsv", "results/mapped/B.tsv", "results/mapped/C.tsv"])
      expect(readFileSync(join(toml, file)), file).toEqual(readFileSync(join(yaml, file)));
  });

  test("sample B grows past one chunk: only B's split, its map jobs, its merge and the summary run again", async () => {
    const dir = copySample("reads-split");
    expect((await wfc(["run", "workflow.yaml"], { cwd: dir })).exitCode).toBe(0);
    const read = (id: string, seq: string) => `@${id}\n${seq}\n+\n${"I".repeat(seq.length)}\n`;
    appendFileSync(join(dir, "data/B.fq"), read("B.4", "ACGGGATGTTTAGCGGGGCCGCAA") + read("B.5", "TTTTTTTTTTTTTTTTTTTTTTTT"));

    const r = await wfc(["run", "workflow.yaml", "--json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(chunks(dir, "B")).toEqual(["1.fq", "2.fq"]);
    const ran = jobsRan(r.stdout);
    // split[B], both of B's map jobs, merge[B], summarize: nothing of A or C.
    expect(ran).toHaveLength(1 + 2 + 1 + 1);
    expect(readFileSync(join(dir, "results/mapped/B.tsv"), "utf8")).toBe(mappedLines(dir, "B"));
    expect(readFileSync(join(dir, "results/mapped/B.tsv"), "utf8")).toContain("B.4\tchr1\t1\nB.5\t*\t0\n");
    expect(readFileSync(join(dir, "results/summary.tsv"), "utf8")).toBe(SUMMARY.replace("B\t3\t3", "B\t5\t4"));
  });
});
