import { unreachable } from "../../contract/unreachable.js";
import type { RunEvent } from "../../runtime/run/run.js";

/** How a set of jobs stands; every job-end lands in exactly one of the four finished counts. */
export interface JobCounts {
  readonly done: number;
  /** Skipped jobs (up to date, or touched). */
  readonly upToDate: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Started and not yet ended. */
  readonly running: number;
}

/** One task of the plan, in plan order. */
export interface TaskProgress extends JobCounts {
  readonly id: string;
  readonly jobs: number;
  /** A dynamic task (issue 14) whose jobs are not all known yet: `jobs` will grow. */
  readonly more?: boolean;
}

/** What the progress display renders; built from run events by {@link ProgressState}. */
export interface ProgressSnapshot {
  readonly tasks: readonly TaskProgress[];
  readonly totals: JobCounts & { readonly jobs: number; readonly more?: boolean };
  /** Time of run-start, ms since the epoch (the events' clock). */
  readonly start: number | undefined;
  /** Time of run-end: elapsed time stops there. */
  readonly end: number | undefined;
}

/** Jobs that ended for good: a cancelled job is not progress (it runs again next time), so it is not counted. */
export function finished(c: JobCounts): number {
  return c.done + c.upToDate + c.failed;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The run so far, updated in place: a plan may have 10,000 tasks and a run
 * 100,000 events, so an event costs a map lookup, not a copy of the state.
 */
export class ProgressState implements ProgressSnapshot {
  readonly tasks: readonly TaskProgress[];
  readonly totals: Mutable<JobCounts> & { jobs: number; more?: boolean };
  start: number | undefined;
  end: number | undefined;
  readonly #byId: ReadonlyMap<string, Mutable<TaskProgress>>;
  /** `task#job` of started jobs: a skipped job ends without having started. */
  readonly #running = new Set<string>();

  constructor(tasks: readonly { readonly id: string; readonly jobs: number; readonly more?: boolean }[]) {
    // `more` only on a dynamic task's row (false once all its jobs are known), so other rows look as they always did.
    const rows: Mutable<TaskProgress>[] = tasks.map((t) => ({
      id: t.id,
      jobs: t.jobs,
      ...(t.more === true ? { more: true } : {}),
      done: 0,
      upToDate: 0,
      failed: 0,
      cancelled: 0,
      running: 0,
    }));
    this.tasks = rows;
    this.#byId = new Map(rows.map((r) => [r.id, r]));
    const more = rows.some((r) => r.more === true) ? { more: true } : {};
    this.totals = { jobs: rows.reduce((n, r) => n + r.jobs, 0), ...more, done: 0, upToDate: 0, failed: 0, cancelled: 0, running: 0 };
  }

  apply(event: RunEvent): void {
    switch (event.type) {
      case "run-start":
        this.start = event.time;
        return;
      case "job-start": {
        const task = this.#byId.get(event.task);
        const key = `${event.task}#${event.job}`;
        if (task === undefined || this.#running.has(key)) return;
        this.#running.add(key);
        task.running++;
        this.totals.running++;
        return;
      }
      case "job-end": {
        const task = this.#byId.get(event.task);
        if (task === undefined) return;
        if (this.#running.delete(`${event.task}#${event.job}`)) {
          task.running--;
          this.totals.running--;
        }
        const field = event.status === "skipped" ? "upToDate" : event.status;
        task[field]++;
        this.totals[field]++;
        return;
      }
      case "would-run":
        // A dry run: nothing runs, so there is no progress to show.
        return;
      case "stale-inputs":
        // A warning (display.ts shows it): no job's progress.
        return;
      case "expand": {
        // A dynamic task's elements became known (issue 14): its total and the run's grow.
        const task = this.#byId.get(event.task);
        if (task === undefined) return;
        task.jobs += event.jobs;
        task.more = event.more;
        this.totals.jobs += event.jobs;
        this.totals.more = this.tasks.some((t) => t.more === true);
        return;
      }
      case "slurm-submit":
        // Submitted is not running: a SLURM job counts as running from its job-start.
        return;
      case "run-end":
        this.end = event.time;
        return;
      default:
        return unreachable(event);
    }
  }
}
