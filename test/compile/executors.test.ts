import { describe, expect, test } from "vitest";
import { stringify as stringifyToml } from "smol-toml";
import { stringify } from "yaml";
import { compileDocument } from "../../compiler/compile.js";
import { mergeConfigs } from "../../compiler/config/merge.js";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";

/** A config as if read from site.toml. */
function config(table: Record<string, unknown>) {
  const document = parseSource(new SourceFile("site.toml", stringifyToml(table)), "toml");
  return mergeConfigs([{ document, data: table }]);
}

async function assignments(stages: Record<string, unknown>, extra: Record<string, unknown> = {}, table?: Record<string, unknown>) {
  const doc = parseSource(new SourceFile("/tmp/wfc-exec/wf.yaml", stringify({ wfc: 1, ...extra, stages })), "yaml");
  const result = await compileDocument(doc, { ...(table ? { config: config(table) } : {}) });
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const notes = result.notes.filter((n) => n.topic === "executor").map((n) => n.message);
  return { plan: result.plan!, notes };
}

const cluster = { executors: { cluster: { type: "slurm", partition: "short" }, big: { type: "processes", max: 2 } } };

describe("executor assignment, first rule wins", () => {
  test("built-in defaults: processes for commands, threads for fn, sized where the plan runs", async () => {
    const { plan, notes } = await assignments({ a: { run: "true" } });
    expect(plan.executors).toEqual({ processes: { type: "processes", max: null, runs: ["fn", "run"] } });
    expect(notes).toEqual(["`a` → `processes` (processes): built-in default for commands"]);
  });

  test("the stage's own executor beats the config's mapping by name and label", async () => {
    const { notes } = await assignments(
      { a: { run: "true", executor: "threads", labels: ["hpc"] } },
      {},
      { ...cluster, map: { stages: { a: "cluster" }, labels: { hpc: "big" } } },
    );
    expect(notes).toEqual(["`a` → `threads` (threads): the stage sets `executor: threads`"]);
  });

  test("mapping by stage name beats mapping by label", async () => {
    const { notes } = await assignments(
      { a: { run: "true", labels: ["hpc"] } },
      {},
      { ...cluster, map: { stages: { a: "cluster" }, labels: { hpc: "big" } } },
    );
    expect(notes).toEqual(["`a` → `cluster` (slurm): mapped by stage name in site.toml"]);
  });

  test("mapping by label beats the workflow's default", async () => {
    const { notes } = await assignments(
      { a: { run: "true", labels: ["hpc"] } },
      { defaults: { executor: "threads" } },
      { ...cluster, map: { labels: { hpc: "big" } } },
    );
    expect(notes).toEqual(["`a` → `big` (processes): label `hpc` mapped in site.toml"]);
  });

  test("the workflow's default beats the built-in one", async () => {
    const { notes } = await assignments({ a: { run: "true" } }, { defaults: { executor: "threads" } });
    expect(notes).toEqual(["`a` → `threads` (threads): the workflow's `defaults.executor`"]);
  });

  test("a mapping to an executor that cannot run the stage's kind is passed over", async () => {
    const table = { executors: { fnonly: { type: "threads", runs: ["fn"] } }, map: { stages: { a: "fnonly" } } };
    const { notes } = await assignments({ a: { run: "true" } }, {}, table);
    expect(notes).toEqual(["`a` → `processes` (processes): built-in default for commands"]);
  });
});
