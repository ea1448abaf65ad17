import { type Cursor, type Frame, isWordFrame, type WordFrame } from "./frames.js";

/**
 * Words in unquoted shell text, for the lexer (lexer.ts): where a simple
 * command starts and what its name makes of the words after it (`eval` and
 * `let` run them as code, `[[ … -eq … ]]` evaluates them as arithmetic), and
 * which words are only a redirection's target.
 */

/** Words after which the next word still starts a command. */
const LEADING_WORDS = new Set(["!", "{", "if", "then", "else", "elif", "while", "until", "do", "time"]);
const EVALUATING = new Set(["eval", "let"]);
const NUMERIC_TESTS = new Set(["-eq", "-ne", "-lt", "-le", "-gt", "-ge"]);

/** The current word of `frame` has ended (a blank, an operator, a newline). */
export function endWord(c: Cursor, stack: readonly Frame[], frame: WordFrame): void {
  const word = frame.word;
  frame.word = "";
  if (word === "") return;
  if (frame.redirect) {
    frame.redirect = false;
    return;
  }
  if (word === "case" && stack.some((f) => f.kind === "subst"))
    c.lose("after a `case` inside `$(…)`, where wfc cannot tell where the substitution ends");
  const tests = stack.filter(isWordFrame).filter((f) => f.test !== null);
  if (word !== null && NUMERIC_TESTS.has(word)) {
    for (const f of tests) {
      f.test!.arithmetic = true;
      for (const hole of f.test!.holes) c.unsafe(hole, "arithmetic");
    }
  }
  if (frame.test !== null) {
    if (word === "]]") frame.test = null;
    return;
  }
  if (!frame.commandStart) return;
  if (word !== null && (LEADING_WORDS.has(word) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word))) return;
  frame.commandStart = false;
  if (word === "[[") frame.test = { arithmetic: false, holes: [] };
  else if (word !== null && EVALUATING.has(word)) frame.evaluates = word;
}

/** A simple command has ended (`;`, `&`, `|`, a newline, a subshell's `)`). */
export function endCommand(frame: WordFrame): void {
  frame.commandStart = true;
  frame.evaluates = null;
  frame.redirect = false;
  frame.wordStart = true;
}
