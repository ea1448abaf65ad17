import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { copySample, fixture, repoRoot } from "../e2e/helpers.js";

/**
 * Runs a module as a user's program would: a real Node process importing
 * the package by name (Node resolves "wfc" to this checkout through its
 * own `exports`), so the published entry points are what is tested.
 */
async function script(dir: string, source: string) {
  const file = join(repoRoot, `.library-test-${process.pid}-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, source);
  try {
    return await execa("node", [file], { cwd: dir, reject: false, env: { WFC_CONFIG: "" } });
  } finally {
    (await import("node:fs")).rmSync(file, { force: true });
  }
}

describe("the library API: run(plan, { signal, config, onEvent })", () => {
  test("compile then run from wfc: a summary, every event, outputs written", async () => {
    const dir = copySample("qiime-search");
    const r = await script(
      dir,
      `import { compileFile, run } from "wfc";
       const { plan } = await compileFile("workflow.yaml");
       const seen = [];
       const summary = await run(plan, { config: { jobs: 2 }, onEvent: (e) => seen.push(e.type) });
       console.log(JSON.stringify({ status: summary.status, done: summary.done, first: seen[0], last: seen.at(-1), ends: seen.filter((t) => t === "job-end").length }));`,
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ status: "ok", done: 9, first: "run-start", last: "run-end", ends: 9 });
    expect(existsSync(join(dir, "results/summary.tsv"))).toBe(true);
  });

  test("a failing job resolves with the failure in the summary, not an exception", async () => {
    const dir = fixture({ "wf.yaml": { wfc: 1, stages: { boom: { outputs: "x", run: "exit 4" } } } });
    const r = await script(
      dir,
      `import { run } from "wfc/runtime";
       import { compileFile } from "wfc/compiler";
       const { plan } = await compileFile("wf.yaml");
       const s = await run(plan);
       console.log(JSON.stringify([s.status, s.failures.map((f) => [f.task, f.exitCode])]));`,
    );
    expect(JSON.parse(r.stdout)).toEqual(["failed", [["boom", 4]]]);
  });

  test("aborting the signal stops the run: interrupted, nothing left running", async () => {
    const dir = fixture({
      "wf.yaml": { wfc: 1, stages: { slow: { foreach: { i: { range: [0, 4] } }, outputs: "{i}", run: "sleep 30 && touch {outputs}" } } },
    });
    const r = await script(
      dir,
      `import { compileFile, run } from "wfc";
       const { plan } = await compileFile("wf.yaml");
       const controller = new AbortController();
       const s = await run(plan, { signal: controller.signal, onEvent: (e) => e.type === "job-start" && controller.abort() });
       console.log(JSON.stringify([s.status, s.done]));`,
    );
    expect(JSON.parse(r.stdout)).toEqual(["interrupted", 0]);
  });

  test("a plan path: loaded and checked as wfc run does; a bad one rejects with a RunError", async () => {
    const dir = copySample("scipion-steps");
    const compiled = await execa("node", [join(repoRoot, "dist/cli/bin.js"), "compile", "workflow.yaml", "-o", "plan.json"], { cwd: dir });
    expect(compiled.exitCode).toBe(0);
    writeFileSync(join(dir, "bad.json"), "{");
    const r = await script(
      dir,
      `import { run, RunError } from "wfc";
       const s = await run("plan.json");
       let error;
       try { await run("bad.json"); } catch (e) { error = e; }
       console.log(JSON.stringify([s.status, error instanceof RunError, error.message]));`,
    );
    const [status, isRunError, message] = JSON.parse(r.stdout) as [string, boolean, string];
    expect([status, isRunError]).toEqual(["ok", true]);
    expect(message).toBe("`bad.json` is not a wfc plan: it is not valid JSON; plans are written by `wfc compile WORKFLOW -o FILE`");
  });
});
