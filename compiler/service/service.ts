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

export function hover(_doc: ServiceDocument, _offset: number): HoverResult | undefined {
  return undefined;
}

export function completions(_doc: ServiceDocument, _offset: number): CompletionResult | undefined {
  return undefined;
}

/** Where the name at `offset` is defined (in this file). */
export function definition(_doc: ServiceDocument, _offset: number): Location | undefined {
  return undefined;
}

/** Every place the name at `offset` is used, with its definition when asked. */
export function references(_doc: ServiceDocument, _offset: number, _includeDefinition: boolean): readonly Location[] {
  return [];
}

/** The name at `offset` if it can be renamed (stages and limits; the issue asks no more). */
export function prepareRename(_doc: ServiceDocument, _offset: number): RenameTarget | undefined {
  return undefined;
}

/** Every edit that renames the name at `offset` to `newName` across the file, or why not. */
export function rename(_doc: ServiceDocument, _offset: number, _newName: string): RenameResult {
  return { ok: false, message: "rename is not supported yet" };
}
