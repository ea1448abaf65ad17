import type { Io } from "./io.js";

/**
 * Every non-ASCII glyph wfc's own text uses (messages, notes, the summary,
 * `--explain`, help, progress bars, graph labels) and what it becomes under
 * `WFC_ASCII=1`. test/unit/ascii-glyphs.test.ts fails when a source file
 * prints a glyph missing here.
 */
export const ASCII_GLYPHS: Readonly<Record<string, string>> = {
  "…": "...",
  "→": "->",
  "←": "<-",
  "×": "x",
  "±": "+/-",
  "≥": ">=",
  "≤": "<=",
  "≠": "!=",
  "·": "-",
  "–": "-",
  "—": "--",
  "‘": "'",
  "’": "'",
  "“": '"',
  "”": '"',
  "█": "#",
  "░": "-",
  "▶": ">",
  "✓": "ok",
  "✗": "x",
  "─": "-",
  "│": "|",
  "┌": "+",
  "┐": "+",
  "└": "+",
  "┘": "+",
  "├": "+",
  "┤": "+",
};

const GLYPH = new RegExp(`[${Object.keys(ASCII_GLYPHS).join("")}]`, "g");

/** wfc's glyphs in `text` as ASCII; any other character (a user's value) unchanged. */
export function toAscii(text: string): string {
  return text.replace(GLYPH, (c) => ASCII_GLYPHS[c] ?? c);
}

/** `WFC_ASCII=1` (anything but empty or `0`), or the Linux console, which lacks the glyphs. */
export function wantsAscii(env: Io["env"]): boolean {
  return env.TERM === "linux" || (env.WFC_ASCII !== undefined && env.WFC_ASCII !== "" && env.WFC_ASCII !== "0");
}

type Stream = Io["stderr"] & { readonly columns?: number; readonly rows?: number };

/**
 * A stream that writes wfc's glyphs as ASCII; what a terminal library reads
 * of it (isTTY, columns, rows) is the real stream's. Bytes (not text) pass
 * unchanged.
 */
export function asciiStream(stream: Stream): Stream {
  return {
    write: (text: unknown) => stream.write(typeof text === "string" ? toAscii(text) : (text as string)),
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      return stream.columns;
    },
    get rows() {
      return stream.rows;
    },
  } as Stream;
}

// Commands whose standard output is data another program reads: a plan, the
// schema, JSON-RPC, a function's own output. Rewriting a glyph there would
// change a user's value (a path, a param) in the data: never.
const DATA_STDOUT = new Set(["schema", "fn", "__slurm-expand", "lsp"]);
// Formats for a reader; any other `--format` (json, sarif, github) is read by a program.
const TEXT_FORMATS = new Set(["text", "dot", "mermaid"]);

/** Whether a command's standard output (with these options) is text for a reader, which `WFC_ASCII=1` may rewrite. */
export function stdoutIsText(command: string, opts: Readonly<Record<string, unknown>>): boolean {
  if (DATA_STDOUT.has(command) || opts.json === true) return false;
  if (command === "compile") return opts.output !== undefined; // else the plan itself
  return typeof opts.format !== "string" || TEXT_FORMATS.has(opts.format);
}
