import { BLANK, type Cursor, OPERATOR, type WordFrame } from "./frames.js";

/**
 * Here-documents, for the shell lexer (lexer.ts): the delimiter after `<<`,
 * and the body read line by line after the line that announced it. Quotes
 * mean nothing inside a body, so no placeholder there can be quoted safely.
 */

/** A here-document announced on the current line, read after its newline. */
export interface Heredoc {
  readonly frame: WordFrame;
  readonly delimiter: string;
  readonly stripTabs: boolean;
  readonly quoted: boolean;
}

/** After `<<` or `<<-`: the delimiter word; the body is read after the line's newline. */
export function readHeredocOperator(c: Cursor, frame: WordFrame): Heredoc {
  const stripTabs = c.at() === "-";
  if (stripTabs) c.advance();
  while (BLANK.has(c.at() as string)) c.advance();
  let delimiter = "";
  let quoted = false;
  const hole = (h: number) => {
    c.unsafe(h, "here-document", "in a here-document's delimiter");
    c.lose("after a here-document whose delimiter is a placeholder");
  };
  for (;;) {
    const ch = c.at();
    if (ch === undefined || (typeof ch === "string" && (BLANK.has(ch) || ch === "\n" || OPERATOR.has(ch)))) break;
    c.advance();
    if (typeof ch === "number") hole(ch);
    else if (ch === "'" || ch === '"') {
      quoted = true;
      for (let q = c.at(); q !== undefined && q !== ch; q = c.at()) {
        c.advance();
        if (typeof q === "number") hole(q);
        else if (q === "\\" && ch === '"' && c.at() !== undefined) {
          const e = c.at()!;
          if (typeof e === "number") hole(e);
          else delimiter += e === '"' || e === "\\" || e === "$" || e === "`" ? e : `\\${e}`;
          c.advance();
        } else delimiter += q;
      }
      c.advance();
    } else if (ch === "\\") {
      quoted = true;
      const e = c.at();
      if (typeof e === "number") hole(e);
      else if (e !== undefined) delimiter += e;
      c.advance();
    } else delimiter += ch;
  }
  if (delimiter === "" && !quoted) c.lose("after a `<<` with no delimiter");
  return { frame, delimiter, stripTabs, quoted };
}

/** One here-document's body, line by line, up to and including its delimiter line. */
export function readHeredocBody(c: Cursor, doc: Heredoc): void {
  while (!c.done()) {
    let line = "";
    const holes: number[] = [];
    while (!c.done() && c.at() !== "\n") {
      const ch = c.at()!;
      if (typeof ch === "number") holes.push(ch);
      else line += ch;
      c.advance();
    }
    c.advance(); // the newline
    for (const h of holes) c.unsafe(h, "here-document");
    if (holes.length > 0) continue;
    if ((doc.stripTabs ? line.replace(/^\t+/, "") : line) === doc.delimiter) break;
    if (!doc.quoted && line.endsWith("\\")) c.lose("after a here-document line ending in `\\`");
  }
}
