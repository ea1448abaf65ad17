/**
 * Hand-built plans with just what the scheduler reads, for its unit and
 * property tests (test/runtime/scheduler.test.ts, test/property/lanes.test.ts).
 */
import { PLAN_VERSION, type Plan, type PlanStep, type PlanTask } from "../../contract/plan.js";

/** A task of `size` elements over `i`, one job per element unless `extra.batch` says otherwise. */
export function task(id: string, size: number, extra: Partial<PlanTask> = {}): PlanTask {
  const batch = extra.batch ?? 1;
  return {
    id,
    stages: [id],
    space: { vars: [{ name: "i", range: [0, size, 1] }], zip: [], size },
    steps: [],
    deps: [],
    executor: "local",
    resources: { cpus: 1, mem: null, time: null },
    retries: 0,
    timeout: null,
    batch,
    jobs: Math.ceil(size / batch),
    groups: [],
    priority: 0,
    ...extra,
  };
}

/** A plan of these tasks on one `local` processes executor. */
export function plan(tasks: PlanTask[], extra: Partial<Plan> = {}): Plan {
  return {
    plan: PLAN_VERSION,
    wfc: "test",
    name: "t",
    source: { file: "wf.yaml", format: "yaml", sha256: "0".repeat(64) },
    workdir: ".",
    params: {},
    jobs: null,
    executors: { local: { type: "processes", max: null, runs: ["fn", "run"] } },
    groups: [],
    tasks,
    ...extra,
  };
}

/** A step running the command `true` (a followable task's kind). */
export const shStep = (id: string): PlanStep => ({
  stage: id,
  action: { kind: "shell", command: ["true"], shell: "sh" },
  inputs: [],
  outputs: [],
  env: {},
});

/** A step calling an `fn`. */
export const fnStep = (id: string): PlanStep => ({
  stage: id,
  action: { kind: "fn", module: "m.mjs", export: "f" },
  inputs: [],
  outputs: [],
  env: {},
});
