/**
 * Software environments per stage (`container`, `modules`, `conda`), up to
 * the plan, with the built CLI: the combination rules as located errors,
 * what the plan records per step and per executor (the engine by the
 * config's precedence, `[containers.images]` per executor, a conda file's
 * SHA-256), `--explain`, `wfc config show`, and a hand-edited plan that
 * puts an environment where it cannot run. Running in the environments is
 * tested with the runtime (docs/environments.md).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { Plan } from "../../contract/plan.js";
import { copySample, fixture, wfc } from "./helpers.js";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function compile(dir: string, file: string, args: readonly string[] = []) {
  const r = await wfc(["compile", file, "-o", "plan.json", ...args], { cwd: dir });
  expect(r.exitCode, r.stderr).toBe(0);
  return { ...r, plan: JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as Plan };
}

/** Stage → its step's environment (undefined for none). */
function environments(plan: Plan) {
  return Object.fromEntries(plan.tasks.flatMap((t) => t.steps.map((s) => [s.stage, s.environment])));
}

describe("the combination rules, each a located error", () => {
  test("a container from `defaults` with the stage's modules: WFC290 at `modules`, the container's place as a note", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
defaults:
  container: localhost/tools:1
stages:
  call:
    modules: [bcftools/1.17]
    run: bcftools --version > {outputs}
    outputs: v.txt
`,
    });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        "wf.yaml:6:5: error WFC290: stage `call` has both `container` and `modules`",
        " 6 |     modules: [bcftools/1.17]",
        "   |     ^^^^^^^ expected either `container` or `modules`",
        "   = help: modules load on the host and are not inside a container: build the tools into the image, or set `container: false` on this stage",
        "   = note: wf.yaml:3:3: the container comes from `defaults` here",
        "",
        "1 error in wf.yaml",
      ].join("\n"),
    );
  });

  test("the stage's container with conda from `defaults`: WFC291 at `container`; `container: false` opts out of it", async () => {
    const dir = fixture({
      "wf.toml": `wfc = 1

[defaults]
conda = "stats"

[stages.call]
container = "localhost/tools:1"
run = "tool > {outputs}"
outputs = "v.txt"

[stages.stats]
container = false
run = "python -V > {outputs}"
outputs = "s.txt"
`,
    });
    const r = await wfc(["validate", "wf.toml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        "wf.toml:7:1: error WFC291: stage `call` has both `container` and `conda`",
        ' 7 | container = "localhost/tools:1"',
        "   | ^^^^^^^^^ expected either `container` or `conda`",
        "   = help: a container does not see the host's conda environments: build the environment into the image, or set `container: false` on this stage",
        "   = note: wf.toml:4:1: `conda` comes from `defaults` here",
        "",
        "1 error in wf.toml",
      ].join("\n"),
    );
  });

  test("both in `defaults`: reported once, at `defaults`", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
defaults:
  container: localhost/tools:1
  modules: [htslib]
stages:
  a:
    run: echo > {outputs}
    outputs: a.txt
  b:
    run: echo > {outputs}
    outputs: b.txt
`,
    });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        "wf.yaml:4:3: error WFC290: `defaults` sets both `container` and `modules`",
        " 4 |   modules: [htslib]",
        "   |   ^^^^^^^ expected either `container` or `modules`",
        "   = help: modules load on the host and are not inside a container: build the tools into the image, or move one of them from `defaults` to the stages that use it",
        "   = note: wf.yaml:3:3: the container is set here",
        "",
        "1 error in wf.yaml",
      ].join("\n"),
    );
  });

  test("modules with conda on one stage are fine: the modules load first", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  stats:
    modules: [miniconda3]
    conda: /opt/envs/stats
    run: python -V > {outputs}
    outputs: s.txt
`,
    });
    const { plan } = await compile(dir, "wf.yaml");
    expect(environments(plan)).toEqual({ stats: { modules: ["miniconda3"], conda: { kind: "prefix", path: "/opt/envs/stats" } } });
  });

  test("an environment on an `fn` stage: WFC292; `defaults`' container applies to `run` stages only", async () => {
    const files = (extra: string) => ({
      "count.mjs": "export default async () => {};\n",
      "wf.yaml": `wfc: 1
defaults:
  container: localhost/tools:1
stages:
  make:
    run: echo 1 > {outputs}
    outputs: n.txt
  count:
    fn: count.mjs
${extra}    inputs: n.txt
    outputs: c.txt
`,
    });
    const ok = await compile(fixture(files("")), "wf.yaml");
    expect(environments(ok.plan)).toEqual({ make: { container: "localhost/tools:1" }, count: undefined });

    const r = await wfc(["validate", "wf.yaml"], { cwd: fixture(files("    modules: [nodejs/20]\n    container: false\n")) });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        "wf.yaml:10:5: error WFC292: stage `count` runs a JavaScript function (`fn`), which cannot have `modules`",
        " 10 |     modules: [nodejs/20]",
        "    |     ^^^^^^^",
        "    = help: `fn` stages run in wfc's own Node worker; make it a `run` stage that calls node or python after the modules load",
        "",
        "1 error in wf.yaml",
      ].join("\n"),
    );
  });

  test("a conda environment file that is not there: WFC293 at its path", async () => {
    const dir = fixture({
      "wf.toml": `wfc = 1

[stages.stats]
conda = "envs/stats.yaml"
run = "python -V > {outputs}"
outputs = "s.txt"
`,
    });
    const r = await wfc(["validate", "wf.toml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        "wf.toml:4:9: error WFC293: cannot read conda environment file `envs/stats.yaml` (no such file)",
        ' 4 | conda = "envs/stats.yaml"',
        "   |         ^^^^^^^^^^^^^^^^^ expected an environment file, relative to the workflow's folder",
        "   = help: check the path (it is relative to the workflow's folder); an existing environment is named by its prefix (a path with `/`) or its name",
        "",
        "1 error in wf.toml",
      ].join("\n"),
    );
  });

  test("bad values are schema errors, located: a template in an image, a module with a space, an unknown engine", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
executors:
  local:
    type: processes
    container_engine: podmn
stages:
  a:
    container: "tools:{x}"
    run: echo > {outputs}
    outputs: a.txt
  b:
    modules: ["sam tools"]
    run: echo > {outputs}
    outputs: b.txt
`,
    });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        'wf.yaml:5:23: error WFC104: `container_engine` of executor `local` cannot be "podmn"',
        " 5 |     container_engine: podmn",
        "   |                       ^^^^^ expected one of `podman`, `docker`, `apptainer`, `singularity`",
        "   = help: did you mean `podman`?",
        "",
        'wf.yaml:8:16: error WFC106: `container` of stage `a` has an invalid format: "tools:{x}"',
        ' 8 |     container: "tools:{x}"',
        "   |                ^^^^^^^^^^^ expected an image without whitespace or `{`/`}`, like `docker.io/library/debian:12` (an image is the stage's, not a template)",
        "",
        'wf.yaml:12:15: error WFC106: `modules[0]` of stage `b` has an invalid format: "sam tools"',
        ' 12 |     modules: ["sam tools"]',
        "    |               ^^^^^^^^^^^ expected a module name without whitespace, like `samtools/1.17`",
        "",
        "3 errors in wf.yaml",
      ].join("\n"),
    );
  });
});

const pipeline = `wfc: 1
defaults:
  container: docker.io/biocontainers/bwa:0.7.17
stages:
  align:
    foreach: { s: [a, b] }
    outputs: "{s}.bam"
    run: bwa mem ref.fa > {outputs}
  call:
    container: false
    modules: [bcftools/1.17, htslib]
    conda: envs/call.yml
    foreach: { s: [a, b] }
    inputs: "{s}.bam"
    outputs: "{s}.vcf"
    run: bcftools call {inputs} > {outputs}
  plain:
    container: false
    inputs: "*.vcf"
    outputs: all.txt
    run: cat {inputs} > {outputs}
  report:
    fn: report.mjs
    inputs: all.txt
    outputs: report.txt
`;
const condaFile = "name: call\ndependencies: [bcftools]\n";

describe("the plan", () => {
  test("records each step's environment, and each executor's engines only where a step needs them", async () => {
    const dir = fixture({ "wf.yaml": pipeline, "envs/call.yml": condaFile, "report.mjs": "export default async () => {};\n" });
    const { plan } = await compile(dir, "wf.yaml");
    expect(plan.plan).toBe(6);
    expect(environments(plan)).toEqual({
      align: { container: "docker.io/biocontainers/bwa:0.7.17" },
      call: {
        modules: ["bcftools/1.17", "htslib"],
        conda: { kind: "file", path: "envs/call.yml", sha256: createHash("sha256").update(condaFile).digest("hex") },
      },
      plain: undefined,
      report: undefined,
    });
    expect(plan.executors.processes!.engines).toEqual({ container: { engine: "podman", options: [] }, conda: { frontend: "conda" } });
    expect(plan.executors.threads).toEqual({ type: "threads", max: null, runs: ["fn", "run"] });
  });

  test("the engine by precedence: the executor's `container_engine`, else `[containers] engine`; options per engine; images per executor", async () => {
    const dir = fixture({
      "wf.yaml": pipeline
        .replace("  plain:\n", "  plain:\n    executor: cluster\n")
        .replace('    container: false\n    inputs: "*.vcf"', '    container: docker.io/library/debian:12\n    inputs: "*.vcf"'),
      "envs/call.yml": condaFile,
      "report.mjs": "export default async () => {};\n",
      "wfc.config.toml": `[containers]
engine = "docker"

[containers.options]
docker = ["--gpus=all"]
singularity = ["-B", "/scratch"]

[containers.images]
"docker.io/biocontainers/bwa:0.7.17" = "/shared/sif/bwa.sif"
"docker.io/library/debian:12" = "/shared/sif/debian.sif"

[conda]
frontend = "micromamba"

[executors.cluster]
type = "slurm"
container_engine = "singularity"

[map.stages]
align = "cluster"
`,
    });
    const { plan } = await compile(dir, "wf.yaml");
    // On the cluster (singularity) the site's image file; on the local executor (docker) the image as written.
    expect(environments(plan).align).toEqual({ container: "/shared/sif/bwa.sif" });
    expect(environments(plan).plain).toEqual({ container: "/shared/sif/debian.sif" });
    expect(plan.executors.cluster!.engines).toEqual({ container: { engine: "singularity", options: ["-B", "/scratch"] } });
    expect(plan.executors.processes!.engines).toEqual({ conda: { frontend: "micromamba" } });

    const local = fixture({
      "wf.yaml": pipeline,
      "envs/call.yml": condaFile,
      "report.mjs": "export default async () => {};\n",
      "wfc.config.toml": `[containers]
engine = "docker"

[containers.options]
docker = ["--gpus=all"]

[containers.images]
"docker.io/biocontainers/bwa:0.7.17" = "/shared/sif/bwa.sif"
`,
    });
    const onDocker = await compile(local, "wf.yaml");
    expect(environments(onDocker.plan).align).toEqual({ container: "docker.io/biocontainers/bwa:0.7.17" });
    expect(onDocker.plan.executors.processes!.engines).toEqual({
      container: { engine: "docker", options: ["--gpus=all"] },
      conda: { frontend: "conda" },
    });
  });

  test("an image file on a podman executor: WFC294 from the compiler (which knows the engine), once per place; on apptainer it compiles", async () => {
    const workflow = `wfc: 1
defaults:
  container: tools.sif
stages:
  a:
    run: echo > {outputs}
    outputs: a.txt
  b:
    inputs: a.txt
    run: cat {inputs} > {outputs}
    outputs: b.txt
`;
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        "wf.yaml:3:14: error WFC294: stage `a` runs on `processes`, whose engine podman cannot run the image file `tools.sif`",
        " 3 |   container: tools.sif",
        "   |              ^^^^^^^^^ expected an image reference, like `docker.io/library/debian:12`, for podman and docker",
        '   = help: give `processes` `container_engine = "apptainer"`, or map the image to a reference in `[containers.images]`',
        "   = note: wf.yaml:5:3: stage `a` takes it from `defaults`",
        "",
        "1 error in wf.yaml",
      ].join("\n"),
    );
    expect(existsSync(join(dir, "plan.json"))).toBe(false);
    const onApptainer = fixture({ "wf.yaml": workflow, "wfc.config.toml": '[containers]\nengine = "apptainer"\n' });
    const { plan } = await compile(onApptainer, "wf.yaml");
    expect(plan.executors.processes!.engines).toEqual({ container: { engine: "apptainer", options: [] } });
  });

  test("a workflow without environments has no `environment` or `engines` anywhere in its plan", async () => {
    const dir = fixture({ "wf.yaml": "wfc: 1\nstages:\n  a:\n    run: echo > {outputs}\n    outputs: a.txt\n" });
    await compile(dir, "wf.yaml");
    const text = readFileSync(join(dir, "plan.json"), "utf8");
    expect(text).not.toMatch(/environment|engines/);
  });

  test("--explain says per stage which environment, and which engine by which rule", async () => {
    const dir = fixture({ "wf.yaml": pipeline, "envs/call.yml": condaFile, "report.mjs": "export default async () => {};\n" });
    const { stdout } = await wfc(["compile", "wf.yaml", "--explain", "-o", "plan.json"], { cwd: dir });
    const sha = createHash("sha256").update(condaFile).digest("hex").slice(0, 12);
    expect(stdout).toContain(
      [
        "Environments:",
        "  - `align` runs in container `docker.io/biocontainers/bwa:0.7.17` with podman on `processes` (built-in for processes executors)",
        `  - \`call\` loads modules \`bcftools/1.17\`, \`htslib\`, then activates conda environment file \`envs/call.yml\` (sha256 ${sha}…) with conda (built-in) on the host, on \`processes\``,
        "  - `plain` runs on the host as it is",
        "  - `report` runs in wfc's own Node worker",
        "",
      ].join("\n"),
    );
    const plain = fixture({ "wf.yaml": "wfc: 1\nstages:\n  a:\n    run: echo > {outputs}\n    outputs: a.txt\n" });
    expect((await wfc(["compile", "wf.yaml", "--explain", "-o", "plan.json"], { cwd: plain })).stdout).not.toContain("Environments");
  });
});

describe("wfc config show", () => {
  test("prints [containers] and [conda] with where each value came from, and each executor's engine", async () => {
    const dir = fixture({
      "wfc.config.toml": `[containers]
engine = "docker"

[containers.images]
"docker.io/biocontainers/bwa:0.7.17" = "/shared/sif/bwa.sif"

[executors.cluster]
type = "slurm"
container_engine = "apptainer"
`,
      "site.toml": `[containers]
engine = "podman"

[containers.options]
apptainer = ["--nv"]

[conda]
frontend = "mamba"
`,
    });
    const r = await wfc(["config", "show"], { cwd: dir, env: { WFC_CONFIG: "site.toml" } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      [
        "[executors.cluster]             # from ./wfc.config.toml:7",
        'type = "slurm"                  # from ./wfc.config.toml:8',
        'container_engine = "apptainer"  # from ./wfc.config.toml:9',
        "",
        "[executors.processes]  # built-in",
        'type = "processes"     # built-in',
        "# container_engine: podman, [containers] engine from site.toml:2",
      ].join("\n"),
    );
    expect(r.stdout).toContain(
      [
        "[containers]",
        'engine = "podman"  # from site.toml:2',
        "",
        "[containers.options]",
        'apptainer = ["--nv"]  # from site.toml:5',
        "",
        "[containers.images]",
        '"docker.io/biocontainers/bwa:0.7.17" = "/shared/sif/bwa.sif"  # from ./wfc.config.toml:5',
        "",
        "[conda]",
        'frontend = "mamba"  # from site.toml:8',
      ].join("\n"),
    );
    const json = JSON.parse((await wfc(["config", "show", "--format", "json"], { cwd: dir, env: { WFC_CONFIG: "site.toml" } })).stdout);
    expect(json.containers).toEqual({
      engine: { value: "podman", from: { file: "site.toml", line: 2, column: 1 } },
      builtin: { threads: "podman", processes: "podman", slurm: "apptainer" },
      options: { apptainer: { value: ["--nv"], from: { file: "site.toml", line: 5, column: 1 } } },
      images: {
        "docker.io/biocontainers/bwa:0.7.17": { value: "/shared/sif/bwa.sif", from: { file: "./wfc.config.toml", line: 5, column: 1 } },
      },
    });
    expect(json.conda).toEqual({ frontend: { value: "mamba", from: { file: "site.toml", line: 8, column: 1 } } });
    expect(json.executors.cluster.container_engine).toEqual({
      value: "apptainer",
      from: { file: "./wfc.config.toml", line: 7, column: 12 },
    });
    expect(json.executors.threads.container_engine).toEqual({ value: "podman", from: { file: "site.toml", line: 2, column: 1 } });
  });
});

describe("bad [containers] and [conda] values are config errors, located, with a did-you-mean", () => {
  test("an unknown engine, an option list for no engine, an image with a space, an unknown frontend", async () => {
    const dir = fixture({
      "site.toml": `[containers]
engine = "dokcer"

[containers.options]
podmn = ["--x"]

[containers.images]
"docker.io/x:1" = "a b.sif"

[conda]
frontend = "micromaba"
`,
    });
    const r = await wfc(["config", "show", "--config", "site.toml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        'site.toml:2:10: error WFC104: `containers.engine` cannot be "dokcer"',
        ' 2 | engine = "dokcer"',
        "   |          ^^^^^^^^ expected one of `podman`, `docker`, `apptainer`, `singularity`",
        "   = help: did you mean `docker`?",
        "",
        "site.toml:5:1: error WFC102: unknown key `podmn` in `containers.options`",
        ' 5 | podmn = ["--x"]',
        "   | ^^^^^ expected one of `apptainer`, `docker`, `podman` or `singularity`",
        "   = help: did you mean `podman`?",
        "",
        'site.toml:8:19: error WFC106: `containers.images["docker.io/x:1"]` has an invalid format: "a b.sif"',
        ' 8 | "docker.io/x:1" = "a b.sif"',
        "   |                   ^^^^^^^^^ expected an image without whitespace or `{`/`}`, like `/shared/sif/debian.sif`",
        "",
        'site.toml:11:12: error WFC104: `conda.frontend` cannot be "micromaba"',
        ' 11 | frontend = "micromaba"',
        "    |            ^^^^^^^^^^^ expected one of `conda`, `mamba`, `micromamba`",
        "    = help: did you mean `micromamba`?",
        "",
        "4 errors in site.toml",
      ].join("\n"),
    );
  });
});

describe("a hand-edited plan that puts an environment where it cannot run is refused", () => {
  const refused = (problem: string) => `wfc: error: \`plan.json\` is not a valid wfc plan: ${problem}; recompile it with \`wfc compile\``;

  test("an `fn` step with an environment, and a container step on an executor without a container engine", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  make:
    container: localhost/tools:1
    run: echo 1 > {outputs}
    outputs: n.txt
  count:
    fn: count.mjs
    inputs: n.txt
    outputs: c.txt
`,
      "count.mjs": "export default async () => {};\n",
    });
    const { plan } = await compile(dir, "wf.yaml");
    // plan.json as a hand editor sees it: plain, mutable JSON.
    const edited = (edit: (p: Json) => void) => {
      const copy = structuredClone(plan);
      edit(copy);
      writeFileSync(join(dir, "plan.json"), JSON.stringify(copy));
      return wfc(["run", "plan.json"], { cwd: dir });
    };
    const fnStep = await edited(
      (p) => (p.tasks.find((t: Plan["tasks"][number]) => t.id === "count").steps[0].environment = { modules: ["x"] }),
    );
    expect(fnStep.exitCode).toBe(2);
    expect(fnStep.stderr.trim()).toBe(refused("task `count`: step `count` is an `fn` step with an environment, which it cannot run in"));
    const noEngine = await edited((p) => delete p.executors.processes.engines);
    expect(noEngine.exitCode).toBe(2);
    expect(noEngine.stderr.trim()).toBe(
      refused("task `make`: step `make` has a container, but its executor `processes` has no container engine (`engines.container`)"),
    );
  });
});

describe("samples/environments", () => {
  test("workflow.yaml and workflow.toml compile to the same plan (but for its source)", async () => {
    const dir = copySample("environments");
    const yaml = (await compile(dir, "workflow.yaml")).plan;
    const toml = (await compile(dir, "workflow.toml")).plan;
    expect({ ...toml, source: null }).toEqual({ ...yaml, source: null });
    expect(environments(yaml)).toEqual({
      upper: { container: "localhost/wfc-sample-tools:1" },
      count: { modules: ["wfc-sample-tool/1.0"] },
      report: undefined,
    });
  });
});
