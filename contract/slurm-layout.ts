import { slurmCpus } from "./cpus.js";
import type { Plan, PlanTask } from "./plan.js";

/** SLURM's default MaxArraySize is 1001 (indices 0..1000). */
export const DEFAULT_MAX_ARRAY_SIZE = 1001;

/** One `sbatch` call: a job array over jobs `[first, first + size)` of a task. */
export interface SlurmArray {
  /** `task.k`: the task's id and the chunk's number. */
  readonly name: string;
  /** The expansion that submits it (`SlurmExpansion.name`); null for submit.sh. */
  readonly wave: string | null;
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

/** What every array of a task asks SLURM for, whatever its size. */
export type SlurmShape = Pick<SlurmArray, "throttle" | "licenses" | "options">;

export interface SlurmDependency {
  /** `aftercorr`: element i waits for element i; `afterok`: the whole array; `afterany`: it ended at all (serialization). */
  readonly kind: "aftercorr" | "afterok" | "afterany";
  /** The array waited for, by name. */
  readonly on: string;
}

/**
 * A small job that runs `wfc` on a compute node once producers have run
 * (a wave of the workflow that is not known at export time): it lists what
 * their elements decided (contract/expansion.ts), writes the tables of the
 * tasks that become known (`tasks`), submits their arrays, then the next
 * expansion. The expansions form one chain, in plan order of their
 * producers, so each knows every job id submitted before it.
 */
export interface SlurmExpansion {
  /** `expand.PRODUCER` (a task id never contains a `.`, an array's chunk is a number). */
  readonly name: string;
  /** The last producer (in plan order) this wave waits for. */
  readonly producer: string;
  /** The producers whose outputs it lists: it waits for all their arrays (`afterok`). */
  readonly producers: readonly string[];
  /** The dynamic tasks it expands, then every task it submits, in plan order. */
  readonly expands: readonly string[];
  readonly tasks: readonly string[];
  /** The expansion that submits this one; null for submit.sh. */
  readonly submittedBy: string | null;
  /** What it waits for, when its producers' arrays are known (else empty: they are laid out later). */
  readonly dependencies: readonly SlurmDependency[];
}

export interface SlurmLayout {
  /**
   * In submission order: every array after those it depends on. With
   * dynamic spaces, only what is known: submit.sh's arrays, then those of
   * the expansions whose job counts `LayoutOptions.expanded` gives.
   */
  readonly arrays: readonly SlurmArray[];
  /** The expansions, in the order they run (none for a plan without dynamic spaces). */
  readonly expansions: readonly SlurmExpansion[];
  /** Every task's `%k`, licenses and options, whether its arrays are known yet or not (`wfc run` submits a dynamic task's as its elements come). */
  readonly shapes: ReadonlyMap<string, SlurmShape>;
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
  /** The job counts of dynamic tasks already expanded (by task id): their waves are laid out too. */
  readonly expanded?: ReadonlyMap<string, number>;
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
  /** Per group that must be serialized: the last array holding it, for `afterany` chains (in submission order). */
  const lastIn = new Map<string, string>();
  const { waveOf, waves } = dynamicWaves(plan);
  /** A task's jobs: the plan's, or those of its expansion; undefined while not known. */
  const jobsOf = (task: PlanTask) => task.jobs ?? options.expanded?.get(task.id);
  const expansions: SlurmExpansion[] = [];

  /** Producers whose arrays have ended ok before this wave's expansion ran: nothing need wait for them again (their ids may be purged by then). */
  const done = new Set<string>();
  /** A task's `%k` and licenses, and the groups that serialize its arrays (a cap's only when it is split). */
  const limitsOf = (task: PlanTask) => {
    const licenses: string[] = [];
    let throttle: number | null = null;
    /** In the task's group order: each group that serializes its arrays, and whether it is a cap. */
    const serial: { group: string; cap: boolean }[] = [];
    for (const { group, weight } of task.groups) {
      const g = groups.get(group)!;
      if (g.kind === "cap") {
        throttle = Math.min(throttle ?? Infinity, g.capacity);
        // %k holds within one array: split arrays of a capped stage run one after another.
        serial.push({ group, cap: true });
      } else if (licensesOn) {
        licenses.push(`${g.id.slice("limit:".length)}:${weight}`);
      } else {
        // Without licenses: every array holding the limit runs alone, at most capacity/weight at once.
        throttle = Math.min(throttle ?? Infinity, Math.max(1, Math.floor(g.capacity / weight)));
        serial.push({ group, cap: false });
      }
    }
    return { licenses, throttle: throttle === Infinity ? null : throttle, serial };
  };
  const shapes = new Map<string, SlurmShape>(
    plan.tasks.map((t) => {
      const { throttle, licenses } = limitsOf(t);
      return [t.id, { throttle, licenses, options: sbatchOptions(t, slurmOf(t)) }];
    }),
  );

  const layOut = (task: PlanTask, wave: string | null, jobs: number) => {
    // An empty fan-out submits nothing; its dependents have nothing to wait for.
    const chunks = Math.ceil(jobs / maxArraySize);
    const { licenses, throttle, serial } = limitsOf(task);
    const serializedBy = serial.filter((x) => !x.cap || chunks > 1).map((x) => x.group);
    const list: SlurmArray[] = [];
    for (let k = 0; k < chunks; k++) {
      const first = k * maxArraySize;
      const size = Math.max(0, Math.min(maxArraySize, jobs - first));
      const name = `${task.id}.${k}`;
      const dependencies: SlurmDependency[] = [];
      for (const dep of task.deps) {
        // A dynamic task's elements exist once its producer has run: its expansion waited for that.
        if (dep.edge.kind === "expand" || done.has(dep.task)) continue;
        const producer = byId.get(dep.task)!;
        const theirs = chunksOf.get(dep.task)!;
        const aligned = dep.edge.kind === "one-to-one" && producer.batch === 1 && task.batch === 1 && jobsOf(producer) === jobs;
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
        wave,
        task: task.id,
        chunk: k,
        first,
        size,
        throttle,
        licenses,
        dependencies,
        options: sbatchOptions(task, slurmOf(task)),
      };
      list.push(array);
      arrays.push(array);
    }
    chunksOf.set(task.id, list);
  };

  // submit.sh's tasks, then each wave once its dynamic tasks' counts are known, in the order they are submitted.
  for (const task of plan.tasks) if (waveOf.get(task.id) === undefined) layOut(task, null, task.jobs ?? 0);
  let known = true;
  for (const [w, wave] of waves.entries()) {
    const name = `expand.${wave.producer}`;
    const dependencies: SlurmDependency[] = [];
    for (const p of wave.producers)
      for (const a of chunksOf.get(p) ?? [])
        if (!dependencies.some((d) => d.on === a.name)) dependencies.push({ kind: "afterok", on: a.name });
    expansions.push({
      name,
      producer: wave.producer,
      producers: wave.producers,
      expands: wave.tasks.filter((t) => byId.get(t)!.space.dynamic !== undefined),
      tasks: wave.tasks,
      submittedBy: w === 0 ? null : `expand.${waves[w - 1]!.producer}`,
      dependencies: known ? dependencies : [],
    });
    known &&= wave.tasks.every((t) => jobsOf(byId.get(t)!) !== undefined);
    for (const p of wave.producers) done.add(p);
    if (known) for (const t of wave.tasks) layOut(byId.get(t)!, name, jobsOf(byId.get(t)!)!);
  }

  // A dynamic task's arrays come later, with the licenses of its shape.
  const held = [...arrays, ...plan.tasks.filter((t) => t.jobs === null).map((t) => shapes.get(t.id)!)];
  const named = plan.groups.filter(
    (g) => g.kind === "limit" && held.some((a) => a.licenses.some((l) => l.startsWith(`${g.id.slice(6)}:`))),
  );
  const licenses = named.map((g) => `${g.id.slice("limit:".length)}:${g.capacity}`);
  if (!licensesOn && plan.groups.some((g) => g.kind === "limit"))
    notes.push("licenses are off: arrays sharing a named limit run one after another, each throttled to the limit");
  for (const task of plan.tasks)
    if (task.groups.some((g) => groups.get(g.group)!.kind === "cap") && (jobsOf(task) ?? 0) > maxArraySize)
      notes.push(
        `\`${task.id}\` is split into ${Math.ceil(jobsOf(task)! / maxArraySize)} arrays that run one after another, so its cap holds across them`,
      );
  for (const e of expansions) {
    const tasks = e.tasks.map((t) => `\`${t}\``).join(", ");
    const after = e.producers.map((p) => `\`${p}\``).join(", ");
    notes.push(
      `${tasks} ${e.tasks.length === 1 ? "is" : "are"} known only when ${after} ${e.producers.length === 1 ? "has" : "have"} run: ${e.name}, a job after ${e.producers.length === 1 ? "it" : "them"}, lists what ${e.producers.length === 1 ? "it" : "they"} wrote and submits ${e.tasks.length === 1 ? "it" : "them"} from a compute node`,
    );
  }
  if (plan.jobs !== null)
    notes.push(`the workflow-wide cap of ${plan.jobs} jobs at once is not applied on SLURM (only named limits and stage caps are)`);
  return { arrays, expansions, shapes, licenses, notes, maxArraySize, usesLicenses: licensesOn };
}

interface Wave {
  /** The last producer, in plan order, that its tasks wait for. */
  readonly producer: string;
  /** The producers whose decisions its tasks read: their dynamic spaces', the pattern outputs they gather. */
  readonly producers: string[];
  /** Its tasks, in plan order. */
  readonly tasks: string[];
}

/**
 * Which tasks are not known until producers have run, grouped by the last
 * producer (in plan order) each waits for: a dynamic task waits for its own,
 * any task for those of every task it depends on. A producer is upstream
 * of its consumers, so the waves, in the plan order of their producers,
 * each wait only for producers of earlier waves or of submit.sh.
 */
export function dynamicWaves(plan: Plan): { waveOf: Map<string, number>; waves: Wave[] } {
  const order = new Map(plan.tasks.map((t, i) => [t.id, i]));
  const waits = new Map<string, Set<string>>();
  /** Per task, the producers whose decisions it reads itself: its dynamic space's, those whose pattern output it gathers. */
  const direct = new Map<string, string[]>();
  for (const task of plan.tasks) {
    const own = [...patternSources(plan, task).map((s) => s.task), ...(task.space.dynamic ? [task.space.dynamic.from.task] : [])];
    const set = new Set(own);
    for (const dep of task.deps) for (const p of waits.get(dep.task) ?? []) set.add(p);
    waits.set(task.id, set);
    direct.set(task.id, [...new Set(own)]);
  }
  const byProducer = new Map<string, Wave>();
  for (const task of plan.tasks) {
    const set = [...waits.get(task.id)!];
    if (set.length === 0) continue;
    const last = set.reduce((a, b) => (order.get(a)! > order.get(b)! ? a : b));
    let wave = byProducer.get(last);
    if (wave === undefined) byProducer.set(last, (wave = { producer: last, producers: [], tasks: [] }));
    wave.tasks.push(task.id);
    for (const p of direct.get(task.id)!) if (!wave.producers.includes(p)) wave.producers.push(p);
  }
  const waves = [...byProducer.values()].sort((a, b) => order.get(a.producer)! - order.get(b.producer)!);
  const waveOf = new Map<string, number>();
  waves.forEach((w, i) => {
    w.producers.sort((a, b) => order.get(a)! - order.get(b)!);
    for (const t of w.tasks) waveOf.set(t, i);
  });
  return { waveOf, waves };
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

/**
 * The pattern outputs (outputs naming a variable their step decides) of
 * other tasks that a task's steps read: what they hold is known only once
 * their job has run. (A step fused after the one that decides is its own
 * task's: `wfc export slurm` refuses it, export.ts.)
 */
export function patternSources(plan: Plan, task: PlanTask): { task: string; step: string; output: number }[] {
  const out: { task: string; step: string; output: number }[] = [];
  for (const step of task.steps)
    for (const input of step.inputs)
      for (const from of input.from) {
        if (from.task === task.id) continue;
        const producer = plan.tasks.find((t) => t.id === from.task)?.steps.find((s) => s.stage === from.step);
        const decides = producer?.decides ?? [];
        const template = producer?.outputs[from.output]?.template ?? [];
        if (template.some((p) => typeof p !== "string" && "var" in p && decides.includes(p.var))) out.push(from);
      }
  return out;
}
