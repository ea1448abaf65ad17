/**
 * What a run tells of each unit that ended (issue 16): one per journal
 * record it writes, and one for the step Ctrl-C stopped, for `--trace`
 * (trace.ts); and a job's usage for its `job-end` event.
 */
import type { JobUsage } from "../state/usage.js";

/** One step of one element that ended in this run: a row of `--trace`. */
export interface UnitEnd {
  readonly task: string;
  readonly stage: string;
  /** The element's identity (`s=a,chunk=3`; empty for a stage without variables). */
  readonly element: string;
  readonly job: number;
  /** From 1. */
  readonly attempt: number;
  readonly status: "done" | "failed" | "cancelled" | "touched";
  readonly exitCode: number | null;
  /** Epoch milliseconds: the job's start and end. */
  readonly start: number;
  readonly end: number;
  readonly usage?: JobUsage;
  /** The job's log, when it ran. */
  readonly log?: string;
}

export function unitEnd(
  task: string,
  job: number,
  unit: { readonly stage: string; readonly element: string },
  status: UnitEnd["status"],
  exitCode: number | null | undefined,
  start: number,
  end: number,
  usage: JobUsage | undefined,
  attempt: number,
  log?: string,
): UnitEnd {
  return {
    task,
    stage: unit.stage,
    element: unit.element,
    job,
    attempt,
    status,
    exitCode: exitCode ?? null,
    start,
    end,
    ...(usage !== undefined ? { usage } : {}),
    ...(log !== undefined ? { log } : {}),
  };
}

/**
 * A job's usage from its commands': the job's wall time, CPU and I/O
 * summed, the largest peak RSS (they ran one after another). Each figure
 * only where every measured command has it; none when none was measured.
 */
export function sumUsage(commands: readonly (JobUsage | undefined)[], wallMs: number): JobUsage | undefined {
  // Most jobs are one command: its figures, with the job's wall time.
  if (commands.length === 1) return commands[0] && { ...commands[0], wallMs: Math.max(0, round(wallMs)) };
  const list = commands.filter((u): u is JobUsage => u !== undefined);
  if (list.length === 0) return undefined;
  const sum = (field: "userMs" | "sysMs" | "readBytes" | "writeBytes") =>
    list.every((u) => u[field] !== undefined) ? { [field]: round(list.reduce((n, u) => n + u[field]!, 0)) } : {};
  const rss = list.every((u) => u.maxRssKb !== undefined) ? { maxRssKb: Math.max(...list.map((u) => u.maxRssKb!)) } : {};
  return {
    wallMs: Math.max(0, round(wallMs)),
    ...sum("userMs"),
    ...sum("sysMs"),
    ...rss,
    ...sum("readBytes"),
    ...sum("writeBytes"),
    via: list[0]!.via,
  };
}

/** Microsecond precision is all any clock here has. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
