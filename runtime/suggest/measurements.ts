import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Plan } from "../../contract/plan.js";
import { schemaValidator } from "../../contract/schema-validators.js";
import { TRACE_COLUMNS } from "../run/trace.js";
import { EXPORT_MARKER } from "../slurm/export.js";
import { parseUsageLines, usageOfStep } from "../slurm/measure-script.js";
import type { JournalRecord } from "../state/journal.js";
import type { JobUsage, RunRecord } from "../state/usage.js";
import type { Measurement } from "./rules.js";

/**
 * What `wfc suggest` reads: the journals of workflow folders (every record
 * with `usage`, across runs) and trace files written by `wfc run --trace`.
 * Reads only; never creates `.wfc/` or anything in it (the Journal class
 * would: it is for runs).
 */

/** One input read: a journal or a trace, with how many measured records it gave. */
export interface Source {
  readonly kind: "journal" | "trace" | "export";
  /** As the user named it (a folder's journal as `DIR/.wfc/journal.ndjson`). */
  readonly path: string;
  readonly measured: number;
}

/** An input that cannot be read (WFC306): a message naming it, and the fix. */
export interface SourceProblem {
  readonly file: string;
  readonly message: string;
  readonly help: string;
}

export interface ReadResult {
  /** Each (stage, element)'s last measured run, across every input. */
  readonly measurements: readonly Measurement[];
  readonly sources: readonly Source[];
  readonly problems: readonly SourceProblem[];
  /** The newest RunRecord of the folders read, for the plan the jobs ran with (its `plan`). */
  readonly newestRun?: { readonly path: string; readonly record: RunRecord; readonly plan: Plan };
}

/** Stage names as the workflow schema allows them: a trace's other rows are not wfc's. */
const STAGE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** A RunRecord's file name (`.wfc/runs/<id>.json`, ./usage.ts). */
const RUN_FILE = /^\d{8}T\d{6}\.\d{3}Z-\d+\.json$/;

/**
 * Reads every input: a folder (its `.wfc/journal.ndjson` and `.wfc/runs/`),
 * a SLURM export's folder (what its jobs' scripts measured, `usage/`), a
 * journal file, or a trace file (TSV, or CSV when its name ends in `.csv`).
 * `cwd` resolves relative names; `paths` are shown as given. `plan` (the
 * user's `--plan`) tells an export's lines apart by stage where the export
 * holds no plan.json.
 */
export function readMeasurements(paths: readonly string[], cwd: string, plan?: Plan): ReadResult {
  const last = new Map<string, Measurement>();
  const sources: Source[] = [];
  const problems: SourceProblem[] = [];
  let newestRun: ReadResult["newestRun"];
  const keep = (m: Measurement) => {
    const key = `${m.stage}\0${m.element}`;
    const before = last.get(key);
    if (before === undefined || before.end <= m.end) last.set(key, m);
  };
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    let isDir: boolean;
    try {
      isDir = statSync(absolute).isDirectory();
    } catch {
      problems.push({
        file: path,
        message: `no such folder or file \`${path}\``,
        help: "name a workflow's folder (it holds `.wfc/`) or a trace file written by `wfc run --trace`",
      });
      continue;
    }
    if (isDir && existsSync(join(absolute, EXPORT_MARKER))) {
      const exportPlan = planIn(join(absolute, "plan.json")) ?? plan;
      if (exportPlan === undefined) {
        problems.push({
          file: path,
          message: `\`${path}\` is a SLURM export without its plan: which stage each measured step was cannot be told`,
          help: "give the workflow or plan it was exported from with --plan",
        });
        continue;
      }
      sources.push({
        kind: "export",
        path: join(path, "usage"),
        measured: exportMeasurements(join(absolute, "usage"), join(path, "usage"), exportPlan, keep),
      });
      continue;
    }
    if (isDir) {
      const journal = join(absolute, ".wfc", "journal.ndjson");
      const shown = join(path, ".wfc", "journal.ndjson");
      const text = readText(journal);
      if (text === undefined) {
        problems.push({
          file: path,
          message: `\`${path}\` holds no journal (\`${shown}\`): no run happened there`,
          help: "run the workflow first (`wfc run`), or name the folder it ran in",
        });
        continue;
      }
      sources.push({ kind: "journal", path: shown, measured: journalMeasurements(text, shown, keep) });
      const run = newestRunRecord(join(absolute, ".wfc", "runs"), join(path, ".wfc", "runs"));
      if (run !== undefined && (newestRun === undefined || newestRun.record.id < run.record.id)) newestRun = run;
      continue;
    }
    const text = readText(absolute);
    if (text === undefined) {
      problems.push({ file: path, message: `cannot read \`${path}\``, help: "check the file's permissions" });
      continue;
    }
    const firstLine = text.slice(0, text.indexOf("\n") === -1 ? text.length : text.indexOf("\n")).replace(/\r$/, "");
    if (firstLine.startsWith("{")) {
      sources.push({ kind: "journal", path, measured: journalMeasurements(text, path, keep) });
      continue;
    }
    const csv = path.endsWith(".csv");
    const rows = csv
      ? csvRows(text)
      : text
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => l.replace(/\r$/, "").split("\t"));
    const header = rows[0] ?? [];
    if (header.join("\t") !== TRACE_COLUMNS.join("\t")) {
      problems.push({
        file: path,
        message: `\`${path}\` is not a trace written by \`wfc run --trace\` (its first line is not the trace's header)`,
        help: `a trace starts with the line \`${TRACE_COLUMNS.join(csv ? "," : "\\t")}\`; a journal is \`DIR/.wfc/journal.ndjson\``,
      });
      continue;
    }
    sources.push({ kind: "trace", path, measured: traceMeasurements(rows.slice(1), path, keep) });
  }
  const measurements = [...last.values()].sort((a, b) =>
    a.stage !== b.stage ? (a.stage < b.stage ? -1 : 1) : a.element < b.element ? -1 : a.element > b.element ? 1 : 0,
  );
  return { measurements, sources, problems, ...(newestRun !== undefined ? { newestRun } : {}) };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The journal's records with `usage` (done or failed), each offered to `keep`; how many. */
function journalMeasurements(text: string, source: string, keep: (m: Measurement) => void): number {
  let n = 0;
  for (const line of text.split("\n")) {
    const r = parseRecord(line);
    // A stage name that is not one (a hand-edited journal) is not wfc's: it would be printed and written as a table name.
    if (r === undefined || r.usage === undefined || r.status === "touched" || !STAGE.test(r.stage)) continue;
    if (typeof r.usage.wallMs !== "number" || !Number.isFinite(r.usage.wallMs)) continue;
    keep({ stage: r.stage, element: r.element, status: r.status, end: r.end, usage: r.usage, source });
    n++;
  }
  return n;
}

/**
 * A line's record, or the last whole record in a line an earlier torn
 * write glued to (as the journal reads it: state/journal.ts).
 */
function parseRecord(line: string): JournalRecord | undefined {
  if (line.trim() === "") return undefined;
  for (let at = line.lastIndexOf('{"stage":'); at !== -1; at = at === 0 ? -1 : line.lastIndexOf('{"stage":', at - 1)) {
    try {
      const r = JSON.parse(line.slice(at)) as Partial<JournalRecord>;
      if (typeof r.stage === "string" && typeof r.element === "string" && typeof r.end === "number" && typeof r.status === "string")
        return r as JournalRecord;
    } catch {
      // A torn record: try the one before.
    }
  }
  return undefined;
}

/** The trace's rows that measured a step that ended done or failed; how many. */
function traceMeasurements(rows: readonly string[][], source: string, keep: (m: Measurement) => void): number {
  const at = (name: (typeof TRACE_COLUMNS)[number]) => TRACE_COLUMNS.indexOf(name);
  let n = 0;
  for (const row of rows) {
    const cell = (name: (typeof TRACE_COLUMNS)[number]) => row[at(name)] ?? "";
    const stage = cell("stage");
    const status = cell("status");
    const wall = number(cell("wall_s"));
    if (!STAGE.test(stage) || (status !== "done" && status !== "failed") || wall === undefined) continue;
    const user = number(cell("user_s"));
    const sys = number(cell("sys_s"));
    const rss = number(cell("peak_rss_kb"));
    const end = Date.parse(cell("end"));
    const usage: JobUsage = {
      wallMs: wall * 1000,
      ...(user !== undefined ? { userMs: user * 1000 } : {}),
      ...(sys !== undefined ? { sysMs: sys * 1000 } : {}),
      ...(rss !== undefined ? { maxRssKb: rss } : {}),
      // A trace does not say who measured: the figures are what matters here.
      via: "wait4",
    };
    keep({ stage, element: cell("element"), status, end: Number.isNaN(end) ? 0 : end, usage, source });
    n++;
  }
  return n;
}

function number(text: string): number | undefined {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text)) return undefined;
  return Number(text);
}

/** RFC 4180: fields separated by commas, quoted with `"` (doubled inside), rows by CRLF or LF. */
function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** A plan.json written by wfc, else undefined. */
function planIn(file: string): Plan | undefined {
  const text = readText(file);
  if (text === undefined) return undefined;
  try {
    const data: unknown = JSON.parse(text);
    return schemaValidator("plan.schema.json")(data) ? (data as Plan) : undefined;
  } catch {
    return undefined;
  }
}

/** `usage/NAME_INDEX`: an array's index, one line per step run (runtime/slurm/measure-script.ts). */
const USAGE_FILE = /^(.+)\.(\d+)_(\d+)$/;

/**
 * A SLURM export's measurements: each array job's script appends a line per
 * step it ran to `usage/ARRAY_INDEX` (truncated when the job starts again),
 * its element's steps in order, a batch's elements one after the other.
 * The line says nothing of the step's exit status, so every measured step
 * counts as done (a step killed for its memory shows at least what it had).
 */
function exportMeasurements(dir: string, shown: string, plan: Plan, keep: (m: Measurement) => void): number {
  const tasks = new Map(plan.tasks.map((t) => [t.id, t]));
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return 0;
  }
  let n = 0;
  for (const name of names) {
    const m = USAGE_FILE.exec(name);
    const task = m === null ? undefined : tasks.get(m[1]!);
    if (m === null || task === undefined) continue;
    const steps = task.stages.length;
    const source = join(shown, name);
    const text = readText(join(dir, name));
    if (text === undefined) continue;
    parseUsageLines(text).forEach((figures, k) => {
      const stage = task.stages[k % steps]!;
      // The array's chunk and index and the element's place in its batch name the element within the export.
      keep({
        stage,
        element: `${m[2]}#${m[3]}#${Math.floor(k / steps)}`,
        status: "done",
        end: figures.end,
        usage: usageOfStep(figures),
        source,
      });
      n++;
    });
  }
  return n;
}

/** The newest RunRecord in a folder with a plan in it; undefined when there is none. */
function newestRunRecord(dir: string, shown: string): ReadResult["newestRun"] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => RUN_FILE.test(n));
  } catch {
    return undefined;
  }
  // Ids sort by time: the newest first, and the first that reads as a record with a plan wins.
  for (const name of names.sort().reverse()) {
    try {
      const record = JSON.parse(readFileSync(join(dir, name), "utf8")) as RunRecord;
      // Only a plan shaped as plan.json is used for what the stages request now.
      if (typeof record.id === "string" && schemaValidator("plan.schema.json")(record.plan))
        return { path: join(shown, name), record, plan: record.plan as Plan };
    } catch {
      // A record being rewritten, or not one: the one before.
    }
  }
  return undefined;
}
