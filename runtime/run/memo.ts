/**
 * A re-run with nothing to do, without redoing its checks (issue 14: under
 * a second at 10,000 samples and 50,000 jobs).
 *
 * Whether a job is up to date is a function of the plan (and what the run
 * was asked: cores, jobs), the journal, and what the checks read of the
 * file system: mtimes, folder listings, `lines` files, glob walks, all
 * through the run's Mtimes. A run that started no job and found every job
 * up to date, with no warning, leaves `.wfc/memo.json`: that key, the
 * journal's identity, every answer the checks got, and the events it
 * reported. The next run with the same key asks the same questions again;
 * when the journal is the same file, unchanged, and every answer is the
 * same, its checks would decide the same, so it reports the same events
 * and summary without making them. Any other answer, and the run checks
 * as always (and the memo goes).
 *
 * Asking again still costs a stat per file (the bulk of a no-op run's
 * time at this size); what it saves is expanding, hashing and scheduling
 * 50,000 jobs, reading the journal, and starting the pool's workers.
 *
 * Plans with what the memo does not model are left to the checks: SLURM
 * executors (the cluster is asked about), software environments (image
 * digests), temp outputs (their lifetimes look at every job first). So are
 * partial, forced, touching and dry runs, and runs given their own runner
 * or backend.
 */
import { createHash } from "node:crypto";
import { renameSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { packageVersion } from "../../contract/package-root.js";
import type { Plan } from "../../contract/plan.js";
import type { RunEvent, RunSummary } from "./events.js";
import type { Mtimes, Probe } from "./mtimes.js";
import type { RunConfig, RunOptions } from "./options.js";

/** Bumped when the file's meaning changes: an older memo is then ignored. */
const FORMAT = 1;

const FILE = "memo.json";

/** An up-to-date job's `job-end`, compactly: task index, job, first and end element. */
type UpToDate = readonly [number, number, number, number];

/** `.wfc/memo.json`. */
interface MemoFile {
  readonly format: number;
  readonly key: string;
  /** The journal's size, mtime, ctime and inode once the run closed it; null when there was none. */
  readonly journal: readonly number[] | null;
  /** Each mtime the checks read, by the path they asked for (null: not there). */
  readonly paths: readonly string[];
  readonly mtimes: readonly (number | null)[];
  readonly probes: readonly Probe[];
  /** The run's events but `run-start` and `run-end`, in order, without their times: up-to-date `job-end`s compactly. */
  readonly events: readonly (UpToDate | Record<string, unknown>)[];
  readonly summary: Omit<RunSummary, "wallMs">;
}

/** What a run must be for a memo to stand in for its checks (see the module comment). */
export function memoApplies(plan: Plan, config: RunConfig, options: RunOptions): boolean {
  if (config.dryRun || config.touch || config.force || config.selection !== undefined) return false;
  if (options.backend !== undefined || options.runner !== undefined) return false;
  return plan.tasks.every(
    (t) =>
      plan.executors[t.executor]?.type !== "slurm" &&
      t.steps.every((s) => s.environment === undefined && s.outputs.every((o) => o.lifetime !== "temp")),
  );
}

/** What the checks' outcome depends on besides the journal and the file system. */
export function memoKey(
  plan: Plan,
  asked: { workdir: string; codeDir: string; cores: number; jobs: number | undefined; config: RunConfig },
): string {
  const { keepGoing, latencyWait } = asked.config;
  const what = [
    FORMAT,
    packageVersion(),
    asked.workdir,
    asked.codeDir,
    asked.cores,
    asked.jobs ?? null,
    keepGoing ?? null,
    latencyWait ?? null,
  ];
  return createHash("sha256").update(JSON.stringify(what)).update("\0").update(JSON.stringify(plan)).digest("hex");
}

/**
 * The events and summary of the run a memo recorded, when it still holds:
 * same key, same journal, every answer the same. Reads through `mtimes`,
 * so the run's checks, if they must run after all, read no file twice.
 */
export async function replayable(
  workdir: string,
  stateDir: string,
  key: string,
  mtimes: Mtimes,
  signal: AbortSignal,
): Promise<{ readonly events: readonly (UpToDate | Record<string, unknown>)[]; readonly summary: Omit<RunSummary, "wallMs"> } | undefined> {
  let memo: MemoFile;
  try {
    memo = JSON.parse(readFileSync(join(stateDir, FILE), "utf8")) as MemoFile;
  } catch {
    return undefined;
  }
  if (memo.format !== FORMAT || memo.key !== key) return undefined;
  if (JSON.stringify(fileId(join(stateDir, "journal.ndjson"))) !== JSON.stringify(memo.journal)) return undefined;
  // Jobs a run that died left running are stopped by the checks' path (state.ts stopLeftovers).
  if (fileId(join(stateDir, "running")) !== null) return undefined;
  // A stat costs 3-10 µs here and a no-op run at 50,000 jobs makes 100,000: above a size, another thread takes half.
  const half = memo.paths.length >= SPLIT_ABOVE ? memo.paths.length >> 1 : 0;
  const other = half > 0 ? statsHold(workdir, memo.paths.slice(0, half), memo.mtimes.slice(0, half)) : Promise.resolve(true);
  for (let i = half; i < memo.paths.length; i++) {
    if ((mtimes.get(memo.paths[i]!) ?? null) !== memo.mtimes[i]) return undefined;
    if ((i & 4095) === 4095 && signal.aborted) return undefined;
  }
  if (!(await other)) return undefined;
  for (const probe of memo.probes) if ((await mtimes.answer(probe, signal)) !== probe.answer) return undefined;
  return signal.aborted ? undefined : { events: memo.events, summary: memo.summary };
}

/** The events of a memo, timed now, as the run that recorded it emitted them. */
export function* replayEvents(plan: Plan, events: readonly (UpToDate | Record<string, unknown>)[], now: () => number): Generator<RunEvent> {
  for (const e of events) {
    const time = now();
    if (Array.isArray(e)) {
      const [t, job, first, end] = e as UpToDate;
      const task = plan.tasks[t]!.id;
      yield {
        type: "job-end",
        time,
        task,
        job,
        elements: [first, end],
        status: "skipped",
        start: time,
        exitCode: null,
        reason: "up to date",
      };
    } else yield { ...e, time } as unknown as RunEvent;
  }
}

/**
 * Watches a run's events and warnings for what a memo can replay: only
 * up-to-date jobs and expansions, no warning. Spoilt by anything else.
 */
export class MemoRecorder {
  readonly #tasks: ReadonlyMap<string, number>;
  #events: (UpToDate | Record<string, unknown>)[] | undefined = [];

  constructor(plan: Plan) {
    this.#tasks = new Map(plan.tasks.map((t, i) => [t.id, i]));
  }

  event(e: RunEvent): void {
    // Both are made anew by a replay: the start from the plan, the end from the summary.
    if (this.#events === undefined || e.type === "run-start" || e.type === "run-end") return;
    if (e.type === "job-end" && e.status === "skipped" && e.reason === "up to date" && e.why === undefined) {
      this.#events.push([this.#tasks.get(e.task)!, e.job, e.elements[0], e.elements[1]]);
      return;
    }
    if (e.type === "expand") {
      const rest: Record<string, unknown> = { ...e };
      delete rest.time;
      this.#events.push(rest);
      return;
    }
    this.#events = undefined;
  }

  warned(): void {
    this.#events = undefined;
  }

  /**
   * Writes the memo when the run was a no-op that can be replayed (call it
   * once the journal is closed, under the lock), and says whether it did;
   * removes any older one otherwise. Never fails the run: without a memo
   * the next run checks. The summary may be a dry run's (the check after a
   * run that ran jobs, see run.ts): a no-op's is the same without `wouldRun`.
   */
  finish(stateDir: string, key: string, mtimes: Mtimes, summary: RunSummary): boolean {
    const path = join(stateDir, FILE);
    const recorded = mtimes.recorded();
    const rest: Omit<RunSummary, "wallMs" | "wouldRun"> & { wallMs?: number; wouldRun?: number } = { ...summary };
    delete rest.wallMs;
    delete rest.wouldRun;
    const noop =
      summary.status === "ok" &&
      summary.done === 0 &&
      summary.failed === 0 &&
      summary.cancelled === 0 &&
      summary.notRun === 0 &&
      summary.reason === undefined &&
      (summary.wouldRun ?? 0) === 0 &&
      (summary.unknown ?? []).length === 0;
    try {
      if (!noop || this.#events === undefined || recorded === undefined) {
        rmSync(path, { force: true });
        return false;
      }
      const paths = [...recorded.mtimes.keys()];
      const memo: MemoFile = {
        format: FORMAT,
        key,
        journal: fileId(join(stateDir, "journal.ndjson")),
        paths,
        mtimes: paths.map((p) => recorded.mtimes.get(p) ?? null),
        probes: recorded.probes,
        events: this.#events,
        summary: rest,
      };
      writeFileSync(`${path}.new`, JSON.stringify(memo));
      renameSync(`${path}.new`, path);
      return true;
    } catch {
      rmSync(`${path}.new`, { force: true });
      return false;
    }
  }
}

/** Removes a memo: a run that checks may change what it vouches for. */
export function dropMemo(stateDir: string): void {
  try {
    rmSync(join(stateDir, FILE), { force: true });
  } catch {
    // a memo that cannot be removed cannot be replaced either: its key or the journal tells it apart
  }
}

/** How many mtimes a memo must hold for a thread of their own to check half of them (starting one costs about 30 ms). */
const SPLIT_ABOVE = 20_000;

/**
 * On a thread of its own: whether every path's mtime is the recorded one,
 * read as Mtimes.get reads it (relative paths under the workdir; null when
 * not there). A thread that fails says no: the run then checks.
 */
export function statsHold(workdir: string, paths: readonly string[], mtimes: readonly (number | null)[]): Promise<boolean> {
  const source = `const { workerData: w, parentPort } = require("node:worker_threads");
    const { statSync } = require("node:fs");
    const { isAbsolute, sep } = require("node:path");
    let ok = true;
    for (let i = 0; ok && i < w.paths.length; i++) {
      const p = w.paths[i];
      let m = null;
      try { m = statSync(isAbsolute(p) ? p : w.workdir + sep + p, { throwIfNoEntry: false })?.mtimeMs ?? null; } catch {}
      ok = m === w.mtimes[i];
    }
    parentPort.postMessage(ok);`;
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(source, { eval: true, workerData: { workdir, paths, mtimes } });
    } catch {
      resolve(false);
      return;
    }
    worker.once("message", (ok: unknown) => resolve(ok === true));
    worker.once("error", () => resolve(false));
    worker.once("exit", () => resolve(false));
  });
}

/** A file's identity: size, mtime, ctime, inode; null when it is not there. */
function fileId(path: string): number[] | null {
  const s = statSync(path, { throwIfNoEntry: false });
  return s === undefined ? null : [s.size, s.mtimeMs, s.ctimeMs, s.ino];
}
