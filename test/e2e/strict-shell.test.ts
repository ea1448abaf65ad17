/**
 * Issue 13, point 1, "no pipefail": a `run` string runs with bash in strict
 * mode (`bash -euo pipefail -c`) unless the stage (or `defaults`) says
 * `shell: sh`, so a pipe whose first command fails, or an unset variable,
 * fails the job instead of passing on a truncated result. The same on a
 * SLURM node: the export's array scripts and `wfc run`'s element script run
 * the same step scripts, run here with bash as SLURM would.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import type { Plan } from "../../contract/plan.js";
import type { StepCommand } from "../../runtime/jobs/expand.js";
import { stepScript } from "../../runtime/jobs/step-script.js";
import { readStatus, writeSubmission } from "../../runtime/slurm/submission.js";
import { runArraysWithoutSlurm, withoutScontrol } from "../slurm/export-helpers.js";
import { fixture, wfc } from "./helpers.js";

/** The read-and-compress of a pipeline whose input is gone: `head` fails, `gzip` writes an empty-looking archive and exits 0. */
const TRUNCATED = "head -c 100 missing/reads.fq | gzip -c > {outputs}";
/** A typo'd variable: sh expands it to nothing. */
const UNSET = 'echo "sample=$SAMPL" > {outputs}';

function workflow(stages: Record<string, { run: string; shell?: "bash" | "sh" }>, defaults: Record<string, unknown> = {}) {
  return {
    "wf.yaml": {
      wfc: 1,
      name: "strict",
      ...(Object.keys(defaults).length > 0 ? { defaults } : {}),
      stages: Object.fromEntries(Object.entries(stages).map(([name, s]) => [name, { outputs: `out/${name}.txt`, ...s }])),
    },
  };
}

describe("a run string runs with bash in strict mode by default", () => {
  test("a pipe whose first command fails fails the job, and its output is not kept", async () => {
    const dir = fixture(workflow({ pipe: { run: TRUNCATED } }));
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("failed: pipe#0 (exit 1)");
    expect(r.stderr).toContain("head: cannot open 'missing/reads.fq' for reading: No such file or directory");
    expect(existsSync(join(dir, "out/pipe.txt"))).toBe(false);
  });

  test("an unset variable fails the job, naming the variable", async () => {
    const dir = fixture(workflow({ typo: { run: UNSET } }));
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("failed: typo#0 (exit 1)");
    expect(r.stderr).toContain("SAMPL: unbound variable");
    expect(existsSync(join(dir, "out/typo.txt"))).toBe(false);
  });

  test("the command runs in bash ($0 is bash), and a command that ends 0 still succeeds", async () => {
    const dir = fixture(workflow({ which: { run: 'echo "$0 $((1 + 1))" | cat > {outputs}' } }));
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "out/which.txt"), "utf8")).toBe("bash 2\n");
  });

  test("`shell: sh` on a stage, or under `defaults`, keeps /bin/sh and its exit status of the last command", async () => {
    for (const [stages, defaults] of [
      [{ pipe: { run: TRUNCATED, shell: "sh" }, typo: { run: UNSET, shell: "sh" } }, {}],
      [{ pipe: { run: TRUNCATED }, typo: { run: UNSET } }, { shell: "sh" }],
    ] as const) {
      const dir = fixture(workflow(stages, defaults));
      const r = await wfc(["run", "wf.yaml"], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(readFileSync(join(dir, "out/typo.txt"), "utf8")).toBe("sample=\n");
      expect(existsSync(join(dir, "out/pipe.txt"))).toBe(true);
    }
    // A stage's own `shell` wins over `defaults`.
    const dir = fixture(workflow({ pipe: { run: TRUNCATED, shell: "bash" } }, { shell: "sh" }));
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(1);
  });

  test("the plan says which shell each shell step uses", async () => {
    const dir = fixture(workflow({ a: { run: "echo a | cat > {outputs}" }, b: { run: "echo b | cat > {outputs}", shell: "sh" } }));
    const r = await wfc(["compile", "wf.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as Plan;
    expect(plan.plan).toBe(6);
    expect(Object.fromEntries(plan.tasks.flatMap((t) => t.steps.map((s) => [s.stage, s.action])))).toMatchObject({
      a: { kind: "shell", shell: "bash" },
      b: { kind: "shell", shell: "sh" },
    });
  });

  test("`shell` other than bash or sh is refused with its place and a suggestion", async () => {
    const dir = fixture({ "wf.yaml": "wfc: 1\nstages:\n  a:\n    outputs: a.txt\n    shell: zsh\n    run: touch {outputs}\n" });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('wf.yaml:5:12: error WFC104: `shell` of stage `a` cannot be "zsh"');
    expect(r.stderr).toContain("expected one of `bash`, `sh`");
  });
});

describe("no bash on PATH", () => {
  test("a job that needs bash fails with the way out (`shell: sh`); one without shell syntax, or with `shell: sh`, runs", async () => {
    const dir = fixture(
      workflow({
        needs: { run: "echo x | /bin/cat > {outputs}" },
        simple: { run: "/bin/touch {outputs}" },
        plain: { run: "echo x | /bin/cat > {outputs}", shell: "sh" },
      }),
    );
    const empty = mkdtempSync(join(tmpdir(), "wfc-no-bash-"));
    const r = await wfc(["run", "wf.yaml", "--keep-going"], { cwd: dir, env: { PATH: empty } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      "failed: needs#0 (cannot execute bash: no such file or directory (ENOENT): stage `needs` runs its `run` string with bash in strict mode (`shell: bash`, the default), and no bash is on PATH; install bash, or set `shell: sh` on the stage (or under `defaults`) to run it with /bin/sh)",
    );
    expect(existsSync(join(dir, "out/simple.txt"))).toBe(true);
    expect(readFileSync(join(dir, "out/plain.txt"), "utf8")).toBe("x\n");
  });
});

describe("SLURM: the export's array scripts, run with bash as SLURM would", () => {
  test("a failing first command of a pipe, or an unset variable, fails the element; `shell: sh` keeps sh's result", async () => {
    for (const [run, shell, code] of [
      [TRUNCATED, undefined, 1],
      [UNSET, undefined, 1],
      [TRUNCATED, "sh", 0],
      [UNSET, "sh", 0],
      ['echo "$0" | cat > {outputs}', undefined, 0],
    ] as const) {
      const dir = fixture(workflow({ a: { run, ...(shell ? { shell } : {}) } }));
      const r = await wfc(["export", "slurm", "wf.yaml", "-o", "slurm"], { cwd: dir, env: withoutScontrol });
      expect(r.exitCode, r.stderr).toBe(0);
      const runs = await runArraysWithoutSlurm(join(dir, "slurm"));
      expect(
        runs.map((x) => [x.array, x.exitCode]),
        `${run} with ${shell ?? "the default shell"}`,
      ).toEqual([["a.0", code]]);
      if (run.startsWith('echo "$0"')) expect(readFileSync(join(dir, "out/a.txt"), "utf8")).toMatch(/^(\/.*\/)?bash\n$/);
    }
  });
});

describe("SLURM: wfc run's element script (.wfc/slurm/…/job.sh), run with bash as SLURM would", () => {
  /** One shell step writing out.txt, as the SLURM executor expands it. */
  const step = (command: string, shell: "bash" | "sh"): StepCommand => ({
    stage: "a",
    kind: "shell",
    command,
    shell,
    inputs: [],
    outputs: [{ name: null, paths: ["out/a.txt"], many: false }],
    logs: [],
    env: {},
    vars: {},
  });

  async function element(command: string, shell: "bash" | "sh") {
    const workdir = mkdtempSync(join(tmpdir(), "wfc-element-"));
    const submission = join(workdir, ".wfc/slurm/a.0.1");
    mkdirSync(submission, { recursive: true });
    // A shell step's script needs nothing of the plan (only `fn` steps do).
    const scripts = [stepScript(step(command, shell), {} as Plan)];
    writeSubmission(submission, workdir, new Map([[0, { scripts, log: join(workdir, "a.log") }]]));
    const r = await execa("bash", [join(submission, "job.sh")], { env: { SLURM_ARRAY_TASK_ID: "0" }, reject: false, timeout: 30_000 });
    return { exitCode: r.exitCode, status: readStatus(join(submission, "status/0")), log: readFileSync(join(workdir, "a.log"), "utf8") };
  }

  test("a pipe whose first command fails ends the element with its exit code; with `shell: sh` it ends 0", async () => {
    const command = "head -c 100 missing/reads.fq | gzip -c > out/a.txt";
    const strict = await element(command, "bash");
    expect(strict.exitCode).toBe(1);
    expect(strict.status).toMatchObject({ code: 1, step: 0 });
    expect(strict.log).toContain("missing/reads.fq");
    const plain = await element(command, "sh");
    expect(plain.exitCode).toBe(0);
    expect(plain.status).toMatchObject({ code: 0 });
  });

  test("an unset variable fails the element", async () => {
    const r = await element('echo "$SAMPL" > out/a.txt', "bash");
    expect(r.status).toMatchObject({ code: 1 });
    expect(r.log).toContain("SAMPL: unbound variable");
  });
});
