/**
 * Text from a workflow, a sheet, a `--param` or a file name, made safe to
 * print on a terminal: characters a terminal would act on (ESC sequences
 * that recolour, move the cursor or retitle the window; carriage returns
 * that overwrite a line) or that would hide or reorder what is shown
 * (bidi overrides, zero-width characters) are written as escapes, `\x1b`,
 * `\u202e`, so the reader sees exactly what the file holds.
 */

// C0 controls but tab and newline (callers decide about those), DEL and C1;
// the Arabic letter mark, zero-width and directional marks, line and
// paragraph separators, bidi embeddings, overrides and isolates, word
// joiner and invisible operators, and the byte-order mark.
// eslint-disable-next-line no-control-regex
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
// eslint-disable-next-line no-control-regex
const HIDDEN_OR_LAYOUT = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** `\x1b`, `\u202e`; `\n`, `\r` and `\t` as a reader knows them. */
function escape(c: string): string {
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  if (c === "\t") return "\\t";
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** One line of text with every control and invisible character escaped (newlines and tabs too). */
export function visible(text: string): string {
  return text.replace(HIDDEN_OR_LAYOUT, escape);
}

/**
 * A source line as printed under a diagnostic: tabs as one space each (so
 * the marker below lines up), anything else hidden escaped. Use it on the
 * text before and inside the marked span alike, so the marker's start and
 * width follow the escapes.
 */
export function visibleSource(text: string): string {
  return text.replace(/\t/g, " ").replace(HIDDEN, escape);
}
