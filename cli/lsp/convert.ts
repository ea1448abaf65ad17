/**
 * wfc's data to LSP's: spans (UTF-16 offsets) to ranges (0-based line and
 * UTF-16 character, LSP's default encoding), diagnostics to LSP diagnostics.
 * Offsets inside, line/column at the edge (STYLE habit 2): this is the edge.
 */
import { pathToFileURL } from "node:url";
import type { Diagnostic as LspDiagnostic, Range, TextEdit } from "vscode-languageserver/node";
import type { Diagnostic, Edit, Fix, Span } from "../../compiler/diagnostics/diagnostic.js";
import type { FileLookup } from "../../compiler/diagnostics/format.js";
import type { SourceFile } from "../../compiler/source/source-file.js";

export function uriOf(path: string): string {
  return pathToFileURL(path).href;
}

/** A span as an LSP range; a file as a whole (no span, or a file not at hand) is its start. */
export function rangeOf(file: SourceFile | undefined, span: Span | undefined): Range {
  if (file === undefined || span === undefined) return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const start = file.lines.position(span.start);
  const end = file.lines.position(span.end);
  return {
    start: { line: start.line - 1, character: start.column - 1 },
    end: { line: end.line - 1, character: end.column - 1 },
  };
}

/** The offset of an LSP position in a file (the inverse of `rangeOf`). */
export function offsetOf(file: SourceFile, position: { line: number; character: number }): number {
  return file.lines.offset(position.line + 1, position.character + 1);
}

export function textEdit(file: SourceFile, edit: Edit): TextEdit {
  return { range: rangeOf(file, edit.span), newText: edit.newText };
}

/** What the quick fixes of a published diagnostic are, kept in its `data` so a code action request can return them. */
export interface DiagnosticData {
  readonly fixes: readonly { readonly title: string; readonly edits: readonly TextEdit[] }[];
}

/**
 * A wfc diagnostic as an editor shows it: the same code, severity and range
 * as `wfc validate`, `expected` and `help` on lines of their own as the text
 * format prints them, related locations as `relatedInformation`.
 */
export function toLspDiagnostic(d: Diagnostic, files: FileLookup): LspDiagnostic {
  const file = d.location === undefined ? undefined : files(d.location.file);
  const lines = [d.message];
  if (d.expected !== undefined) lines.push(`expected ${d.expected}`);
  if (d.help !== undefined) lines.push(`help: ${d.help}`);
  const related = (d.related ?? []).map((r) => ({
    location: { uri: uriOf(r.location.file), range: rangeOf(files(r.location.file), r.location.span) },
    message: r.message,
  }));
  const fixes =
    file === undefined ? [] : (d.fixes ?? []).map((fix: Fix) => ({ title: fix.title, edits: fix.edits.map((e) => textEdit(file, e)) }));
  return {
    range: rangeOf(file, d.location?.span),
    severity: d.severity === "error" ? 1 : 2,
    code: d.code,
    source: "wfc",
    message: lines.join("\n"),
    ...(related.length > 0 ? { relatedInformation: related } : {}),
    ...(fixes.length > 0 ? { data: { fixes } satisfies DiagnosticData } : {}),
  };
}
