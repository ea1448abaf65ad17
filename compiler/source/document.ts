import type { Diagnostic, Span } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "./source-file.js";

/** A path into the data model: object keys and array indexes (a JSON pointer, unescaped). */
export type DataPath = readonly (string | number)[];

/** Which part of a `key: value` entry to point at. */
export type SpanPart = "key" | "value";

/**
 * A parsed workflow or config file: its plain data plus a way back from any
 * data path to the text it came from, for YAML, TOML and JSON alike.
 */
export interface ParsedDocument {
  readonly file: SourceFile;
  readonly format: SourceFormat;
  /** The data, or undefined when the syntax was too broken to produce any. */
  readonly data: unknown;
  /** Syntax errors and duplicate keys, all located. */
  readonly diagnostics: readonly Diagnostic[];
  /**
   * The span of the value at `path` (or of its key). A path that does not
   * exist resolves to its nearest existing ancestor, so every diagnostic has a
   * place to point at.
   */
  locate(path: DataPath, part?: SpanPart): Span;
}

export type SourceFormat = "yaml" | "toml" | "json";

/** Joins a data path for messages: `stages.search.limit[1]`. */
export function formatPath(path: DataPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === "" ? "(top level)" : out;
}
