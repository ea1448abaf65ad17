/**
 * Data-dependent fan-out through the built CLI, up to plan.json (issue 14):
 * `wfc compile` writes the dynamic space and says under `--explain` what
 * expands after what; `wfc graph` labels it; a broken rule is a located
 * error with its code, exit 2 and no plan written; `--format json` gives
 * editors the same. (Running a dynamic plan is the runtime's, tested there.)
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { Plan } from "../../contract/plan.js";
import { fixture, wfc } from "./helpers.js";

const workflow = `wfc: 1
params:
  samples: [A, B]
stages:
  split:
    foreach: { sample: "{params.samples}" }
    inputs: "reads/{sample}.fq"
    outputs: "work/chunks/{sample}/{chunk}.fa"
    decides: [chunk]
    run: ./split.sh {inputs} work/chunks/{sample}
  map:
    foreach:
      sample: "{params.samples}"
      chunk: { from: split }
    inputs: "work/chunks/{sample}/{chunk}.fa"
    outputs: "work/mapped/{sample}/{chunk}.bam"
    run: map {inputs} > {outputs}
  merge:
    foreach: { sample: "{params.samples}" }
    inputs: "work/mapped/{sample}/*.bam"
    outputs: "work/merged/{sample}.bam"
    run: cat {inputs} > {outputs}
`;

describe("wfc compile", () => {
  test("writes a plan whose map task expands from split, and --explain says so", async () => {
    const dir = fixture({ "wf.yaml": workflow, "reads/A.fq": "", "reads/B.fq": "" });
    const r = await wfc(["compile", "wf.yaml", "-o", "plan.json", "--explain"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^plan\.json: 3 tasks, 4 jobs known \(more at run time\) \(\d+ bytes\)\n/);
    expect(r.stdout).toContain(
      [
        "Expanded at run time:",
        "  - `map` expands at run time: `chunk` is read from the files matching `work/chunks/{sample}/{chunk}.fa`, per element of `split` (by `sample`); 2 blocks known now, jobs known after `split` runs",
        "Fusion:",
      ].join("\n"),
    );
    expect(r.stdout).toContain("`split` → `map` not fused: the dependency is an expansion at run time, not one-to-one");
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as Plan;
    const map = plan.tasks.find((t) => t.id === "map")!;
    expect(map.space.dynamic).toEqual({
      vars: ["chunk"],
      from: { kind: "files", task: "split", step: "split", output: 0 },
      per: ["sample"],
    });
    expect([map.batch, map.jobs]).toEqual([1, null]);
    expect(map.deps.map((d) => d.edge.kind)).toEqual(["expand"]);
  });

  test("wfc validate counts the jobs known now and says more come at run time", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, "wf.yaml: valid, 3 stages, 4 jobs known (more at run time)", ""]);
  });

  test("a workflow without a run-time fan-out has no such section in --explain", async () => {
    const dir = fixture({ "wf.yaml": "wfc: 1\nstages:\n  a:\n    outputs: a.txt\n    run: touch {outputs}\n" });
    const r = await wfc(["compile", "wf.yaml", "-o", "plan.json", "--explain"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("Fusion:");
    expect(r.stdout).not.toContain("Expanded at run time");
  });

  test("a broken rule: exit 2, the located error, and no plan.json", async () => {
    const dir = fixture({ "wf.yaml": workflow.replace("chunk: { from: split }", "chunk: { from: splt }") });
    const r = await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        "wf.yaml:14:22: error WFC274: `chunk` of stage `map` is `from` `splt`, which is no stage",
        " 14 |       chunk: { from: splt }",
        "    |                      ^^^^ expected a stage that decides `chunk`: `split`",
        "    = help: did you mean `split`?",
        "",
        "1 error in wf.yaml",
      ].join("\n"),
    );
    expect(existsSync(join(dir, "plan.json"))).toBe(false);
  });

  test("`{outputs}` of a pattern output in the command: located at the placeholder, the folder suggested", async () => {
    const dir = fixture({ "wf.yaml": workflow.replace("work/chunks/{sample}\n", "{outputs}\n") });
    const r = await wfc(["validate", "wf.yaml", "--format", "json"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    const out = JSON.parse(r.stdout) as {
      files: { diagnostics: { code: string; message: string; help: string | null; range: unknown }[] }[];
    };
    const diagnostics = out.files[0]!.diagnostics;
    expect(diagnostics.map((d) => d.range)).toEqual([
      { start: { line: 10, column: 30, offset: 223 }, end: { line: 10, column: 39, offset: 232 } },
    ]);
    expect(diagnostics.map((d) => [d.code, d.message, d.help])).toEqual([
      [
        "WFC273",
        "`{outputs}` in the command of stage `split` stands for `work/chunks/{sample}/{chunk}.fa`, a pattern the job's files match, not a path",
        "write the folder the job writes into in the command instead: `work/chunks/{sample}`",
      ],
    ]);
  });
});

describe("wfc graph", () => {
  test("labels the dynamic task with its blocks and what it expands after, and the edge as an expansion", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    expect((await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir })).exitCode).toBe(0);
    const r = await wfc(["graph", "plan.json", "--format", "mermaid"], { cwd: dir });
    expect([r.exitCode, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toContain('title: "wf · 3 tasks, 4 jobs known (more at run time)"');
    expect(r.stdout).toContain('t_map["map<br/>2 blocks, chunk expanded after split<br/>executor processes<br/>priority 2 s"]');
    expect(r.stdout).toContain('t_split -->|"expands at run time"| t_map');
    expect(r.stdout).toContain('t_map -.->|"by sample"| t_merge');
  });
});

describe("targets on a compiled dynamic workflow", () => {
  test("run part of it (WFC266, the runtime's rule before partial runs knew dynamic spaces, is retired)", async () => {
    const dir = fixture({ "wf.yaml": workflow, "reads/A.fq": "", "reads/B.fq": "" });
    const r = await wfc(["run", "wf.yaml", "merge[sample=B]", "--dry-run"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("would run split#1: it has not run");
    expect(r.stdout).not.toContain("split#0");
    expect(r.stderr).toContain("map: 0 jobs known; more are known only once `split` has run (it decides them)");
    expect(existsSync(join(dir, "work"))).toBe(false);
  });
});
