/**
 * One validation of an open file's unsaved text: exactly what `wfc validate
 * FILE` (or, for a config file, loading it) reports, from the editor's buffer
 * instead of the disk. The buffer is parsed under the file's real path, so
 * sample sheets, globs and `fn` modules resolve next to it as they would.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { checkConfigDocument } from "../../compiler/config/load.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { FileLookup } from "../../compiler/diagnostics/format.js";
import type { ServiceDocument, ServiceFileKind } from "../../compiler/service/service.js";
import type { ParsedDocument } from "../../compiler/source/document.js";
import { formatOf, parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import { validateDocument } from "../../compiler/validate.js";

export interface Analysis {
  /** What the language service works from. */
  readonly service: ServiceDocument;
  /** Every diagnostic, each located in the file it is about. */
  readonly diagnostics: readonly Diagnostic[];
  /** The texts diagnostics point into, for converting their spans. */
  readonly files: FileLookup;
}

/** Parses the text as the file at `path` would be parsed (a leading BOM dropped, as `readSource` does). */
export function parseBuffer(path: string, text: string): ParsedDocument | undefined {
  const format = formatOf(path);
  if (format === undefined) return undefined;
  return parseSource(new SourceFile(path, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text), format);
}

/**
 * Validates the buffer. Rejects with `signal`'s reason when a newer version
 * made this one pointless during a glob's walk of the file system.
 */
export async function analyze(path: string, text: string, kind: ServiceFileKind, signal?: AbortSignal): Promise<Analysis | undefined> {
  const document = parseBuffer(path, text);
  if (document === undefined) return undefined;
  const files: FileLookup = (p) => (p === document.file.path ? document.file : undefined);
  switch (kind) {
    case "workflow": {
      const result = await validateDocument(document, signal ? { signal } : {});
      return {
        service: { kind, document, ...(result.validated ? { validated: result.validated } : {}) },
        diagnostics: result.diagnostics,
        files,
      };
    }
    case "config":
      return { service: { kind, document }, diagnostics: checkConfigDocument(document), files };
  }
}

/** Sample-sheet problems: `wfc validate` puts them at the workflow's `sheet:` value, naming the sheet. */
const SHEET_CODES: ReadonlySet<string> = new Set(["WFC242", "WFC243", "WFC244", "WFC245"]);

/**
 * The sheet file a sheet diagnostic is about: the workflow's `sheet:` value at
 * its span, resolved next to the workflow, when it is a file. An editor with
 * the sheet open then shows the problem there too.
 */
export function sheetOf(d: Diagnostic, document: ParsedDocument): string | undefined {
  const span = d.location?.span;
  if (!SHEET_CODES.has(d.code) || span === undefined || d.location?.file !== document.file.path) return undefined;
  const value = document.file.text.slice(span.start, span.end).replace(/^(["'])(.*)\1$/, "$2");
  if (value === "" || /[\\"']/.test(value)) return undefined;
  const path = resolve(dirname(resolve(document.file.path)), value);
  try {
    return existsSync(path) && statSync(path).isFile() ? path : undefined;
  } catch {
    return undefined;
  }
}
