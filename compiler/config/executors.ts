import type { ExecutorDef } from "../lower/ast.js";
import { lowerExecutor } from "../lower/lower.js";

type Obj = Readonly<Record<string, unknown>>;

/** Workers per built-in executor: all CPUs but one (left for wfc and the system), at least one. */
export function builtinWorkers(cpus: number): number {
  return Math.max(1, Math.floor(cpus) - 1);
}

/** The built-in executors' tables, as `wfc config init` writes them. */
export function builtinExecutorTables(cpus: number): ReadonlyMap<string, Obj> {
  const max = builtinWorkers(cpus);
  return new Map<string, Obj>([
    ["processes", { type: "processes", max }],
    ["threads", { type: "threads", max }],
  ]);
}

/** An executor from a config file's table (or a built-in's), lowered as a workflow's executors are. */
export function lowerConfigExecutor(name: string, raw: unknown, fromFile: boolean): ExecutorDef | undefined {
  return lowerExecutor(name, raw, fromFile ? ["executors", name] : undefined);
}
