/**
 * The language service: what an editor asks of a workflow or config file
 * that is open, as pure functions of the parsed text and a UTF-16 offset.
 * `cli/lsp/` speaks the protocol and converts offsets to positions; nothing
 * here knows about LSP or reads files.
 *
 * Every function must answer for a file with errors in it (a user is typing):
 * it works from `document.data` and `document.locate`, and uses `validated`
 * only when it is there.
 */

import type { Edit, Location, Span } from "../diagnostics/diagnostic.js";
import type { ParsedDocument } from "../source/document.js";
import type { Validated } from "../validate.js";
import { completionsAt } from "./completion.js";
import { hoverAt } from "./hover.js";
import { prepareRenameAt, renameAt } from "./rename.js";
import { referencesTo, symbolAt, symbolIndex, symbolKey } from "./symbols.js";

export type ServiceFileKind = "workflow" | "config";

/** An open file as the service sees it: parsed from the editor's text, not the disk's. */
export interface ServiceDocument {
  readonly kind: ServiceFileKind;
  readonly document: ParsedDocument;
  /** Present when the file validated without errors. */
  readonly validated?: Validated;
}

/** The kinds of name a workflow defines and refers to. */
export type SymbolKind = "stage" | "limit" | "executor" | "param" | "variable";

export interface HoverResult {
  /** The text the hover is about (a key, a name, a `{placeholder}`). */
  readonly span: Span;
  /** Markdown. */
  readonly markdown: string;
}

export type CompletionKind = "key" | SymbolKind | "value";

export interface CompletionItem {
  readonly label: string;
  readonly kind: CompletionKind;
  /** One line shown beside the label (a limit's value, a stage's command). */
  readonly detail?: string;
  /** Markdown: the schema's description, or the definition. */
  readonly documentation?: string;
  /** What to insert when it differs from `label` (e.g. `limit: `). */
  readonly insertText?: string;
}

export interface CompletionResult {
  /** The text the chosen item replaces (the partial word at the cursor). */
  readonly span: Span;
  readonly items: readonly CompletionItem[];
}

export interface RenameTarget {
  readonly span: Span;
  readonly kind: SymbolKind;
  readonly name: string;
}

export type RenameResult = { readonly ok: true; readonly edits: readonly Edit[] } | { readonly ok: false; readonly message: string };

export function hover(doc: ServiceDocument, offset: number): HoverResult | undefined {
  return hoverAt(doc, offset);
}

export function completions(doc: ServiceDocument, offset: number): CompletionResult | undefined {
  return completionsAt(doc, offset);
}

/** Where the name at `offset` is defined (in this file). */
export function definition(doc: ServiceDocument, offset: number): Location | undefined {
  const index = symbolIndex(doc.document, doc.kind);
  const symbol = symbolAt(index, offset);
  const span = symbol && index.definitions.get(symbolKey(symbol.id))?.spans[0];
  return span === undefined ? undefined : { file: doc.document.file.path, span };
}

/** Every place the name at `offset` is used, with its definition when asked. */
export function references(doc: ServiceDocument, offset: number, includeDefinition: boolean): readonly Location[] {
  const index = symbolIndex(doc.document, doc.kind);
  const symbol = symbolAt(index, offset);
  if (symbol === undefined) return [];
  const file = doc.document.file.path;
  const spans = [
    ...(includeDefinition ? (index.definitions.get(symbolKey(symbol.id))?.spans ?? []) : []),
    ...referencesTo(index, symbol.id).flatMap((r) => (r.span === undefined ? [] : [r.span])),
  ];
  return spans.sort((a, b) => a.start - b.start).map((span) => ({ file, span }));
}

/** The name at `offset` if it can be renamed (stages, limits, params and foreach variables). */
export function prepareRename(doc: ServiceDocument, offset: number): RenameTarget | undefined {
  return prepareRenameAt(doc, offset);
}

/** Every edit that renames the name at `offset` to `newName` across the file, or why not. */
export function rename(doc: ServiceDocument, offset: number, newName: string): RenameResult {
  return renameAt(doc, offset, newName);
}
