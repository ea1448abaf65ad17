import type { ContainerEngine } from "../../contract/plan.js";
import type { ExecutorDef, ExecutorType } from "../lower/ast.js";
import { lowerExecutor } from "../lower/lower.js";

type Obj = Readonly<Record<string, unknown>>;

// The rule lives with the runtime, which sizes the pools; `wfc config` shows it.
export { builtinWorkers } from "../../contract/workers.js";

/**
 * The built-in executors' tables, as `wfc config init` writes them: without
 * `max`, so a pool is sized by the machine that runs the plan (`--jobs N`,
 * else builtinWorkers of its CPUs), not the one that compiled it.
 */
export function builtinExecutorTables(): ReadonlyMap<string, Obj> {
  return new Map<string, Obj>([
    ["processes", { type: "processes" }],
    ["threads", { type: "threads" }],
  ]);
}

/** An executor from a config file's table (or a built-in's), lowered as a workflow's executors are. */
export function lowerConfigExecutor(name: string, raw: unknown, fromFile: boolean): ExecutorDef | undefined {
  return lowerExecutor(name, raw, fromFile ? ["executors", name] : undefined);
}

/**
 * The container engine of an executor that sets none and whose config sets
 * no `[containers] engine`: podman on a workstation (rootless, no daemon),
 * Apptainer on a cluster (what HPC sites install; it runs without root).
 */
export function builtinEngine(type: ExecutorType): ContainerEngine {
  return type === "slurm" ? "apptainer" : "podman";
}
