/**
 * Steps in software environments on the local cluster from .ci/slurm/up.sh
 * (issue 15; skipped without a cluster, podman or Environment Modules, a
 * failure on CI): a stage in a podman container (the slurm executor's
 * `container_engine: podman`) through `wfc run` and through `wfc export
 * slurm` + submit.sh, its outputs right and owned by the running user; a
 * module step (MODULEPATH reaches the job with the submitting environment);
 * a missing image or engine fails the job with its one line, in its log and
 * in wfc's failure; a cancelled job leaves no container behind.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";
import { BUSYBOX, buildTestImages, describeIf, modulesProblem, podmanProblem, writeModules } from "../env/images.js";
import { describeSlurm, waitForJobs } from "./cluster.js";
import { jobsTsv, wfcBin } from "./export-helpers.js";

const TIMEOUT = 150_000;
const IMAGE = `${BUSYBOX}:1`;

const temporary: string[] = [];
const submitted: string[] = [];
afterAll(async () => {
  if (submitted.length > 0) await execa("scancel", submitted, { reject: false, timeout: 30_000 });
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/** A workflow folder (a name that needs quoting) with `wf.yaml`. */
function workflow(yaml: string): string {
  const d = fixture({ "it's here/wf.yaml": yaml });
  temporary.push(d);
  return join(d, "it's here");
}

/** One containerised stage on a slurm executor whose engine is podman. */
const BOXED = (image: string, run = 'echo "$FOO {i}" > {outputs}; cat /etc/wfc-test-image >> {outputs}; id -u >> {outputs}') => `wfc: 1
name: boxed
executors:
  cluster: { type: slurm, container_engine: podman }
stages:
  boxed:
    foreach: { i: { range: [0, 2] } }
    outputs: "out/{i}.txt"
    executor: cluster
    container: ${image}
    shell: sh
    env: { FOO: "it's $(not) run" }
    run: '${run}'
`;

interface Summary {
  readonly status: string;
  readonly done: number;
  readonly failures: readonly { readonly reason: string; readonly tail: string }[];
}

/** `wfc run --json`: its exit code and summary; every array it submitted is noted for cleanup. */
async function run(dir: string, env: Record<string, string> = {}): Promise<{ exitCode: number | undefined; summary: Summary }> {
  const r = await wfc(["run", "wf.yaml", "--json"], { cwd: dir, env });
  let summary: Summary | undefined;
  for (const line of r.stdout.split("\n").filter((l) => l.startsWith("{"))) {
    const e = JSON.parse(line) as { type: string; jobId?: string; summary?: Summary };
    if (e.type === "slurm-submit") submitted.push(e.jobId!);
    if (e.type === "run-end") summary = e.summary;
  }
  if (summary === undefined) throw new Error(`wfc run exited ${r.exitCode} without a summary: ${r.stderr}`);
  return { exitCode: r.exitCode, summary };
}

/** `wfc export slurm` to `slurm/`, then submit.sh; waits until its arrays end. The array's ids. */
async function exportAndSubmit(dir: string): Promise<string[]> {
  const exported = await wfc(["export", "slurm", "wf.yaml", "-o", "slurm"], { cwd: dir });
  if (exported.exitCode !== 0) throw new Error(`export exited ${exported.exitCode}: ${exported.stderr}`);
  const submit = await execa("bash", [join(dir, "slurm", "submit.sh")], { cwd: tmpdir(), env: { WFC: wfcBin }, reject: false });
  const ids = jobsTsv(join(dir, "slurm")).map(([, id]) => id);
  submitted.push(...ids);
  if (submit.exitCode !== 0) throw new Error(`submit.sh exited ${submit.exitCode}: ${String(submit.stderr)}`);
  await waitForJobs(ids, 90_000);
  return ids;
}

/** What each element of a boxed run wrote: its variable, the image's mark (only in the image), the user. */
function expectBoxedOutputs(dir: string): void {
  for (const i of [0, 1]) {
    const out = join(dir, "out", `${i}.txt`);
    expect(readFileSync(out, "utf8")).toBe(`it's $(not) run ${i}\n1\n${process.getuid!()}\n`);
    expect(statSync(out).uid).toBe(process.getuid!());
  }
}

/** The containers of wfc's SLURM jobs that still exist: of the given arrays (others' tests share podman's store). */
function wfcContainers(ids: readonly string[]): string[] {
  return execFileSync("podman", ["ps", "-a", "--format", "{{.Names}}"], { encoding: "utf8" })
    .split("\n")
    .filter((n) => ids.some((id) => n.startsWith(`wfc-${id}-`)));
}

describeSlurm("steps in software environments on the cluster (.ci/slurm/up.sh)", () => {
  describeIf(podmanProblem(), "in a podman container", () => {
    beforeAll(() => buildTestImages(), 180_000);

    test(
      "wfc run: the slurm executor runs the stage in its podman container; outputs right, owned by the user, no container left",
      async () => {
        const dir = workflow(BOXED(IMAGE));
        const before = submitted.length;
        const r = await run(dir);
        expect(r.summary).toMatchObject({ status: "ok", done: 2 });
        expect(r.exitCode).toBe(0);
        expectBoxedOutputs(dir);
        expect(submitted.length).toBe(before + 1);
        expect(wfcContainers(submitted.slice(before))).toEqual([]);
        // The image's digest is recorded as for a local job: another image makes the stage out of date.
        expect(readFileSync(join(dir, ".wfc", "journal.ndjson"), "utf8")).toMatch(/"digest":"sha256:[0-9a-f]{64}"/);
        writeFileSync(join(dir, "wf.yaml"), BOXED(`${BUSYBOX}:2`));
        const dry = await wfc(["run", "wf.yaml", "--dry-run"], { cwd: dir });
        expect(dry.stdout + dry.stderr).toContain("would run boxed#1: environment changed");
      },
      TIMEOUT,
    );

    test(
      "wfc export slurm + submit.sh: the same stage, its container entered by the array's step script",
      async () => {
        const dir = workflow(BOXED(IMAGE));
        const ids = await exportAndSubmit(dir);
        expect(ids).toHaveLength(1);
        expectBoxedOutputs(dir);
        expect(wfcContainers(ids)).toEqual([]);
      },
      TIMEOUT,
    );

    test(
      "an exported job whose image is missing fails with one line naming the stage, the image and the fix; nothing written",
      async () => {
        const dir = workflow(BOXED(`${BUSYBOX}:404`));
        await exportAndSubmit(dir);
        const logs = readdirSync(join(dir, "slurm", "logs"));
        expect(logs).toHaveLength(2);
        for (const log of logs) {
          const last = readFileSync(join(dir, "slurm", "logs", log), "utf8")
            .trimEnd()
            .split("\n")
            .at(-1)!;
          expect(last).toMatch(
            new RegExp(
              `^wfc: environment: stage \`boxed\`: podman has no image ${BUSYBOX}:404 on \\S+ and could not pull it \\(.+\\): build or pull it there first \\(podman pull ${BUSYBOX}:404\\), or name another image$`,
            ),
          );
        }
        expect(existsSync(join(dir, "out", "0.txt"))).toBe(false);
      },
      TIMEOUT,
    );

    test(
      "wfc run: a missing image fails the first job with this machine's check before anything is submitted",
      async () => {
        const dir = workflow(BOXED(`${BUSYBOX}:404`));
        const before = submitted.length;
        const r = await run(dir);
        expect(r.exitCode).toBe(1);
        expect(submitted.length).toBe(before);
        expect(r.summary.failures).toHaveLength(1);
        expect(r.summary.failures[0]!.reason).toMatch(
          new RegExp(`^stage \`boxed\`: podman has no image ${BUSYBOX}:404 and could not pull it \\(.+\\): build or pull it first`),
        );
        expect(existsSync(join(dir, "out"))).toBe(false);
      },
      TIMEOUT,
    );

    test(
      "wfc run: an engine this machine cannot check (not installed) is checked in the job; its one line is wfc's failure",
      async () => {
        // singularity is not installed: this machine's check is skipped (a login node may lack it), the job's fails.
        const dir = workflow(BOXED(IMAGE).replace("container_engine: podman", "container_engine: singularity"));
        const r = await run(dir);
        expect(r.exitCode).toBe(1);
        expect(r.summary.failures).toHaveLength(2);
        for (const f of r.summary.failures) {
          expect(f.reason).toMatch(
            /^stage `boxed`: singularity is not installed on \S+ \(not on PATH\): install it there, or choose another engine \(`container_engine` on the executor, or \[containers\] engine in the config\)$/,
          );
          expect(f.tail).toBe(`wfc: environment: ${f.reason}`);
        }
      },
      TIMEOUT,
    );

    test(
      "scancel of an exported job in a container: the container does not outlive it",
      async () => {
        const dir = workflow(BOXED(IMAGE, "sleep 300; echo late > {outputs}"));
        const exported = await wfc(["export", "slurm", "wf.yaml", "-o", "slurm"], { cwd: dir });
        expect(exported.exitCode).toBe(0);
        await execa("bash", [join(dir, "slurm", "submit.sh")], { cwd: tmpdir() });
        const [id] = jobsTsv(join(dir, "slurm")).map(([, x]) => x);
        submitted.push(id!);
        // Its two containers run, named after the array's job id and index.
        const names = [`wfc-${id}-0-0`, `wfc-${id}-1-0`];
        for (let tries = 0; names.some((n) => !wfcContainers([id!]).includes(n)); tries++) {
          if (tries > 600) throw new Error(`containers ${names.join(", ")} never ran: ${wfcContainers([id!]).join(", ")}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        await execa("scancel", [id!]);
        await waitForJobs([id!], 60_000);
        for (let tries = 0; wfcContainers([id!]).length > 0; tries++) {
          if (tries > 300) throw new Error(`containers left after scancel: ${wfcContainers([id!]).join(", ")}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(existsSync(join(dir, "out", "0.txt"))).toBe(false);
      },
      TIMEOUT,
    );
  });

  describeIf(modulesProblem(), "with environment modules", () => {
    const modulepath = writeModules({ "greet/1.0": { greet: '#!/bin/sh\necho "hello from greet 1.0: $*"\n' } });
    const MODS = (modules: string) => `wfc: 1
name: mods
executors:
  cluster: { type: slurm }
stages:
  hello:
    foreach: { i: { range: [0, 2] } }
    outputs: "m/{i}.txt"
    executor: cluster
    modules: [${modules}]
    run: "greet {i} > {outputs}"
`;

    test(
      "wfc run and the export: a module the test wrote puts its tool on PATH in the job (MODULEPATH travels with sbatch)",
      async () => {
        const dir = workflow(MODS("greet/1.0"));
        const r = await run(dir, { MODULEPATH: modulepath });
        expect(r.summary).toMatchObject({ status: "ok", done: 2 });
        expect(readFileSync(join(dir, "m", "1.txt"), "utf8")).toBe("hello from greet 1.0: 1\n");
        rmSync(join(dir, "m"), { recursive: true });
        const exported = await wfc(["export", "slurm", "wf.yaml", "-o", "slurm"], { cwd: dir });
        expect(exported.exitCode).toBe(0);
        await execa("bash", [join(dir, "slurm", "submit.sh")], { cwd: tmpdir(), env: { MODULEPATH: modulepath } });
        const ids = jobsTsv(join(dir, "slurm")).map(([, id]) => id);
        submitted.push(...ids);
        await waitForJobs(ids, 90_000);
        expect(readFileSync(join(dir, "m", "0.txt"), "utf8")).toBe("hello from greet 1.0: 0\n");
      },
      TIMEOUT,
    );

    test(
      "an exported job whose module is missing fails with one line naming the stage and the module",
      async () => {
        const dir = workflow(MODS("greet/1.0, nope/9"));
        const exported = await wfc(["export", "slurm", "wf.yaml", "-o", "slurm"], { cwd: dir });
        expect(exported.exitCode).toBe(0);
        await execa("bash", [join(dir, "slurm", "submit.sh")], { cwd: tmpdir(), env: { MODULEPATH: modulepath } });
        const ids = jobsTsv(join(dir, "slurm")).map(([, id]) => id);
        submitted.push(...ids);
        const states = await waitForJobs(ids, 90_000);
        expect([...states.values()].map((s) => s.state)).toEqual(["FAILED", "FAILED"]);
        const log = readdirSync(join(dir, "slurm", "logs"))[0]!;
        expect(
          readFileSync(join(dir, "slurm", "logs", log), "utf8")
            .trimEnd()
            .split("\n")
            .at(-1),
        ).toMatch(/^wfc: environment: stage `hello`: module "nope\/9" is not available on \S+ \(module is-avail\): see `module avail`/);
      },
      TIMEOUT,
    );
  });
});
