import { isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from "yaml";
import type { Diagnostic, Span } from "../diagnostics/diagnostic.js";
import type { DataPath, ParsedDocument, SourceFormat, SpanPart } from "./document.js";
import type { SourceFile } from "./source-file.js";

/**
 * YAML (and, through the same parser, JSON) keeps a range on every node, so
 * locating a path is a walk down the document.
 */
export function parseYaml(file: SourceFile, format: SourceFormat = "yaml"): ParsedDocument {
  const doc = parseDocument(file.text, { prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  const diagnostics: Diagnostic[] = doc.errors.map((error) => {
    const [start, end] = error.pos;
    const duplicate = error.code === "DUPLICATE_KEY";
    const message = duplicate ? "duplicate key" : `${format === "json" ? "JSON" : "YAML"} syntax error: ${lowerFirst(error.message)}`;
    return {
      severity: "error",
      code: duplicate ? "WFC004" : format === "json" ? "WFC003" : "WFC001",
      message: duplicate ? `${message} \`${file.text.slice(start, end)}\`` : message,
      location: { file: file.path, span: { start, end: Math.max(end, start + 1) } },
      ...(duplicate ? { help: "each key may appear once in a mapping; merge the two entries or rename one" } : {}),
    } satisfies Diagnostic;
  });
  let data: unknown;
  if (doc.errors.length === 0) {
    data = doc.toJS({ maxAliasCount: 10_000 });
  } else {
    // Broken syntax still yields partial data, but checking it would only add
    // noise on top of the syntax error; report the syntax errors alone.
    data = undefined;
  }
  return { file, format, data, diagnostics, locate: (path, part) => trimSpan(file.text, locateYaml(doc, path, part)) };
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function rangeOf(node: Node | null | undefined): Span | undefined {
  const range = node?.range;
  if (!range) return undefined;
  return { start: range[0], end: range[1] };
}

function locateYaml(doc: Document, path: DataPath, part: SpanPart = "value"): Span {
  let node: unknown = doc.contents;
  let best: Span = rangeOf(doc.contents as Node) ?? { start: 0, end: 0 };
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return best;
      const keySpan = rangeOf(pair.key as Node);
      const valueSpan = rangeOf(pair.value as Node);
      if (last && part === "key" && keySpan) return keySpan;
      // A key with no value (`foo:`) points at its key.
      best = valueSpan && valueSpan.end > valueSpan.start ? valueSpan : (keySpan ?? best);
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      const span = rangeOf(item as Node);
      if (!span) return best;
      best = span;
      node = item;
    } else {
      return best;
    }
  }
  return best;
}

/** Block scalars and maps include trailing newlines in their range; markers look better without. */
function trimSpan(text: string, span: Span): Span {
  let end = span.end;
  while (end > span.start + 1 && /\s/.test(text[end - 1] ?? "")) end--;
  return { start: span.start, end };
}
