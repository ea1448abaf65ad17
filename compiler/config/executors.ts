import type { ExecutorDef, ExecutorType, SlurmOptions, StageKind } from "../lower/ast.js";
import { parseDuration, parseMemory } from "../lower/units.js";

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

/**
 * An executor from a config file's table, lowered as the compiler lowers a
 * workflow's executors. Defensive: the schema has reported bad shapes, so a
 * table of the wrong shape gives undefined rather than a second error.
 *
 * This mirrors `lowerExecutors` in lower/lower.ts, which does not export a
 * per-executor function; keep the two in step.
 */
export function lowerConfigExecutor(name: string, raw: unknown, fromFile: boolean): ExecutorDef | undefined {
  if (!isObject(raw)) return undefined;
  const type = raw.type;
  if (type !== "threads" && type !== "processes" && type !== "slurm") return undefined;
  const runs = new Set<StageKind>(
    Array.isArray(raw.runs) ? raw.runs.filter((k): k is StageKind => k === "run" || k === "fn") : ["run", "fn"],
  );
  const max = int(raw.max);
  return {
    name,
    type: type satisfies ExecutorType,
    runs,
    ...(fromFile ? { path: ["executors", name] } : {}),
    ...(max !== undefined ? { max } : {}),
    ...(type === "slurm" ? { slurm: lowerSlurm(raw) } : {}),
  };
}

function lowerSlurm(raw: Obj): SlurmOptions {
  const duration = (v: unknown) => (typeof v === "number" || typeof v === "string" ? parseDuration(v) : undefined);
  const memory = (v: unknown) => (typeof v === "number" || typeof v === "string" ? parseMemory(v) : undefined);
  const fields = {
    partition: str(raw.partition),
    account: str(raw.account),
    qos: str(raw.qos),
    time: duration(raw.time),
    mem: memory(raw.mem),
    cpus: int(raw.cpus),
    maxArraySize: int(raw.max_array_size),
  };
  return {
    ...(Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<SlurmOptions>),
    options: Array.isArray(raw.options) ? raw.options.filter((o): o is string => typeof o === "string") : [],
    licenses: raw.licenses !== false,
  };
}

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
function int(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) ? value : undefined;
}
