import type { UnsafeReason } from "./context.js";

/**
 * What the shell lexer (lexer.ts) keeps on its stack, the characters that
 * separate words, and why a frame makes a placeholder unsafe.
 */

/** One character of the template's text, or the index of a placeholder. */
export type Item = string | number;

/** Frames that read like unquoted shell text: words, operators, comments, here-documents. */
export interface WordFrame {
  readonly kind: "top" | "subst" | "paren";
  /** At the start of a word (a `#` starts a comment). */
  wordStart: boolean;
  /** The current word's text while it has only plain characters; null once quoted or with a placeholder. */
  word: string | null;
  /** At the start of a simple command (the next word may be its name). */
  commandStart: boolean;
  /** The simple command's name when it runs its arguments as code (`eval`, `let`). */
  evaluates: string | null;
  /** The next word is a redirection's target. */
  redirect: boolean;
  /** Inside `[[ … ]]`: its placeholders, and whether it compares numbers (which bash evaluates). */
  test: { arithmetic: boolean; readonly holes: number[] } | null;
}

export type Frame =
  | WordFrame
  | { readonly kind: "double" }
  | { readonly kind: "single" }
  | { readonly kind: "ansi"; escapedQuote: boolean }
  | { readonly kind: "backtick"; quotes: { single: number; double: number } }
  | { readonly kind: "arith"; readonly close: "))" | "]"; depth: number }
  | { readonly kind: "param"; readonly inDouble: boolean }
  | { readonly kind: "comment" };

export const BLANK = new Set([" ", "\t"]);
export const OPERATOR = new Set([";", "&", "|", "(", ")", "<", ">"]);

export const WHY: Record<Exclude<UnsafeReason, "unfollowable" | "evaluated">, string> = {
  backticks: "inside backticks, where quotes do not nest",
  "here-document": "in a here-document, where quotes are not special and a value could end the document",
  arithmetic: "inside shell arithmetic (`$((…))`, `((…))`, `$[…]` or a `[[ … ]]` comparing numbers), which bash evaluates as code",
  "parameter-expansion": "inside a `${…}` parameter expansion, whose words sh and bash quote differently",
  comment: "in a shell comment, which a newline in the value would end",
  "ansi-c-quote": "inside a `$'…'` quote, which sh and bash read differently",
  "after-backslash": "right after a backslash, which would escape the quote wfc puts around the value",
  "after-dollar": "right after `$`, which the shell would read together with the quoted value (in bash, as a `$'…'` escape string)",
};

export const UNSAFE_FRAME: Partial<Record<Frame["kind"], Exclude<UnsafeReason, "unfollowable" | "evaluated">>> = {
  backtick: "backticks",
  arith: "arithmetic",
  param: "parameter-expansion",
  comment: "comment",
  ansi: "ansi-c-quote",
};

export function newWordFrame(kind: WordFrame["kind"]): WordFrame {
  return { kind, wordStart: true, word: "", commandStart: true, evaluates: null, redirect: false, test: null };
}

export function isWordFrame(frame: Frame): frame is WordFrame {
  return frame.kind === "top" || frame.kind === "subst" || frame.kind === "paren";
}

/** What the lexer's helpers (words.ts, heredoc.ts) need of it: its cursor over the template, and its two ways to mark trouble. */
export interface Cursor {
  /** The item `offset` ahead of the cursor. */
  at(offset?: number): Item | undefined;
  advance(by?: number): void;
  /** Whether the cursor is past the last item. */
  done(): boolean;
  unsafe(hole: number, reason: UnsafeReason, detail?: string): void;
  lose(why: string): void;
}
