/**
 * contract/environment.ts: the exact command lines that enter a software
 * environment (issue 15) for each engine (podman, docker, apptainer,
 * singularity; docker and apptainer have no daemon or package here, so
 * their lines are checked word for word), the modules and conda script,
 * and hostile values: each arrives as one argv item or, through the
 * script, byte for byte in real bash; what an engine's syntax cannot
 * carry is refused.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  EnvironmentError,
  apptainerImage,
  condaCreateArgv,
  condaFilePrefix,
  containerCommand,
  containerRemoveArgv,
  hostArgv,
  hostScript,
  type ContainerRun,
} from "../../contract/environment.js";
import type { CondaFrontend, PlanConda } from "../../contract/plan.js";

const base: ContainerRun = {
  engine: "podman",
  options: [],
  image: "localhost/tools:1",
  workdir: "/work/wf",
  cwd: "/work/wf",
  readOnly: [],
  env: {},
  name: "wfc-abc-0",
  user: { kind: "ids", uid: 1000, gid: 100 },
};
const inner = ["bash", "-euo", "pipefail", "-c", "bwa mem ref.fa r.fq > out.sam"];

describe("container command lines, word for word", () => {
  test("podman run by root: --user UID:GID, the workflow folder at its path, inputs outside it read-only, env, options", () => {
    const c = containerCommand(
      {
        ...base,
        user: { kind: "ids", uid: 0, gid: 0 },
        options: ["--security-opt=label=disable"],
        readOnly: ["/ref/genome.fa", "/work/wf/inside.txt", "/ref/genome.fa", "/data", "/data/x/y.txt"],
        env: { THREADS: "4", A: "x y" },
      },
      inner,
    );
    expect(c.argv).toEqual([
      ...["podman", "run", "--rm", "--init", "--name", "wfc-abc-0", "--network=host", "--user", "0:0"],
      ...["-v", "/work/wf:/work/wf", "-w", "/work/wf"],
      ...["-v", "/data:/data:ro", "-v", "/ref/genome.fa:/ref/genome.fa:ro"],
      ...["-e", "A=x y", "-e", "THREADS=4"],
      "--security-opt=label=disable",
      "localhost/tools:1",
      ...inner,
    ]);
    expect(c.env).toEqual({});
  });

  test("rootless podman keeps the user's id inside (--userns=keep-id)", () => {
    const c = containerCommand({ ...base, user: { kind: "keep-id" } }, ["sh", "-c", "true"]);
    expect(c.argv).toEqual([
      ...["podman", "run", "--rm", "--init", "--name", "wfc-abc-0", "--network=host", "--userns=keep-id"],
      ...["-v", "/work/wf:/work/wf", "-w", "/work/wf", "localhost/tools:1", "sh", "-c", "true"],
    ]);
  });

  test("docker: the same line, always --user UID:GID", () => {
    const c = containerCommand({ ...base, engine: "docker", options: ["--gpus", "all"], env: { K: "v" } }, ["touch", "x"]);
    expect(c.argv).toEqual([
      ...["docker", "run", "--rm", "--init", "--name", "wfc-abc-0", "--network=host", "--user", "1000:100"],
      ...["-v", "/work/wf:/work/wf", "-w", "/work/wf", "-e", "K=v", "--gpus", "all", "localhost/tools:1", "touch", "x"],
    ]);
  });

  test("apptainer: exec --pwd, -B binds, options, docker:// for a registry reference; env through APPTAINERENV_", () => {
    const c = containerCommand(
      {
        ...base,
        engine: "apptainer",
        image: "docker.io/biocontainers/bwa:0.7.17",
        options: ["--nv", "-B", "/scratch"],
        readOnly: ["/ref/genome.fa"],
        env: { THREADS: "4", LIST: "a,b" },
      },
      inner,
    );
    expect(c.argv).toEqual([
      ...["apptainer", "exec", "--pwd", "/work/wf", "-B", "/work/wf:/work/wf", "-B", "/ref/genome.fa:/ref/genome.fa:ro"],
      ...["--nv", "-B", "/scratch", "docker://docker.io/biocontainers/bwa:0.7.17", ...inner],
    ]);
    expect(c.env).toEqual({ APPTAINERENV_LIST: "a,b", APPTAINERENV_THREADS: "4" });
  });

  test("singularity: an image file as it is; env through SINGULARITYENV_", () => {
    const c = containerCommand({ ...base, engine: "singularity", image: "/shared/sif/bwa.sif", env: { K: "v" } }, ["bwa"]);
    expect(c.argv).toEqual(["singularity", "exec", "--pwd", "/work/wf", "-B", "/work/wf:/work/wf", "/shared/sif/bwa.sif", "bwa"]);
    expect(c.env).toEqual({ SINGULARITYENV_K: "v" });
  });

  test("which images apptainer gets as they are", () => {
    expect(apptainerImage("ubuntu:22.04")).toBe("docker://ubuntu:22.04");
    expect(apptainerImage("oras://ghcr.io/x/y:1")).toBe("oras://ghcr.io/x/y:1");
    expect(apptainerImage("docker://x")).toBe("docker://x");
    expect(apptainerImage("./images/bwa.sif")).toBe("./images/bwa.sif");
    expect(apptainerImage("images/bwa.sif")).toBe("images/bwa.sif");
  });

  test("removing a stopped job's container", () => {
    expect(containerRemoveArgv("podman", "wfc-a-1")).toEqual(["podman", "rm", "-f", "--time", "0", "--ignore", "wfc-a-1"]);
    expect(containerRemoveArgv("docker", "wfc-a-1")).toEqual(["docker", "rm", "-f", "wfc-a-1"]);
    expect(containerRemoveArgv("apptainer", "wfc-a-1")).toBeUndefined();
  });
});

describe("modules and conda", () => {
  test("modules load in order, quoted, before the command, in bash strict mode", () => {
    expect(
      hostArgv({ modules: ["bcftools/1.17", "htslib"] }, { kind: "shell", shell: "bash", command: "bcftools call x | bgzip > y" }),
    ).toEqual([
      "bash",
      "-euo",
      "pipefail",
      "-c",
      [
        "set +u",
        'if ! command -v module >/dev/null 2>&1; then . "${MODULESHOME:-/usr/share/modules}/init/bash"; fi',
        "module load bcftools/1.17 htslib",
        "set -u",
        "bcftools call x | bgzip > y",
      ].join("\n"),
    ]);
  });

  test("an sh step and an argv step with modules run through bash too, as they would without", () => {
    expect(
      hostScript({ modules: ["a"] }, { kind: "shell", shell: "sh", command: "echo 'x' | wc -c" })
        ?.split("\n")
        .at(-1),
    ).toBe("exec /bin/sh -c 'echo '\\''x'\\'' | wc -c'");
    expect(
      hostScript({ modules: ["a"] }, { kind: "argv", argv: ["tool", "a b", "$(x)"] })
        ?.split("\n")
        .at(-1),
    ).toBe("exec tool 'a b' '$(x)'");
    expect(hostScript({}, { kind: "argv", argv: ["tool"] })).toBeUndefined();
  });

  const kinds: [string, PlanConda][] = [
    ["name", { kind: "name", name: "stats" }],
    ["prefix", { kind: "prefix", path: "/opt/envs/stats" }],
    ["file", { kind: "file", path: "envs/stats.yaml", sha256: "ab".repeat(32) }],
  ];
  const activation: Record<CondaFrontend, [string, string]> = {
    conda: ['eval "$(conda shell.bash hook)"', "conda activate"],
    mamba: ['eval "$(conda shell.bash hook)"', "conda activate"],
    micromamba: ['eval "$(micromamba shell hook --shell bash)"', "micromamba activate"],
  };
  for (const frontend of ["conda", "mamba", "micromamba"] as const) {
    for (const [kind, conda] of kinds) {
      test(`conda ${kind} with ${frontend}: hook, activate, the command`, () => {
        const prefix = condaFilePrefix("/work/wf/.wfc", "ab".repeat(32));
        const target = { name: "stats", prefix: "/opt/envs/stats", file: "/work/wf/.wfc/conda/abababababababab" }[kind]!;
        expect(prefix).toBe("/work/wf/.wfc/conda/abababababababab");
        const script = hostScript(
          { modules: ["miniconda3"], conda },
          { kind: "shell", shell: "bash", command: "Rscript s.R" },
          { frontend, filePrefix: prefix },
        );
        expect(script!.split("\n")).toEqual([
          "set +u",
          'if ! command -v module >/dev/null 2>&1; then . "${MODULESHOME:-/usr/share/modules}/init/bash"; fi',
          "module load miniconda3",
          activation[frontend][0],
          `${activation[frontend][1]} ${target}`,
          "set -u",
          "Rscript s.R",
        ]);
      });
    }
    test(`creating a file environment with ${frontend}`, () => {
      const expected = {
        conda: ["conda", "env", "create", "-p", "/w/.wfc/conda/x", "-f", "/w/env.yaml"],
        mamba: ["mamba", "env", "create", "-p", "/w/.wfc/conda/x", "-f", "/w/env.yaml"],
        micromamba: ["micromamba", "create", "-y", "-p", "/w/.wfc/conda/x", "-f", "/w/env.yaml"],
      }[frontend];
      expect(condaCreateArgv(frontend, "/w/.wfc/conda/x", "/w/env.yaml")).toEqual(expected);
    });
  }
});

describe("hostile values", () => {
  test("what an engine's syntax cannot carry is refused with the reason", () => {
    const refused = (run: Partial<ContainerRun>) => () => containerCommand({ ...base, ...run }, ["true"]);
    expect(refused({ image: "--privileged" })).toThrow(EnvironmentError);
    expect(refused({ image: "" })).toThrow(/image "" is empty/);
    expect(refused({ workdir: "/work/a:b", cwd: "/work/a:b" })).toThrow(
      'podman cannot bind "/work/a:b" into a container: its bind option splits paths at ":"; move or rename it',
    );
    expect(refused({ engine: "apptainer", readOnly: ["/ref/a,b.fa"] })).toThrow(/apptainer cannot bind "\/ref\/a,b.fa".*","/);
    expect(refused({ env: { "A B": "x" } })).toThrow(/environment variable name "A B"/);
    expect(refused({ env: { "A=B": "x" } })).toThrow(EnvironmentError);
    expect(refused({ name: "wfc;rm" })).toThrow(EnvironmentError);
    expect(refused({ readOnly: ["relative/path"] })).toThrow(/not absolute/);
    expect(() => hostScript({ modules: ["-f"] }, { kind: "argv", argv: ["x"] })).toThrow(/module "-f"/);
    expect(() => hostScript({ conda: { kind: "name", name: "--help" } }, { kind: "argv", argv: ["x"] })).toThrow(
      /conda environment "--help"/,
    );
    expect(() => condaFilePrefix("/w", "$(x)")).toThrow(EnvironmentError);
  });

  const hostile = fc
    .array(fc.constantFrom(..."'\"$`\\(){}[];&|<>*?~#!=%,. \n\t", "$(touch PWNED)", "`touch PWNED`", "'; touch PWNED; '", "a", "日"), {
      minLength: 1,
      maxLength: 12,
    })
    .map((p) => p.join(""))
    .filter((v) => !v.startsWith("-"));
  const values = fc.sample(hostile, { seed: 15, numRuns: 200 });

  test("in a container's argv every value is one item, as it was", () => {
    for (const v of values) {
      const c = containerCommand({ ...base, env: { V: v }, image: `img${v.replace(/\s/g, "")}x` }, ["printf", "%s", v]);
      expect(c.argv).toContain(`V=${v}`);
      expect(c.argv.slice(-3)).toEqual(["printf", "%s", v]);
    }
  });

  test("through the modules and conda script, real bash passes each module, environment and argv word byte for byte", () => {
    const dir = mkdtempSync(join(tmpdir(), "wfc-env-quote-"));
    try {
      // Stand-ins for the `module` function and conda's hook, which record what they were given.
      const out = join(dir, "got");
      writeFileSync(join(dir, "conda"), `#!/bin/sh\ncat <<'EOF'\nconda() { printf "conda:%s\\0" "$@" >> "$OUT"; }\nEOF\n`);
      chmodSync(join(dir, "conda"), 0o755);
      const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, OUT: out };
      for (const [i, v] of values.entries()) {
        rmSync(out, { force: true });
        const argv = hostArgv(
          { modules: [v, `m${i}`], conda: { kind: "name", name: `e${v}` } },
          { kind: "argv", argv: ["printf", "argv:%s\\0", v, "x"] },
        )!;
        const script = `module() { printf "module:%s\\0" "$@" >> "$OUT"; }\n${argv[4]}`;
        const printed = execFileSync("bash", [...argv.slice(1, 4), script], { env, encoding: "utf8" });
        const recorded = readFileSync(out, "utf8");
        expect(recorded).toBe(`module:load\0module:${v}\0module:m${i}\0conda:activate\0conda:e${v}\0`);
        expect(printed).toBe(`argv:${v}\0argv:x\0`);
        expect(() => readFileSync(join(dir, "PWNED"))).toThrow();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
