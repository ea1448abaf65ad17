/**
 * `wfc export slurm` of steps in software environments (issue 15), without a
 * cluster: each step's script (in its element table, never in the array
 * script) checks the environment on the node and runs the command as a
 * local job would (contract/environment.ts), with the slurm executor's
 * engine: a container (podman, and apptainer by default), environment
 * modules, conda (a file environment made once, under a lock). Every
 * script passes shellcheck. The cluster runs them in environments-cluster.test.ts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";
import { onCi } from "./cluster.js";
import { withoutScontrol } from "./export-helpers.js";

const ENV_FILE = "name: stats\ndependencies: [python]\n";

const WORKFLOW = `wfc: 1
name: envs
executors:
  pod: { type: slurm, container_engine: podman }
  cluster: { type: slurm }
stages:
  boxed:
    foreach: { i: { range: [0, 2] } }
    outputs: "box/{i}.txt"
    executor: pod
    container: localhost/tools:1
    env: { FOO: "it's $(x) {i}" }
    run: 'echo "$FOO" > {outputs}'
  sif:
    outputs: sif.txt
    executor: cluster
    container: docker.io/library/debian:12
    env: { BAR: "a,b" }
    run: "cat /etc/debian_version > {outputs}"
  mods:
    outputs: mods.txt
    executor: cluster
    modules: [greet/1.0, "shout"]
    run: "greet > {outputs}"
  stats:
    outputs: stats.txt
    executor: cluster
    modules: [miniconda3]
    conda: envs/stats.yaml
    run: "python -V > {outputs}"
  named:
    outputs: named.txt
    executor: cluster
    conda: stats
    run: "python -V > {outputs}"
`;

/** Exports the workflow; the folder, and each array's first element's step scripts. */
async function exportEnvs(): Promise<{ dir: string; out: string; steps: (array: string) => string[] }> {
  const dir = fixture({ "wf.yaml": WORKFLOW, "envs/stats.yaml": ENV_FILE });
  const r = await wfc(["export", "slurm", "wf.yaml", "-o", "slurm"], { cwd: dir, env: withoutScontrol });
  if (r.exitCode !== 0) throw new Error(`export exited ${r.exitCode}: ${r.stderr}`);
  const out = join(dir, "slurm");
  const steps = (array: string) => {
    const line = readFileSync(join(out, "tables", `${array}.tbl`), "utf8").split("\n")[0]!;
    const entries = Buffer.from(line, "base64").toString("utf8").split("\0");
    return entries.slice(0, entries.indexOf(""));
  };
  return { dir, out, steps };
}

describe("wfc export slurm: steps in software environments", () => {
  test("a podman step runs in a container named after its array element, removed on TERM; values only in the table", async () => {
    const { dir, out, steps } = await exportEnvs();
    const [script] = steps("boxed.0");
    const lines = script!.split("\n");
    expect(lines.slice(0, 3)).toEqual(["# shellcheck disable=SC2016", "mkdir -p -- box || exit", `export FOO='it'\\''s $(x) 0'`]);
    expect(lines).toContain(`if ! [ . -ef ${dir} ]; then`);
    expect(lines).toContain("if ! command -v podman >/dev/null 2>&1; then");
    expect(lines).toContain(
      "if ! podman image inspect localhost/tools:1 >/dev/null 2>&1 && ! pulled=$(podman pull localhost/tools:1 2>&1 >/dev/null); then",
    );
    const user = process.getuid!() === 0 ? `--user 0:${process.getgid!()}` : "--userns=keep-id";
    expect(lines.slice(-4)).toEqual([
      'container="wfc-${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-$$}}-${SLURM_ARRAY_TASK_ID:-0}-0"',
      `trap 'podman rm -f --time 0 --ignore "$container" >/dev/null 2>&1; exit 143' TERM INT`,
      `podman run --rm --init --name "$container" --network=host ${user} -v ${dir}:${dir} -w ${dir} -e 'FOO=it'\\''s $(x) 0' localhost/tools:1 bash -euo pipefail -c 'echo "$FOO" > box/0.txt' &`,
      "wait $!",
    ]);
    // The array script carries no value of the step: the image is in the table only.
    expect(readFileSync(join(out, "arrays", "boxed.0.sh"), "utf8")).not.toContain("localhost/tools");
  });

  test("the slurm executor's default engine is apptainer: exec with the folder bound, variables as APPTAINERENV_", async () => {
    const { dir, steps } = await exportEnvs();
    const lines = steps("sif.0")[0]!.split("\n");
    expect(lines).toContain("export APPTAINERENV_BAR=a,b");
    expect(lines).toContain("if ! command -v apptainer >/dev/null 2>&1; then");
    expect(lines.at(-1)).toBe(
      `exec apptainer exec --pwd ${dir} -B ${dir}:${dir} docker://docker.io/library/debian:12 bash -euo pipefail -c 'cat /etc/debian_version > sif.txt'`,
    );
  });

  test("a modules step checks each module on the node, then loads them in order in bash strict mode", async () => {
    const { steps } = await exportEnvs();
    const lines = steps("mods.0")[0]!.split("\n");
    expect(lines).toContain("modules=(greet/1.0 shout)");
    expect(lines).toContain('  if ! module is-avail "$module" >/dev/null 2>&1; then');
    const at = lines.indexOf("exec bash -euo pipefail -c 'set +u");
    expect(lines.slice(at)).toEqual([
      "exec bash -euo pipefail -c 'set +u",
      'if ! command -v module >/dev/null 2>&1; then . "${MODULESHOME:-/usr/share/modules}/init/bash"; fi',
      "module load greet/1.0 shout",
      "set -u",
      "greet > mods.txt'",
    ]);
  });

  test("a conda file environment is made once under .wfc/conda (locked, marked when complete), then activated after the modules", async () => {
    const { dir, steps } = await exportEnvs();
    const sha = createHash("sha256").update(ENV_FILE).digest("hex");
    const prefix = `${dir}/.wfc/conda/${sha.slice(0, 16)}`;
    const lines = steps("stats.0")[0]!.split("\n");
    expect(lines).toContain(`if ! [ "$(sha256sum < ${dir}/envs/stats.yaml 2>/dev/null)" = '${sha}  -' ]; then`);
    expect(lines).toContain(`  exec 9>>${prefix}.lock && flock 9 || exit 1`);
    expect(lines).toContain(`    if ! made=$(conda env create -p ${prefix} -f ${dir}/envs/stats.yaml 2>&1 >/dev/null); then`);
    expect(lines).toContain(`    printf '%s\\n' ${dir}/envs/stats.yaml > ${prefix}.complete`);
    const at = lines.indexOf("exec bash -euo pipefail -c 'set +u");
    expect(lines.slice(at)).toEqual([
      "exec bash -euo pipefail -c 'set +u",
      'if ! command -v module >/dev/null 2>&1; then . "${MODULESHOME:-/usr/share/modules}/init/bash"; fi',
      "module load miniconda3",
      `eval "$(conda shell.bash hook)"`,
      `conda activate ${prefix}`,
      "set -u",
      "python -V > stats.txt'",
    ]);
    const named = steps("named.0")[0]!.split("\n");
    expect(named.at(-1)).toBe("python -V > named.txt'");
    expect(named).toContain("conda activate stats");
  });

  test("a workflow folder the engine's bind option cannot carry is refused, located at its stage; nothing written", async () => {
    const parent = fixture({ "a:b/wf.yaml": WORKFLOW, "a:b/envs/stats.yaml": ENV_FILE });
    const dir = join(parent, "a:b");
    const r = await wfc(["export", "slurm", "wf.yaml", "-o", "slurm"], { cwd: dir, env: withoutScontrol });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      `wfc: error: stage \`boxed\`: podman cannot bind ${JSON.stringify(dir)} into a container: its bind option splits paths at ":"; move or rename it`,
    );
    expect(existsSync(join(dir, "slurm"))).toBe(false);
  });

  test("a failed check writes one line naming the stage, what is missing on which node, and the fix", async () => {
    const { dir, steps } = await exportEnvs();
    // Run by bash as the job would, on a machine without apptainer (PATH has only what the check needs).
    const r = spawnSync("/bin/bash", ["-c", steps("sif.0")[0]!], {
      cwd: dir,
      encoding: "utf8",
      env: { PATH: "/nonexistent", HOME: "/nonexistent", HOSTNAME: "node7" },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "wfc: environment: stage `sif`: apptainer is not installed on node7 (not on PATH): install it there, or choose another engine (`container_engine` on the executor, or [containers] engine in the config)\n",
    );
  });
});

const hasShellcheck = spawnSync("shellcheck", ["--version"], { stdio: "ignore" }).status === 0;
const SHELLCHECK_MISSING = "shellcheck is not installed (apt-get install shellcheck)";

describe(`shellcheck of exported steps in environments${hasShellcheck || onCi() ? "" : ` (skipped: ${SHELLCHECK_MISSING})`}`, () => {
  test.skipIf(!hasShellcheck && !onCi())("every array script and every step script (container, modules, conda) passes", async () => {
    if (!hasShellcheck) throw new Error(`${SHELLCHECK_MISSING}; CI is set, so this is a failure`);
    const { out, steps } = await exportEnvs();
    const files = ["submit.sh", ...readdirSync(join(out, "arrays")).map((f) => `arrays/${f}`)];
    for (const array of ["boxed.0", "sif.0", "mods.0", "stats.0", "named.0"]) {
      // A step script runs as `bash -c SCRIPT`: checked as a bash script.
      const file = `step-${array}.sh`;
      writeFileSync(join(out, file), `#!/bin/bash\n${steps(array)[0]!}\n`);
      files.push(file);
    }
    const r = await execa("shellcheck", ["--format=gcc", ...files], { cwd: out, reject: false });
    expect(String(r.stdout) + String(r.stderr)).toBe("");
    expect(r.exitCode).toBe(0);
  });
});
