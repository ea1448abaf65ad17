import { readFileSync } from "node:fs";
import type { Edit, Span } from "../../compiler/diagnostics/diagnostic.js";
import type { ServiceDocument, ServiceFileKind } from "../../compiler/service/service.js";
import type { SourceFormat } from "../../compiler/source/document.js";
import { formatOf, parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import { validateDocument } from "../../compiler/validate.js";

/** The cursor in an inline text: removed, its offset returned. */
export const CURSOR = "§";

export interface Opened {
  readonly doc: ServiceDocument;
  readonly text: string;
  /** The offset of `§` in the text as given, if there was one. */
  readonly cursor: number;
}

/** Parses and (when it validates) validates a text as the server does for an open buffer. */
export async function open(
  marked: string,
  format: SourceFormat = "yaml",
  kind: ServiceFileKind = "workflow",
  path = `wf.${format}`,
): Promise<Opened> {
  const cursor = marked.indexOf(CURSOR);
  const text = cursor === -1 ? marked : marked.slice(0, cursor) + marked.slice(cursor + 1);
  const document = parseSource(new SourceFile(path, text), format);
  const validated = kind === "workflow" ? (await validateDocument(document)).validated : undefined;
  return { doc: { kind, document, ...(validated ? { validated } : {}) }, text, cursor };
}

export async function openFile(path: string, kind: ServiceFileKind = "workflow"): Promise<Opened> {
  return open(readFileSync(path, "utf8"), formatOf(path)!, kind, path);
}

/** The offset of the `n`-th (0-based) occurrence of `needle`, plus `within` characters into it. */
export function offsetOf(text: string, needle: string, n = 0, within = 1): number {
  let at = -1;
  for (let i = 0; i <= n; i++) {
    at = text.indexOf(needle, at + 1);
    if (at === -1) throw new Error(`\`${needle}\` occurs fewer than ${n + 1} times`);
  }
  return at + within;
}

/** The text a span covers, with its 1-based line: `12:ftp`. */
export function shown(text: string, span: Span | undefined): string {
  if (span === undefined) return "(none)";
  const line = text.slice(0, span.start).split("\n").length;
  return `${line}:${text.slice(span.start, span.end)}`;
}

export function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.span.start - a.span.start))
    out = out.slice(0, edit.span.start) + edit.newText + out.slice(edit.span.end);
  return out;
}
