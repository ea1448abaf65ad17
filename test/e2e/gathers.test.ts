/**
 * A gather fed by a producer stage takes exactly the producer's elements of
 * this run, end to end with the built CLI and real jobs: files an earlier
 * run with more elements left on disk match the glob but are not merged,
 * and the run says so (one warning per gathering input, in the run, in
 * `--dry-run`, in `--json` and in `wfc export slurm`), leaving them in place.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { fixture, repoRoot, wfc } from "./helpers.js";

const schema = JSON.parse(readFileSync(join(repoRoot, "schema/events.schema.json"), "utf8")) as object;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      expect(validate(event), `${line}\n${JSON.stringify(validate.errors)}`).toBe(true);
      return event;
    });
}

function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("wfc: warning:"));
}

/** A workflow whose `make` runs for `samples` and whose `merge` gathers `glob`. */
function workflow(samples: readonly string[], make: { outputs: string; foreach?: Record<string, unknown> }, glob: string): string {
  return JSON.stringify({
    wfc: 1,
    stages: {
      make: { foreach: { sample: samples, ...make.foreach }, outputs: make.outputs, run: "echo {sample} > {outputs}" },
      merge: { inputs: { parts: glob }, outputs: "merged.txt", run: "cat {inputs} > {outputs}" },
    },
  });
}

describe("a gather after a run with more samples", () => {
  test("`out/*.txt`: a, b, c then a, b merges a and b only, warns once about out/c.txt and leaves it", async () => {
    const dir = fixture({ "wf.json": workflow(["a", "b", "c"], { outputs: "out/{sample}.txt" }, "out/*.txt") });
    const first = await wfc(["run", "wf.json"], { cwd: dir });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(warnings(first.stderr)).toEqual([]);
    expect(readFileSync(join(dir, "merged.txt"), "utf8")).toBe("a\nb\nc\n");

    writeFileSync(join(dir, "wf.json"), workflow(["a", "b"], { outputs: "out/{sample}.txt" }, "out/*.txt"));
    const warning =
      'wfc: warning: stage `merge`: input `parts` ("out/*.txt") did not gather 1 file on disk that matches it: "out/c.txt"; ' +
      "no element of stage `make` writes it in this run (made by an earlier run with other elements of stage `make`?). " +
      "Left in place; remove it if no longer wanted";
    const dry = await wfc(["run", "wf.json", "--dry-run"], { cwd: dir });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(warnings(dry.stderr)).toEqual([warning]);

    const json = await wfc(["run", "wf.json", "--dry-run", "--json"], { cwd: dir });
    const stale = events(json.stdout).filter((e) => e.type === "stale-inputs");
    expect(stale).toEqual([
      {
        type: "stale-inputs",
        time: expect.any(Number) as number,
        task: "merge",
        stage: "merge",
        input: "parts",
        glob: "out/*.txt",
        paths: ["out/c.txt"],
        count: 1,
        message: warning.replace("wfc: warning: ", ""),
      },
    ]);

    const second = await wfc(["run", "wf.json"], { cwd: dir });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(warnings(second.stderr)).toEqual([warning]);
    expect(readFileSync(join(dir, "merged.txt"), "utf8")).toBe("a\nb\n");
    expect(readFileSync(join(dir, "out/c.txt"), "utf8")).toBe("c\n");

    // Exported, the merge element's table holds exactly a and b; the export warns alike.
    const exported = await wfc(["export", "slurm", "wf.json", "-o", "export"], { cwd: dir });
    expect(exported.exitCode, exported.stderr).toBe(0);
    expect(warnings(exported.stderr)).toEqual([warning]);
    const table = readFileSync(join(dir, "export/tables/merge.0.tbl"), "utf8").trim();
    const script = Buffer.from(table, "base64").toString("utf8");
    expect(script).toContain("cat out/a.txt out/b.txt > merged.txt");
    expect(script).not.toContain("out/c.txt");
  });

  test("`out/{sample}/*.bam` per sample: one warning names every stale file of the input, with a count", async () => {
    const per = (parts: string[]) =>
      JSON.stringify({
        wfc: 1,
        stages: {
          make: {
            foreach: { sample: ["a", "b"], part: parts },
            outputs: "out/{sample}/{part}.bam",
            run: "echo {sample}{part} > {outputs}",
          },
          merge: {
            foreach: { sample: ["a", "b"] },
            inputs: "out/{sample}/*.bam",
            outputs: "merged/{sample}.txt",
            run: "cat {inputs} > {outputs}",
          },
        },
      });
    const dir = fixture({ "wf.json": per(["1", "2", "3", "4", "5", "6", "7"]) });
    expect((await wfc(["run", "wf.json"], { cwd: dir })).exitCode).toBe(0);
    writeFileSync(join(dir, "wf.json"), per(["1", "2"]));
    const r = await wfc(["run", "wf.json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "merged/a.txt"), "utf8")).toBe("a1\na2\n");
    expect(readFileSync(join(dir, "merged/b.txt"), "utf8")).toBe("b1\nb2\n");
    expect(warnings(r.stderr)).toEqual([
      'wfc: warning: stage `merge`: input 1 ("out/{sample}/*.bam") did not gather 10 files on disk that match it: ' +
        '"out/a/3.bam", "out/a/4.bam", "out/a/5.bam", "out/a/6.bam", "out/a/7.bam" and 5 more; ' +
        "no element of stage `make` writes them in this run (made by an earlier run with other elements of stage `make`?). " +
        "Left in place; remove them if no longer wanted",
    ]);
    for (const s of ["a", "b"]) for (const p of [3, 7]) expect(existsSync(join(dir, `out/${s}/${p}.bam`))).toBe(true);
  });

  test("`out/**/*.txt` over nested outputs: the folders they are written in are no leftovers", async () => {
    const dir = fixture({ "wf.json": workflow(["a", "b", "c"], { outputs: "out/{sample}/x/{sample}.txt" }, "out/**/*.txt") });
    expect((await wfc(["run", "wf.json"], { cwd: dir })).exitCode).toBe(0);
    writeFileSync(join(dir, "wf.json"), workflow(["a", "b"], { outputs: "out/{sample}/x/{sample}.txt" }, "out/**/*.txt"));
    const r = await wfc(["run", "wf.json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "merged.txt"), "utf8")).toBe("a\nb\n");
    expect(warnings(r.stderr)).toHaveLength(1);
    expect(warnings(r.stderr)[0]).toContain('("out/**/*.txt") did not gather 1 file on disk that matches it: "out/c/x/c.txt"; ');
  });

  test("a gather from the disk (no producer) and a first run warn about nothing", async () => {
    const dir = fixture({
      "wf.json": JSON.stringify({
        wfc: 1,
        stages: { merge: { inputs: "data/*.txt", outputs: "merged.txt", run: "cat {inputs} > {outputs}" } },
      }),
      "data/a.txt": "a\n",
      "data/b.txt": "b\n",
    });
    const r = await wfc(["run", "wf.json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(warnings(r.stderr)).toEqual([]);
    expect(readFileSync(join(dir, "merged.txt"), "utf8")).toBe("a\nb\n");
  });
});
