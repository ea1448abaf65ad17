/**
 * `--params-file FILE`: param values from a YAML, TOML or JSON file (what
 * Snakemake calls `--configfile`), a map of param names to values. They
 * replace the workflow's own values, and `--param name=value` replaces
 * them in turn. The file's values are typed already, so each must have the
 * type its param is declared with: a `sample: 001` that YAML reads as the
 * number 1 is refused for a string param rather than silently changed.
 */
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { ParsedDocument } from "../source/document.js";
import { readSource } from "../source/parse.js";

/** A value a param may have: a scalar, or a list of scalars. */
export type ParamValue = string | number | boolean | readonly (string | number | boolean)[];

/** A params file, read and parsed; its values are checked against the workflow's params when the workflow is lowered. */
export interface ParamsFile {
  readonly document: ParsedDocument;
  /** Each param's value, in the order the file lists them. */
  readonly values: ReadonlyMap<string, ParamValue>;
}

/** Reads a params file. Its problems (unreadable, bad syntax, not a map of values) are located diagnostics. */
export async function readParamsFile(
  path: string,
): Promise<{ file?: ParamsFile; document?: ParsedDocument; diagnostics: readonly Diagnostic[] }> {
  const read = await readSource(path);
  if (!read.ok) return { diagnostics: [read.diagnostic] };
  const { document } = read;
  if (document.diagnostics.length > 0 || document.data === undefined) return { document, diagnostics: document.diagnostics };
  const diagnostics: Diagnostic[] = [];
  const bad = (message: string, path: readonly (string | number)[], expected: string, help?: string) =>
    diagnostics.push({
      severity: "error",
      code: "WFC250",
      message,
      location: { file: document.file.path, span: document.locate(path) },
      expected,
      ...(help !== undefined ? { help } : {}),
    });
  // An empty YAML or JSON file (null) sets nothing, like an empty TOML one.
  const data = document.data === null ? {} : document.data;
  const values = new Map<string, ParamValue>();
  if (typeof data !== "object" || Array.isArray(data)) {
    bad("a params file must map param names to values", [], "a map such as `samples: [A, B]`");
    return { document, diagnostics };
  }
  for (const [name, value] of Object.entries(data as Record<string, unknown>)) {
    if (isScalar(value) || (Array.isArray(value) && value.every(isScalar))) {
      values.set(name, value as ParamValue);
      continue;
    }
    const item = Array.isArray(value) ? value.findIndex((v) => !isScalar(v)) : -1;
    bad(
      `param \`${name}\` is given ${Array.isArray(value) ? "a list with a nested value" : describe(value)}`,
      item === -1 ? [name] : [name, item],
      "a string, a number, a boolean or a list of them",
      "params hold plain values; a nested table belongs in separate params",
    );
  }
  return diagnostics.length > 0 ? { document, diagnostics } : { file: { document, values }, document, diagnostics };
}

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === "string" || (typeof v === "number" && Number.isFinite(v)) || typeof v === "boolean";
}

function describe(v: unknown): string {
  if (v === null) return "no value (null)";
  if (typeof v === "object") return "a table";
  if (typeof v === "number") return `\`${v}\`, which is not a finite number`;
  return `a ${typeof v}`;
}
