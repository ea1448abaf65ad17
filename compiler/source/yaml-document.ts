import jsyaml from "js-yaml";
import { isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from "yaml";
import type { Diagnostic, Span } from "../diagnostics/diagnostic.js";
import type { DataPath, ParsedDocument, SourceFormat, SpanPart } from "./document.js";
import type { SourceFile } from "./source-file.js";
import { duplicateMappingKey, withHint, yamlSyntax } from "./syntax-hints.js";

/**
 * YAML (and, through the same path, JSON). Two parsers, each for what it does
 * best: js-yaml reads the data about ten times faster (a 10,000-stage file in
 * ~0.1 s instead of ~1.3 s), and `yaml` keeps a range on every node, so it is
 * run only when something must be located: a syntax error (it reports all of
 * them, not just the first) or a diagnostic from a later phase.
 */
export function parseYaml(file: SourceFile, format: SourceFormat = "yaml"): ParsedDocument {
  let positioned: Document | undefined;
  const document = (): Document =>
    (positioned ??= parseDocument(file.text, { prettyErrors: false, uniqueKeys: true, keepSourceTokens: false }));
  let data: unknown;
  let diagnostics: Diagnostic[] = [];
  try {
    // An empty file is an empty document (null), as with the `yaml` library.
    data = jsyaml.load(file.text, { schema: jsyaml.CORE_SCHEMA, filename: file.path }) ?? null;
  } catch (error) {
    if (!(error instanceof jsyaml.YAMLException)) throw error;
    diagnostics = document().errors.map((e) => syntaxDiagnostic(file, format, e.code, e.message, e.pos));
    if (diagnostics.length === 0) {
      // The two parsers disagree on this input; report js-yaml's own error.
      const offset = error.mark ? file.lines.offset(error.mark.line + 1, error.mark.column + 1) : 0;
      diagnostics = [
        syntaxDiagnostic(file, format, /duplicated mapping key/.test(error.reason) ? "DUPLICATE_KEY" : "", error.reason, [
          offset,
          offset + 1,
        ]),
      ];
    }
    // Broken syntax still yields partial data, but checking it would only add
    // noise on top of the syntax error; report the syntax errors alone.
    data = undefined;
  }
  return {
    file,
    format,
    data,
    diagnostics,
    locate: (path, part) => trimSpan(file.text, locateYaml(document(), file.text, path, part)),
  };
}

function syntaxDiagnostic(
  file: SourceFile,
  format: SourceFormat,
  code: string,
  reason: string,
  [start, end]: readonly [number, number],
): Diagnostic {
  const base: Diagnostic = {
    severity: "error",
    code: code === "DUPLICATE_KEY" ? "WFC004" : format === "json" ? "WFC003" : "WFC001",
    message: `${format === "json" ? "JSON" : "YAML"} syntax error: ${lowerFirst(reason)}`,
    location: { file: file.path, span: { start, end: Math.max(end, start + 1) } },
  };
  if (code === "DUPLICATE_KEY") return withHint(base, duplicateMappingKey(file, start), "", file.text.length);
  const prefix = `${format === "json" ? "JSON" : "YAML"} syntax error: `;
  const hint = yamlSyntax(file, { start, end }, lowerFirst(reason));
  return withHint(base, hint, prefix, file.text.length);
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function rangeOf(node: Node | null | undefined): Span | undefined {
  const range = node?.range;
  if (!range) return undefined;
  return { start: range[0], end: range[1] };
}

function locateYaml(doc: Document, text: string, path: DataPath, part: SpanPart = "value"): Span {
  let node: unknown = doc.contents;
  let best: Span = rangeOf(doc.contents as Node) ?? { start: 0, end: 0 };
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      // A lone CR (old Mac line ending) stays in the yaml library's key but not in the data's.
      const keyOf = (p: unknown) => (isPair(p) && isScalar(p.key) ? String(p.key.value).replace(/\r/g, "") : undefined);
      const pair = node.items.find((p) => keyOf(p) === String(segment));
      if (!pair) return best;
      const keySpan = rangeOf(pair.key as Node);
      const valueSpan = rangeOf(pair.value as Node);
      if (last && part === "key" && keySpan) return keySpan.end > keySpan.start ? keySpan : emptyKeySpan(text, keySpan);
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

/**
 * An empty explicit key (a line with just `?`) is YAML's null, which the data
 * calls `null`; its range is empty, after the indicator. Point at the `?`.
 */
function emptyKeySpan(text: string, key: Span): Span {
  let i = key.start - 1;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--;
  return text[i] === "?" ? { start: i, end: i + 1 } : key;
}

/** Block scalars and maps include trailing newlines in their range; markers look better without. */
function trimSpan(text: string, span: Span): Span {
  let end = span.end;
  // Only YAML's own blanks: `\s` would also eat a value's trailing U+2000.
  while (end > span.start + 1 && /[ \t\r\n]/.test(text[end - 1] ?? "")) end--;
  return { start: span.start, end };
}
