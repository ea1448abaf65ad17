import { join } from "node:path";
import { compileFile } from "../../compiler/compile.js";
import type { ElementEdge } from "../../compiler/plan/element-edges.js";
import type { Plan, PlanDep, PlanStep, PlanTask } from "../../contract/plan.js";
import { repoRoot } from "../e2e/helpers.js";

export const samples = ["qiime-search", "reads-split", "ruffus-jobs-limit", "scipion-steps"] as const;

/** A sample's plan, compiled in-process the way `wfc compile` would. */
export async function samplePlan(sample: (typeof samples)[number]): Promise<Plan> {
  const result = await compileFile(join(repoRoot, `samples/${sample}/workflow.yaml`), { planPath: join(repoRoot, "plan.json") });
  if (result.plan === undefined) throw new Error(`samples/${sample} does not compile: ${JSON.stringify(result.diagnostics)}`);
  return result.plan;
}

function step(stage: string, from: { task: string; step: string }[] = []): PlanStep {
  return {
    stage,
    action: { kind: "shell", command: [`run ${stage} `, { inputs: true }], shell: "sh" },
    inputs:
      from.length === 0 ? [] : [{ name: null, template: ["in/", { var: "i" }], glob: false, from: from.map((f) => ({ ...f, output: 0 })) }],
    outputs: [{ name: null, template: ["out/", { var: "i" }], glob: false, from: [] }],
    env: {},
  };
}

function task(id: string, steps: PlanStep[], deps: PlanDep[], extra: Partial<PlanTask> = {}): PlanTask {
  return {
    id,
    stages: steps.map((s) => s.stage),
    space: { vars: [{ name: "i", range: [0, 10, 1] }], zip: [], size: 10 },
    steps,
    deps,
    executor: "local",
    resources: { cpus: 1, mem: null, time: null },
    retries: 0,
    timeout: null,
    batch: 1,
    jobs: 10,
    groups: [],
    priority: 1,
    ...extra,
  };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

const dep = (taskId: string, edge: ElementEdge, step: string | null): PlanDep => ({
  task: taskId,
  edge,
  input: step === null ? null : { step, index: 0 },
});

/**
 * A plan no sample produces: a fused task (a cluster), a map edge, a match
 * with renamed variables and fixed values, `after` into and out of a fused
 * task, and names with quotes, dashes, backslashes, `#`, `<>` and unicode,
 * plus `end` (a Mermaid keyword).
 */
export function awkwardPlan(): Plan {
  const fetch = 'fetch-"raw"';
  const fused = "align+sort";
  return {
    plan: 6,
    wfc: "0.1.0",
    name: 'awk "ward" ünï',
    source: { file: "workflow.yaml", format: "yaml", sha256: "0".repeat(64) },
    workdir: ".",
    params: {},
    jobs: 4,
    executors: {
      htex: { type: "processes", max: 8, runs: ["fn", "run"] },
      local: { type: "threads", max: 2, runs: ["fn", "run"] },
    },
    groups: [
      { id: "cap:résumé", capacity: 5, kind: "cap" },
      { id: "limit:db-<1>", capacity: 4, kind: "limit" },
    ],
    tasks: [
      task("setup", [step("setup")], [], { priority: 5 }),
      task(fetch, [step(fetch)], [], { priority: 4.5 }),
      task(
        fused,
        [step("align", [{ task: fetch, step: fetch }]), step("sort", [{ task: fused, step: "align" }])],
        [dep(fetch, { kind: "map", offsets: range(11), indices: range(10) }, "align"), dep("setup", { kind: "all" }, null)],
        {
          executor: "htex",
          batch: 4,
          jobs: 3,
          groups: [{ group: "limit:db-<1>", weight: 2 }],
          priority: 3,
          // `size` for the match below (a plan must be consistent to load).
          space: {
            vars: [
              { name: "i", range: [0, 10, 1] },
              { name: "size", values: ["small"] },
            ],
            zip: [],
            size: 10,
          },
        },
      ),
      task(
        "résumé",
        [step("résumé", [{ task: fused, step: "sort" }])],
        [dep(fused, { kind: "match", on: [["i", "j"]], where: { size: "small" }, when: { k: "x#1" } }, "résumé")],
        {
          groups: [{ group: "cap:résumé", weight: 1 }],
          priority: 2,
          // `j` and `k` for the match above, zipped with `i` so there are still 10 elements.
          space: {
            vars: [
              { name: "i", range: [0, 10, 1] },
              { name: "j", range: [0, 10, 1] },
              { name: "k", values: range(10).map(() => "x#1") },
            ],
            zip: ["i", "j", "k"],
            size: 10,
          },
        },
      ),
      task(
        "end",
        [step("end", [{ task: "résumé", step: "résumé" }])],
        [dep("résumé", { kind: "all" }, "end"), dep(fused, { kind: "all" }, null)],
      ),
      task("back\\slash", [step("back\\slash", [{ task: "end", step: "end" }])], [dep("end", { kind: "one-to-one" }, "back\\slash")]),
    ],
  };
}
