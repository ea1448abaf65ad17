import type { Diagnostic, Location } from "./diagnostic.js";
import type { SourceFile } from "../source/source-file.js";
import { visible, visibleSource } from "./visible.js";

/** Looks up a file's text for printing source lines; undefined prints without them. */
export type FileLookup = (path: string) => SourceFile | undefined;

/** A lookup over the files of some parsed documents (absent ones skipped). */
export function lookupIn(documents: readonly ({ readonly file: SourceFile } | undefined)[]): FileLookup {
  const files = new Map(documents.filter((d) => d !== undefined).map((d) => [d.file.path, d.file]));
  return (path) => files.get(path);
}

export interface FormatOptions {
  /** ANSI colours; only for a TTY and never when NO_COLOR is set. */
  readonly color?: boolean;
}

const ansi = {
  bold: (s: string) => `\x1b[1m${s}\x1b[22m`,
  red: (s: string) => `\x1b[31m${s}\x1b[39m`,
  yellow: (s: string) => `\x1b[33m${s}\x1b[39m`,
  blue: (s: string) => `\x1b[34m${s}\x1b[39m`,
  cyan: (s: string) => `\x1b[36m${s}\x1b[39m`,
};
const plain = { bold: id, red: id, yellow: id, blue: id, cyan: id };
function id(s: string): string {
  return s;
}

/** `file:line:col` (or just `file`) for a location; a file name's control characters escaped. */
export function formatLocation(location: Location, files: FileLookup): string {
  const file = files(location.file);
  if (location.span === undefined || file === undefined) return visible(location.file);
  const { line, column } = file.lines.position(location.span.start);
  return `${visible(location.file)}:${line}:${column}`;
}

/**
 * Renders one diagnostic the way compilers users know do (every piece of
 * user text with its control characters made visible, see visible.ts):
 *
 *   wf.yaml:12:12: error WFC202: unknown limit `ftpp`
 *      12 |     limit: ftpp
 *         |            ^^^^ expected one of `ftp` or `io`
 *         = help: did you mean `ftp`?
 */
export function formatDiagnostic(d: Diagnostic, files: FileLookup, options: FormatOptions = {}): string {
  const c = options.color ? ansi : plain;
  const where = d.location === undefined ? "wfc" : formatLocation(d.location, files);
  const severity = d.severity === "error" ? c.red(c.bold("error")) : c.yellow(c.bold("warning"));
  const out = [`${c.bold(where)}: ${severity} ${d.code}: ${c.bold(visible(d.message))}`];

  const snippet = d.location ? sourceSnippet(d.location, files) : undefined;
  const gutterWidth = snippet ? String(snippet.line).length + 1 : 2;
  const gutter = (label = "") => c.blue(`${label.padStart(gutterWidth)} |`);
  const note = (label: string, text: string) => `${" ".repeat(gutterWidth)} ${c.blue("=")} ${c.bold(label)}: ${visible(text)}`;

  if (snippet) {
    out.push(`${gutter(String(snippet.line))} ${snippet.text}`);
    const marker = " ".repeat(snippet.markerStart) + "^".repeat(snippet.markerLength);
    const expected = d.expected === undefined ? "" : ` expected ${visible(d.expected)}`;
    out.push(`${gutter()} ${c.red(marker)}${expected}`);
  } else if (d.expected !== undefined) {
    out.push(note("expected", d.expected));
  }
  if (d.help !== undefined) out.push(note("help", d.help));
  for (const r of d.related ?? []) {
    out.push(note("note", `${formatLocation(r.location, files)}: ${r.message}`));
  }
  return out.join("\n");
}

interface Snippet {
  readonly line: number;
  readonly text: string;
  readonly markerStart: number;
  readonly markerLength: number;
}

function sourceSnippet(location: Location, files: FileLookup): Snippet | undefined {
  const file = files(location.file);
  if (file === undefined || location.span === undefined) return undefined;
  const { start, end } = location.span;
  const { line, column } = file.lines.position(start);
  const raw = file.lines.lineText(line);
  // The marker is measured on the line as printed: tabs as one space, escapes at their printed width.
  const text = visibleSource(raw);
  const before = Math.min(column - 1, raw.length);
  const lineEnd = file.lines.offset(line, raw.length + 1);
  const markerStart = visibleSource(raw.slice(0, before)).length;
  const markerLength = Math.max(1, visibleSource(raw.slice(before, before + Math.max(0, Math.min(end, lineEnd) - start))).length);
  return { line, text, markerStart, markerLength };
}

/**
 * A diagnostic as lines of plain text for tools that show one message (CI
 * annotations, SARIF results): the message, then what was expected and the
 * help, each on its own line as the text format shows them, escaped.
 */
export function messageLines(d: Diagnostic): string[] {
  const lines = [visible(d.message)];
  if (d.expected !== undefined) lines.push(`expected ${visible(d.expected)}`);
  if (d.help !== undefined) lines.push(`help: ${visible(d.help)}`);
  return lines;
}

/** A closing line: "2 errors, 1 warning in wf.yaml". */
export function formatSummary(diagnostics: readonly Diagnostic[], what: string): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const parts = [`${errors} error${errors === 1 ? "" : "s"}`];
  if (warnings > 0) parts.push(`${warnings} warning${warnings === 1 ? "" : "s"}`);
  return `${parts.join(", ")} in ${visible(what)}`;
}
