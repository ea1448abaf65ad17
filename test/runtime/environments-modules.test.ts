/**
 * Steps with environment modules and conda environments on this machine
 * (issue 15), run by the built CLI from hand-built plans: a module the test
 * writes puts its tool on PATH; a missing module, missing Environment
 * Modules and a missing conda each fail the first job with one line naming
 * the stage, what is missing and the fix, and no other job of it starts;
 * a conda environment file is created once (with a stand-in frontend).
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { wfc } from "../e2e/helpers.js";
import { describeIf, modulesProblem, writeModules } from "../env/images.js";
import { envPlan, planFolder } from "../env/plans.js";
import { onPath } from "../../runtime/environments/checks.js";

/** The summary's failure lines of one task. */
const failedLines = (stderr: string, task: string) => stderr.split("\n").filter((l) => l.startsWith(`failed: ${task}#`));

describeIf(modulesProblem(), "steps with environment modules", () => {
  const modulepath = writeModules({
    "greet/1.0": { greet: '#!/bin/sh\necho "hello from greet 1.0: $*"\n' },
    "shout/2": { shout: '#!/bin/sh\necho "SHOUT $*"\n' },
  });

  test("a module the test wrote puts its tool on PATH, loaded in order, for a shell step and an argv step", async () => {
    const p = envPlan([
      {
        id: "hello",
        size: 2,
        step: {
          run: "greet {i} > {outputs}; shout {i} >> {outputs}",
          outputs: ["out/{i}.txt"],
          environment: { modules: ["greet/1.0", "shout/2"] },
        },
      },
      // An argv step with modules runs through bash too; its words stay words.
      { id: "words", step: { argv: ["greet", "it's $(x) `y`", "a  b"], environment: { modules: ["greet/1.0"] } } },
    ]);
    const dir = planFolder(p);
    const r = await wfc(["run", "plan.json"], { cwd: dir, env: { MODULEPATH: modulepath } });
    expect(r.stderr).toContain("ok: 3 done");
    expect(readFileSync(join(dir, "out", "1.txt"), "utf8")).toBe("hello from greet 1.0: 1\nSHOUT 1\n");
    const log = readFileSync(join(dir, ".wfc", "logs", "words", "i=0.log"), "utf8");
    expect(log).toBe("hello from greet 1.0: it's $(x) `y` a  b\n");
  });

  test("a module that does not exist fails the first job with one line; no other job of it starts", async () => {
    const p = envPlan([
      {
        id: "need",
        size: 3,
        step: { run: "echo ran > {outputs}", outputs: ["out/{i}.txt"], environment: { modules: ["greet/1.0", "nope/9.9"] } },
      },
    ]);
    const dir = planFolder(p);
    const r = await wfc(["run", "plan.json", "-j", "3", "--keep-going"], { cwd: dir, env: { MODULEPATH: modulepath } });
    expect(r.exitCode).toBe(1);
    const failed = failedLines(r.stderr, "need");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(
      /^failed: need#\d \(stage `need`: module "nope\/9.9" is not available \(module is-avail\): see `module avail`, or add its folder to MODULEPATH \(`module use DIR`\)\)$/,
    );
    expect(r.stderr).toContain("1 failed, 2 not run");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});

describe("a plan's environments", () => {
  test("an `fn` step with an environment is refused when the plan is loaded", async () => {
    const p = envPlan([{ id: "f", step: { environment: { modules: ["greet/1.0"] } } }]);
    const step = { ...p.tasks[0]!.steps[0]!, action: { kind: "fn", module: "m.mjs", export: "f" } as const };
    const dir = planFolder({ ...p, tasks: [{ ...p.tasks[0]!, steps: [step] }] });
    const r = await wfc(["run", "plan.json"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      "wfc: error: `plan.json` is not a valid wfc plan: task `f`: step `f` is an `fn` step with an environment, which it cannot run in; recompile it with `wfc compile`",
    );
    expect(existsSync(join(dir, ".wfc"))).toBe(false);
  });

  test("`wfc export slurm` writes a step with an environment to enter it, with the executor's engine", async () => {
    const p = envPlan([{ id: "boxed", step: { run: "true", environment: { container: "localhost/tools:1" } } }]);
    const dir = planFolder({ ...p, executors: { local: { ...p.executors.local!, type: "slurm" } } });
    const r = await wfc(["export", "slurm", "plan.json", "-o", "out"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const line = readFileSync(join(dir, "out", "tables", "boxed.0.tbl"), "utf8").trim();
    expect(Buffer.from(line, "base64").toString("utf8")).toContain(`podman run --rm --init --name "$container" --network=host`);
  });

  test("other modules (or none) make the step out of date: `environment changed`", async () => {
    const stage = (modules?: string[]) =>
      envPlan([{ id: "m", step: { run: "echo x > {outputs}", outputs: ["m.txt"], ...(modules ? { environment: { modules } } : {}) } }]);
    const dir = planFolder(stage());
    expect((await wfc(["run", "plan.json"], { cwd: dir })).exitCode).toBe(0);
    writeFileSync(join(dir, "plan.json"), JSON.stringify(stage(["greet/1.0"])));
    const dry = await wfc(["run", "plan.json", "--dry-run"], { cwd: dir });
    expect(dry.stderr + dry.stdout).toContain("would run m#0: environment changed");
  });
});

describe("missing environment tools fail cleanly", () => {
  test("without Environment Modules (no `module`, no init script) a module step fails with the fix", async () => {
    const p = envPlan([
      { id: "mod", size: 2, step: { run: "echo ran > {outputs}", outputs: ["out/{i}.txt"], environment: { modules: ["greet/1.0"] } } },
    ]);
    const dir = planFolder(p);
    const r = await wfc(["run", "plan.json", "--keep-going"], { cwd: dir, env: { MODULESHOME: join(dir, "no-modules-here") } });
    expect(r.exitCode).toBe(1);
    expect(failedLines(r.stderr, "mod")).toEqual([
      expect.stringMatching(
        /^failed: mod#\d \(stage `mod`: environment modules are not installed \(no `module` command, no \$MODULESHOME\/init\/bash\): install them \(apt-get install environment-modules\) or load the tools another way\)$/,
      ),
    ]);
    expect(r.stderr).toContain("1 failed, 1 not run");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  const conda = onPath("conda") ? "conda is installed here" : undefined;
  test.skipIf(conda !== undefined)("without conda a conda step fails with the fix, whatever its kind", async () => {
    const p = envPlan(
      [
        {
          id: "byname",
          size: 2,
          step: { run: "echo ran > {outputs}", outputs: ["a/{i}.txt"], environment: { conda: { kind: "name", name: "stats" } } },
        },
        {
          id: "byprefix",
          step: { run: "echo ran > {outputs}", outputs: ["b.txt"], environment: { conda: { kind: "prefix", path: "/opt/envs/x" } } },
        },
        {
          id: "byfile",
          step: {
            run: "echo ran > {outputs}",
            outputs: ["c.txt"],
            environment: { conda: { kind: "file", path: "env.yaml", sha256: "a".repeat(64) } },
          },
        },
      ],
      { conda: { frontend: "conda" } },
    );
    const dir = planFolder(p, { "env.yaml": "name: x\ndependencies: []\n" });
    const r = await wfc(["run", "plan.json", "--keep-going"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const line = (task: string) =>
      new RegExp(
        `^failed: ${task}#\\d \\(stage \`${task}\`: conda: conda is not installed \\(not on PATH\\): install it \\(Miniforge gives conda and mamba\\), or choose another frontend \\(\\[conda\\] frontend in the config\\)\\)$`,
      );
    expect(failedLines(r.stderr, "byname")).toEqual([expect.stringMatching(line("byname"))]);
    expect(failedLines(r.stderr, "byprefix")).toEqual([expect.stringMatching(line("byprefix"))]);
    expect(failedLines(r.stderr, "byfile")).toEqual([expect.stringMatching(line("byfile"))]);
    expect(r.stderr).toContain("3 failed, 1 not run");
    for (const f of ["a", "b.txt", "c.txt", ".wfc/conda"]) expect(existsSync(join(dir, f))).toBe(false);
  });
});

/**
 * A stand-in `micromamba` on PATH (no conda here): `create` makes the prefix
 * with a `tool` in its bin/ (and counts its calls), the shell hook defines
 * `micromamba activate P` as putting P/bin on PATH. What is tested is wfc's
 * own part: the environment made once per content, complete only with its
 * marker, an incomplete one made again, a failed one leaving nothing.
 */
function fakeMicromamba(): { bin: string; calls: string } {
  const dir = mkdtempSync(join(tmpdir(), "wfc-fake-mamba-"));
  const calls = join(dir, "calls");
  const script = `#!/bin/sh
if [ "$1" = shell ]; then
  echo 'micromamba() { if [ "$1" = activate ]; then PATH="$2/bin:$PATH"; export PATH; fi; }'
  exit 0
fi
if [ "$1" = create ]; then
  echo "$*" >> ${JSON.stringify(calls)}
  if grep -q broken "$6"; then echo "critical libmamba: could not solve the environment" >&2; mkdir -p "$4/pkgs"; exit 1; fi
  mkdir -p "$4/bin"
  printf '#!/bin/sh\\necho "tool from %s"\\n' "$6" > "$4/bin/tool"
  chmod +x "$4/bin/tool"
  exit 0
fi
exit 2
`;
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin", "micromamba"), script);
  chmodSync(join(dir, "bin", "micromamba"), 0o755);
  return { bin: join(dir, "bin"), calls };
}

describe("a conda environment file (with a stand-in micromamba)", () => {
  const sha = (text: string) => createHash("sha256").update(text).digest("hex");
  const envFile = "name: stats\ndependencies: [r-base]\n";
  const condaPlan = (text: string, size = 2) =>
    envPlan(
      [
        {
          id: "stats",
          size,
          step: {
            run: "tool > {outputs}",
            outputs: ["out/{i}.txt"],
            environment: { conda: { kind: "file", path: "envs/stats.yaml", sha256: sha(text) } },
          },
        },
      ],
      { conda: { frontend: "micromamba" } },
    );

  test("is created once under .wfc/conda/, complete with its marker; an incomplete one is made again", async () => {
    const fake = fakeMicromamba();
    const env = { PATH: `${fake.bin}:${process.env.PATH}` };
    const dir = planFolder(condaPlan(envFile), { "envs/stats.yaml": envFile });
    const r = await wfc(["run", "plan.json", "-j", "2"], { cwd: dir, env });
    expect(r.stderr).toContain("ok: 2 done");
    const prefix = join(dir, ".wfc", "conda", sha(envFile).slice(0, 16));
    expect(readFileSync(join(dir, "out", "1.txt"), "utf8")).toBe(`tool from ${join(dir, "envs", "stats.yaml")}\n`);
    expect(readFileSync(fake.calls, "utf8")).toBe(`create -y -p ${prefix} -f ${join(dir, "envs", "stats.yaml")}\n`);
    expect(existsSync(`${prefix}.complete`)).toBe(true);
    // A run that died while creating it left a prefix without its marker: wfc's own, made again.
    rmSync(`${prefix}.complete`);
    rmSync(join(prefix, "bin", "tool"));
    const again = await wfc(["run", "plan.json", "--forcerun", "stats"], { cwd: dir, env });
    expect(again.stderr).toContain("ok: 2 done");
    expect(readFileSync(fake.calls, "utf8").split("\n").filter(Boolean)).toHaveLength(2);
    expect(existsSync(`${prefix}.complete`)).toBe(true);
  });

  test("one that cannot be created fails the first job with the frontend's words; no job starts, no prefix is left", async () => {
    const fake = fakeMicromamba();
    const broken = "name: broken\n";
    const dir = planFolder(condaPlan(broken, 3), { "envs/stats.yaml": broken });
    const r = await wfc(["run", "plan.json", "-j", "3", "--keep-going"], { cwd: dir, env: { PATH: `${fake.bin}:${process.env.PATH}` } });
    expect(r.exitCode).toBe(1);
    expect(failedLines(r.stderr, "stats")).toEqual([
      expect.stringMatching(
        /^failed: stats#\d \(stage `stats`: micromamba could not create the conda environment from .*stats\.yaml \(critical libmamba: could not solve the environment\): fix the file, or create the environment yourself and name its prefix\)$/,
      ),
    ]);
    expect(r.stderr).toContain("1 failed, 2 not run");
    expect(existsSync(join(dir, "out"))).toBe(false);
    expect(readdirSync(join(dir, ".wfc", "conda"))).toEqual([]);
  });

  test("a file edited since the plan was compiled is refused", async () => {
    const fake = fakeMicromamba();
    const dir = planFolder(condaPlan(envFile), { "envs/stats.yaml": `${envFile}# edited\n` });
    const r = await wfc(["run", "plan.json"], { cwd: dir, env: { PATH: `${fake.bin}:${process.env.PATH}` } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      "(stage `stats`: conda environment file envs/stats.yaml changed since the plan was compiled: recompile the workflow (wfc compile))",
    );
    expect(existsSync(fake.calls)).toBe(false);
  });
});
