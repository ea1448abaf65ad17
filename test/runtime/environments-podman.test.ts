/**
 * Steps in podman containers, run by the built CLI from hand-built plans
 * (issue 15; the compiler's side is tested with workflows elsewhere): the
 * job sees the workflow folder at its own path and its `env`, writes its
 * outputs as the running user, reads inputs outside the folder read-only;
 * another image re-runs the step; a missing image fails the first job with
 * one line and starts no other; a stopped run leaves no container behind.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, expect, test } from "vitest";
import { repoRoot, wfc } from "../e2e/helpers.js";
import { BASH_IMAGE, BUSYBOX, buildTestImages, describeIf, importRootfs, podmanProblem } from "../env/images.js";
import { envPlan, planFolder } from "../env/plans.js";

const busybox1 = `${BUSYBOX}:1`;
const busybox2 = `${BUSYBOX}:2`;

/**
 * The containers of wfc runs in `dir` that still exist (running or not):
 * those that mount it, so that other test files' containers running at
 * the same time do not count.
 */
function wfcContainers(dir: string): string[] {
  return execFileSync("podman", ["ps", "-a", "--format", "{{.Names}} {{.Mounts}}"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.startsWith("wfc-") && l.includes(dir))
    .map((l) => l.split(" ")[0]!);
}

const events = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describeIf(podmanProblem(), "steps in podman containers", () => {
  beforeAll(() => buildTestImages(), 180_000);

  test("a shell step in the busybox image writes its outputs as the running user, in the workflow folder, with its env", async () => {
    const p = envPlan([
      {
        id: "make",
        size: 2,
        step: {
          run: 'echo "$FOO {i}" > {outputs}; id -u >> {outputs}; pwd >> {outputs}; cat /etc/wfc-test-image >> {outputs}',
          shell: "sh",
          outputs: ["out/{i}.txt"],
          env: { FOO: "it's $(not) run" },
          environment: { container: busybox1 },
        },
      },
    ]);
    const dir = planFolder(p);
    const r = await wfc(["run", "plan.json"], { cwd: dir });
    expect(r.stderr).toContain("ok: 2 done");
    expect(r.exitCode).toBe(0);
    for (const i of [0, 1]) {
      const out = join(dir, "out", `${i}.txt`);
      // /etc/wfc-test-image is in the image only: the command ran in the container.
      expect(readFileSync(out, "utf8")).toBe(`it's $(not) run ${i}\n${process.getuid!()}\n${dir}\n1\n`);
      expect(statSync(out).uid).toBe(process.getuid!());
      expect(statSync(out).gid).toBe(process.getgid!());
    }
    expect(wfcContainers(dir)).toEqual([]);
  });

  test("an argv step runs in the container as its words", async () => {
    const p = envPlan([
      {
        id: "copy",
        step: { argv: ["cp", "/etc/wfc-test-image", "{outputs}"], outputs: ["img.txt"], environment: { container: busybox2 } },
      },
    ]);
    const dir = planFolder(p);
    const r = await wfc(["run", "plan.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, "img.txt"), "utf8")).toBe("2\n");
  });

  test("a bash step in the bash image runs in strict mode: a failing command in a pipe fails the job", async () => {
    const p = envPlan([
      {
        id: "good",
        step: {
          run: 'x=$(cat /etc/wfc-test-image); echo "$x ${BASH_VERSION%%.*}" | cat > {outputs}',
          outputs: ["good.txt"],
          environment: { container: BASH_IMAGE },
        },
      },
      { id: "bad", step: { run: "false | cat; echo ran-on > {outputs}", outputs: ["bad.txt"], environment: { container: BASH_IMAGE } } },
    ]);
    const dir = planFolder(p);
    const r = await wfc(["run", "plan.json", "--keep-going"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(readFileSync(join(dir, "good.txt"), "utf8")).toMatch(/^bash \d+\n$/);
    expect(r.stderr).toContain("failed: bad#0 (exit 1)");
    expect(existsSync(join(dir, "bad.txt"))).toBe(false);
  });

  test("an input outside the workflow folder is bound read-only: the job reads it and cannot write it", async () => {
    const outside = mkdtempSync(join(tmpdir(), "wfc-outside-"));
    const input = join(outside, "in.txt");
    writeFileSync(input, "from outside\n");
    const p = envPlan([
      {
        id: "read",
        step: {
          run: "cat {inputs} > {outputs}; if echo x >> {inputs}; then echo wrote > {outputs}; fi",
          shell: "sh",
          inputs: [input],
          outputs: ["read.txt"],
          environment: { container: busybox1 },
        },
      },
    ]);
    const dir = planFolder(p);
    const r = await wfc(["run", "plan.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, "read.txt"), "utf8")).toBe("from outside\n");
    expect(readFileSync(input, "utf8")).toBe("from outside\n");
  });

  test("hostile values reach the container as they were: env values, and an input path outside the folder with quotes, $(…), spaces", async () => {
    const values = ["it's", '"$(touch PWNED)"', "`touch PWNED`", "a\nb", " ; rm -rf victim ", "$HOME ${x} \\", "naïve ☃"];
    const outside = mkdtempSync(join(tmpdir(), "wfc-outside '$(touch PWNED)' "));
    const input = join(outside, "in 'x' $(y).txt");
    writeFileSync(input, "read\n");
    const env = Object.fromEntries(values.map((v, i) => [`V${i}`, v]));
    const dump = values.map((_, i) => `printf '%s\\0' "$V${i}" >> {outputs}`).join("; ");
    const p = envPlan([
      {
        id: "hostile",
        step: {
          run: `${dump}; cat {inputs} /etc/wfc-test-image >> {outputs}`,
          shell: "sh",
          env,
          inputs: [input],
          outputs: ["got"],
          environment: { container: busybox1 },
        },
      },
    ]);
    const dir = planFolder(p, { "victim/keep": "x" });
    const r = await wfc(["run", "plan.json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "got"), "utf8")).toBe(values.map((v) => `${v}\0`).join("") + "read\n1\n");
    for (const place of [dir, outside, process.cwd()]) expect(existsSync(join(place, "PWNED"))).toBe(false);
    expect(existsSync(join(dir, "victim", "keep"))).toBe(true);
  });

  test("another image tag re-runs the step (`environment changed`); the same one does not", async () => {
    const stage = (image: string) =>
      envPlan([
        {
          id: "tag",
          step: { run: "cat /etc/wfc-test-image > {outputs}", shell: "sh", outputs: ["tag.txt"], environment: { container: image } },
        },
      ]);
    const dir = planFolder(stage(busybox1));
    expect((await wfc(["run", "plan.json"], { cwd: dir })).exitCode).toBe(0);
    expect(readFileSync(join(dir, "tag.txt"), "utf8")).toBe("1\n");
    const again = await wfc(["run", "plan.json"], { cwd: dir });
    expect(again.stderr).toContain("ok: 0 done, 1 up to date");

    writeFileSync(join(dir, "plan.json"), JSON.stringify(stage(busybox2)));
    const dry = await wfc(["run", "plan.json", "--dry-run"], { cwd: dir });
    expect(dry.stderr + dry.stdout).toContain("would run tag#0: environment changed");
    const r = await wfc(["run", "plan.json", "--json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(events(r.stdout).find((e) => e.type === "job-end")?.why).toBe("environment changed");
    expect(readFileSync(join(dir, "tag.txt"), "utf8")).toBe("2\n");
  });

  test("the same tag on other contents (another digest) re-runs the step", async () => {
    const image = `localhost/wfc-test-retag:${process.pid}`;
    importRootfs(image, (root) => writeFileSync(join(root, "etc", "wfc-test-image"), "first\n"));
    try {
      const p = envPlan([
        {
          id: "digest",
          step: { run: "cat /etc/wfc-test-image > {outputs}", shell: "sh", outputs: ["d.txt"], environment: { container: image } },
        },
      ]);
      const dir = planFolder(p);
      expect((await wfc(["run", "plan.json"], { cwd: dir })).exitCode).toBe(0);
      const journal = readFileSync(join(dir, ".wfc", "journal.ndjson"), "utf8");
      expect(journal).toMatch(/"digest":"sha256:[0-9a-f]{64}"/);
      expect((await wfc(["run", "plan.json"], { cwd: dir })).stderr).toContain("1 up to date");
      importRootfs(image, (root) => writeFileSync(join(root, "etc", "wfc-test-image"), "second\n"));
      const dry = await wfc(["run", "plan.json", "--dry-run"], { cwd: dir });
      expect(dry.stderr + dry.stdout).toMatch(/would run digest#0: environment changed \(its image is sha256:[0-9a-f]{64} now\)/);
      expect((await wfc(["run", "plan.json"], { cwd: dir })).exitCode).toBe(0);
      expect(readFileSync(join(dir, "d.txt"), "utf8")).toBe("second\n");
    } finally {
      execFileSync("podman", ["rmi", "-f", image], { stdio: "ignore" });
    }
  });

  test("a missing image fails the first job with one line naming the stage, the engine and the fix; no other job starts", async () => {
    const missing = `localhost/wfc-test-missing:${process.pid}`;
    const p = envPlan([
      {
        id: "need",
        size: 4,
        step: { run: "echo ran > {outputs}", shell: "sh", outputs: ["out/{i}.txt"], environment: { container: missing } },
      },
    ]);
    const dir = planFolder(p);
    const r = await wfc(["run", "plan.json", "-j", "4", "--keep-going"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const failed = r.stderr.split("\n").filter((l) => l.startsWith("failed: need#"));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(
      new RegExp(
        `^failed: need#\\d \\(stage \`need\`: podman has no image ${missing} and could not pull it \\(.+\\): build or pull it first \\(podman pull ${missing}\\), or name another image\\)$`,
      ),
    );
    expect(r.stderr).toContain("1 failed, 3 not run");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  test("Ctrl-C stops a container job: after wfc exits no wfc container is left", async () => {
    const p = envPlan([
      {
        id: "slow",
        step: { run: "echo partial > {outputs}; sleep 300", shell: "sh", outputs: ["slow.txt"], environment: { container: busybox1 } },
      },
    ]);
    const dir = planFolder(p);
    const child = spawn(process.execPath, [join(repoRoot, "dist/cli/bin.js"), "run", "plan.json", "--json"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    // The container runs once its output is there (events and files, not a fixed delay).
    while (!existsSync(join(dir, "slow.txt")) || wfcContainers(dir).length === 0) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    expect(code).toBe(130);
    expect(wfcContainers(dir)).toEqual([]);
    expect(existsSync(join(dir, "slow.txt"))).toBe(false);
  }, 60_000);

  test("a job that times out leaves no container behind", async () => {
    const p = envPlan([
      {
        id: "late",
        // It ignores SIGTERM: only the runner's SIGKILL ends its engine's client, which leaves the container running.
        step: { run: "cat /etc/wfc-test-image > ran-in.txt; trap '' TERM; sleep 300", shell: "sh", environment: { container: busybox1 } },
        extra: { timeout: 2 },
      },
    ]);
    const dir = planFolder(p);
    const r = await wfc(["run", "plan.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("failed: late#0 (timed out after 2 s)");
    expect(readFileSync(join(dir, "ran-in.txt"), "utf8")).toBe("1\n");
    expect(wfcContainers(dir)).toEqual([]);
  }, 60_000);

  test("wfc killed with SIGKILL leaves a container running: the next run removes it and says so", async () => {
    const p = envPlan([
      {
        id: "slow",
        // It ignores SIGTERM, so when wfc's worker stops the job's engine client, the container outlives it.
        step: {
          run: "echo partial > started.txt; trap '' TERM; sleep 300",
          shell: "sh",
          outputs: ["slow.txt"],
          environment: { container: busybox1 },
        },
      },
    ]);
    const dir = planFolder(p);
    const child = spawn(process.execPath, [join(repoRoot, "dist/cli/bin.js"), "run", "plan.json"], { cwd: dir, stdio: "ignore" });
    while (!existsSync(join(dir, "started.txt")) || wfcContainers(dir).length === 0) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    // What a crash leaves: the engine keeps the container running after wfc and its client are gone.
    const [left] = wfcContainers(dir);
    expect(left).toMatch(/^wfc-/);
    const next = spawn(process.execPath, [join(repoRoot, "dist/cli/bin.js"), "run", "plan.json"], {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    next.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((r) => next.on("exit", r));
    // The job starts again in a new container once the old one is gone: then the run is stopped.
    while (!stderr.includes("left by wfc run") && next.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toMatch(/wfc: removed 1 container left by wfc run \d+, which died/);
    expect(wfcContainers(dir).filter((n) => n === left)).toEqual([]);
    next.kill("SIGINT");
    await exited;
    expect(wfcContainers(dir)).toEqual([]);
  }, 90_000);
});
