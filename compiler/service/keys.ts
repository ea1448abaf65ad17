import { parseTOML, type AST } from "toml-eslint-parser";
import { isMap, isNode, isPair, isScalar, isSeq, parseDocument } from "yaml";
import type { Span } from "../diagnostics/diagnostic.js";
import type { DataPath, ParsedDocument } from "../source/document.js";

/** One place a key is written: `stages` in `stages:`, or each `stages` of TOML's `[stages.a]`, `[stages.b]`. */
export interface KeyOccurrence {
  readonly path: DataPath;
  /** The key's name itself, without quotes. */
  readonly span: Span;
}

interface Located {
  readonly keys: readonly KeyOccurrence[];
  /** By path (`pathKey`): where each key is written. */
  readonly byPath: ReadonlyMap<string, Span[]>;
  /** YAML and JSON only: the span of each value, by path; TOML's `locate` is already a lookup. */
  readonly values?: ReadonlyMap<string, Span>;
}

const cache = new WeakMap<ParsedDocument, Located>();

function pathKey(path: DataPath): string {
  return JSON.stringify(path.map(String));
}

function located(doc: ParsedDocument): Located {
  let found = cache.get(doc);
  if (found === undefined) {
    const walked = doc.format === "toml" ? { keys: tomlKeys(doc.file.text) } : yamlKeys(doc.file.text);
    const byPath = new Map<string, Span[]>();
    for (const k of walked.keys) {
      const key = pathKey(k.path);
      byPath.set(key, [...(byPath.get(key) ?? []), k.span]);
    }
    found = { ...walked, byPath };
    cache.set(doc, found);
  }
  return found;
}

/**
 * Every key written in the file with the data path it names. A YAML key is
 * written once; a TOML key may be written in many table headers and dotted
 * keys (`[stages.split]` and `[stages.split.foreach]` both name `split`), and
 * a rename must change them all, so TOML is read from its own AST.
 */
export function keyOccurrences(doc: ParsedDocument): readonly KeyOccurrence[] {
  return located(doc).keys;
}

/** The spans where the key of `path` is written. */
export function keySpans(doc: ParsedDocument, path: DataPath): Span[] {
  return located(doc).byPath.get(pathKey(path)) ?? [];
}

/**
 * The span of the value at `path`, as `locate` gives it but without walking
 * from the root for each one (a file's every reference is asked for).
 */
export function valueSpan(doc: ParsedDocument, path: DataPath): Span {
  return located(doc).values?.get(pathKey(path)) ?? doc.locate(path);
}

/**
 * YAML and JSON: one walk of the `yaml` library's node tree (every node has
 * its range), linear in the file; asking `locate` per key would walk from the
 * root each time. It also works on a file with syntax errors.
 */
function yamlKeys(text: string): { keys: KeyOccurrence[]; values: Map<string, Span> } {
  const keys: KeyOccurrence[] = [];
  const values = new Map<string, Span>();
  const visit = (node: unknown, path: DataPath) => {
    if (isNode(node) && node.range != null) values.set(pathKey(path), { start: node.range[0], end: node.range[1] });
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key) || pair.key.range == null) continue;
        // A lone CR (old Mac line ending) stays in the yaml library's key but not in the data's.
        const name = String(pair.key.value).replace(/\r/g, "");
        const childPath = [...path, name];
        const span = nameIn(text, { start: pair.key.range[0], end: pair.key.range[1] }, name);
        if (span !== undefined) keys.push({ path: childPath, span });
        visit(pair.value, childPath);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i]));
    }
  };
  visit(parseDocument(text, { prettyErrors: false, uniqueKeys: false, keepSourceTokens: false }).contents, []);
  return { keys, values };
}

/**
 * The span of `name` inside `span` when the text there is the name, bare or
 * quoted without escapes; undefined when it is written some other way (an
 * escape), since then no span of the text is exactly the name.
 */
export function nameIn(text: string, span: Span, name: string): Span | undefined {
  const written = text.slice(span.start, span.end);
  if (written === name) return span;
  const quote = written[0];
  if ((quote === '"' || quote === "'") && written === `${quote}${name}${quote}`) return { start: span.start + 1, end: span.end - 1 };
  return undefined;
}

function tomlKeys(text: string): KeyOccurrence[] {
  let ast: AST.TOMLProgram;
  try {
    ast = parseTOML(text);
  } catch {
    return [];
  }
  const out: KeyOccurrence[] = [];
  const push = (path: DataPath, key: AST.TOMLBare | AST.TOMLQuoted) => {
    const name = key.type === "TOMLBare" ? key.name : key.value;
    const span = nameIn(text, { start: key.range[0], end: key.range[1] }, name);
    if (span !== undefined) out.push({ path, span });
  };
  const visitKeyValue = (base: DataPath, kv: AST.TOMLKeyValue) => {
    let path = base;
    for (const k of kv.key.keys) {
      path = [...path, k.type === "TOMLBare" ? k.name : k.value];
      push(path, k);
    }
    visitValue(path, kv.value);
  };
  const visitValue = (path: DataPath, node: AST.TOMLContentNode) => {
    if (node.type === "TOMLArray") node.elements.forEach((element, i) => visitValue([...path, i], element));
    else if (node.type === "TOMLInlineTable") for (const kv of node.body) visitKeyValue(path, kv);
  };
  for (const item of ast.body[0].body) {
    if (item.type === "TOMLKeyValue") {
      visitKeyValue([], item);
      continue;
    }
    // `[[a.b]]` resolves to `a.b.N`: the header's words pair with the string segments in order.
    let named = 0;
    item.resolvedKey.forEach((segment, i) => {
      if (typeof segment === "number") return;
      const word = item.key.keys[named++];
      if (word !== undefined) push(item.resolvedKey.slice(0, i + 1), word);
    });
    for (const kv of item.body) visitKeyValue(item.resolvedKey, kv);
  }
  return out;
}
