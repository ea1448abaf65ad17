import { parseTOML, type AST } from "toml-eslint-parser";
import type { Span } from "../diagnostics/diagnostic.js";
import type { DataPath, ParsedDocument } from "../source/document.js";

/** One place a key is written: `stages` in `stages:`, or each `stages` of TOML's `[stages.a]`, `[stages.b]`. */
export interface KeyOccurrence {
  readonly path: DataPath;
  /** The key's name itself, without quotes. */
  readonly span: Span;
}

const cache = new WeakMap<ParsedDocument, readonly KeyOccurrence[]>();

/**
 * Every key written in the file with the data path it names. A YAML key is
 * written once; a TOML key may be written in many table headers and dotted
 * keys (`[stages.split]` and `[stages.split.foreach]` both name `split`), and
 * a rename must change them all, so TOML is read from its own AST.
 */
export function keyOccurrences(doc: ParsedDocument): readonly KeyOccurrence[] {
  let found = cache.get(doc);
  if (found === undefined) {
    found = doc.format === "toml" ? tomlKeys(doc.file.text) : locatedKeys(doc);
    cache.set(doc, found);
  }
  return found;
}

/** The spans where the key of `path` is written. */
export function keySpans(doc: ParsedDocument, path: DataPath): Span[] {
  const key = JSON.stringify(path.map(String));
  return keyOccurrences(doc)
    .filter((k) => JSON.stringify(k.path.map(String)) === key)
    .map((k) => k.span);
}

/** YAML and JSON: walk the data and ask the document where each key is. */
function locatedKeys(doc: ParsedDocument): KeyOccurrence[] {
  const out: KeyOccurrence[] = [];
  const visit = (value: unknown, path: DataPath) => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, [...path, i]));
    } else if (typeof value === "object" && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        const childPath = [...path, key];
        const span = nameIn(doc.file.text, doc.locate(childPath, "key"), key);
        if (span !== undefined) out.push({ path: childPath, span });
        visit(child, childPath);
      }
    }
  };
  visit(doc.data, []);
  return out;
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
