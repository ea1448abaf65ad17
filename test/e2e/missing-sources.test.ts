/**
 * An input no stage makes must exist before any job runs: a sample without
 * its file stops the run at once (exit 2, nothing run, nothing written),
 * and a dry run says the same, instead of failing mid-run after the other
 * samples' work. Inputs a stage makes are not looked for. Real runs of the
 * built CLI.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "./helpers.js";

const workflow = `wfc: 1
params:
  samples: [A, B, C, D]
stages:
  map:
    foreach: { sample: "{params.samples}" }
    inputs: ["genome.fa", "data/{sample}.fq"]
    outputs: "mapped/{sample}.txt"
    run: "cat {inputs} > {outputs}"
  merge:
    inputs: "mapped/*.txt"
    outputs: "all.txt"
    run: "cat {inputs} > {outputs}"
`;

describe("input files no stage makes", () => {
  test("two samples without their file: exit 2 naming each with its stage and element, before anything runs", async () => {
    const dir = fixture({ "wf.yaml": workflow, "genome.fa": "ref\n", "data/A.fq": "a\n", "data/B.fq": "b\n" });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      'wfc: error: 2 input files are missing and no stage makes them: "data/C.fq" (needed by stage `map`, sample="C"), ' +
        '"data/D.fq" (needed by stage `map`, sample="D"); add the files or fix the paths in the workflow (nothing was run)',
    );
    // Not even the samples that have their files ran.
    expect(existsSync(join(dir, "mapped"))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(["data", "genome.fa", "wf.yaml"]);
  });

  test("a dry run stops the same way", async () => {
    const dir = fixture({ "wf.yaml": workflow, "data/A.fq": "a\n", "data/B.fq": "b\n", "data/C.fq": "c\n", "data/D.fq": "d\n" });
    const r = await wfc(["run", "wf.yaml", "--dry-run"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      'wfc: error: 1 input file is missing and no stage makes it: "genome.fa" (needed by stage `map`, sample="A" and 3 more elements)',
    );
  });

  test("with every file there, the run goes on; outputs a stage makes are not looked for beforehand", async () => {
    const dir = fixture({
      "wf.yaml": workflow,
      "genome.fa": "ref\n",
      "data/A.fq": "a\n",
      "data/B.fq": "b\n",
      "data/C.fq": "c\n",
      "data/D.fq": "d\n",
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(join(dir, "all.txt"))).toBe(true);
  });
});
