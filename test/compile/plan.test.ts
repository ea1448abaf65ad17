import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { compileFile } from "../../compiler/compile.js";
import { canonicalJson } from "../../contract/canonical-json.js";
import type { Plan } from "../../contract/plan.js";
import { fixture, repoRoot } from "../e2e/helpers.js";

const validatePlan = new Ajv2020({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(join(repoRoot, "schema/plan.schema.json"), "utf8")),
);
const samples = ["qiime-search", "reads-split", "ruffus-jobs-limit", "scipion-steps"];

async function plan(file: string, options = {}): Promise<Plan> {
  const result = await compileFile(join(repoRoot, file), { planPath: join(repoRoot, "plan.json"), ...options });
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.plan!;
}

describe.each(samples)("samples/%s", (sample) => {
  test("compiles to a plan that satisfies schema/plan.schema.json", async () => {
    const p = await plan(`samples/${sample}/workflow.yaml`);
    expect(validatePlan(JSON.parse(canonicalJson(p))), JSON.stringify(validatePlan.errors)).toBe(true);
    expect(p).toMatchObject({ plan: 6, workdir: `samples/${sample}`, source: { file: `samples/${sample}/workflow.yaml`, format: "yaml" } });
  });

  test("compiles byte-identically twice, and identically from YAML and TOML", async () => {
    const a = canonicalJson(await plan(`samples/${sample}/workflow.yaml`));
    const b = canonicalJson(await plan(`samples/${sample}/workflow.yaml`));
    expect(a).toBe(b);
    const fromToml = await plan(`samples/${sample}/workflow.toml`);
    const fromYaml = await plan(`samples/${sample}/workflow.yaml`);
    expect({ ...fromToml, source: null }).toEqual({ ...fromYaml, source: null });
  });
});

describe("element-level edges", () => {
  test("QIIME: search expands from split's chunks, search → merge a barrier, merge → summarize one-to-one", async () => {
    const p = await plan("samples/qiime-search/workflow.yaml");
    const deps = Object.fromEntries(p.tasks.map((t) => [t.id, t.deps.map((d) => `${d.task}:${d.edge.kind}`)]));
    expect(deps).toEqual({ split: [], search: ["split:expand"], merge: ["search:all"], summarize: ["merge:one-to-one"] });
    const search = p.tasks.find((t) => t.id === "search")!;
    expect(search).toMatchObject({
      jobs: null,
      space: { vars: [], size: 1, dynamic: { vars: ["chunk"], from: { kind: "files", task: "split", step: "split", output: 0 }, per: [] } },
    });
    const merge = p.tasks.find((t) => t.id === "merge")!;
    expect(merge.steps[0]!.inputs[0]).toMatchObject({ glob: true, from: [{ task: "search", step: "search", output: 0 }] });
  });

  test("Ruffus: stage1_small takes the `small` files of make_files, matched on `i`", async () => {
    const p = await plan("samples/ruffus-jobs-limit/workflow.yaml");
    const small = p.tasks.find((t) => t.id === "stage1_small")!;
    expect(small.deps).toEqual([
      {
        task: "make_files",
        edge: { kind: "match", on: [["i", "i"]], where: { size: "small" }, when: {} },
        input: { step: "stage1_small", index: 0 },
      },
    ]);
    const stage2 = p.tasks.find((t) => t.id === "stage2")!;
    expect(stage2.deps.map((d) => [d.task, d.edge.kind])).toEqual([
      ["stage1_big", "match"],
      ["stage1_small", "match"],
    ]);
  });

  test("Ruffus: the shared limit and stage2's own cap become groups", async () => {
    const p = await plan("samples/ruffus-jobs-limit/workflow.yaml");
    expect(p.groups).toEqual([
      { id: "cap:stage2", capacity: 5, kind: "cap" },
      { id: "limit:ftp_download_limit", capacity: 3, kind: "limit" },
    ]);
    expect(Object.fromEntries(p.tasks.map((t) => [t.id, t.groups]))).toEqual({
      make_files: [],
      stage1_big: [{ group: "limit:ftp_download_limit", weight: 1 }],
      stage1_small: [{ group: "limit:ftp_download_limit", weight: 1 }],
      stage2: [{ group: "cap:stage2", weight: 1 }],
    });
    expect(p.jobs).toBe(10);
  });

  test("Scipion: createOutputStep waits for every processStep (after and data)", async () => {
    const p = await plan("samples/scipion-steps/workflow.yaml");
    const out = p.tasks.find((t) => t.id === "createOutputStep")!;
    expect(out.deps.map((d) => [d.task, d.edge.kind, d.input === null ? "after" : "input"])).toEqual([
      ["processStep", "all", "after"],
      ["processStep", "all", "input"],
    ]);
  });

  test("priorities follow the critical path: the head of the longest chain comes first", async () => {
    const p = await plan("samples/qiime-search/workflow.yaml");
    expect(p.tasks.map((t) => [t.id, t.priority])).toEqual([
      ["split", 4],
      ["search", 3],
      ["merge", 2],
      ["summarize", 1],
    ]);
  });
});

describe("priorities and limits", () => {
  test("a stage behind a tight limit outranks a short free chain, and its producer inherits that", async () => {
    const dir = fixture({
      "wf.yaml": [
        "wfc: 1",
        "limits: { one: 1 }",
        "stages:",
        "  free: { foreach: { i: { range: [0, 30] } }, outputs: 'free/{i}', run: 'touch {outputs}' }",
        "  make: { foreach: { i: { range: [0, 30] } }, outputs: 'in/{i}', run: 'touch {outputs}' }",
        "  limited: { foreach: { i: { range: [0, 30] } }, inputs: 'in/{i}', outputs: 'lim/{i}', limit: one, run: 'cp {inputs} {outputs}', fuse: false }",
      ].join("\n"),
    });
    const result = await compileFile(join(dir, "wf.yaml"), { planPath: join(dir, "plan.json") });
    expect(result.plan!.tasks.map((t) => [t.id, t.priority])).toEqual([
      ["free", 1],
      ["make", 31],
      ["limited", 30],
    ]);
    expect(result.notes.filter((n) => n.topic === "priority").map((n) => n.message)).toEqual([
      "`make`: 31 s of critical path from its start",
      "`limited`: 30 s (group `limit:one` needs 30 s to get through its work)",
      "`free`: 1 s of critical path from its start",
    ]);
  });
});
