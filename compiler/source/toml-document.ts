import { parse as parseToml, TomlError } from "smol-toml";
import { parseTOML, type AST } from "toml-eslint-parser";
import type { Diagnostic, Span } from "../diagnostics/diagnostic.js";
import type { DataPath, ParsedDocument, SpanPart } from "./document.js";
import type { SourceFile } from "./source-file.js";
import { tomlRedefinition, tomlSyntax, withHint } from "./syntax-hints.js";

/**
 * TOML data comes from smol-toml, which reports syntax errors with positions
 * but keeps no positions for values. Schema and semantic errors still need a
 * place, so on the first `locate` we build a path → span map from
 * toml-eslint-parser's AST. Valid files that need no location never pay for it.
 */
export function parseToml_(file: SourceFile): ParsedDocument {
  let data: unknown;
  const diagnostics: Diagnostic[] = [];
  try {
    data = toPlain(parseToml(file.text));
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const start = file.lines.offset(error.line, error.column);
    const reason = error.message.split("\n")[0]!.replace(/^Invalid TOML document:\s*/, "");
    const duplicate = /redefine|already defined/.test(reason);
    const base: Diagnostic = {
      severity: "error",
      code: duplicate ? "WFC004" : "WFC002",
      message: duplicate ? `duplicate key: ${reason}` : `TOML syntax error: ${reason}`,
      location: { file: file.path, span: { start, end: start + 1 } },
    };
    diagnostics.push(
      duplicate
        ? withHint(base, tomlRedefinition(file, start), "", file.text.length)
        : withHint(base, tomlSyntax(file, start, reason), "TOML syntax error: ", file.text.length),
    );
  }
  let spans: Map<string, Entry> | undefined;
  const locate = (path: DataPath, part: SpanPart = "value"): Span => {
    spans ??= buildSpanMap(file.text);
    for (let n = path.length; n >= 0; n--) {
      const entry = spans.get(pathKey(path.slice(0, n)));
      if (entry === undefined) continue;
      return n === path.length && part === "key" ? entry.key : entry.value;
    }
    return { start: 0, end: 0 };
  };
  return { file, format: "toml", data, diagnostics, locate };
}

interface Entry {
  key: Span;
  value: Span;
}

function pathKey(path: DataPath): string {
  return JSON.stringify(path.map(String));
}

function span(node: { range: [number, number] }): Span {
  return { start: node.range[0], end: node.range[1] };
}

function keyName(node: AST.TOMLBare | AST.TOMLQuoted): string {
  return node.type === "TOMLBare" ? node.name : node.value;
}

function buildSpanMap(text: string): Map<string, Entry> {
  const map = new Map<string, Entry>();
  let ast: AST.TOMLProgram;
  try {
    ast = parseTOML(text);
  } catch {
    return map; // syntax errors are reported by smol-toml
  }
  const root = ast.body[0];
  map.set(pathKey([]), { key: { start: 0, end: 0 }, value: { start: 0, end: 0 } });

  const setIfAbsent = (path: DataPath, entry: Entry) => {
    const k = pathKey(path);
    if (!map.has(k)) map.set(k, entry);
  };

  const visitKeyValue = (base: DataPath, kv: AST.TOMLKeyValue) => {
    const keys = kv.key.keys;
    let path = base;
    keys.forEach((k, i) => {
      path = [...path, keyName(k)];
      if (i < keys.length - 1) setIfAbsent(path, { key: span(k), value: span(k) });
    });
    map.set(pathKey(path), { key: span(keys.at(-1)!), value: span(kv.value) });
    visitValue(path, kv.value);
  };

  const visitValue = (path: DataPath, node: AST.TOMLContentNode) => {
    if (node.type === "TOMLArray") {
      node.elements.forEach((element, i) => {
        map.set(pathKey([...path, i]), { key: span(element), value: span(element) });
        visitValue([...path, i], element);
      });
    } else if (node.type === "TOMLInlineTable") {
      for (const kv of node.body) visitKeyValue(path, kv);
    }
  };

  for (const item of root.body) {
    if (item.type === "TOMLKeyValue") {
      visitKeyValue([], item);
      continue;
    }
    // A table header: `[stages.split]` or `[[stages.split.env]]`.
    const resolved = item.resolvedKey;
    const headerKeys = item.key.keys;
    const headerSpan = span(item.key);
    // Intermediate segments of the header name point at their own word.
    let named = 0;
    for (let i = 0; i < resolved.length; i++) {
      const segment = resolved[i]!;
      const prefix = resolved.slice(0, i + 1);
      if (typeof segment === "number") {
        setIfAbsent(prefix, { key: headerSpan, value: headerSpan });
        continue;
      }
      const word = headerKeys[named++];
      const wordSpan = word ? span(word) : headerSpan;
      const isLast = i === resolved.length - 1 || (i === resolved.length - 2 && typeof resolved.at(-1) === "number");
      setIfAbsent(prefix, { key: wordSpan, value: isLast ? headerSpan : wordSpan });
    }
    for (const kv of item.body) visitKeyValue(resolved, kv);
  }
  return map;
}

/**
 * smol-toml builds null-prototype objects; ajv's deep-equal (for
 * `uniqueItems`) calls `valueOf` on them and throws. Copy into plain ones.
 */
function toPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === "object" && value !== null && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    // defineProperty, not assignment: a `__proto__` key must stay a key.
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, k, { value: toPlain(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}
