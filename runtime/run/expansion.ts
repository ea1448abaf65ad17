/**
 * What a producer element decided (issue 14): the files its pattern
 * outputs matched, or the lines of a file, turned into rows of values for
 * the dynamic spaces it feeds.
 *
 * A file that matches the pattern counts only if this job wrote it (new,
 * or changed since the job started): one left by an earlier run that the
 * job did not write again is reported and never used, so a split that now
 * writes 3 chunks where it wrote 5 yields 3 elements, and the 2 old files
 * are named, never gathered, never removed. A producer element that is up
 * to date decides what its journal record says, and its files must all be
 * there (freshness.ts).
 */
import { join, resolve } from "node:path";
import { matchDecided, parseLines, sortRows, type DecidedPattern } from "../../contract/expansion.js";
import type { DynamicSpace, PlanTask } from "../../contract/plan.js";
import type { ResolvedPath } from "../jobs/expand.js";
import { stateNow, writtenSince, type OutputBefore } from "./outputs.js";
import type { Checked } from "./freshness.js";
import { plainFs, type FsReads } from "./mtimes.js";

/**
 * Every path (relative to `workdir`, `/`-separated) that matches a pattern
 * now, with its row; read through `fs` (a run's checks record what they read).
 */
export function listPattern(workdir: string, pattern: DecidedPattern, fs: FsReads = plainFs): Map<string, string[]> {
  let prefixes = [""];
  const last = pattern.segments.length - 1;
  pattern.segments.forEach((seg, i) => {
    const next: string[] = [];
    for (const prefix of prefixes) {
      const dir = resolve(workdir, prefix === "" ? "." : prefix);
      if (seg.kind === "literal") {
        const path = prefix === "" ? seg.text : `${prefix}/${seg.text}`;
        if (i === last || isFolder(fs, resolve(workdir, path))) next.push(path);
        continue;
      }
      let names: string[];
      try {
        names = fs.readdir(dir);
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        if (!seg.regex.test(name)) continue;
        const path = prefix === "" ? name : `${prefix}/${name}`;
        if (i === last || isFolder(fs, join(dir, name))) next.push(path);
      }
    }
    prefixes = next;
  });
  const out = new Map<string, string[]>();
  for (const path of prefixes) {
    if (fs.lstat(resolve(workdir, path)) === undefined) continue;
    const row = matchDecided(pattern, path);
    if (row !== undefined) out.set(path, row);
  }
  return out;
}

function isFolder(fs: FsReads, path: string): boolean {
  return fs.lstat(path)?.isDirectory() === true;
}

/** A path with a row's values in the pattern's holes. */
export function patternPath(pattern: DecidedPattern, row: readonly string[]): string {
  return pattern.segments
    .map((seg) =>
      seg.kind === "literal" ? seg.text : seg.pieces.map((p) => (typeof p === "string" ? p : row[pattern.vars.indexOf(p.hole)]!)).join(""),
    )
    .join("/");
}

/** The pattern outputs of a unit (a step with `decides`), in declared order. */
export function patternsOf(unit: Checked): readonly (ResolvedPath & { readonly pattern: DecidedPattern })[] {
  return unit.outputs.filter((o): o is ResolvedPath & { pattern: DecidedPattern } => o.pattern !== undefined);
}

/** The state of every file the patterns of `units` match before their job runs, by absolute path. */
export function snapshotPatterns(workdir: string, units: readonly Checked[]): Map<string, OutputBefore> {
  const before = new Map<string, OutputBefore>();
  for (const u of units)
    for (const o of patternsOf(u))
      for (const path of listPattern(workdir, o.pattern).keys()) before.set(resolve(workdir, path), stateNow(resolve(workdir, path)));
  return before;
}

/**
 * For cleanup after a failure: every file the patterns of `units` match now,
 * with its state before the job (absent when it is new), so that only what
 * the job wrote is removed.
 */
export function patternCleanup(
  workdir: string,
  units: readonly Checked[],
  before: ReadonlyMap<string, OutputBefore>,
): Map<string, OutputBefore> {
  const out = new Map<string, OutputBefore>();
  for (const u of units)
    for (const o of patternsOf(u))
      for (const path of listPattern(workdir, o.pattern).keys()) {
        const abs = resolve(workdir, path);
        out.set(abs, before.get(abs) ?? ABSENT);
      }
  return out;
}

const ABSENT: OutputBefore = { kind: "absent" };

/** What one producer step of one element decided, or why that cannot be used. */
export type Decided =
  | {
      readonly ok: true;
      readonly rows: string[][];
      /** Files its patterns match that it did not write (earlier runs'): never used. */
      readonly stale: readonly string[];
    }
  | { readonly ok: false; readonly reason: string };

/**
 * After a unit ran: the rows of its first pattern output, from the files
 * it wrote (sorted: contract/expansion.ts sortRows). Every other pattern
 * output must hold a file for each row (as far as its variables go) and
 * none for another: a split that wrote `3.fa` but not `3.fai` failed.
 */
export function decidedByRun(workdir: string, unit: Checked, before: ReadonlyMap<string, OutputBefore>): Decided {
  const patterns = patternsOf(unit);
  const stale: string[] = [];
  const listed = patterns.map((o) => {
    const rows = new Map<string, string[]>();
    for (const [path, row] of listPattern(workdir, o.pattern)) {
      const abs = resolve(workdir, path);
      if (before.has(abs) && !writtenSince(before.get(abs), abs)) stale.push(path);
      else rows.set(path, row);
    }
    return rows;
  });
  const rows = sortRows([...(listed[0]?.values() ?? [])]);
  const problem = mismatch(patterns, listed, rows);
  if (problem !== undefined) return { ok: false, reason: problem };
  return { ok: true, rows, stale: stale.sort() };
}

/**
 * An up-to-date unit: the rows its journal record keeps (its files were
 * checked by freshness.ts), and the files its patterns match beyond them.
 */
export function decidedByRecord(
  workdir: string,
  unit: Checked,
  rows: readonly (readonly string[])[],
  recorded: number,
  fs: FsReads = plainFs,
): Decided {
  const stale: string[] = [];
  for (const o of patternsOf(unit)) {
    // Holes in the file name only, in a folder not changed since the step's record: nothing was added there.
    if (unchangedFolder(workdir, o.pattern, recorded, fs)) continue;
    const own = new Set(rows.map((r) => patternPath(o.pattern, r)));
    for (const path of listPattern(workdir, o.pattern, fs).keys()) if (!own.has(path)) stale.push(path);
  }
  return { ok: true, rows: rows.map((r) => [...r]), stale: stale.sort() };
}

/**
 * Whether a pattern's holes are all in its last segment and its folder has
 * not changed since `since` (ms): a folder's mtime moves when a name in it
 * is added, removed or renamed, so no file can have come since.
 */
function unchangedFolder(workdir: string, pattern: DecidedPattern, since: number, fs: FsReads): boolean {
  const segments = pattern.segments;
  if (segments.slice(0, -1).some((s) => s.kind !== "literal")) return false;
  const folder = segments
    .slice(0, -1)
    .map((s) => (s.kind === "literal" ? s.text : ""))
    .join("/");
  const stat = fs.lstat(resolve(workdir, folder === "" ? "." : folder));
  return stat !== undefined && stat.isDirectory() && stat.mtimeMs <= since;
}

function mismatch(
  patterns: readonly { readonly pattern: DecidedPattern }[],
  listed: readonly Map<string, string[]>[],
  rows: readonly string[][],
): string | undefined {
  for (let i = 1; i < patterns.length; i++) {
    const want = new Set(rows.map((r) => patternPath(patterns[i]!.pattern, r)));
    const have = new Set(listed[i]!.keys());
    const missing = [...want].filter((p) => !have.has(p)).sort();
    const extra = [...have].filter((p) => !want.has(p)).sort();
    if (missing.length > 0)
      return `it wrote ${describeRow(patterns[0]!.pattern, rows[0]!)}-like files but not ${quoteList(missing)}: its pattern outputs must hold the same values`;
    if (extra.length > 0)
      return `it wrote ${quoteList(extra)}, whose values no file of its first pattern output has: its pattern outputs must hold the same values`;
  }
  return undefined;
}

function describeRow(pattern: DecidedPattern, row: readonly string[]): string {
  return JSON.stringify(patternPath(pattern, row));
}

function quoteList(paths: readonly string[]): string {
  const shown = paths.slice(0, 5).map((p) => JSON.stringify(p));
  if (paths.length > 5) shown.push(`and ${paths.length - 5} more`);
  return shown.join(", ");
}

/** The rows a `lines` file gives (contract/expansion.ts parseLines), or why it cannot. */
export function decidedByLines(workdir: string, path: string, fs: FsReads = plainFs): Decided {
  let text: string;
  try {
    text = fs.readText(resolve(workdir, path));
  } catch (error) {
    return { ok: false, reason: `cannot read ${JSON.stringify(path)}, whose lines are elements: ${(error as Error).message}` };
  }
  const parsed = parseLines(text);
  if ("rows" in parsed) return { ok: true, rows: parsed.rows, stale: [] };
  const p = parsed.problem;
  return {
    ok: false,
    reason:
      p.kind === "repeated"
        ? `line ${p.line} of ${JSON.stringify(path)} repeats ${JSON.stringify(p.value)} (line ${p.first}): each line is one element, and two elements cannot share a value`
        : `line ${p.line} of ${JSON.stringify(path)} has a NUL byte`,
  };
}

/** The key of a dynamic space's source among a producer element's rows. */
export function sourceKey(from: DynamicSpace["from"]): string {
  return `${from.kind}\u0000${from.step}\u0000${from.output}`;
}

/** The sources a producer task's elements feed: what must be listed or read when one of them ends. */
export function sourcesOf(tasks: readonly PlanTask[], producer: PlanTask): DynamicSpace["from"][] {
  const seen = new Map<string, DynamicSpace["from"]>();
  for (const t of tasks) {
    const from = t.space.dynamic?.from;
    if (from !== undefined && from.task === producer.id) seen.set(sourceKey(from), from);
  }
  return [...seen.values()];
}
