/**
 * Diagnostics are data: every user-facing problem is one of these, built by
 * the phase that found it and printed by `format.ts` at the edge.
 */

import type { DiagnosticCode } from "./codes.js";
import { visible } from "./visible.js";

/** A half-open byte range `[start, end)` of UTF-16 offsets into a file's text. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A place in a file. `span` is absent for problems about the file as a whole. */
export interface Location {
  readonly file: string;
  readonly span?: Span;
}

export type Severity = "error" | "warning";

/** A secondary location that explains the primary one ("`ftp` is defined here"). */
export interface Related {
  readonly location: Location;
  readonly message: string;
}

/** One text replacement in the diagnostic's own file. */
export interface Edit {
  readonly span: Span;
  readonly newText: string;
}

/**
 * A mechanical fix an editor can apply as a quick fix (the did-you-mean
 * suggestions): `title` is what the menu shows, e.g. "change to `ftp`".
 */
export interface Fix {
  readonly title: string;
  readonly edits: readonly Edit[];
}

export interface Diagnostic {
  readonly severity: Severity;
  /** Stable code, e.g. `WFC202`; listed in `codes.ts` and docs/errors.md. Never reused. */
  readonly code: DiagnosticCode;
  /** One line saying what is wrong, naming the offending value in backticks. */
  readonly message: string;
  /** Where. Absent only for problems that have no file (command-line errors). */
  readonly location?: Location;
  /** What would have been accepted here. */
  readonly expected?: string;
  /** The likely fix ("did you mean `ftp`?"). */
  readonly help?: string;
  readonly related?: readonly Related[];
  /** Edits that apply `help` when it is mechanical; all in `location.file`. */
  readonly fixes?: readonly Fix[];
}

/** The result of a phase that can fail on user input (STYLE habit 4). */
export type Result<T> =
  | { readonly ok: true; readonly value: T; readonly diagnostics: readonly Diagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Orders diagnostics by file, then position, then code, so output is deterministic. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  const fa = a.location?.file ?? "";
  const fb = b.location?.file ?? "";
  if (fa !== fb) return fa < fb ? -1 : 1;
  const sa = a.location?.span?.start ?? -1;
  const sb = b.location?.span?.start ?? -1;
  if (sa !== sb) return sa - sb;
  if (a.code !== b.code) return a.code < b.code ? -1 : 1;
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}

/**
 * Sorts and drops exact repeats and vaguer duplicates: when two errors cover the
 * same span, the one from a later (more precise) phase was pushed last and wins
 * only if the earlier one is marked vague by the caller; here we just dedupe.
 */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const raw of [...diagnostics].sort(compareDiagnostics)) {
    const d = oneLine(raw);
    const key = `${d.location?.file}|${d.location?.span?.start}|${d.location?.span?.end}|${d.code}|${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

/** Messages are one line: control and invisible characters from user values are shown escaped, in text and JSON alike. */
function oneLine(d: Diagnostic): Diagnostic {
  const escaped = visible(d.message);
  return escaped === d.message ? d : { ...d, message: escaped };
}
