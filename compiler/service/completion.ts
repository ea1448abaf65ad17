import type { DataPath, ParsedDocument } from "../source/document.js";
import { parseSource } from "../source/parse.js";
import { SourceFile } from "../source/source-file.js";
import { cursorContext } from "./context.js";
import { describeSymbol, inline } from "./hover.js";
import { keysAt, valuesAt } from "./schema-walk.js";
import { schemaOf } from "./schema-of.js";
import { symbolIndex, type SymbolIndex } from "./symbols.js";
import type { CompletionItem, CompletionResult, ServiceDocument, ServiceFileKind, SymbolKind } from "./service.js";

export function completionsAt(doc: ServiceDocument, offset: number): CompletionResult | undefined {
  const { file, format } = doc.document;
  const context = cursorContext(file.text, format, offset);
  if (context === undefined) return undefined;
  const parsed = parsable(doc.document, offset);
  const index = symbolIndex(parsed, doc.kind);
  const service: ServiceDocument = { ...doc, document: parsed };
  switch (context.kind) {
    case "placeholder": {
      const stage = context.path[0] === "stages" && typeof context.path[1] === "string" ? context.path[1] : undefined;
      const params = named(service, index, "param");
      if (context.root === "params") return { span: context.span, items: params };
      if (context.root !== undefined) return { span: context.span, items: fields(service, stage, context.root) };
      const variables = stage === undefined ? [] : named(service, index, "variable", stage);
      // `{inputs}` and the like have values only where the job runs: in its command and env.
      const command = context.path[2] === "run" || context.path[2] === "env";
      return {
        span: context.span,
        items: [
          ...variables,
          ...params.map((p) => ({ ...p, label: `params.${p.label}` })),
          ...(command ? commandRoots(service, stage) : []),
        ],
      };
    }
    case "value": {
      const want = nameKindAt(doc.kind, context.path);
      if (want !== undefined) {
        const stage = String(context.path[1]);
        let items = named(service, index, want, want === "variable" ? stage : undefined);
        // A stage never waits for itself, nor takes values from itself.
        if (want === "stage") items = items.filter((item) => item.label !== stage);
        const quote = format === "toml" && !context.quoted;
        return {
          span: context.span,
          items: withPrefix(context.prefix, quote ? items.map((item) => ({ ...item, insertText: `"${item.label}"` })) : items),
        };
      }
      const values = valuesAt(schemaOf(doc.kind), context.path).map((v): CompletionItem => ({
        label: v,
        kind: "value",
        ...(format === "toml" && !context.quoted && !/^\d+$/.test(v) ? { insertText: `"${v}"` } : {}),
      }));
      return { span: context.span, items: withPrefix(context.prefix, values) };
    }
    case "key": {
      const present = keysOf(dataAt(parsed.data, context.parent));
      // A stage has `run` or `fn`, never both: the one it has rules the other out.
      if (doc.kind === "workflow" && context.parent.length === 2 && context.parent[0] === "stages") {
        if (present.has("run")) present.add("fn");
        if (present.has("fn")) present.add("run");
      }
      const separator = format === "toml" ? " = " : ": ";
      const items = keysAt(schemaOf(doc.kind), context.parent)
        .filter((key) => !present.has(key.name) || key.name === file.text.slice(context.span.start, context.span.end))
        .map((key): CompletionItem => ({
          label: key.name,
          kind: "key",
          ...(key.description !== undefined ? { documentation: key.description } : {}),
          ...(context.separated ? {} : { insertText: `${key.name}${separator}` }),
        }));
      return { span: context.span, items };
    }
  }
}

/**
 * The document to read names and present keys from. A half-typed line
 * (`    lim`, `limit = `) usually breaks the whole file's syntax; without it,
 * blanked to spaces so every offset stays put, the rest often parses.
 */
function parsable(document: ParsedDocument, offset: number): ParsedDocument {
  if (document.data !== undefined) return document;
  const text = document.file.text;
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  const newline = text.indexOf("\n", offset);
  const end = newline === -1 ? text.length : newline;
  const blanked = text.slice(0, start) + text.slice(start, end).replace(/[^\r]/g, " ") + text.slice(end);
  return parseSource(new SourceFile(document.file.path, blanked), document.format);
}

/** Which kind of name the value at `path` is, if any. */
export function nameKindAt(kind: ServiceFileKind, path: DataPath): SymbolKind | undefined {
  const [top, , key, ...rest] = path;
  if (kind === "config")
    return top === "map" && (path[1] === "stages" || path[1] === "labels") && path.length === 3 ? "executor" : undefined;
  if (top === "defaults" && path[1] === "executor") return "executor";
  if (top !== "stages" || key === undefined) return undefined;
  const tail = rest.filter((s) => typeof s !== "number");
  if (key === "after" && tail.length === 0) return "stage";
  if (key === "limit" && (tail.length === 0 || (tail.length === 1 && tail[0] === "name"))) return "limit";
  if (key === "executor" && tail.length === 0) return "executor";
  if (key === "zip" && tail.length === 0) return "variable";
  if (key === "foreach" && tail.length === 2 && tail[1] === "from") return "stage";
  return undefined;
}

function named(doc: ServiceDocument, index: SymbolIndex, kind: SymbolKind, stage?: string): CompletionItem[] {
  const seen = new Set<string>();
  const out: CompletionItem[] = [];
  for (const def of index.definitions.values()) {
    if (def.id.kind !== kind || def.id.stage !== stage || seen.has(def.id.name)) continue;
    seen.add(def.id.name);
    const detail =
      kind === "limit" && def.value !== undefined ? inline(def.value) : kind === "executor" && def.builtin ? "built in" : undefined;
    out.push({
      label: def.id.name,
      kind,
      ...(detail !== undefined ? { detail } : {}),
      documentation: describeSymbol(doc, def.id, def),
    });
  }
  return out.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

function dataAt(data: unknown, path: DataPath): unknown {
  let value = data;
  for (const segment of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[String(segment)];
  }
  return value;
}

function keysOf(value: unknown): Set<string> {
  return new Set(typeof value === "object" && value !== null && !Array.isArray(value) ? Object.keys(value) : []);
}

const COMMAND_ROOTS: Readonly<Record<string, string>> = {
  inputs: "the stage's inputs, each a path",
  outputs: "the stage's outputs, each a path",
  log: "the stage's log file",
  cpus: "the cores the job may use",
  stage: "the stage's name",
};

/** `{inputs}`, `{outputs}`, `{cpus}`, `{stage}` (and `{log}` when the stage has one) in a command. */
function commandRoots(doc: ServiceDocument, stage: string | undefined): CompletionItem[] {
  const raw = dataAt(doc.document.data, ["stages", stage ?? ""]);
  return Object.entries(COMMAND_ROOTS)
    .filter(([root]) => root !== "log" || keysOf(raw).has("log"))
    .map(([root, detail]) => ({ label: root, kind: "value" as const, detail }));
}

/** After `{inputs.`: the stage's named inputs (outputs, logs alike); after `{sample.`: its sheet's columns. */
function fields(doc: ServiceDocument, stage: string | undefined, root: string): CompletionItem[] {
  if (stage === undefined) return [];
  if (root === "inputs" || root === "outputs" || root === "log") {
    return [...keysOf(dataAt(doc.document.data, ["stages", stage, root]))].map((name) => ({ label: name, kind: "value" as const }));
  }
  const sheet = doc.validated?.workflow.stages.get(stage)?.fanout.vars.find((v) => v.name === root)?.sheet;
  return (sheet?.columns ?? []).map((column) => ({
    label: column,
    kind: "value" as const,
    detail: `a column of \`${root}\`'s sample sheet`,
  }));
}

function withPrefix(prefix: string, items: CompletionItem[]): CompletionItem[] {
  return prefix === "" ? items : items.map((item) => ({ ...item, insertText: `${prefix}${item.insertText ?? item.label}` }));
}
