import type { MergedConfig, Origin } from "../config/config.js";
import type { ExecutorDef, Stage, StageKind, Workflow } from "../lower/ast.js";
import type { Assignment, DraftTask } from "./tasks.js";

/** What config files contribute to executor assignment: the merged config (built-ins included). */
export type ExecutorConfig = Pick<MergedConfig, "executors" | "stageMap" | "labelMap">;

function where(origin: Origin): string {
  return origin.kind === "file" ? origin.file : "the built-in config";
}

export interface Note {
  readonly topic: "dynamic" | "resources" | "executor" | "environment" | "fusion" | "batch" | "group" | "priority" | "slurm";
  readonly message: string;
}

/**
 * Executor assignment, first rule wins: the stage's own `executor`, the
 * config's mapping by stage name, then by label, the workflow's
 * `defaults.executor`, then the built-in default (`processes` for commands,
 * whose persistent workers fork jobs cheaply; `threads` for `fn`).
 */
export function assignExecutors(
  tasks: readonly DraftTask[],
  workflow: Workflow,
  config: ExecutorConfig | undefined,
): { tasks: DraftTask[]; executors: Map<string, ExecutorDef>; notes: Note[] } {
  const executors = new Map<string, ExecutorDef>();
  // A local pool without `max` is sized by the runtime on the machine that runs the plan.
  for (const [name, def] of workflow.executors) executors.set(name, def);
  const notes: Note[] = [];
  for (const [name, { def, origin }] of config?.executors ?? []) {
    if (workflow.executors.get(name)?.path !== undefined)
      notes.push({ topic: "executor", message: `executor \`${name}\` from ${where(origin)} replaces the workflow's definition` });
    executors.set(name, def);
  }
  const out = tasks.map((task) => {
    const stage = task.stages[0]!;
    const assignment = choose(stage, config, executors);
    notes.push({ topic: "executor", message: `\`${task.id}\` → \`${assignment.name}\` (${assignment.def.type}): ${assignment.reason}` });
    return { ...task, executor: assignment };
  });
  return { tasks: out, executors, notes };
}

function choose(stage: Stage, config: ExecutorConfig | undefined, executors: ReadonlyMap<string, ExecutorDef>): Assignment {
  const kind: StageKind = stage.action?.kind === "fn" ? "fn" : "run";
  const pick = (name: string, reason: string): Assignment | undefined => {
    const def = executors.get(name);
    return def === undefined || !def.runs.has(kind) ? undefined : { name, def, reason };
  };
  const own = stage.executor;
  if (own !== undefined && own.path[0] === "stages") {
    const a = pick(own.name, `the stage sets \`executor: ${own.name}\``);
    if (a) return a;
  }
  const byName = config?.stageMap.get(stage.name);
  if (byName) {
    const a = pick(byName.executor, `mapped by stage name in ${where(byName.origin)}`);
    if (a) return a;
  }
  for (const label of [...stage.labels].sort()) {
    const byLabel = config?.labelMap.get(label);
    if (!byLabel) continue;
    const a = pick(byLabel.executor, `label \`${label}\` mapped in ${where(byLabel.origin)}`);
    if (a) return a;
  }
  if (own !== undefined) {
    const a = pick(own.name, `the workflow's \`defaults.executor\``);
    if (a) return a;
  }
  const builtin = kind === "fn" ? "threads" : "processes";
  return (
    pick(builtin, `built-in default for ${kind === "fn" ? "`fn` stages" : "commands"}`) ?? {
      name: builtin,
      def: executors.get(builtin)!,
      reason: "built-in default",
    }
  );
}
