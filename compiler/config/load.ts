import { readFile, realpath } from "node:fs/promises";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { hasErrors, sortDiagnostics } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { DiagnosticSink } from "../lower/sink.js";
import { validateSchema } from "../schema/validate-schema.js";
import type { ParsedDocument } from "../source/document.js";
import { formatOf, parseSource } from "../source/parse.js";
import { SourceFile } from "../source/source-file.js";
import type { ConfigEnvironment, ConfigLocation, LoadConfigResult, SearchedLocation } from "./config.js";
import { builtinExecutorTables } from "./executors.js";
import { configLocations } from "./locations.js";
import { mergeConfigs, type ConfigLayer } from "./merge.js";

type Obj = Readonly<Record<string, unknown>>;

/** The pattern of executor names in schema/config.schema.json. */
const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Finds, reads, checks and merges every config file on the search path.
 * Never throws for bad input: a missing `--config`, a syntax error or a
 * schema violation is a located diagnostic, and every file is checked in
 * one run. Reads files only; never writes one.
 */
export async function loadConfig(environment: ConfigEnvironment): Promise<LoadConfigResult> {
  const diagnostics: Diagnostic[] = [];
  const documents: ParsedDocument[] = [];
  const searched: SearchedLocation[] = [];
  const layers: ConfigLayer[] = [];
  // Files whose data is a table, valid or not: their mappings are checked too, so one run reports everything.
  const tables: ConfigLayer[] = [];
  const seen = new Set<string>();

  for (const location of configLocations(environment)) {
    const read = await readConfig(location, seen);
    if (read.kind !== "read") {
      if (read.kind === "error") diagnostics.push(read.diagnostic);
      searched.push({ ...location, status: read.kind });
      continue;
    }
    documents.push(read.document);
    const checked = checkConfig(read.document);
    diagnostics.push(...checked.diagnostics);
    if (checked.table !== undefined) tables.push(checked.table);
    if (checked.valid) layers.push(checked.table!);
    searched.push({ ...location, status: checked.valid ? "loaded" : "error" });
  }

  diagnostics.push(...checkMappings(tables));
  const sorted = sortDiagnostics(diagnostics);
  if (hasErrors(sorted)) return { diagnostics: sorted, documents, searched };
  return { config: mergeConfigs(layers), diagnostics: sorted, documents, searched };
}

/**
 * What loading reports for one config file on its own (syntax, schema, and
 * mappings to executors no file defines): for an editor with the file open.
 * An executor another config file defines is unknown here, so its warning
 * may show in the editor and not in `wfc config show`.
 */
export function checkConfigDocument(document: ParsedDocument): readonly Diagnostic[] {
  const checked = checkConfig(document);
  return sortDiagnostics([...checked.diagnostics, ...checkMappings(checked.table !== undefined ? [checked.table] : [])]);
}

/** Syntax, then the schema. `table` is the file's data when it is a table, even an invalid one. */
function checkConfig(document: ParsedDocument): { valid: boolean; table?: ConfigLayer; diagnostics: readonly Diagnostic[] } {
  if (document.diagnostics.length > 0 || document.data === undefined) return { valid: false, diagnostics: document.diagnostics };
  // An empty YAML or JSON file (null) configures nothing, like an empty TOML one.
  const data: unknown = document.data === null ? {} : document.data;
  const diagnostics = validateSchema({ ...document, data }, "config.schema.json");
  const isTable = typeof data === "object" && data !== null && !Array.isArray(data);
  return {
    valid: isTable && diagnostics.length === 0,
    ...(isTable ? { table: { document, data: data as Obj } } : {}),
    diagnostics,
  };
}

type ReadConfig =
  | { readonly kind: "read"; readonly document: ParsedDocument }
  | { readonly kind: "missing" | "duplicate" }
  | { readonly kind: "error"; readonly diagnostic: Diagnostic };

async function readConfig(location: ConfigLocation, seen: Set<string>): Promise<ReadConfig> {
  const { path, level } = location;
  // The search-path files are TOML by name; a file named explicitly may be any format wfc reads.
  const format = location.required ? formatOf(path) : "toml";
  if (format === undefined) {
    return {
      kind: "error",
      diagnostic: {
        severity: "error",
        code: "WFC302",
        message: `cannot tell the format of config file \`${path}\` from its extension`,
        location: { file: path },
        expected: "a file ending in .toml, .yaml, .yml or .json",
        help: `rename it with the extension of its format (it was named by \`${level}\`)`,
      },
    };
  }
  let text: string;
  let real: string;
  try {
    // The file's real path, so that one file reached two ways (`--config wfc.config.toml`) is read once.
    real = await realpath(location.absolute);
    if (seen.has(real)) return { kind: "duplicate" };
    text = await readFile(real, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === "ENOENT" || code === "ENOTDIR") && !location.required) return { kind: "missing" };
    return { kind: "error", diagnostic: unreadable(location, code) };
  }
  seen.add(real);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { kind: "read", document: parseSource(new SourceFile(path, text), format) };
}

function unreadable(location: ConfigLocation, code: string | undefined): Diagnostic {
  const { path, level } = location;
  const missing = code === "ENOENT" || code === "ENOTDIR";
  return {
    severity: "error",
    code: "WFC301",
    message: missing
      ? `no such config file \`${path}\`${level === "$WFC_CONFIG" ? " (named by `$WFC_CONFIG`)" : ""}`
      : code === "EISDIR"
        ? `config file \`${path}\` is a directory`
        : `cannot read config file \`${path}\` (${code ?? "unknown error"})`,
    location: { file: path },
    help:
      level === "--config"
        ? missing
          ? `check the path (it is relative to the current directory), or write a default one with \`wfc config init --path ${path}\``
          : "`--config` must name a readable config file"
        : level === "$WFC_CONFIG"
          ? "point `WFC_CONFIG` at a readable config file, or unset it"
          : "fix the file's permissions, or remove it",
  };
}

/**
 * A mapping may name an executor the workflow defines, so an executor no
 * config file defines is a warning, not an error: the compiler reports it
 * as unknown if the workflow does not define it either.
 */
function checkMappings(layers: readonly ConfigLayer[]): Diagnostic[] {
  const known = new Set<string>(builtinExecutorTables().keys());
  for (const { data } of layers) for (const name of Object.keys(asObject(data.executors))) known.add(name);
  const out: Diagnostic[] = [];
  for (const { document, data } of layers) {
    const sink = new DiagnosticSink(document);
    const map = asObject(data.map);
    for (const key of ["stages", "labels"] as const) {
      for (const [name, executor] of Object.entries(asObject(map[key]))) {
        // A value that is not a valid name has had its schema error already.
        if (typeof executor !== "string" || !NAME.test(executor) || known.has(executor)) continue;
        sink.warning(
          "WFC303",
          `executor \`${executor}\` is defined in no config file; it must come from the workflow`,
          ["map", key, name],
          {
            help: didYouMean(executor, known) ?? `define \`executors.${executor}\` in a config file, or in the workflow's \`executors\``,
            typo: executor,
          },
        );
      }
    }
    out.push(...sink.diagnostics);
  }
  return out;
}

function asObject(value: unknown): Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : {};
}
