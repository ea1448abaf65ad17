import { slurmCpus } from "./cpus.js";
import type { Plan, PlanTask } from "./plan.js";

/** SLURM's default MaxArraySize is 1001 (indices 0..1000). */
export const DEFAULT_MAX_ARRAY_SIZE = 1001;

/** One `sbatch` call: a job array over jobs `[first, first + size)` of a task. */
export interface SlurmArray {
  /** `task.k`: the task's id and the chunk's number. */
  readonly name: string;
  readonly task: string;
  readonly chunk: number;
  /** The task's first job in this array: array index i runs job `first + i`. */
  readonly first: number;
  readonly size: number;
  /** `%k`: at most this many elements of this array at once; null for none. */
  readonly throttle: number | null;
  /** `--licenses`, as `name:count`. */
  readonly licenses: readonly string[];
  readonly dependencies: readonly SlurmDependency[];
  /** `#SBATCH` options, each one `--name=value` (resources, then the executor's). */
  readonly options: readonly string[];
}

export interface SlurmDependency {
  /** `aftercorr`: element i waits for element i; `afterok`: the whole array; `afterany`: it ended at all (serialization). */
  readonly kind: "aftercorr" | "afterok" | "afterany";
  /** The array waited for, by name. */
  readonly on: string;
}

export interface SlurmLayout {
  /** In submission order: every array after those it depends on. */
  readonly arrays: readonly SlurmArray[];
  /** `Licenses=...` lines the cluster's slurm.conf must have for the named limits. */
  readonly licenses: readonly string[];
  /** Where the layout had to give something up (licenses off, a stage cap over split arrays). */
  readonly notes: readonly string[];
  readonly maxArraySize: number;
  /** Whether named limits became licenses (else arrays sharing one are serialized). */
  readonly usesLicenses: boolean;
}

export interface LayoutOptions {
  /** The cluster's MaxArraySize (default: the executors' `max_array_size`, else 1001). */
  readonly maxArraySize?: number;
  /** Whether the cluster has SLURM licenses for named limits (default: the executors' `licenses`, else true). */
  readonly licenses?: boolean;
}

/**
 * The whole workflow as chained SLURM job arrays: one array per task (split
 * at MaxArraySize), a stage's own cap as a `%k` throttle, a named limit as a
 * license, one-to-one edges as `aftercorr` and every other edge as `afterok`.
 * Where SLURM cannot say a thing directly the layout stays correct by
 * serializing, and says so in `notes`.
 */
export function slurmLayout(plan: Plan, options: LayoutOptions = {}): SlurmLayout {
  const slurmOf = (task: PlanTask) => plan.executors[task.executor]?.slurm ?? {};
  const configured = plan.tasks.map((t) => Number(slurmOf(t).maxArraySize)).filter((n) => Number.isInteger(n) && n > 0);
  const maxArraySize = options.maxArraySize ?? (configured.length > 0 ? Math.min(...configured) : DEFAULT_MAX_ARRAY_SIZE);
  const licensesOn = options.licenses ?? plan.tasks.every((t) => slurmOf(t).licenses !== false);
  const groups = new Map(plan.groups.map((g) => [g.id, g]));
  const byId = new Map(plan.tasks.map((t) => [t.id, t]));
  const notes: string[] = [];
  const arrays: SlurmArray[] = [];
  const chunksOf = new Map<string, SlurmArray[]>();
  /** Per group that must be serialized: the last array holding it, for `afterany` chains. */
  const lastIn = new Map<string, string>();

  for (const task of plan.tasks) {
    // An empty fan-out submits nothing; its dependents have nothing to wait for.
    const chunks = Math.ceil((task.jobs ?? 0) / maxArraySize);
    const licenses: string[] = [];
    let throttle: number | null = null;
    const serializedBy: string[] = [];
    for (const { group, weight } of task.groups) {
      const g = groups.get(group)!;
      if (g.kind === "cap") {
        throttle = Math.min(throttle ?? Infinity, g.capacity);
        // %k holds within one array: split arrays of a capped stage run one after another.
        if (chunks > 1) serializedBy.push(group);
      } else if (licensesOn) {
        licenses.push(`${g.id.slice("limit:".length)}:${weight}`);
      } else {
        // Without licenses: every array holding the limit runs alone, at most capacity/weight at once.
        throttle = Math.min(throttle ?? Infinity, Math.max(1, Math.floor(g.capacity / weight)));
        serializedBy.push(group);
      }
    }
    const list: SlurmArray[] = [];
    for (let k = 0; k < chunks; k++) {
      const first = k * maxArraySize;
      const size = Math.max(0, Math.min(maxArraySize, (task.jobs ?? 0) - first));
      const name = `${task.id}.${k}`;
      const dependencies: SlurmDependency[] = [];
      for (const dep of task.deps) {
        const producer = byId.get(dep.task)!;
        const theirs = chunksOf.get(dep.task)!;
        const aligned = dep.edge.kind === "one-to-one" && producer.batch === 1 && task.batch === 1 && producer.jobs === task.jobs;
        if (theirs.length === 0) continue;
        if (aligned) dependencies.push({ kind: "aftercorr", on: theirs[k]!.name });
        else for (const a of theirs) if (!dependencies.some((d) => d.on === a.name)) dependencies.push({ kind: "afterok", on: a.name });
      }
      for (const group of serializedBy) {
        const before = lastIn.get(group);
        if (before !== undefined && !dependencies.some((d) => d.on === before)) dependencies.push({ kind: "afterany", on: before });
        lastIn.set(group, name);
      }
      const array: SlurmArray = {
        name,
        task: task.id,
        chunk: k,
        first,
        size,
        throttle: throttle === Infinity ? null : throttle,
        licenses,
        dependencies,
        options: sbatchOptions(task, slurmOf(task)),
      };
      list.push(array);
      arrays.push(array);
    }
    chunksOf.set(task.id, list);
  }

  const named = plan.groups.filter(
    (g) => g.kind === "limit" && arrays.some((a) => a.licenses.some((l) => l.startsWith(`${g.id.slice(6)}:`))),
  );
  const licenses = named.map((g) => `${g.id.slice("limit:".length)}:${g.capacity}`);
  if (!licensesOn && plan.groups.some((g) => g.kind === "limit"))
    notes.push("licenses are off: arrays sharing a named limit run one after another, each throttled to the limit");
  for (const task of plan.tasks)
    if (task.groups.some((g) => groups.get(g.group)!.kind === "cap") && (task.jobs ?? 0) > maxArraySize)
      notes.push(
        `\`${task.id}\` is split into ${Math.ceil((task.jobs ?? 0) / maxArraySize)} arrays that run one after another, so its cap holds across them`,
      );
  if (plan.jobs !== null)
    notes.push(`the workflow-wide cap of ${plan.jobs} jobs at once is not applied on SLURM (only named limits and stage caps are)`);
  return { arrays, licenses, notes, maxArraySize, usesLicenses: licensesOn };
}

/** Resources of one job, then the executor's partition, account, qos and extra options. */
function sbatchOptions(task: PlanTask, slurm: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  const cpus = slurmCpus(task, slurm);
  if (cpus > 1) out.push(`--cpus-per-task=${cpus}`);
  const mem = task.resources.mem ?? (slurm.mem as number | undefined);
  if (mem !== undefined && mem !== null) out.push(`--mem=${mem}M`);
  const time = task.resources.time ?? (slurm.time as number | undefined);
  if (time !== undefined && time !== null) out.push(`--time=${slurmTime(time * task.batch)}`);
  for (const key of ["partition", "account", "qos"] as const) if (typeof slurm[key] === "string") out.push(`--${key}=${slurm[key]}`);
  if (Array.isArray(slurm.options)) for (const o of slurm.options) if (typeof o === "string") out.push(o);
  return out;
}

/** Seconds as SLURM's `D-HH:MM:SS` (rounded up to whole minutes, SLURM's granularity). */
export function slurmTime(seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const hms = `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:00`;
  return d > 0 ? `${d}-${hms}` : hms;
}

/** A task's SLURM job name: `NAME.TASK` limited to SLURM-friendly characters. */
export function slurmJobName(plan: Plan, task: string): string {
  return `${plan.name}.${task}`.replace(/[^A-Za-z0-9_.+-]/g, "_");
}
