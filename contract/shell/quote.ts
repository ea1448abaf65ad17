import type { ShellContext } from "./context.js";

/** Characters sh gives no meaning to outside quotes: a word of only these needs no quoting. */
export const SHELL_BARE = "A-Za-z0-9_./:=@%+,-";
const BARE_WORD = new RegExp(`^[${SHELL_BARE}]+$`);
/** `NAME=…` at the start of a command is an assignment, not a word. */
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** Shell-quotes one word for `sh -c`: safe words stay bare, the rest go in single quotes. */
export function shellQuote(word: string): string {
  if (word !== "" && BARE_WORD.test(word) && !ASSIGNMENT.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A placeholder's value in a shell command, quoted for where it sits, so
 * that sh (dash or bash) reads back exactly `words`: unquoted, one quoted
 * word each; inside the author's quotes, one word of them joined by spaces,
 * spliced in so the author's quotes still hold around the text beside it
 * (`"x{v}y"` becomes `"x"'v a l'"y"`, `'x{v}y'` becomes `'xv'\''aly'`).
 */
export function quoteFor(context: Exclude<ShellContext["kind"], "unsafe">, words: readonly string[]): string {
  switch (context) {
    case "unquoted":
      return words.map(shellQuote).join(" ");
    case "double": {
      const text = words.join(" ");
      // Bare characters mean nothing inside double quotes either: keep the command readable.
      return text === "" || BARE_WORD.test(text) ? text : `"${shellQuote(text)}"`;
    }
    case "single":
      return words.join(" ").replace(/'/g, `'\\''`);
  }
}
