import type { RunEvent } from "../../runtime/run/run.js";
import { finished, type ProgressSnapshot, type TaskProgress } from "./state.js";

/** How to draw a frame: everything that is not the state, so a frame is a pure function of its inputs. */
export interface RenderOptions {
  /** The current time, on the events' clock (ms since the epoch). */
  readonly now: number;
  /** Terminal columns: no line is longer. */
  readonly width: number;
  /** ANSI colors: green done, red failed, dim up to date. */
  readonly color?: boolean;
  /** `#`/`-` bars and `~`/`...` ellipses, for terminals without unicode (see {@link wantsAscii}). */
  readonly ascii?: boolean;
  /** Task rows at most (default 12); one more row counts the tasks left out. */
  readonly maxRows?: number;
}

// The Linux console lacks the block glyphs; `WFC_ASCII=1` asks for ASCII anywhere (cli/ascii.ts).
export { wantsAscii } from "../ascii.js";

type Style = "green" | "red" | "yellow" | "dim";

/** A run of text in one style; lines are cut to width before colors are added. */
interface Segment {
  readonly text: string;
  readonly style?: Style;
}

const SGR: Record<Style, readonly [string, string]> = {
  green: ["\x1b[32m", "\x1b[39m"],
  red: ["\x1b[31m", "\x1b[39m"],
  yellow: ["\x1b[33m", "\x1b[39m"],
  dim: ["\x1b[2m", "\x1b[22m"],
};

const GLYPHS = {
  unicode: { full: "█", empty: "░", cut: "…", more: "…" },
  ascii: { full: "#", empty: "-", cut: "~", more: "..." },
} as const;

const DEFAULT_ROWS = 12;
const MAX_BAR = 30;
/** Columns kept for the counts after `done/total` (`2 running`, …) before the bar may grow. */
const COUNTS_ROOM = 12;

const integer = new Intl.NumberFormat("en-US");
const n = (value: number) => integer.format(value);

/** `0s`, `59s`, `1m05s`, `2h03m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

/**
 * One frame of the progress display: a header with the overall counts,
 * elapsed time and ETA, then a row per task (at most `maxRows`: running tasks
 * first, then unfinished ones, then finished ones, each in plan order), then
 * a row counting the tasks left out. Lines carry no trailing newline.
 */
export function renderProgress(state: ProgressSnapshot, options: RenderOptions): string[] {
  const glyphs = options.ascii ? GLYPHS.ascii : GLYPHS.unicode;
  const line = (segments: readonly Segment[]) => paint(fit(segments, options.width, glyphs.cut), options.color ?? false);
  const lines = [line(header(state, options.now, options.width))];

  const { shown, hidden, hiddenFinished } = pick(state.tasks, options.maxRows ?? DEFAULT_ROWS);
  // Column widths come from every task, not the rows shown, so columns stay put as rows change.
  const idWidth = Math.min(
    state.tasks.reduce((w, t) => Math.max(w, length(t.id)), 0),
    Math.max(10, Math.floor(options.width / 3)),
  );
  // A `+` after the total of a task whose jobs are not all known yet (issue 14).
  const fracWidth = state.tasks.reduce((w, t) => Math.max(w, 2 * n(t.jobs).length + 1 + (t.more !== undefined ? 1 : 0)), 0);
  const room = Math.min(MAX_BAR, options.width - idWidth - fracWidth - 4 - COUNTS_ROOM);
  const barWidth = room >= 5 ? room : 0;
  for (const task of shown) {
    const row: Segment[] = [{ text: cut(task.id, idWidth, glyphs.cut).padEnd(idWidth) + "  " }];
    if (barWidth > 0) row.push(...bar(task, barWidth, glyphs), { text: "  " });
    row.push({ text: `${n(finished(task))}/${n(task.jobs)}${task.more === true ? "+" : ""}`.padStart(fracWidth) }, ...counts(task, false));
    lines.push(line(row));
  }
  if (hidden > 0) {
    const tasks = hidden === 1 ? "task" : "tasks";
    lines.push(line([{ text: `${glyphs.more} ${n(hidden)} more ${tasks} (${n(hiddenFinished)} finished)` }]));
  }
  return lines;
}

function header(state: ProgressSnapshot, now: number, width: number): Segment[] {
  const total = state.totals;
  const ended = finished(total);
  const elapsed = state.start === undefined ? 0 : Math.max(0, (state.end ?? now) - state.start);
  const segments: Segment[] = [
    { text: `${n(ended)}/${n(total.jobs)}${total.more === true ? "+" : ""} jobs` },
    ...counts(total, true),
    { text: `  elapsed ${formatDuration(elapsed)}` },
  ];
  // A finished run has no ETA; before a job ended, or within the first second, a guess would be noise.
  if (state.end === undefined) {
    const eta =
      ended >= 1 && elapsed >= 1000 && total.more !== true ? formatDuration(Math.round((elapsed * (total.jobs - ended)) / ended)) : "--";
    segments.push({ text: `  ETA ${eta}` });
  }
  // On a narrow terminal the counts go first (the rows and the failure lines repeat them), time last.
  for (const word of [" up to date", " cancelled", " running", " failed", "  elapsed "]) {
    if (segments.reduce((w, s) => w + length(s.text), 0) <= width) break;
    const i = segments.findIndex((s) => s.text.includes(word));
    if (i > 0) segments.splice(i, 1);
  }
  return segments;
}

/** `  N running  N failed  N up to date  N cancelled`, each only when non-zero (running always in the header). */
function counts(c: TaskProgress | ProgressSnapshot["totals"], header: boolean): Segment[] {
  const out: Segment[] = [];
  if (header || c.running > 0) out.push({ text: `  ${n(c.running)} running` });
  if (c.failed > 0) out.push({ text: `  ${n(c.failed)} failed`, style: "red" });
  if (c.upToDate > 0) out.push({ text: `  ${n(c.upToDate)} up to date`, style: "dim" });
  if (c.cancelled > 0) out.push({ text: `  ${n(c.cancelled)} cancelled`, style: "yellow" });
  return out;
}

/** Filled cells per end status, in the order done, up to date, failed; full only when every job ended for good (a cancelled one did not: it fills no cell). */
function bar(task: TaskProgress, width: number, glyphs: (typeof GLYPHS)[keyof typeof GLYPHS]): Segment[] {
  if (task.jobs === 0) return [{ text: (task.more === true ? glyphs.empty : glyphs.full).repeat(width), style: "dim" }];
  const parts: [number, Style][] = [
    [task.done, "green"],
    [task.upToDate, "dim"],
    [task.failed, "red"],
  ];
  const out: Segment[] = [];
  let sum = 0;
  let drawn = 0;
  for (const [count, style] of parts) {
    sum += count;
    const upTo = Math.floor((width * Math.min(sum, task.jobs)) / task.jobs);
    if (upTo > drawn) out.push({ text: glyphs.full.repeat(upTo - drawn), style });
    drawn = Math.max(drawn, upTo);
  }
  if (drawn < width) out.push({ text: glyphs.empty.repeat(width - drawn) });
  return out;
}

/** The rows to show and a count of the rest; one hidden task would cost the same row as showing it. */
function pick(tasks: readonly TaskProgress[], maxRows: number) {
  const isFinished = (t: TaskProgress) => finished(t) >= t.jobs && t.more !== true;
  if (tasks.length <= maxRows + 1) return { shown: tasks, hidden: 0, hiddenFinished: 0 };
  const running = tasks.filter((t) => t.running > 0);
  const pending = tasks.filter((t) => t.running === 0 && !isFinished(t));
  const done = tasks.filter((t) => t.running === 0 && isFinished(t));
  const shown = [...running, ...pending, ...done].slice(0, Math.max(0, maxRows));
  return {
    shown,
    hidden: tasks.length - shown.length,
    hiddenFinished: done.length - shown.filter((t) => t.running === 0 && isFinished(t)).length,
  };
}

/** Columns of a string; task ids and our glyphs are one column per code point. */
function length(text: string): number {
  return [...text].length;
}

function cut(text: string, width: number, ellipsis: string): string {
  if (length(text) <= width) return text;
  return width <= 0 ? "" : [...text].slice(0, width - 1).join("") + ellipsis;
}

/** Cuts a line to `width` columns, ending it with an ellipsis when something was left out. */
function fit(segments: readonly Segment[], width: number, ellipsis: string): Segment[] {
  if (segments.reduce((w, s) => w + length(s.text), 0) <= width) return [...segments];
  if (width <= 0) return [];
  const out: Segment[] = [];
  let room = width - 1;
  for (const s of segments) {
    const chars = [...s.text];
    if (chars.length <= room) {
      out.push(s);
      room -= chars.length;
      continue;
    }
    if (room > 0) out.push({ ...s, text: chars.slice(0, room).join("") });
    break;
  }
  out.push({ text: ellipsis });
  return out;
}

function paint(segments: readonly Segment[], color: boolean): string {
  return segments.map((s) => (color && s.style !== undefined ? SGR[s.style][0] + s.text + SGR[s.style][1] : s.text)).join("");
}

/** A SLURM submission, as one line: `submitted align: 200 jobs as SLURM array 1234`. */
export function submitLine(event: Extract<RunEvent, { type: "slurm-submit" }>): string {
  return `submitted ${event.task}: ${event.jobs} job${event.jobs === 1 ? "" : "s"} as SLURM array ${event.jobId}`;
}
