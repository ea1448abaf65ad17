import type { ExecutorDef, LocatedTemplate, PathDecl, Stage, Workflow } from "../lower/ast.js";
import { indexSpaceOf } from "../lower/elements.js";
import type { Groups } from "../passes/groups.js";
import type { DraftTask } from "../passes/tasks.js";
import type {
  DynamicSpace,
  Part,
  Plan,
  PlanAction,
  PlanEngines,
  PlanEnvironment,
  PlanExecutor,
  PlanPath,
  PlanStep,
  PlanTask,
} from "../../contract/plan.js";
import { decidedNames, type DynamicSource } from "../graph/dynamic.js";
import { PLAN_VERSION } from "../../contract/plan.js";
import { paramWords } from "../../contract/template.js";

export interface PlanInputs {
  readonly workflow: Workflow;
  readonly ordered: readonly DraftTask[];
  readonly executors: ReadonlyMap<string, ExecutorDef>;
  readonly groups: Groups;
  readonly priority: ReadonlyMap<string, number>;
  readonly source: Plan["source"];
  readonly workdir: string;
  readonly version: string;
  readonly jobs: number | undefined;
  /** Dynamic stages' producers (graph/dynamic.ts); none: every space is static. */
  readonly dynamic?: ReadonlyMap<string, DynamicSource>;
  /** Steps' environments and executors' engines (passes/environments.ts); none: every step runs on the host. */
  readonly environments?: {
    readonly steps: ReadonlyMap<string, PlanEnvironment>;
    readonly engines: ReadonlyMap<string, PlanEngines>;
  };
}

/** Assembles plan.json from the optimized tasks. */
export function buildPlan(inputs: PlanInputs): Plan {
  const { workflow, ordered } = inputs;
  const taskOfStage = new Map<string, string>();
  for (const t of ordered) for (const s of t.stages) taskOfStage.set(s.name, t.id);

  const tasks: PlanTask[] = ordered.map((task) => {
    const first = task.stages[0]!;
    const settings = first.settings;
    const steps = task.stages.map((stage) => planStep(stage, task, workflow, taskOfStage, inputs.environments?.steps.get(stage.name)));
    // A fused task's steps share one space (fusion needs one-to-one), so its first step's is the task's.
    const source = inputs.dynamic?.get(first.name);
    const dynamic: DynamicSpace | undefined =
      source === undefined
        ? undefined
        : {
            vars: source.vars,
            from: { kind: source.kind, task: taskOfStage.get(source.producer)!, step: source.producer, output: source.output },
            per: source.per,
          };
    return {
      id: task.id,
      stages: task.stages.map((s) => s.name),
      space: dynamic === undefined ? indexSpaceOf(first.fanout) : { ...indexSpaceOf(first.fanout), dynamic },
      steps,
      deps: task.deps
        .map((d) => ({ task: d.task, edge: d.edge, input: d.input }))
        .sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : (a.input?.index ?? -1) - (b.input?.index ?? -1))),
      executor: task.executor!.name,
      resources: { cpus: settings.cpus, mem: settings.mem ?? null, time: settings.time ?? null },
      retries: settings.retries,
      timeout: settings.timeout ?? null,
      // A dynamic task's jobs are known only at run time, one element each.
      batch: dynamic === undefined ? settings.batch : 1,
      jobs: dynamic === undefined ? Math.ceil(first.fanout.size / settings.batch) : null,
      groups: inputs.groups.membership.get(task.id) ?? [],
      priority: inputs.priority.get(task.id) ?? 0,
    };
  });

  const used = new Set(tasks.map((t) => t.executor));
  const executors: Record<string, PlanExecutor> = {};
  for (const name of [...used].sort()) executors[name] = planExecutor(inputs.executors.get(name)!, inputs.environments?.engines.get(name));

  const params: Record<string, Plan["params"][string]> = {};
  for (const [name, p] of [...workflow.params].sort(([a], [b]) => (a < b ? -1 : 1))) params[name] = p.value;

  return {
    plan: PLAN_VERSION,
    wfc: inputs.version,
    name: workflow.name,
    source: inputs.source,
    workdir: inputs.workdir,
    params,
    jobs: inputs.jobs ?? null,
    executors,
    groups: inputs.groups.groups,
    tasks,
  };
}

function planExecutor(def: ExecutorDef, engines: PlanEngines | undefined): PlanExecutor {
  return {
    type: def.type,
    max: def.max ?? null,
    runs: [...def.runs].sort(),
    ...(def.slurm ? { slurm: { ...def.slurm } } : {}),
    // Only an executor with a step in a container or conda environment has engines: other plans stay as they were.
    ...(engines !== undefined ? { engines } : {}),
  };
}

/**
 * A template as parts, `{stage}` substituted. Params are substituted as text,
 * except in a shell command (`shell`), where they stay references for the
 * runtime to quote like any other value: pasted, a value would be shell code.
 */
function parts(located: LocatedTemplate, stage: Stage, workflow: Workflow, shell = false): Part[] {
  const out: Part[] = [];
  const text = (s: string) => {
    if (typeof out.at(-1) === "string") out[out.length - 1] = (out.at(-1) as string) + s;
    else if (s !== "") out.push(s);
  };
  for (const p of located.template.parts) {
    if (p.kind === "text") text(p.text);
    else if (p.root === "params" && shell) out.push({ param: p.field ?? "" });
    else if (p.root === "params") {
      const value = workflow.params.get(p.field ?? "")?.value;
      text(value === undefined ? String(value) : paramWords(value).join(" "));
    } else if (p.root === "stage") text(stage.name);
    else if (p.root === "inputs") out.push(p.field === undefined ? { inputs: true } : { inputs: true, name: p.field });
    else if (p.root === "outputs") out.push(p.field === undefined ? { outputs: true } : { outputs: true, name: p.field });
    else if (p.root === "log") out.push(p.field === undefined ? { log: true } : { log: true, name: p.field });
    else if (p.root === "cpus") out.push({ cpus: true });
    else out.push(p.field === undefined ? { var: p.root } : { var: p.root, field: p.field });
  }
  return out;
}

function planStep(
  stage: Stage,
  task: DraftTask,
  workflow: Workflow,
  taskOfStage: ReadonlyMap<string, string>,
  environment: PlanEnvironment | undefined,
): PlanStep {
  const action = stage.action!;
  const planAction: PlanAction =
    action.kind === "shell"
      ? { kind: "shell", command: parts(action.command, stage, workflow, true), shell: stage.settings.shell }
      : action.kind === "argv"
        ? { kind: "argv", argv: action.argv.map((a) => parts(a, stage, workflow)) }
        : { kind: "fn", module: action.module, export: action.exportName };
  const path = (decl: PathDecl, from: PlanPath["from"]): PlanPath => ({
    name: decl.name ?? null,
    template: parts(decl, stage, workflow),
    glob: decl.glob,
    from,
  });
  const inputs = stage.inputs.map((decl, index) =>
    path(
      decl,
      [...task.deps, ...(task.internal ?? [])]
        .filter((d) => d.input?.step === stage.name && d.input.index === index && d.output !== null)
        .map((d) => ({ task: taskOfStage.get(d.output!.step) ?? d.task, step: d.output!.step, output: d.output!.index }))
        .sort((a, b) => (a.step < b.step ? -1 : a.step > b.step ? 1 : a.output - b.output)),
    ),
  );
  const env: Record<string, Part[]> = {};
  for (const [name, value] of [...stage.settings.env].sort(([a], [b]) => (a < b ? -1 : 1))) env[name] = parts(value, stage, workflow);
  // Only a `temp` or `protected` output carries its lifetime: the plans of other workflows stay as they were.
  const outputs = stage.outputs.map((decl) => ({ ...path(decl, []), ...(decl.lifetime !== undefined ? { lifetime: decl.lifetime } : {}) }));
  // Only a stage with logs has them: the plans of other workflows stay as they were.
  const logs = stage.logs.length > 0 ? { logs: stage.logs.map((decl) => path(decl, [])) } : {};
  // Only a stage that decides variables says so: the plans of other workflows stay as they were.
  const decided = decidedNames(stage);
  return {
    stage: stage.name,
    action: planAction,
    inputs,
    outputs,
    ...logs,
    env,
    ...(decided.length > 0 ? { decides: decided } : {}),
    // Only a step with a software environment has one: the plans of other workflows stay as they were.
    ...(environment !== undefined ? { environment } : {}),
  };
}
