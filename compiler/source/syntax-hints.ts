import type { Diagnostic, Span } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "./source-file.js";

/**
 * Parsers describe syntax errors in their own terms ("trying to redefine an
 * already defined table or value", "Expected double-quoted property name").
 * These helpers turn the common ones into what the user did, at the place
 * they did it. Each takes the parser's offset and returns a better span and
 * message, or undefined to keep the parser's.
 */
export interface SyntaxHint {
  readonly message: string;
  readonly span: Span;
  readonly help?: string;
  readonly related?: { readonly span: Span; readonly message: string };
}

function lineBounds(text: string, offset: number): [number, number] {
  // lastIndexOf clamps a negative start to 0 and would find a newline at 0 itself.
  const start = offset <= 0 ? 0 : text.lastIndexOf("\n", offset - 1) + 1;
  const nl = text.indexOf("\n", offset);
  return [start, nl === -1 ? text.length : nl];
}

/** The key token at `offset` (after any blank): a quoted string (quotes included) or a bare word. */
function keyToken(text: string, from: number): Span {
  let offset = from;
  while (offset < text.length && /\s/.test(text[offset]!)) offset++;
  const quote = text[offset];
  if (quote === '"' || quote === "'") {
    const close = text.indexOf(quote, offset + 1);
    return { start: offset, end: close === -1 ? offset + 1 : close + 1 };
  }
  let end = offset;
  while (end < text.length && !/[\s:=,{}[\]]/.test(text[end]!)) end++;
  return { start: offset, end: Math.max(end, Math.min(offset + 1, text.length)) };
}

const unquote = (s: string) => s.replace(/^(["'])(.*)\1$/, "$2");

/** YAML/JSON duplicate key: name the key, mark all of it, point at its first definition. */
export function duplicateMappingKey(file: SourceFile, offset: number): SyntaxHint {
  const text = file.text;
  const span = keyToken(text, offset);
  const key = text.slice(span.start, span.end);
  const { column } = file.lines.position(span.start);
  // Walk back over the same mapping (lines indented at least as deep) for the first definition.
  let first: Span | undefined;
  let [lineStart] = lineBounds(text, span.start);
  while (lineStart > 0) {
    const [prevStart, prevEnd] = lineBounds(text, lineStart - 1);
    const line = text.slice(prevStart, prevEnd);
    const indent = line.search(/\S/);
    if (indent !== -1 && indent < column - 1 && !/^\s*[-#]/.test(line)) break;
    if (line.startsWith(key, column - 1) && /^\s*:/.test(line.slice(column - 1 + key.length))) {
      first = { start: prevStart + column - 1, end: prevStart + column - 1 + key.length };
    }
    lineStart = prevStart;
  }
  return {
    message: `duplicate key \`${unquote(key)}\``,
    span,
    help: "each key may appear once in a mapping; merge the two entries or rename one",
    ...(first ? { related: { span: first, message: `\`${unquote(key)}\` is first defined here` } } : {}),
  };
}

/** TOML redefinition: a repeated `[table]` header or a repeated key in one table. */
export function tomlRedefinition(file: SourceFile, offset: number): SyntaxHint | undefined {
  const text = file.text;
  const [start, end] = lineBounds(text, offset);
  const line = text.slice(start, end);
  const header = /^(\s*)\[\s*([^\]]+?)\s*\]/.exec(line);
  if (header) {
    const name = header[2]!;
    const at = start + line.indexOf(name, header[1]!.length);
    const re = new RegExp(`^\\s*\\[\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*\\]`, "m");
    const firstMatch = re.exec(text.slice(0, start));
    const first = firstMatch ? firstMatch.index + firstMatch[0].indexOf(name) : undefined;
    return {
      message: `duplicate table \`[${name}]\``,
      span: { start: at, end: at + name.length },
      help: "each table may be defined once; merge the two sections",
      ...(first !== undefined
        ? { related: { span: { start: first, end: first + name.length }, message: `\`[${name}]\` is first defined here` } }
        : {}),
    };
  }
  const keyMatch = /^(\s*)([A-Za-z0-9_.\-"' ]+?)\s*=/.exec(line);
  if (!keyMatch) return undefined;
  const key = keyMatch[2]!;
  const at = start + keyMatch[1]!.length;
  // The first definition: the same key earlier in the same table (after the last header).
  let first: number | undefined;
  let cursor = start;
  while (cursor > 0) {
    const [s, e] = lineBounds(text, cursor - 1);
    const prev = text.slice(s, e);
    if (/^\s*\[/.test(prev)) break;
    const m = /^(\s*)([A-Za-z0-9_.\-"' ]+?)\s*=/.exec(prev);
    if (m && m[2] === key) first = s + m[1]!.length;
    cursor = s;
  }
  return {
    message: `duplicate key \`${unquote(key)}\``,
    span: { start: at, end: at + key.length },
    help: "each key may be set once per table; keep one of them",
    ...(first !== undefined
      ? { related: { span: { start: first, end: first + key.length }, message: `\`${unquote(key)}\` is first defined here` } }
      : {}),
  };
}

/** TOML syntax errors smol-toml words by symptom rather than cause. */
export function tomlSyntax(file: SourceFile, offset: number, reason: string): SyntaxHint | undefined {
  const text = file.text;
  const [start, end] = lineBounds(text, offset);
  const line = text.slice(start, end);
  if (/control characters/.test(reason) && (offset >= end || /[\r\n]/.test(text[offset] ?? "\n"))) {
    const eq = line.indexOf("=");
    const quote = line.slice(eq + 1).search(/["']/);
    if (quote !== -1) {
      const at = start + eq + 1 + quote;
      return {
        message: "unterminated string",
        span: { start: at, end },
        help: `close the string with ${text[at]} on the same line, or use a multi-line string (${text[at]!.repeat(3)})`,
      };
    }
  }
  if (/illegal character in key|unfinished table|expected/.test(reason) && /^\s*\[/.test(line) && !line.includes("]")) {
    return { message: "unclosed table header: expected `]`", span: { start: Math.min(offset, end), end: Math.min(offset, end) + 1 } };
  }
  return undefined;
}

/** JSON.parse's complaint after a trailing comma is about the next token; point at the comma. */
export function jsonSyntax(file: SourceFile, offset: number, reason: string): SyntaxHint | undefined {
  if (!/property name|Unexpected token|Unexpected character/.test(reason)) return undefined;
  let at = offset - 1;
  while (at >= 0 && /\s/.test(file.text[at]!)) at--;
  if (file.text[at] !== "," || !/[}\]]/.test(file.text[offset] ?? "")) return undefined;
  return { message: "trailing comma", span: { start: at, end: at + 1 }, help: "JSON allows no comma after the last entry; remove it" };
}

/** YAML: indentation errors point at the misplaced key; unclosed flow collections at their bracket. */
export function yamlSyntax(file: SourceFile, span: Span, reason: string): SyntaxHint | undefined {
  const text = file.text;
  const closer = /end with a ([\]}])/.exec(reason)?.[1];
  if (closer) {
    const opener = closer === "]" ? "[" : "{";
    let depth = 0;
    for (let i = Math.min(span.start, text.length) - 1; i >= 0; i--) {
      const c = text[i];
      if (c === closer) depth++;
      else if (c === opener) {
        if (depth === 0) return { message: `unclosed \`${opener}\`: expected \`${closer}\``, span: { start: i, end: i + 1 } };
        depth--;
      }
    }
  }
  if (/tab/i.test(reason)) return undefined; // the tab itself is the problem: point at it
  let start = span.start;
  while (start < text.length && (text[start] === " " || text[start] === "\t")) start++;
  if (start !== span.start && text[start] !== "\n") return { message: reason, span: { start, end: Math.max(start + 1, span.end) } };
  return undefined;
}

/** Keeps a span inside the text: 0 ≤ start ≤ end ≤ length (an error at the very end is empty). */
export function clampSpan(span: Span, length: number): Span {
  const start = Math.max(0, Math.min(span.start, length));
  return { start, end: Math.max(start, Math.min(span.end, length)) };
}

/** Applies a hint to a syntax diagnostic, keeping its span inside the text. */
export function withHint(diagnostic: Diagnostic, hint: SyntaxHint | undefined, prefix: string, length: number): Diagnostic {
  const file = diagnostic.location!.file;
  if (hint === undefined) {
    const span = diagnostic.location?.span;
    return span === undefined ? diagnostic : { ...diagnostic, location: { file, span: clampSpan(span, length) } };
  }
  return {
    ...diagnostic,
    message: `${prefix}${hint.message}`,
    location: { file, span: clampSpan(hint.span, length) },
    ...(hint.help !== undefined ? { help: hint.help } : {}),
    ...(hint.related ? { related: [{ location: { file, span: hint.related.span }, message: hint.related.message }] } : {}),
  };
}
