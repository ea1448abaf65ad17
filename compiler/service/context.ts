import type { Span } from "../diagnostics/diagnostic.js";
import type { DataPath, SourceFormat } from "../source/document.js";

/**
 * Where the cursor is, guessed from the text around it: completion runs on
 * half-typed lines (`    lim`, `limit: `, `limit = `) that often do not
 * parse, so the data path comes from indentation in YAML and from the
 * current `[table]` in TOML, never from the parsed document.
 */
export type CursorContext =
  /** Typing a key of the map at `parent`; `separated` when the line already has its `:`/`=`. */
  | { readonly kind: "key"; readonly parent: DataPath; readonly span: Span; readonly separated: boolean }
  /**
   * Typing the value of the key at `path` (or an item of its list); `quoted`
   * when inside a string; `prefix` what to insert before it (a blank after
   * YAML's bare `limit:`, which with a word glued on would be one string).
   */
  | { readonly kind: "value"; readonly path: DataPath; readonly span: Span; readonly quoted: boolean; readonly prefix: string }
  /** Inside `{…}` of a template at `path`; `root` is `params` after `{params.`, `sample` after `{sample.`. */
  | { readonly kind: "placeholder"; readonly path: DataPath; readonly span: Span; readonly root: string | undefined };

const WORD = /[A-Za-z0-9_-]/;

/** The run of name characters around `offset`: what a chosen item replaces. */
export function wordAt(text: string, offset: number): Span {
  let start = offset;
  while (start > 0 && WORD.test(text[start - 1]!)) start--;
  let end = offset;
  while (end < text.length && WORD.test(text[end]!)) end++;
  return { start, end };
}

interface Line {
  readonly start: number;
  readonly text: string;
}

function linesOf(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  for (const raw of text.split("\n")) {
    out.push({ start, text: raw.replace(/\r$/, "") });
    start += raw.length + 1;
  }
  return out;
}

export function cursorContext(text: string, format: SourceFormat, offset: number): CursorContext | undefined {
  const lines = linesOf(text);
  let at = lines.length - 1;
  while (at > 0 && lines[at]!.start > offset) at--;
  const line = lines[at]!;
  const col = offset - line.start;
  if (inComment(line.text.slice(0, col))) return undefined;
  return format === "toml" ? tomlContext(lines, at, col, offset) : yamlContext(lines, at, col, offset);
}

/** Whether a `#` outside quotes starts a comment before the cursor (YAML's needs a blank before it). */
function inComment(before: string): boolean {
  let quote: string | undefined;
  for (let i = 0; i < before.length; i++) {
    const c = before[i]!;
    if (quote !== undefined) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "#" && (i === 0 || /\s/.test(before[i - 1]!))) {
      return true;
    }
  }
  return false;
}

// `key:` or `"key":` at the start of a line's content, followed by a blank or the end.
const YAML_KEY = /^("[^"]*"|'[^']*'|[^\s:#"'{[\]-][^:#]*?|-[^\s:#][^:#]*?)\s*:(?=\s|$)/;

function unquote(key: string): string {
  return /^(["']).*\1$/.test(key) ? key.slice(1, -1) : key;
}

function yamlContext(lines: Line[], at: number, col: number, offset: number): CursorContext | undefined {
  const line = lines[at]!;
  const shape = /^(\s*)((?:-\s+)*)(.*)$/.exec(line.text)!;
  const indent = shape[1]!.length;
  const contentCol = indent + shape[2]!.length;
  const dash = shape[2]!.length > 0;
  if (col < contentCol && !(dash && col >= indent)) return undefined;
  const key = YAML_KEY.exec(shape[3]!);
  // A key line's parents are the lines above with less indentation; a list item may sit at its key's indentation.
  const parents = yamlParents(lines, at, key ? contentCol : indent, dash);
  const span = wordAt(line.text, col);
  const absolute = { start: line.start + span.start, end: line.start + span.end };
  if (key === null) {
    return dash
      ? valueContext([...parents], line.text.slice(contentCol, col), absolute, offset)
      : { kind: "key", parent: parents, span: absolute, separated: false };
  }
  const colon = contentCol + key[0].length;
  if (col < colon) return { kind: "key", parent: parents, span: absolute, separated: true };
  const context = valueContext([...parents, unquote(key[1]!.trim())], line.text.slice(colon, col), absolute, offset);
  return context.kind === "value" && col === colon ? { ...context, prefix: " " } : context;
}

function yamlParents(lines: Line[], at: number, column: number, dash: boolean): string[] {
  const path: string[] = [];
  let limit = column;
  let allowEqual = dash;
  for (let l = at - 1; l >= 0 && limit > 0; l--) {
    const text = lines[l]!.text;
    if (/^\s*(#.*)?$/.test(text)) continue;
    const shape = /^(\s*)((?:-\s+)*)(.*)$/.exec(text)!;
    const contentCol = shape[1]!.length + shape[2]!.length;
    if (contentCol > limit || (contentCol === limit && !allowEqual)) continue;
    allowEqual = false;
    const key = YAML_KEY.exec(shape[3]!);
    if (key === null) {
      // A list item above at this level: our line is inside it; keep looking for its key.
      limit = shape[1]!.length;
      continue;
    }
    path.unshift(unquote(key[1]!.trim()));
    limit = shape[1]!.length;
  }
  return path;
}

/**
 * The value typed so far decides: an open `{` of a template (not a flow map:
 * a plain scalar cannot start with `{`), a flow map's `name: ` inside it, or
 * a name or word.
 */
function valueContext(key: string[], typed: string, span: Span, offset: number): CursorContext {
  const quoted = /^\s*["']/.test(typed) && !/^\s*(["']).*\1/.test(typed);
  const placeholder = /\{\s*([A-Za-z_][A-Za-z0-9_]*)?(\.)?([A-Za-z0-9_-]*)$/.exec(typed);
  const startsFlow = /^\s*[{[]/.test(typed) && !quoted;
  const path: DataPath = startsFlow ? [...key, ...flowPath(typed)] : key;
  if (
    placeholder &&
    !/\{\{$/.test(typed.slice(0, placeholder.index + 1)) &&
    (quoted || !startsFlow || placeholder.index > typed.search(/\S/))
  ) {
    const root = placeholder[2] === "." ? placeholder[1] : undefined;
    // Inside a flow map (`{ name: d`) the `{` is YAML's, not a placeholder.
    if (!(startsFlow && /[:=]/.test(typed.slice(placeholder.index)))) {
      const partial = root !== undefined ? placeholder[3]! : (placeholder[1] ?? "") + placeholder[3]!;
      return { kind: "placeholder", path, span: { start: offset - partial.length, end: span.end }, root };
    }
  }
  return { kind: "value", path, span, quoted: /["'][A-Za-z0-9_-]*$/.test(typed), prefix: "" };
}

function tomlSegments(dotted: string): string[] {
  return (dotted.match(/"[^"]*"|'[^']*'|[^.\s"']+/g) ?? []).map(unquote);
}

function tomlContext(lines: Line[], at: number, col: number, offset: number): CursorContext | undefined {
  const line = lines[at]!;
  const before = line.text.slice(0, col);
  const span = wordAt(line.text, col);
  const absolute = { start: line.start + span.start, end: line.start + span.end };
  const header = /^\s*\[\[?([^\]]*)$/.exec(before);
  if (header) {
    const segments = tomlSegments(header[1]!);
    if (/\.\s*$/.test(header[1]!) || header[1]!.trim() === "") segments.push("");
    return { kind: "key", parent: segments.slice(0, -1), span: absolute, separated: true };
  }
  let table: string[] = [];
  for (let l = at - 1; l >= 0; l--) {
    const found = /^\s*\[(\[)?\s*([^\]]*?)\s*\]/.exec(lines[l]!.text);
    if (found) {
      table = tomlSegments(found[2]!);
      break;
    }
  }
  const kv = /^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=/.exec(line.text);
  if (kv === null || col < kv[0].length) {
    const typed = before.trim();
    const dotted = tomlSegments(typed);
    if (/\.$/.test(typed)) dotted.push("");
    return { kind: "key", parent: [...table, ...dotted.slice(0, -1)], span: absolute, separated: kv !== null };
  }
  return valueContext([...table, ...tomlSegments(kv[1]!)], line.text.slice(kv[0].length, col), absolute, offset);
}

/**
 * Where the cursor is inside a flow value typed so far: `{ chunk = { from = "`
 * is `chunk.from`, `[ftp, { name: ` is `[0].name` (a list's index does not
 * matter to the schema). Quoted text is skipped: its braces are a template's.
 */
function flowPath(typed: string): (string | number)[] {
  const frames: { list: boolean; key: string | undefined }[] = [];
  let word = "";
  let quote: string | undefined;
  for (let i = 0; i < typed.length; i++) {
    const c = typed[i]!;
    if (quote !== undefined) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
      else word += c;
      continue;
    }
    const top = frames.at(-1);
    if (c === '"' || c === "'") quote = c;
    else if (c === "{" || c === "[") frames.push({ list: c === "[", key: undefined });
    else if (c === "}" || c === "]") frames.pop();
    else if (c === "," && top !== undefined && !top.list) top.key = undefined;
    else if ((c === ":" || c === "=") && top !== undefined && !top.list) top.key = word.trim();
    else {
      word += c;
      continue;
    }
    word = "";
  }
  return frames.flatMap((f): (string | number)[] => (f.list ? [0] : f.key !== undefined ? [f.key] : []));
}
