import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";

const chain = {
  wfc: 1,
  name: "chain",
  limits: { io: 2 },
  stages: {
    a: { foreach: { i: { range: [0, 4] } }, outputs: "a/{i}.txt", run: "echo {i} > {outputs}" },
    b: { foreach: { i: { range: [0, 4] } }, inputs: "a/{i}.txt", outputs: "b/{i}.txt", run: "cat {inputs} > {outputs}" },
    all: { inputs: "b/*.txt", outputs: "all.txt", limit: "io", run: "cat {inputs} > {outputs}" },
  },
};

describe("wfc compile", () => {
  test("-o writes plan.json and says what it holds", async () => {
    const dir = fixture({ "wf.yaml": chain });
    const r = await wfc(["compile", "wf.yaml", "-o", "out/plan.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe("");
    const plan = JSON.parse(readFileSync(join(dir, "out/plan.json"), "utf8"));
    expect(r.stdout).toBe(`out/plan.json: 2 tasks, 5 jobs (${readFileSync(join(dir, "out/plan.json")).length} bytes)`);
    expect(plan).toMatchObject({ plan: 6, name: "chain", workdir: "..", source: { file: "../wf.yaml", format: "yaml" } });
    expect(plan.tasks.map((t: { id: string }) => t.id)).toEqual(["a+b", "all"]);
  });

  test("without -o the plan goes to stdout and --explain to stderr", async () => {
    const dir = fixture({ "wf.toml": chain });
    const r = await wfc(["compile", "wf.toml", "--explain", "--jobs", "3"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ jobs: 3, workdir: "." });
    expect(r.stderr).toContain("Fusion:\n  - `a` → `b` fused into `a+b`: one job per element runs both\n");
    expect(r.stderr).toContain("  - `a+b` → `all` not fused: the dependency is all-to-one (a barrier), not one-to-one\n");
    expect(r.stderr).toContain("Concurrency groups:\n  - group `limit:io`: at most 2 slots at once, held by `all`\n");
    expect(r.stderr).toContain("  - `all` → `processes` (processes): built-in default for commands\n");
    expect(r.stderr.endsWith("SLURM export shape:\n  (no stage runs on a SLURM executor)")).toBe(true);
  });

  test("an invalid workflow exits 2 with diagnostics and leaves an existing plan untouched", async () => {
    const broken = { ...chain, stages: { ...chain.stages, all: { ...chain.stages.all, limit: "iox" } } };
    const dir = fixture({ "wf.yaml": broken, "plan.json": "previous plan\n" });
    const r = await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("wf.yaml:26:12: error WFC202: unknown limit `iox`");
    expect(r.stderr).toContain("= help: did you mean `io`?");
    expect(readFileSync(join(dir, "plan.json"), "utf8")).toBe("previous plan\n");
  });

  test("the same workflow compiles to byte-identical plans", async () => {
    const dir = fixture({ "wf.yaml": chain });
    await wfc(["compile", "wf.yaml", "-o", "one.json"], { cwd: dir });
    writeFileSync(join(dir, "touched"), "");
    await wfc(["compile", "wf.yaml", "-o", "two.json"], { cwd: dir });
    expect(readFileSync(join(dir, "one.json"), "utf8")).toBe(readFileSync(join(dir, "two.json"), "utf8"));
    expect(existsSync(join(dir, "one.json"))).toBe(true);
  });

  test("--jobs must be a whole number of at least 1", async () => {
    const dir = fixture({ "wf.yaml": chain });
    const r = await wfc(["compile", "wf.yaml", "--jobs", "0"], { cwd: dir });
    expect(r).toMatchObject({ exitCode: 2, stdout: "" });
    expect(r.stderr).toContain("argument '0' is invalid. expected a whole number of at least 1.");
  });

  test("a config file maps a labelled stage to a SLURM executor, and --explain shows the export shape", async () => {
    const labelled = { ...chain, stages: { ...chain.stages, all: { ...chain.stages.all, labels: ["big"] } } };
    const dir = fixture({
      "wf.yaml": labelled,
      "site.toml": '[executors.cluster]\ntype = "slurm"\npartition = "short"\n\n[map.labels]\nbig = "cluster"\n',
    });
    const r = await wfc(["compile", "wf.yaml", "--config", "site.toml", "--explain", "-o", "plan.json"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("  - `all` → `cluster` (slurm): label `big` mapped in site.toml\n");
    expect(r.stdout).toContain(
      [
        "SLURM export shape:",
        "  - `all` on `cluster`: 1 array of 1 (1 job), --licenses=io:1, afterok on `a+b`",
        "  - the cluster's slurm.conf must have Licenses=io:2",
        "  - 1 sbatch call in all",
      ].join("\n"),
    );
    expect(r.stdout.trimEnd().endsWith("  - 1 sbatch call in all")).toBe(true);
  });

  test("a broken config file stops compilation with a located error", async () => {
    const dir = fixture({ "wf.yaml": chain, "wfc.config.toml": '[executors.x]\ntype = "slurmm"\n' });
    const r = await wfc(["compile", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("./wfc.config.toml:2:8: error WFC104");
  });
});
