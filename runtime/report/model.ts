import { closeSync, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import type { Plan, PlanTask } from "../../contract/plan.js";
import { logFileName } from "../run/logs.js";
import type { JournalRecord } from "../state/journal.js";
import type { RunRecord } from "../state/usage.js";
import { criticalPath } from "./critical-path.js";
import { displayIdentity } from "./display.js";
import type { LoadedRun } from "./load-run.js";
import { percentile } from "./percentile.js";
import { packRows } from "./rows.js";

/**
 * Everything the report shows, computed once in Node (html.ts only lays it
 * out; the page's script only draws `timeline`). Values that came from the
 * user (identities, params, paths, log text) are kept as they are here and
 * escaped where they are written.
 */
export interface ReportModel {
  readonly run: RunRecord;
  readonly plan: Plan;
  /** Every stage in plan order, with its task and colour. */
  readonly stages: readonly StageInfo[];
  readonly timeline: TimelineData;
  readonly table: readonly StageRow[];
  readonly failures: readonly Failure[];
  /** Failed records beyond the ones listed with their logs. */
  readonly moreFailures: number;
  /** The critical path, as records, first to last. */
  readonly critical: readonly CriticalStep[];
  /** Steps in the journal this run did not run (up to date, or not selected): counted, not drawn. */
  readonly notRun: number;
}

export interface StageInfo {
  readonly stage: string;
  readonly task: PlanTask;
  readonly colour: string;
}

/**
 * The timeline's bars as columns (one array per field, indexed alike, in
 * start order), embedded in the page as JSON: 100,000 bars stay a few MB.
 * Times are milliseconds from `t0`; `null` where the run did not measure.
 */
export interface TimelineData {
  readonly t0: number;
  /** The end of the view: the last bar's end or the run's, from t0. */
  readonly span: number;
  readonly rows: number;
  readonly stages: readonly string[];
  readonly colours: readonly string[];
  /** Stage index, element (decoded for reading), start, end, row, status (0 done, 1 failed, 2 touched), attempt, exit code. */
  readonly s: readonly number[];
  readonly e: readonly string[];
  readonly a: readonly number[];
  readonly b: readonly number[];
  readonly r: readonly number[];
  readonly st: readonly number[];
  readonly at: readonly (number | null)[];
  readonly x: readonly (number | null)[];
  /** Measured wall, user+sys CPU (ms), peak RSS (KiB), the task's cpus. */
  readonly w: readonly (number | null)[];
  readonly u: readonly (number | null)[];
  readonly m: readonly (number | null)[];
  readonly c: readonly number[];
  /** The job each bar is a part of: its start and end, and how many records it wrote (1: the bar is the job). */
  readonly ja: readonly number[];
  readonly jb: readonly number[];
  readonly j: readonly number[];
  /** The critical path's bars, first to last. */
  readonly crit: readonly number[];
}

export interface StageRow {
  readonly stage: string;
  readonly colour: string;
  readonly jobs: number;
  readonly ok: number;
  readonly failed: number;
  readonly touched: number;
  /** Wall time (measured, else end − start), ms. */
  readonly wallP50?: number;
  readonly wallP95?: number;
  readonly wallMax?: number;
  /** (user + sys) / (wall × cpus requested), over the records that measured CPU. */
  readonly cpuEfficiency?: number;
  readonly cpus: number;
  readonly rssP50?: number;
  readonly rssMax?: number;
  /** Records with a `usage`. */
  readonly measured: number;
}

export interface Failure {
  readonly stage: string;
  readonly element: string;
  readonly exitCode: number | null | undefined;
  readonly attempt: number | undefined;
  readonly end: number;
  /** The job's log, relative to the workflow folder, when there is one. */
  readonly log?: string;
  readonly tail: string;
}

export interface CriticalStep {
  readonly stage: string;
  readonly element: string;
  readonly start: number;
  readonly end: number;
}

/**
 * The records grouped by the job that wrote them, jobs in start order,
 * each job's records in journal order. A job's records (a fused job's
 * steps, a batch's elements, element-major) carry the job's start and end
 * and are appended together: a job is a run of consecutive records of one
 * task with the same start and end, of at most the task's `batch`
 * elements, no step of an element twice (two jobs that ended alike, as
 * SLURM's whole seconds may make them, stay two). The timeline draws a
 * job's records side by side within its time, each as long as its
 * measured wall time says (else equal shares), so a batch of 100 is one
 * row, not 100, and its steps read in the order they ran.
 */
function jobsOf(records: readonly JournalRecord[], taskOf: (r: JournalRecord) => PlanTask): number[][] {
  const jobs: number[][] = [];
  let key = "";
  let elements = new Set<string>();
  let units = new Set<string>();
  records.forEach((r, i) => {
    const task = taskOf(r);
    const k = `${task.id}\0${r.start}\0${r.end}`;
    const unit = `${r.stage}\0${r.element}`;
    const full = !elements.has(r.element) && elements.size >= Math.max(1, task.batch);
    if (k !== key || full || units.has(unit)) {
      jobs.push([]);
      key = k;
      elements = new Set();
      units = new Set();
    }
    jobs.at(-1)!.push(i);
    elements.add(r.element);
    units.add(unit);
  });
  return jobs.sort((x, y) => records[x[0]!]!.start - records[y[0]!]!.start || x[0]! - y[0]!);
}

/** Failures listed with their log tails; the others are counted. */
const MAX_FAILURES = 50;
const TAIL_LINES = 20;
const TAIL_BYTES = 16 * 1024;

export function reportModel(loaded: LoadedRun, stateDir: string): ReportModel {
  const { run, plan } = loaded;
  const stages: StageInfo[] = plan.tasks.flatMap((task) => task.stages.map((stage) => ({ stage, task, colour: "" })));
  stages.forEach((s, i) => ((s as { colour: string }).colour = stageColour(i)));
  const stageIndex = new Map(stages.map((s, i) => [s.stage, i]));
  // A record of a stage the plan no longer has (a hand-edited run file) is not drawn.
  const records = loaded.records.filter((r) => stageIndex.has(r.stage) && Number.isFinite(r.start) && Number.isFinite(r.end));
  const jobs = jobsOf(records, (r) => stages[stageIndex.get(r.stage)!]!.task);
  const sorted = jobs.flatMap((j) => j.map((i) => records[i]!));
  const t0 = sorted.length === 0 ? run.start : Math.min(run.start, sorted[0]!.start);
  // Each job's records side by side in its time (see jobsOf), and its row for all of them.
  const start: number[] = [];
  const end: number[] = [];
  const jobStart: number[] = [];
  const jobEnd: number[] = [];
  const jobSize: number[] = [];
  const jobRow: number[] = [];
  const packed = packRows(
    jobs.map((_, k) => k),
    jobs.map((j) => records[j[0]!]!.start - t0),
    jobs.map((j) => Math.max(records[j[0]!]!.end, records[j[0]!]!.start) - t0),
  );
  jobs.forEach((j, k) => {
    const first = records[j[0]!]!;
    const a = first.start - t0;
    const b = Math.max(first.end, first.start) - t0;
    const weights = j.map((i) => finite(records[i]!.usage?.wallMs));
    const measured = weights.every((w) => w !== null && w >= 0) && weights.some((w) => w! > 0);
    const total = measured ? weights.reduce((x, w) => x! + w!, 0)! : j.length;
    let done = 0;
    j.forEach((_, m) => {
      start.push(a + ((b - a) * done) / total);
      done += measured ? weights[m]! : 1;
      end.push(a + ((b - a) * done) / total);
      jobStart.push(a);
      jobEnd.push(b);
      jobSize.push(j.length);
      jobRow.push(packed.row[k]!);
    });
  });
  const rows = packed.rows;
  const row = jobRow;
  const crit = criticalPath(
    plan,
    sorted.map((r, i) => ({ stage: r.stage, element: r.element, start: start[i]!, end: end[i]! })),
  );
  let lastEnd = 0;
  for (const e of end) lastEnd = Math.max(lastEnd, e);
  const timeline: TimelineData = {
    t0,
    span: Math.max(1, lastEnd, run.end === null ? 0 : run.end - t0),
    rows,
    stages: stages.map((s) => s.stage),
    colours: stages.map((s) => s.colour),
    s: sorted.map((r) => stageIndex.get(r.stage)!),
    e: sorted.map((r) => displayIdentity(r.element)),
    a: start.map(tenth),
    b: end.map(tenth),
    r: row,
    ja: jobStart.map(tenth),
    jb: jobEnd.map(tenth),
    j: jobSize,
    st: sorted.map((r) => (r.status === "done" ? 0 : r.status === "failed" ? 1 : 2)),
    at: sorted.map((r) => r.attempt ?? null),
    x: sorted.map((r) => (r.exitCode === undefined ? null : r.exitCode)),
    w: sorted.map((r) => tenthOrNull(finite(r.usage?.wallMs))),
    u: sorted.map((r) => tenthOrNull(cpuMs(r))),
    m: sorted.map((r) => finite(r.usage?.maxRssKb)),
    c: sorted.map((r) => stages[stageIndex.get(r.stage)!]!.task.resources.cpus),
    crit,
  };

  const failed = sorted.filter((r) => r.status === "failed");
  const failures = failed.slice(-MAX_FAILURES).map((r) => failure(r, stages[stageIndex.get(r.stage)!]!.task, stateDir));
  return {
    run,
    plan,
    stages,
    timeline,
    table: stages.map((s) => stageRow(s, sorted)),
    failures,
    moreFailures: failed.length - failures.length,
    critical: crit.map((i) => {
      const r = sorted[i]!;
      return { stage: r.stage, element: displayIdentity(r.element), start: start[i]! + t0, end: end[i]! + t0 };
    }),
    notRun: loaded.notRun,
  };
}

/** Milliseconds to a tenth: what a person can tell apart, and a third of the page's size at 100,000 bars. */
function tenth(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function tenthOrNull(ms: number | null): number | null {
  return ms === null ? null : tenth(ms);
}

/** A measured figure, or null for none (or for anything but a number: a hand-edited journal). */
function finite(n: unknown): number | null {
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

function cpuMs(r: JournalRecord): number | null {
  const u = r.usage;
  const user = finite(u?.userMs);
  const sys = finite(u?.sysMs);
  if (user === null && sys === null) return null;
  return (user ?? 0) + (sys ?? 0);
}

function wallOf(r: JournalRecord): number {
  return finite(r.usage?.wallMs) ?? Math.max(0, r.end - r.start);
}

function stageRow(info: StageInfo, records: readonly JournalRecord[]): StageRow {
  const mine = records.filter((r) => r.stage === info.stage);
  const walls = mine.filter((r) => r.status !== "touched").map(wallOf);
  const rss = mine.map((r) => finite(r.usage?.maxRssKb)).filter((v): v is number => v !== null);
  let cpu = 0;
  let capacity = 0;
  for (const r of mine) {
    const used = cpuMs(r);
    const wall = finite(r.usage?.wallMs);
    if (used === null || wall === null) continue;
    cpu += used;
    capacity += wall * Math.max(1, info.task.resources.cpus);
  }
  return {
    stage: info.stage,
    colour: info.colour,
    jobs: mine.length,
    ok: mine.filter((r) => r.status === "done").length,
    failed: mine.filter((r) => r.status === "failed").length,
    touched: mine.filter((r) => r.status === "touched").length,
    ...defined("wallP50", percentile(walls, 50)),
    ...defined("wallP95", percentile(walls, 95)),
    ...defined("wallMax", percentile(walls, 100)),
    ...defined("cpuEfficiency", capacity > 0 ? cpu / capacity : undefined),
    cpus: info.task.resources.cpus,
    ...defined("rssP50", percentile(rss, 50)),
    ...defined("rssMax", percentile(rss, 100)),
    measured: mine.filter((r) => r.usage !== undefined).length,
  };
}

function defined<K extends string>(key: K, value: number | undefined): { [k in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: number };
}

function failure(r: JournalRecord, task: PlanTask, stateDir: string): Failure {
  const log = logOf(stateDir, task.id, r.element);
  return {
    stage: r.stage,
    element: displayIdentity(r.element),
    exitCode: r.exitCode,
    attempt: r.attempt,
    end: r.end,
    ...(log !== undefined ? { log: join(".wfc", "logs", task.id, log) } : {}),
    tail: log === undefined ? "" : tailOf(join(stateDir, "logs", task.id, log)),
  };
}

/**
 * The name of the log of the job that ran this element (runtime/run/logs.ts):
 * its own, or a batch's that it started. A batch's later elements share
 * their first's log, which the record does not name: none is shown then.
 */
function logOf(stateDir: string, taskId: string, element: string): string | undefined {
  const own = logFileName(element, 1);
  let names: string[];
  try {
    names = readdirSync(join(stateDir, "logs", taskId));
  } catch {
    return undefined;
  }
  if (names.includes(own)) return own;
  const batch = own.slice(0, -".log".length) + "+";
  return names.find((n) => n.startsWith(batch) && /^\d+\.log$/.test(n.slice(batch.length)));
}

/** The last lines of a log, reading at most its last 16 KiB. */
function tailOf(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buffer, got, length - got, size - length + got);
      if (n === 0) break;
      got += n;
    }
    const lines = buffer.subarray(0, got).toString("utf8").trimEnd().split("\n");
    // A cut first line is dropped unless it is the only one.
    if (length < size && lines.length > 1) lines.shift();
    return lines.slice(-TAIL_LINES).join("\n");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Distinct colours around the hue circle (the golden angle apart), in stage order. */
function stageColour(i: number): string {
  const hue = Math.round((i * 137.508 + 210) % 360);
  const light = i % 2 === 0 ? 52 : 42;
  return `hsl(${hue} 62% ${light}%)`;
}
