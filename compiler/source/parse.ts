import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { ParsedDocument, SourceFormat } from "./document.js";
import { SourceFile } from "./source-file.js";
import { parseToml_ } from "./toml-document.js";
import { jsonSyntax, withHint } from "./syntax-hints.js";
import { parseYaml } from "./yaml-document.js";

/** The format of a file, from its extension. */
export function formatOf(path: string): SourceFormat | undefined {
  switch (extname(path).toLowerCase()) {
    case ".yaml":
    case ".yml":
      return "yaml";
    case ".toml":
      return "toml";
    case ".json":
      return "json";
    default:
      return undefined;
  }
}

/** Parses text already in memory. */
export function parseSource(file: SourceFile, format: SourceFormat): ParsedDocument {
  switch (format) {
    case "yaml":
      return parseYaml(file);
    case "toml":
      return parseToml_(file);
    case "json":
      return parseJson(file);
  }
}

/**
 * JSON is parsed by JSON.parse for exact semantics, and by the YAML parser for
 * positions and duplicate keys (JSON.parse silently keeps the last of two).
 */
function parseJson(file: SourceFile): ParsedDocument {
  const located = parseYaml(file, "json");
  try {
    const data: unknown = JSON.parse(file.text);
    return { ...located, data: located.diagnostics.length > 0 ? undefined : data };
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    const start = at ? Number(at[1]) : file.text.length;
    const diagnostic: Diagnostic = {
      severity: "error",
      code: "WFC003",
      message: `JSON syntax error: ${message.replace(/ in JSON at position \d+.*$/, "").replace(/ \(line \d+ column \d+\)$/, "")}`,
      location: { file: file.path, span: { start, end: start + 1 } },
    };
    return {
      ...located,
      data: undefined,
      diagnostics: [withHint(diagnostic, jsonSyntax(file, start, message), "JSON syntax error: ", file.text.length)],
    };
  }
}

export type ReadResult = { ok: true; document: ParsedDocument } | { ok: false; diagnostic: Diagnostic };

/** Reads and parses a file; a missing file or unknown extension is a diagnostic, not a throw. */
export async function readSource(path: string): Promise<ReadResult> {
  const format = formatOf(path);
  if (format === undefined) {
    return {
      ok: false,
      diagnostic: {
        severity: "error",
        code: "WFC006",
        message: `cannot tell the format of \`${path}\` from its extension`,
        location: { file: path },
        expected: "a file ending in .yaml, .yml, .toml or .json",
        help: "rename the file with the extension of its format",
      },
    };
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      diagnostic: {
        severity: "error",
        code: "WFC005",
        message:
          code === "ENOENT"
            ? `no such file \`${path}\``
            : code === "EISDIR"
              ? `\`${path}\` is a directory, not a workflow file`
              : `cannot read \`${path}\` (${code ?? "unknown error"})`,
        location: { file: path },
        help: "check the path; it is relative to the current directory",
      },
    };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { ok: true, document: parseSource(new SourceFile(path, text), format) };
}
