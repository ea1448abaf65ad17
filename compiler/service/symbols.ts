import type { Span } from "../diagnostics/diagnostic.js";
import { builtinExecutorTables } from "../config/executors.js";
import { RESERVED_NAMES } from "../lower/fanout.js";
import { parseTemplate } from "../lower/template.js";
import type { DataPath, ParsedDocument } from "../source/document.js";
import { keySpans, nameIn, valueSpan } from "./keys.js";
import type { ServiceFileKind, SymbolKind } from "./service.js";

/**
 * An index of every name a file defines and every place it refers to one,
 * built from `document.data` and `document.locate` alone, so it answers for
 * a file that does not validate (an unknown limit is still a reference).
 */
export interface SymbolId {
  readonly kind: SymbolKind;
  readonly name: string;
  /** The stage a foreach variable belongs to; undefined for the other kinds. */
  readonly stage?: string;
}

export interface Definition {
  readonly id: SymbolId;
  /** Where the name is written as a key (TOML may write it in several headers); empty for a built-in. */
  readonly spans: readonly Span[];
  /** The data path of the definition (undefined for a built-in executor). */
  readonly path?: DataPath;
  /** The defined value as written (a limit's number, a stage's map). */
  readonly value: unknown;
  readonly builtin: boolean;
}

export interface Reference {
  readonly id: SymbolId;
  /** The name's own text (inside a placeholder: the name only, not the braces). */
  readonly span: Span | undefined;
  /** Where the reference's value is, for messages. */
  readonly path: DataPath;
}

export interface SymbolIndex {
  readonly definitions: ReadonlyMap<string, Definition>;
  readonly references: readonly Reference[];
  /** Read from the lines of a file that does not parse: definitions only, no references. */
  readonly partial: boolean;
}

/** Placeholder roots that are not foreach variables (the names a foreach variable may not take). */
export const RESERVED_ROOTS: ReadonlySet<string> = new Set(RESERVED_NAMES);

/** Keys of a stage whose strings are names or fixed words, not templates. */
const NOT_TEMPLATES = new Set([
  "description",
  "fn",
  "after",
  "limit",
  "executor",
  "decides",
  "labels",
  "zip",
  "shell",
  "container",
  "modules",
  "conda",
  "temp",
  "protected",
  "from",
]);

export function symbolKey(id: SymbolId): string {
  return `${id.kind}:${id.stage ?? ""}:${id.name}`;
}

const cache = new WeakMap<ParsedDocument, SymbolIndex>();

export function symbolIndex(doc: ParsedDocument, kind: ServiceFileKind): SymbolIndex {
  let index = cache.get(doc);
  if (index === undefined) {
    index = doc.data === undefined ? textSymbols(doc, kind) : kind === "workflow" ? workflowSymbols(doc) : configSymbols(doc);
    cache.set(doc, index);
  }
  return index;
}

type Obj = Readonly<Record<string, unknown>>;

function isObj(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function entries(value: unknown): [string, unknown][] {
  return isObj(value) ? Object.entries(value) : [];
}

class Builder {
  readonly definitions = new Map<string, Definition>();
  readonly references: Reference[] = [];
  constructor(readonly doc: ParsedDocument) {}

  define(id: SymbolId, path: DataPath, value: unknown): void {
    const key = symbolKey(id);
    if (this.definitions.has(key)) return;
    this.definitions.set(key, { id, spans: keySpans(this.doc, path), path, value, builtin: false });
  }

  builtinExecutors(): void {
    for (const [name, table] of builtinExecutorTables()) {
      const key = symbolKey({ kind: "executor", name });
      if (!this.definitions.has(key)) this.definitions.set(key, { id: { kind: "executor", name }, spans: [], value: table, builtin: true });
    }
  }

  /** A name written as a whole string value at `path`. */
  nameAt(kind: SymbolKind, path: DataPath, value: unknown, stage?: string): void {
    if (typeof value !== "string" || value === "") return;
    const span = nameIn(this.doc.file.text, valueSpan(this.doc, path), value);
    this.references.push({ id: stage === undefined ? { kind, name: value } : { kind, name: value, stage }, span, path });
  }

  /** A string or a list of strings, each a name. */
  namesAt(kind: SymbolKind, path: DataPath, value: unknown, stage?: string): void {
    if (Array.isArray(value)) value.forEach((item, i) => this.nameAt(kind, [...path, i], item, stage));
    else this.nameAt(kind, path, value, stage);
  }

  /**
   * The placeholders of every string under `value`: `{params.x}` refers to a
   * param and, inside a stage, `{var}` to its foreach variable. Each span is
   * found in the file's text the way diagnostics find theirs (the same
   * occurrence of the placeholder's own text), so it is exact in quoted
   * strings with escapes; one that cannot be found has no span.
   */
  templates(path: DataPath, value: unknown, stage: string | undefined): void {
    if (Array.isArray(value)) {
      value.forEach((item, i) => this.templates([...path, i], item, stage));
      return;
    }
    if (isObj(value)) {
      for (const [key, child] of Object.entries(value)) if (!NOT_TEMPLATES.has(key)) this.templates([...path, key], child, stage);
      return;
    }
    if (typeof value !== "string" || !value.includes("{")) return;
    const located = valueSpan(this.doc, path);
    const written = this.doc.file.text.slice(located.start, located.end);
    for (const part of parseTemplate(value).template.parts) {
      if (part.kind !== "ref") continue;
      let id: SymbolId;
      let name: string;
      if (part.root === "params") {
        if (part.field === undefined) continue;
        id = { kind: "param", name: part.field };
        name = part.field;
      } else if (stage !== undefined && !RESERVED_ROOTS.has(part.root)) {
        id = { kind: "variable", name: part.root, stage };
        name = part.root;
      } else {
        continue;
      }
      const needle = value.slice(part.offset, part.offset + part.length);
      const at = nthIndexOf(written, needle, occurrences(value, needle, part.offset));
      let span: Span | undefined;
      if (at !== -1) {
        // `{ params.x }`: the name is the word after the root's dot, or the root.
        const inner = /^(\{\s*)([A-Za-z_][A-Za-z0-9_]*)/.exec(needle);
        const rootAt = inner?.[1]?.length ?? 1;
        const offset = id.kind === "param" ? rootAt + part.root.length + 1 : rootAt;
        const start = located.start + at + offset;
        span = this.doc.file.text.slice(start, start + name.length) === name ? { start, end: start + name.length } : undefined;
      }
      this.references.push({ id, span, path });
    }
  }

  index(partial = false): SymbolIndex {
    return { definitions: this.definitions, references: this.references, partial };
  }
}

function occurrences(text: string, needle: string, end: number): number {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1 && at < end; at = text.indexOf(needle, at + 1)) n++;
  return n;
}

function nthIndexOf(text: string, needle: string, nth: number): number {
  let found = -1;
  for (let k = 0; k <= nth; k++) {
    found = text.indexOf(needle, found + 1);
    if (found === -1) return -1;
  }
  return found;
}

function workflowSymbols(doc: ParsedDocument): SymbolIndex {
  const b = new Builder(doc);
  const data = doc.data;
  for (const [name, value] of entries(isObj(data) ? data.params : undefined)) b.define({ kind: "param", name }, ["params", name], value);
  for (const [name, value] of entries(isObj(data) ? data.limits : undefined)) b.define({ kind: "limit", name }, ["limits", name], value);
  for (const [name, value] of entries(isObj(data) ? data.executors : undefined))
    b.define({ kind: "executor", name }, ["executors", name], value);
  b.builtinExecutors();
  const stages = entries(isObj(data) ? data.stages : undefined);
  for (const [name, value] of stages) b.define({ kind: "stage", name }, ["stages", name], value);

  const defaults = isObj(data) ? data.defaults : undefined;
  if (isObj(defaults)) {
    b.nameAt("executor", ["defaults", "executor"], defaults.executor);
    b.templates(["defaults"], defaults, undefined);
  }
  for (const [stage, raw] of stages) {
    if (!isObj(raw)) continue;
    const at = (...rest: (string | number)[]): DataPath => ["stages", stage, ...rest];
    for (const [variable, source] of entries(raw.foreach)) {
      b.define({ kind: "variable", name: variable, stage }, at("foreach", variable), source);
      if (isObj(source)) b.nameAt("stage", at("foreach", variable, "from"), source.from);
    }
    const decides = raw.decides;
    (Array.isArray(decides) ? decides : [decides]).forEach((name, i) => {
      if (typeof name !== "string") return;
      const path = Array.isArray(decides) ? at("decides", i) : at("decides");
      // A decided variable is defined where `decides` names it.
      const key = symbolKey({ kind: "variable", name, stage });
      if (!b.definitions.has(key)) {
        const span = nameIn(doc.file.text, valueSpan(doc, path), name);
        b.definitions.set(key, {
          id: { kind: "variable", name, stage },
          spans: span ? [span] : [],
          path,
          value: { decides: true },
          builtin: false,
        });
      }
    });
    b.namesAt("stage", at("after"), raw.after);
    b.nameAt("executor", at("executor"), raw.executor);
    limitNames(b, at("limit"), raw.limit);
    if (Array.isArray(raw.zip)) raw.zip.forEach((name, i) => b.nameAt("variable", at("zip", i), name, stage));
    b.templates(at(), raw, stage);
    // foreach sources are templates too (`"{params.list}"`, a glob's `{var}`), but `from` is a name.
  }
  return b.index();
}

/** `limit: ftp`, `limit: [ftp, 2]`, `limit: { name: db, weight: 2 }` and lists of those. */
function limitNames(b: Builder, path: DataPath, value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => limitNames(b, [...path, i], item));
  } else if (isObj(value)) {
    b.nameAt("limit", [...path, "name"], value.name);
  } else {
    b.nameAt("limit", path, value);
  }
}

/** A config file defines executors and maps stages and labels to them. */
function configSymbols(doc: ParsedDocument): SymbolIndex {
  const b = new Builder(doc);
  const data = isObj(doc.data) ? doc.data : {};
  for (const [name, value] of entries(data.executors)) b.define({ kind: "executor", name }, ["executors", name], value);
  b.builtinExecutors();
  const map = isObj(data.map) ? data.map : {};
  for (const table of ["stages", "labels"]) {
    for (const [key, value] of entries(map[table])) b.nameAt("executor", ["map", table, key], value);
  }
  return b.index();
}

/** The definition or reference whose name's span holds `offset` (its end included, where a cursor sits after typing). */
export function symbolAt(index: SymbolIndex, offset: number): { id: SymbolId; span: Span } | undefined {
  const within = (s: Span) => s.start <= offset && offset <= s.end;
  for (const def of index.definitions.values()) {
    const span = def.spans.find(within);
    if (span) return { id: def.id, span };
  }
  for (const ref of index.references) if (ref.span && within(ref.span)) return { id: ref.id, span: ref.span };
  return undefined;
}

export function referencesTo(index: SymbolIndex, id: SymbolId): Reference[] {
  const key = symbolKey(id);
  return index.references.filter((r) => symbolKey(r.id) === key);
}

/**
 * A file whose syntax is broken has no data; its top-level names are still
 * worth offering while the user types. Read them from the lines: keys one
 * level under `params:`, `limits:`, `executors:`, `stages:` in YAML, and the
 * `[params]`/`[limits]` keys and `[stages.X]`/`[executors.X]` headers in TOML.
 * Definitions only, with no values: references need the data.
 */
function textSymbols(doc: ParsedDocument, kind: ServiceFileKind): SymbolIndex {
  const b = new Builder(doc);
  const sections: Readonly<Record<string, SymbolKind>> =
    kind === "workflow" ? { params: "param", limits: "limit", executors: "executor", stages: "stage" } : { executors: "executor" };
  const spans = new Map<string, { id: SymbolId; spans: Span[] }>();
  const define = (k: SymbolKind, name: string, start: number) => {
    const id = { kind: k, name };
    const entry = spans.get(symbolKey(id)) ?? { id, spans: [] as Span[] };
    entry.spans.push({ start, end: start + name.length });
    spans.set(symbolKey(id), entry);
  };
  let section: SymbolKind | undefined;
  let childIndent: number | undefined;
  let lineStart = 0;
  for (const line of doc.file.text.split("\n")) {
    if (doc.format === "toml") {
      const header = /^(\s*\[\s*)([A-Za-z_][A-Za-z0-9_-]*)(?:\s*\.\s*)?([A-Za-z_][A-Za-z0-9_-]*)?/.exec(line);
      if (header) {
        const top = sections[header[2]!];
        section = header[3] === undefined && (top === "param" || top === "limit") ? top : undefined;
        if (header[3] !== undefined && (top === "stage" || top === "executor") && !line.startsWith("[[")) {
          define(top, header[3], lineStart + line.indexOf(header[3], header[1]!.length + header[2]!.length));
        }
      } else if (section !== undefined) {
        const key = /^(\s*)([A-Za-z_][A-Za-z0-9_-]*)\s*=/.exec(line);
        if (key) define(section, key[2]!, lineStart + key[1]!.length);
      }
    } else if (/^[^\s#]/.test(line)) {
      const top = /^([A-Za-z_]+)\s*:\s*(#.*)?$/.exec(line);
      section = top ? sections[top[1]!] : undefined;
      childIndent = undefined;
    } else if (section !== undefined) {
      const key = /^( +)([A-Za-z_][A-Za-z0-9_-]*)\s*:(\s|$)/.exec(line);
      if (key) {
        childIndent ??= key[1]!.length;
        if (key[1]!.length === childIndent) define(section, key[2]!, lineStart + childIndent);
      }
    }
    lineStart += line.length + 1;
  }
  for (const [key, { id, spans: found }] of spans) b.definitions.set(key, { id, spans: found, value: undefined, builtin: false });
  b.builtinExecutors();
  return b.index(true);
}
