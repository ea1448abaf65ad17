/**
 * `wfc run --trace FILE`: one row per unit that ended (usage.ts's UnitEnd:
 * each journal record the run writes, and the step Ctrl-C stopped), as TSV,
 * or CSV when FILE ends in `.csv`. docs/trace.md describes the columns.
 *
 * No value can break a row or run in a spreadsheet: in TSV a tab, newline,
 * carriage return or backslash in a value is written as `\t`, `\n`, `\r`,
 * `\\` (the IANA TSV convention, as PostgreSQL's COPY writes it); in CSV a
 * value with a comma, quote, CR or LF is quoted with its quotes doubled
 * (RFC 4180). In both, a text value that starts with `=`, `+`, `-`, `@`, `'`, a
 * tab or a CR gets a leading `'`, which spreadsheets show and never
 * evaluate (OWASP's advice on CSV injection).
 */
import type { UnitEnd } from "./usage.js";

export const TRACE_COLUMNS = [
  "task",
  "stage",
  "element",
  "job",
  "attempt",
  "status",
  "exit",
  "start",
  "end",
  "wall_s",
  "cpu_pct",
  "user_s",
  "sys_s",
  "peak_rss_kb",
  "read_bytes",
  "write_bytes",
  "log",
] as const;

export type TraceFormat = "tsv" | "csv";

/** CSV for a file named `*.csv`, else TSV. */
export function traceFormat(file: string): TraceFormat {
  return file.toLowerCase().endsWith(".csv") ? "csv" : "tsv";
}

/** The header line, with its newline. */
export function traceHeader(format: TraceFormat): string {
  return TRACE_COLUMNS.join(format === "csv" ? "," : "\t") + "\n";
}

/** One unit's row, with its newline. */
export function traceRow(u: UnitEnd, format: TraceFormat): string {
  const usage = u.usage;
  const cpu = usage && usage.userMs !== undefined && usage.sysMs !== undefined ? usage.userMs + usage.sysMs : undefined;
  const cells: string[] = [
    text(u.task, format),
    text(u.stage, format),
    text(u.element, format),
    String(u.job),
    String(u.attempt),
    u.status,
    u.exitCode === null ? "" : String(u.exitCode),
    iso(u.start),
    iso(u.end),
    usage === undefined ? "" : seconds(usage.wallMs),
    cpu === undefined || usage === undefined || usage.wallMs <= 0 ? "" : ((cpu / usage.wallMs) * 100).toFixed(1),
    usage?.userMs === undefined ? "" : seconds(usage.userMs),
    usage?.sysMs === undefined ? "" : seconds(usage.sysMs),
    whole(usage?.maxRssKb),
    whole(usage?.readBytes),
    whole(usage?.writeBytes),
    u.log === undefined ? "" : text(u.log, format),
  ];
  return cells.join(format === "csv" ? "," : "\t") + "\n";
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : "";
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function whole(n: number | undefined): string {
  return n === undefined ? "" : String(Math.round(n));
}

/** A text cell: never a formula, never more than one cell. */
function text(value: string, format: TraceFormat): string {
  const safe = /^['=+\-@\t\r]/.test(value) ? `'${value}` : value;
  if (format === "csv") return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  return safe.replace(/[\\\t\n\r]/g, (c) => TSV_ESCAPES[c]!);
}

const TSV_ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };
