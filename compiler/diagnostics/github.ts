/**
 * `wfc validate --format github`: one GitHub Actions workflow command per
 * diagnostic (`::error file=…,line=…::message`), which the runner turns into
 * an annotation on the pull request's diff at the diagnostic's range.
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */
import type { Diagnostic, Location } from "./diagnostic.js";
import { messageLines, type FileLookup } from "./format.js";
import { ciPath } from "./ci-path.js";
import { visible } from "./visible.js";

/** The runner's escaping of a command's message: `%`, CR and LF. */
function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** A property value also escapes `:` and `,`, which end the value. */
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** `file:line:col` of a related location, for the note lines (annotations have one location only). */
function where(location: Location, files: FileLookup, cwd: string): string {
  const path = visible(ciPath(location.file, cwd).path);
  const source = files(location.file);
  if (source === undefined || location.span === undefined) return path;
  const { line, column } = source.lines.position(location.span.start);
  return `${path}:${line}:${column}`;
}

/**
 * The annotation's text: the message, then (on lines of their own, as the
 * text format shows them) what was expected, the help and the related notes.
 */
function body(d: Diagnostic, files: FileLookup, cwd: string): string {
  const lines = messageLines(d);
  for (const r of d.related ?? []) lines.push(`note: ${where(r.location, files, cwd)}: ${visible(r.message)}`);
  return lines.join("\n");
}

/** One workflow command line (without its newline) for a diagnostic; paths relative to `cwd`. */
export function toGithubCommand(d: Diagnostic, files: FileLookup, cwd: string): string {
  const properties: [string, string | number][] = [];
  if (d.location !== undefined) {
    // A file name's control characters are shown escaped, as everywhere wfc prints one (a terminal may show this log).
    properties.push(["file", visible(ciPath(d.location.file, cwd).path)]);
    const source = files(d.location.file);
    const span = d.location.span;
    if (source !== undefined && span !== undefined) {
      const start = source.lines.position(span.start);
      const end = source.lines.position(span.end);
      properties.push(["line", start.line], ["col", start.column], ["endLine", end.line], ["endColumn", end.column]);
    }
  }
  properties.push(["title", d.code]);
  const list = properties.map(([k, v]) => `${k}=${escapeProperty(String(v))}`).join(",");
  return `::${d.severity} ${list}::${escapeData(body(d, files, cwd))}`;
}
