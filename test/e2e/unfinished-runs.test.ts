import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { fixture, repoRoot, wfc } from "./helpers.js";

// Issue 11, point 8: a run that did not complete every job never exits 0.

test("an fn that calls process.exit() on threads fails its job with that cause; the others run, the lock is released", async () => {
  const dir = fixture({
    "fx.mjs": `import { writeFileSync } from "node:fs";\nexport function work({ vars, outputs }) { if (vars.i === 3) process.exit(3); writeFileSync(outputs, ""); }\n`,
    "wf.yaml": {
      wfc: 1,
      executors: { t: { type: "threads" } },
      stages: { a: { foreach: { i: [1, 2, 3, 4, 5, 6, 7] }, outputs: "out/{i}.txt", fn: "fx.mjs#work", executor: "t" } },
    },
  });
  const r = await wfc(["run", "wf.yaml", "--keep-going"], { cwd: dir });
  expect(r.stderr).toContain("the function called process.exit(3)");
  expect(r.stderr).toMatch(/\n(failed|error): 6 done, 0 up to date, 1 failed, 0 not run in /);
  expect(r.exitCode).toBe(1);
  expect(existsSync(join(dir, ".wfc", "lock"))).toBe(false);
});

test("an fn that calls process.exit() in a child process fails its job, not the run", async () => {
  const dir = fixture({
    "fx.mjs": `import { writeFileSync } from "node:fs";\nexport function work({ vars, outputs }) { writeFileSync(outputs, ""); if (vars.i === 2) setTimeout(() => process.exit(0), 0); return new Promise((r) => setTimeout(r, 50)); }\n`,
    "wf.yaml": {
      wfc: 1,
      executors: { p: { type: "processes" } },
      stages: { a: { foreach: { i: [1, 2, 3] }, outputs: "out/{i}.txt", fn: "fx.mjs#work", executor: "p" } },
    },
  });
  const r = await wfc(["run", "wf.yaml", "--keep-going"], { cwd: dir });
  expect(r.stderr).toContain("the function called process.exit(0)");
  expect(r.exitCode).toBe(1);
  expect(existsSync(join(dir, ".wfc", "lock"))).toBe(false);
});

/** plan.json of two tasks of 3 jobs each, each waiting for all of the other's (what a hand edit can make). */
async function cyclicPlan(): Promise<string> {
  const dir = fixture({
    "wf.yaml": {
      wfc: 1,
      stages: {
        a: { foreach: { i: [1, 2, 3] }, outputs: "a/{i}.txt", run: "echo a > {outputs}" },
        b: { foreach: { i: [1, 2, 3] }, inputs: "a/*.txt", outputs: "b/{i}.txt", run: "cat {inputs} > {outputs}" },
      },
    },
  });
  expect((await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir })).exitCode).toBe(0);
  const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as {
    tasks: { deps: unknown[]; steps: { inputs: unknown[] }[] }[];
  };
  plan.tasks[0]!.steps[0]!.inputs = plan.tasks[1]!.steps[0]!.inputs;
  plan.tasks[0]!.deps = [{ edge: { kind: "all" }, input: { index: 0, step: "a" }, task: "b" }];
  writeFileSync(join(dir, "cycle.json"), JSON.stringify(plan));
  return dir;
}

test("a plan whose jobs can never start does not end ok: the run says why and exits non-zero", async () => {
  const dir = await cyclicPlan();
  const r = await wfc(["run", "cycle.json"], { cwd: dir });
  // Plan loading may reject the cycle first (exit 2); either way the run does not pass for a success.
  expect(r.exitCode).not.toBe(0);
  expect(r.stderr).not.toMatch(/^ok:/m);
  expect(r.stderr).toMatch(/cycle/);
});

test("the library API refuses a plan object with a dependency cycle: it rejects before any job runs", async () => {
  const dir = await cyclicPlan();
  const file = join(repoRoot, `.unfinished-test-${process.pid}.mjs`);
  writeFileSync(
    file,
    `import { run } from "wfc/runtime";
     import { readFileSync } from "node:fs";
     const out = await run(JSON.parse(readFileSync("cycle.json", "utf8"))).then(
       (s) => ({ status: s.status, notRun: s.notRun, reason: s.reason }),
       (e) => ({ rejected: e.constructor.name, message: e.message }),
     );
     console.log(JSON.stringify(out));`,
  );
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [file], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
      let text = "";
      child.stdout.on("data", (d: Buffer) => (text += d.toString()));
      child.on("error", reject);
      child.on("close", () => resolve(text));
    });
    // The run loop would also fail such a run ("N jobs never became ready"), but the plan's check comes first.
    const result = JSON.parse(out) as { rejected: string; message: string };
    expect(result.rejected).toBe("RunError");
    expect(result.message).toMatch(/dependency cycle/);
    expect(existsSync(join(dir, ".wfc", "journal.ndjson"))).toBe(false);
  } finally {
    (await import("node:fs")).rmSync(file, { force: true });
  }
});

test("a closed stdout (`wfc run … | head -1`) does not stop the run: every job runs, exit by the jobs' results", async () => {
  const dir = fixture({
    "wf.yaml": {
      wfc: 1,
      stages: { a: { foreach: { i: [1, 2, 3, 4, 5] }, outputs: "out/{i}.txt", run: "sleep 0.2; echo {i} > {outputs}" } },
    },
  });
  const child = spawn(process.execPath, [join(repoRoot, "dist/cli/bin.js"), "run", "wf.yaml", "--jobs", "1"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  // Read the first line, then close the pipe as `head -1` does.
  await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  child.stdout.destroy();
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  expect(stderr).toMatch(/^ok: 5 done, 0 up to date, 0 failed, 0 not run in /m);
  expect(code).toBe(0);
  expect(readdirSync(join(dir, "out")).sort()).toEqual(["1.txt", "2.txt", "3.txt", "4.txt", "5.txt"]);
  expect(existsSync(join(dir, ".wfc", "lock"))).toBe(false);
});
