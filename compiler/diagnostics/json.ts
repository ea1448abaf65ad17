import type { Diagnostic } from "./diagnostic.js";
import type { FileLookup } from "./format.js";

/** A diagnostic with 1-based line/column added, for editors and CI (`--format json`). */
export interface JsonDiagnostic {
  severity: Diagnostic["severity"];
  code: Diagnostic["code"];
  message: string;
  file: string | null;
  /** 1-based start and end positions; null when the problem has no position. */
  range: { start: { line: number; column: number; offset: number }; end: { line: number; column: number; offset: number } } | null;
  expected: string | null;
  help: string | null;
  related: { file: string; range: JsonDiagnostic["range"]; message: string }[];
  /** Quick fixes (the did-you-mean suggestions as edits), each edit in `file`: replace `range` with `newText`. */
  fixes: { title: string; edits: { range: JsonDiagnostic["range"]; newText: string }[] }[];
}

function range(file: string | undefined, span: { start: number; end: number } | undefined, files: FileLookup): JsonDiagnostic["range"] {
  const source = file === undefined ? undefined : files(file);
  if (source === undefined || span === undefined) return null;
  return {
    start: { ...source.lines.position(span.start), offset: span.start },
    end: { ...source.lines.position(span.end), offset: span.end },
  };
}

export function toJsonDiagnostic(d: Diagnostic, files: FileLookup): JsonDiagnostic {
  return {
    severity: d.severity,
    code: d.code,
    message: d.message,
    file: d.location?.file ?? null,
    range: range(d.location?.file, d.location?.span, files),
    expected: d.expected ?? null,
    help: d.help ?? null,
    related: (d.related ?? []).map((r) => ({
      file: r.location.file,
      range: range(r.location.file, r.location.span, files),
      message: r.message,
    })),
    fixes: (d.fixes ?? []).map((f) => ({
      title: f.title,
      edits: f.edits.map((e) => ({ range: range(d.location?.file, e.span, files), newText: e.newText })),
    })),
  };
}
