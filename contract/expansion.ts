import type { Binding } from "./elements.js";
import type { Part } from "./plan.js";
import type { ParamLookup } from "./template.js";
import { varText } from "./template.js";

/**
 * Data-dependent fan-out (issue 14): how a producer element's outputs tell
 * the values of the variables its job decides, for the runtime (listing
 * after the job), the SLURM export (the same rules in bash) and the
 * compiler (checking a consumer's pattern) alike.
 *
 * An output that names a decided variable (`work/{sample}/{chunk}.fa` with
 * `decides: [chunk]`) is a pattern: the producer element's own variables
 * filled in, each decided variable a hole that matches one or more
 * characters of one path segment, never `/`, and never a leading `.` (as a
 * glob's `*`: editors' and tools' hidden files are not chunks). A variable
 * named twice must match the same text both times. Matching is per
 * segment, so a literal `*` or `[` in a value or in the template is just
 * text, and the folders walked are exactly the pattern's.
 */

/** One segment of a pattern: literal text, or a regular expression over one file name with a group per hole. */
export type PatternSegment =
  | { readonly kind: "literal"; readonly text: string }
  | {
      readonly kind: "holes";
      readonly regex: RegExp;
      readonly source: string;
      readonly vars: readonly string[];
      /** The segment's text and holes, in order: what a row's values fill in. */
      readonly pieces: readonly (string | { readonly hole: string })[];
    };

export interface DecidedPattern {
  /** The path's segments, in order (a relative path; `/` separates them). */
  readonly segments: readonly PatternSegment[];
  /** The decided variables, in `decides` order: the columns of a row. */
  readonly vars: readonly string[];
}

/**
 * A pattern output with one producer element's values filled in, or
 * undefined when a placeholder has no value (as expandPath). `decides` are
 * the step's decided variables; a hole is every `{var}` of one of them.
 */
export function decidedPattern(
  parts: readonly Part[],
  bindings: ReadonlyMap<string, Binding>,
  params: ParamLookup,
  decides: readonly string[],
): DecidedPattern | undefined {
  // Split into segments of parts first: a hole never spans a `/`.
  const segments: (string | { hole: string })[][] = [[]];
  for (const p of parts) {
    let text: string;
    if (typeof p === "string") text = p;
    else if ("var" in p && decides.includes(p.var) && p.field === undefined) {
      segments.at(-1)!.push({ hole: p.var });
      continue;
    } else if ("var" in p) {
      const t = varText(bindings, p.var, p.field);
      if (t === undefined) return undefined;
      text = t;
    } else if ("param" in p) {
      const value = params(p.param);
      if (value === undefined || Array.isArray(value)) return undefined;
      text = String(value as string | number | boolean);
    } else return undefined;
    const pieces = text.split("/");
    pieces.forEach((piece, i) => {
      if (i > 0) segments.push([]);
      if (piece !== "") segments.at(-1)!.push(piece);
    });
  }
  const out: PatternSegment[] = [];
  for (const seg of segments) {
    if (seg.every((x) => typeof x === "string")) {
      out.push({ kind: "literal", text: seg.join("") });
      continue;
    }
    const vars: string[] = [];
    let source = "^";
    for (const x of seg) {
      if (typeof x === "string") source += escapeRegex(x);
      else {
        const seen = vars.indexOf(x.hole);
        if (seen !== -1) source += `\\${seen + 1}`;
        else {
          vars.push(x.hole);
          // A hole at the start of a name never matches a leading `.`.
          source += source === "^" ? "([^./][^/]*)" : "([^/]+)";
        }
      }
    }
    source += "$";
    out.push({ kind: "holes", regex: new RegExp(source, "u"), source, vars, pieces: seg });
  }
  return { segments: out, vars: [...decides] };
}

/**
 * The decided values a path (relative, `/`-separated, as the pattern's
 * segments) stands for, in `pattern.vars` order, or undefined when it does
 * not match. A variable in several segments must have one value.
 */
export function matchDecided(pattern: DecidedPattern, path: string): string[] | undefined {
  const names = path.split("/");
  if (names.length !== pattern.segments.length) return undefined;
  const values = new Map<string, string>();
  for (let i = 0; i < names.length; i++) {
    const seg = pattern.segments[i]!;
    const name = names[i]!;
    if (seg.kind === "literal") {
      if (seg.text !== name) return undefined;
      continue;
    }
    const m = seg.regex.exec(name);
    if (m === null) return undefined;
    for (let k = 0; k < seg.vars.length; k++) {
      const v = m[k + 1]!;
      const before = values.get(seg.vars[k]!);
      if (before !== undefined && before !== v) return undefined;
      values.set(seg.vars[k]!, v);
    }
  }
  const row = pattern.vars.map((v) => values.get(v));
  return row.every((v) => v !== undefined) ? (row as string[]) : undefined;
}

/**
 * The one order of a producer element's rows, so a run, a re-run and an
 * exported script number a block's elements alike and a gather reads them
 * in the same order: column by column, numerically when every value of the
 * column is a decimal integer (`2` before `10`), else by UTF-16 code units;
 * equal numbers (`01`, `1`) by code units.
 */
export function sortRows(rows: readonly (readonly string[])[]): string[][] {
  const width = rows[0]?.length ?? 0;
  const numeric: boolean[] = [];
  for (let c = 0; c < width; c++) numeric.push(rows.every((r) => /^[0-9]{1,15}$/.test(r[c]!)));
  return rows
    .map((r) => [...r])
    .sort((a, b) => {
      for (let c = 0; c < width; c++) {
        const x = a[c]!;
        const y = b[c]!;
        if (x === y) continue;
        if (numeric[c]) {
          const d = Number(x) - Number(y);
          if (d !== 0) return d;
        }
        return x < y ? -1 : 1;
      }
      return 0;
    });
}

/** Why a `lines` file or a listing cannot give rows: repeated values, a NUL. */
export type RowsProblem =
  | { readonly kind: "repeated"; readonly value: string; readonly line: number; readonly first: number }
  | { readonly kind: "nul"; readonly line: number };

/**
 * The values of a `lines` file: one per line, a trailing `\r` dropped,
 * blank lines (only spaces and tabs) skipped, every other line taken as it
 * is, spaces included. A repeated value is a problem, not a second element:
 * two elements would share an identity and their outputs.
 */
export function parseLines(text: string): { rows: string[][] } | { problem: RowsProblem } {
  const rows: string[][] = [];
  const first = new Map<string, number>();
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.endsWith("\r") ? lines[i]!.slice(0, -1) : lines[i]!;
    if (/^[ \t]*$/.test(line)) continue;
    if (line.includes("\u0000")) return { problem: { kind: "nul", line: i + 1 } };
    const seen = first.get(line);
    if (seen !== undefined) return { problem: { kind: "repeated", value: line, line: i + 1, first: seen } };
    first.set(line, i + 1);
    rows.push([line]);
  }
  return { rows };
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}

/** The folder a pattern's files are in as far as it is literal (`work/chunks/a` of `work/chunks/a/{chunk}.fa`): wfc makes it before the job, as it does an output's. */
export function patternFolder(pattern: DecidedPattern): string {
  const literal: string[] = [];
  for (const seg of pattern.segments.slice(0, -1)) {
    if (seg.kind !== "literal") break;
    literal.push(seg.text);
  }
  return literal.join("/") || ".";
}

/** A pattern as text, each hole written `{var}`: what an `fn` step receives for a pattern output (it fills in its values). */
export function patternText(pattern: DecidedPattern): string {
  return pattern.segments
    .map((seg) => (seg.kind === "literal" ? seg.text : seg.pieces.map((p) => (typeof p === "string" ? p : `{${p.hole}}`)).join("")))
    .join("/");
}
