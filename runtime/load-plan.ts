import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { ErrorObject } from "ajv";
import { planInconsistency } from "./check-plan.js";
import { unsafeCommand } from "./jobs/command-check.js";
import { PLAN_VERSION, type Plan } from "../contract/plan.js";
import { schemaValidator } from "../contract/schema-validators.js";

/** A plan, or why it cannot be used: one line, meant for `wfc: error: …`. */
export type LoadPlanResult = { readonly ok: true; readonly plan: Plan } | { readonly ok: false; readonly message: string };

/** The plan format this wfc reads. */
export const SUPPORTED_PLAN_VERSION = PLAN_VERSION;

const RECOMPILE = "recompile it with `wfc compile`";
const WRITE = "plans are written by `wfc compile WORKFLOW -o FILE`";

/** schema/plan.schema.json's validator (precompiled at build time). */
const planValidator = () => schemaValidator("plan.schema.json");

/**
 * Reads plan.json and checks it before anything uses it: readable, JSON,
 * written for this plan version, shaped like schema/plan.schema.json, and
 * its references (tasks, steps, executors, groups) resolve. Never throws
 * for a bad file. `path` is resolved against `cwd` and shown as given.
 */
export async function loadPlan(path: string, cwd: string = process.cwd()): Promise<LoadPlanResult> {
  const fail = (message: string): LoadPlanResult => ({ ok: false, message });
  let text: string;
  try {
    text = await readFile(resolve(cwd, path), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : code;
    return fail(`cannot read plan \`${path}\`: ${why ?? String(error)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch {
    return fail(`\`${path}\` is not a wfc plan: it is not valid JSON; ${WRITE}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data) || !("plan" in data)) {
    return fail(`\`${path}\` is not a wfc plan: it has no \`plan\` version; ${WRITE}`);
  }
  const version = (data as { plan: unknown }).plan;
  if (typeof version === "number" && version !== SUPPORTED_PLAN_VERSION) {
    return fail(`\`${path}\`: this plan was written by an incompatible wfc (plan version ${version}); ${RECOMPILE}`);
  }
  const validate = planValidator();
  if (!validate(data)) return fail(`\`${path}\` is not a valid wfc plan: ${describeError(validate.errors?.[0])}; ${RECOMPILE}`);
  const plan = data as Plan;
  const broken = planProblem(plan) ?? unsafeCommand(plan);
  if (broken !== undefined) return fail(`\`${path}\` is not a valid wfc plan: ${broken}; ${RECOMPILE}`);
  return { ok: true, plan };
}

/**
 * What is wrong with a plan shaped like the schema, in one line naming the
 * task, or undefined: its references, then what it could lie about
 * (check-plan.ts). For plans that did not come through `loadPlan`.
 */
export function planProblem(plan: Plan): string | undefined {
  return brokenReference(plan) ?? planInconsistency(plan);
}

/** The first schema error, in words: where, then what. */
function describeError(error: ErrorObject | undefined): string {
  if (error === undefined) return "it does not match schema/plan.schema.json";
  const where = error.instancePath === "" ? "the top level" : `\`${error.instancePath}\``;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return `${where} is missing \`${String(params.missingProperty)}\``;
    case "additionalProperties":
      return `${where} has an unknown key \`${String(params.additionalProperty)}\``;
    case "const":
      return `${where} must be ${JSON.stringify(params.allowedValue)}`;
    case "enum":
      return `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "type":
      return `${where} must be ${String(params.type).split(",").join(" or ")}`;
    default:
      return `${where} ${error.message ?? "is invalid"}`;
  }
}

/** What the schema cannot say: ids are unique and every reference names something in the plan. */
function brokenReference(plan: Plan): string | undefined {
  const tasks = new Map<string, Plan["tasks"][number]>();
  for (const task of plan.tasks) {
    if (tasks.has(task.id)) return `task \`${task.id}\` appears twice`;
    tasks.set(task.id, task);
  }
  const groups = new Set(plan.groups.map((g) => g.id));
  for (const task of plan.tasks) {
    const stages = task.steps.map((s) => s.stage);
    if (stages.join("\u0000") !== task.stages.join("\u0000")) return `the steps of task \`${task.id}\` are not its stages`;
    if (!Object.hasOwn(plan.executors, task.executor))
      return `task \`${task.id}\` runs on executor \`${task.executor}\`, which the plan does not define`;
    for (const { group } of task.groups) {
      if (!groups.has(group)) return `task \`${task.id}\` holds group \`${group}\`, which the plan does not define`;
    }
    for (const dep of task.deps) {
      if (!tasks.has(dep.task)) return `task \`${task.id}\` depends on task \`${dep.task}\`, which the plan does not define`;
      if (dep.input === null) continue;
      const step = task.steps.find((s) => s.stage === dep.input!.step);
      if (step?.inputs[dep.input.index] === undefined) {
        return `task \`${task.id}\` has a dependency on input ${dep.input.index} of step \`${dep.input.step}\`, which it does not have`;
      }
    }
  }
  return undefined;
}
