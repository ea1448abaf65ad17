/**
 * Hand-built plans whose steps run in software environments (issue 15), for
 * the runtime's tests: the compiler fills `environment` and `engines` from
 * the workflow; these tests build them directly (test/runtime/plans.ts).
 */
import type { Part, Plan, PlanAction, PlanEngines, PlanEnvironment, PlanPath, PlanStep, PlanTask } from "../../contract/plan.js";
import { plan, task } from "../runtime/plans.js";
import { fixture } from "../e2e/helpers.js";

/** A template from text: `{i}` is the element's variable, `{outputs}` / `{inputs}` the step's paths; the rest literal. */
export function parts(text: string): Part[] {
  return text
    .split(/(\{i\}|\{outputs\}|\{inputs\})/)
    .filter((p) => p !== "")
    .map((p): Part => (p === "{i}" ? { var: "i" } : p === "{outputs}" ? { outputs: true } : p === "{inputs}" ? { inputs: true } : p));
}

const path = (text: string): PlanPath => ({ name: null, template: parts(text), glob: false, from: [] });

export interface StepSpec {
  readonly run?: string;
  readonly shell?: "bash" | "sh";
  readonly argv?: readonly string[];
  readonly inputs?: readonly string[];
  readonly outputs?: readonly string[];
  readonly env?: Record<string, string>;
  readonly environment?: PlanEnvironment;
}

export function step(stage: string, s: StepSpec): PlanStep {
  const action: PlanAction =
    s.argv !== undefined
      ? { kind: "argv", argv: s.argv.map(parts) }
      : { kind: "shell", command: parts(s.run ?? "true"), shell: s.shell ?? "bash" };
  return {
    stage,
    action,
    inputs: (s.inputs ?? []).map(path),
    outputs: (s.outputs ?? []).map(path),
    env: Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, parts(v)])),
    ...(s.environment !== undefined ? { environment: s.environment } : {}),
  };
}

/**
 * A plan of one-step tasks (`size` elements over `i` each) on one local
 * executor with these engines; by default what the compiler gives a local
 * executor: podman for containers, conda for conda environments.
 */
export function envPlan(tasks: { id: string; size?: number; step: StepSpec; extra?: Partial<PlanTask> }[], given?: PlanEngines): Plan {
  const container = tasks.some((t) => t.step.environment?.container !== undefined);
  const conda = tasks.some((t) => t.step.environment?.conda !== undefined);
  const engines: PlanEngines | undefined =
    given ??
    (container || conda
      ? {
          ...(container ? { container: { engine: "podman" as const, options: [] } } : {}),
          ...(conda ? { conda: { frontend: "conda" as const } } : {}),
        }
      : undefined);
  return plan(
    tasks.map((t) => task(t.id, t.size ?? 1, { steps: [step(t.id, t.step)], ...t.extra })),
    {
      executors: { local: { type: "processes", max: null, runs: ["run"], ...(engines !== undefined ? { engines } : {}) } },
    },
  );
}

/** A workflow folder with this plan (and a stand-in for its source, so the plan is not taken as moved). */
export function planFolder(p: Plan, files: Record<string, string> = {}): string {
  return fixture({ "wf.yaml": "wfc: 1\n", "plan.json": JSON.stringify(p, null, 2), ...files });
}
