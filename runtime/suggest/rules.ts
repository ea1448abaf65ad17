import type { Plan } from "../../contract/plan.js";
import type { JobUsage } from "../state/usage.js";

/**
 * Right-sizing (issue 16, docs/resources.md): measured usage of the jobs
 * that ran → what each stage's jobs should request. Pure: the measurements
 * and the plan in, suggestions out; reading journals and traces is
 * ./measurements.ts, printing and writing a config file is the CLI's.
 */

/** One step of one element that ran and was measured: its last measured run. */
export interface Measurement {
  readonly stage: string;
  /** The element's identity (contract/identity.ts), or a trace's element cell: only compared. */
  readonly element: string;
  readonly status: "done" | "failed";
  readonly end: number;
  readonly usage: JobUsage;
  /** Where it was read (a journal or a trace file), for the header of what is written. */
  readonly source: string;
}

/** A stage's (or fused task's) requests: `mem` megabytes, `time` seconds per element. */
export interface Requests {
  readonly cpus: number;
  readonly mem: number | null;
  readonly time: number | null;
}

/** One suggested value, with the measured figure and the rule that made it. */
export interface Suggested {
  readonly value: number;
  /** The p95 figure the rule started from (KiB for mem, seconds for time, a CPU/wall ratio for cpus). */
  readonly p95: number;
  /** How many measurements had the figure. */
  readonly measured: number;
}

/** Why a value is not suggested. */
export type NotSuggested =
  | { readonly kind: "too-few"; readonly measured: number }
  /** No measurement had the figure (SpawnRunner gives wall time only, `fn` gives no RSS). */
  | { readonly kind: "not-measured" };

export interface Suggestion {
  /** The stages it applies to: one, or every stage of a fused task (which runs them in one job, one request). */
  readonly stages: readonly string[];
  /** The plan's task, when a plan is known. */
  readonly task?: string;
  /** Elements with a measured, successful run. */
  readonly jobs: number;
  /** Measured runs that failed: not counted (a job failing at once says nothing of what it needs). */
  readonly failed: number;
  /** What the plan requests now, when a plan is known. */
  readonly current?: Requests;
  readonly mem: Suggested | NotSuggested;
  readonly time: Suggested | NotSuggested;
  readonly cpus: Suggested | NotSuggested;
}

/** Fewer successful measurements than this and wfc says so rather than guess. */
export const MIN_JOBS = 3;

/** The rules, in words, for the output and the written file's header. */
export const RULES = {
  mem: "p95 peak RSS × 1.2, rounded up to 64M (at least 128M)",
  time: "p95 wall × 1.5, rounded up to the minute (at least 1m)",
  cpus: "p95 of (user+sys)/wall, rounded up (less 0.05 for clock granularity), at least 1",
} as const;

/** mem: p95 peak RSS × 1.2, in MiB rounded up to a 64 MiB step, at least 128 MiB. */
export function memRule(p95Kb: number): number {
  return Math.max(128, Math.ceil((p95Kb * 1.2) / 1024 / 64) * 64);
}

/** time: p95 wall × 1.5, rounded up to the minute, at least one minute (seconds). */
export function timeRule(p95Seconds: number): number {
  return Math.max(60, Math.ceil((p95Seconds * 1.5) / 60) * 60);
}

/**
 * cpus: p95 of (user+sys)/wall, rounded up, at least 1. A single-threaded
 * job's CPU time can exceed its wall by a clock tick, which would double
 * its request: 0.05 is taken off first.
 */
export function cpusRule(p95Ratio: number): number {
  return Math.max(1, Math.ceil(p95Ratio - 0.05));
}

/** The nearest-rank 95th percentile (the smallest value at least 95% of them are at or below). */
export function p95(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.95) - 1)]!;
}

/** One element's figures for a group of steps: wall summed (seconds), RSS the largest (KiB), CPU summed (seconds). */
interface ElementFigures {
  wall: number;
  rss?: number;
  cpu?: number;
  /** Wall of the steps whose CPU is known, for the ratio. */
  cpuWall: number;
}

/**
 * Per stage, or per task when the plan fuses stages (a fused job runs its
 * steps one after the other under one request: its time is their sum per
 * element, its mem their largest, its cpus the largest ratio's). Sorted by
 * the plan's task order, then by stage name for stages the plan does not have.
 */
export function suggest(measurements: readonly Measurement[], plan?: Plan): Suggestion[] {
  const taskOf = new Map<string, Plan["tasks"][number]>();
  for (const task of plan?.tasks ?? []) for (const stage of task.stages) taskOf.set(stage, task);
  const groups = new Map<string, { stages: string[]; task?: Plan["tasks"][number]; done: Measurement[]; failed: number }>();
  for (const m of measurements) {
    const task = taskOf.get(m.stage);
    const key = task === undefined ? `stage\0${m.stage}` : `task\0${task.id}`;
    let group = groups.get(key);
    if (group === undefined)
      groups.set(key, (group = { stages: task ? [...task.stages] : [m.stage], ...(task ? { task } : {}), done: [], failed: 0 }));
    if (m.status === "done") group.done.push(m);
    else group.failed++;
  }
  const order = new Map((plan?.tasks ?? []).map((t, i) => [t.id, i]));
  const out = [...groups.values()].map(({ stages, task, done, failed }) => {
    const elements = new Map<string, ElementFigures>();
    for (const m of done) {
      const u = m.usage;
      const per = u.shared !== undefined && u.shared > 1 ? u.shared : 1;
      const wall = u.wallMs / 1000 / per;
      let e = elements.get(m.element);
      if (e === undefined) elements.set(m.element, (e = { wall: 0, cpuWall: 0 }));
      e.wall += wall;
      if (u.maxRssKb !== undefined) e.rss = Math.max(e.rss ?? 0, u.maxRssKb);
      if (u.userMs !== undefined || u.sysMs !== undefined) {
        e.cpu = (e.cpu ?? 0) + ((u.userMs ?? 0) + (u.sysMs ?? 0)) / 1000 / per;
        e.cpuWall += wall;
      }
    }
    const figures = [...elements.values()];
    const rule = (values: number[], apply: (p: number) => number): Suggested | NotSuggested => {
      if (values.length === 0) return figures.length < MIN_JOBS ? { kind: "too-few", measured: figures.length } : { kind: "not-measured" };
      if (values.length < MIN_JOBS) return { kind: "too-few", measured: values.length };
      const p = p95(values);
      return { value: apply(p), p95: p, measured: values.length };
    };
    const suggestion: Suggestion = {
      stages,
      ...(task ? { task: task.id, current: task.resources } : {}),
      jobs: figures.length,
      failed,
      mem: rule(
        figures.flatMap((f) => (f.rss === undefined ? [] : [f.rss])),
        memRule,
      ),
      time: rule(
        figures.map((f) => f.wall),
        timeRule,
      ),
      // A step too short to measure (wall 0) says nothing of its parallelism.
      cpus: rule(
        figures.flatMap((f) => (f.cpu === undefined || f.cpuWall <= 0 ? [] : [f.cpu / f.cpuWall])),
        cpusRule,
      ),
    };
    return suggestion;
  });
  return out.sort((a, b) => {
    const ia = a.task === undefined ? Infinity : order.get(a.task)!;
    const ib = b.task === undefined ? Infinity : order.get(b.task)!;
    if (ia !== ib) return ia - ib;
    return a.stages[0]! < b.stages[0]! ? -1 : a.stages[0]! > b.stages[0]! ? 1 : 0;
  });
}

/** Whether a value was suggested. */
export function isSuggested(value: Suggested | NotSuggested): value is Suggested {
  return "value" in value;
}
