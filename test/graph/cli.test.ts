import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { canonicalJson } from "../../contract/canonical-json.js";
import { renderDot } from "../../compiler/render/dot.js";
import { renderMermaid } from "../../compiler/render/mermaid.js";
import { fixture, repoRoot, wfc } from "../e2e/helpers.js";
import { awkwardPlan, samplePlan } from "./plans.js";

describe("wfc graph", () => {
  test("a plan from `wfc compile`: DOT on stdout by default, exit 0", async () => {
    const dir = fixture({});
    const compiled = await wfc(["compile", join(repoRoot, "samples/ruffus-jobs-limit/workflow.yaml"), "-o", "plan.json"], { cwd: dir });
    expect(compiled.exitCode).toBe(0);
    const r = await wfc(["graph", "plan.json"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    // Labels hold nothing machine-specific, so the in-process plan draws the same (with the legend `wfc graph` adds).
    expect(r.stdout + "\n").toBe(renderDot(await samplePlan("ruffus-jobs-limit"), { legend: true }));
  });

  test("--format mermaid -o FILE writes the file and says so", async () => {
    const dir = fixture({ "plan.json": canonicalJson(awkwardPlan()) });
    const r = await wfc(["graph", "plan.json", "--format", "mermaid", "-o", "out/graph.mmd"], { cwd: dir });
    expect(r).toEqual({ exitCode: 0, stdout: "out/graph.mmd: mermaid graph of 6 tasks", stderr: "" });
    expect(readFileSync(join(dir, "out/graph.mmd"), "utf8")).toBe(renderMermaid(awkwardPlan(), { legend: true }));
  });

  test("an unknown --format is a usage error", async () => {
    const dir = fixture({ "plan.json": canonicalJson(awkwardPlan()) });
    const r = await wfc(["graph", "plan.json", "--format", "svg"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("error: option '--format <format>' argument 'svg' is invalid. Allowed choices are dot, mermaid.");
  });

  const broken: [string, Record<string, unknown>, string][] = [
    ["a missing plan", {}, "wfc: error: cannot read plan `plan.json`: no such file"],
    [
      "a file that is not JSON",
      { "plan.json": "digraph { a -> b }\n" },
      "wfc: error: `plan.json` is not a wfc plan: it is not valid JSON; plans are written by `wfc compile WORKFLOW -o FILE`",
    ],
    [
      "a plan without its tasks",
      { "plan.json": JSON.stringify({ ...awkwardPlan(), tasks: undefined }) },
      "wfc: error: `plan.json` is not a valid wfc plan: the top level is missing `tasks`; recompile it with `wfc compile`",
    ],
    [
      "a plan from an incompatible wfc",
      { "plan.json": JSON.stringify({ ...awkwardPlan(), plan: 1 }) },
      "wfc: error: `plan.json`: this plan was written by an incompatible wfc (plan version 1); recompile it with `wfc compile`",
    ],
  ];
  test.for(broken)("%s: exit 2, one line on stderr, no stack trace", async ([, files, message]) => {
    const dir = fixture(files);
    const r = await wfc(["graph", "plan.json"], { cwd: dir });
    expect(r).toEqual({ exitCode: 2, stdout: "", stderr: message });
  });
});
