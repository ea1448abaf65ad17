import { SHELL_BARE } from "../../contract/shell/quote.js";

/**
 * The argv of a shell command simple enough to run without a shell, as GNU
 * make does for recipe lines without shell syntax ("fast path"): `touch
 * out/1.txt` or `cp 'a b.txt' c.txt` execs `touch`/`cp` directly, saving the
 * exec of `/bin/sh` per job (about 0.7 ms here, a third of a trivial job).
 *
 * A command qualifies when it is only words separated by blanks, each made of
 * characters that mean nothing to sh (those shellQuote leaves bare) and
 * single-quoted strings (what shellQuote produces for everything else, a
 * quote inside one included: `'it'\''s'`). The first word must not be a
 * reserved word, a builtin without a same-behaving program (`cd`, `export`,
 * `echo`, whose escapes differ between dash and coreutils, …) or an
 * assignment. Anything else (redirections, pipes, `;`, `$`, globs, `~`,
 * double quotes, comments) returns null and runs under `sh -c` as written.
 * The result is the exact argv sh would have built, so the job behaves the
 * same, except that a missing program is reported as "cannot execute X"
 * instead of sh's exit status 127.
 */
export function simpleCommandArgv(command: string): string[] | null {
  const argv: string[] = [];
  let word: string | null = null;
  let i = 0;
  while (i < command.length) {
    const c = command[i]!;
    if (c === " " || c === "\t") {
      if (word !== null) argv.push(word);
      word = null;
      i++;
    } else if (c === "'") {
      const close = command.indexOf("'", i + 1);
      if (close < 0) return null;
      word = (word ?? "") + command.slice(i + 1, close);
      i = close + 1;
    } else if (c === "\\" && command[i + 1] === "'") {
      // The `\'` between two quoted parts of shellQuote's `'\''`.
      word = (word ?? "") + "'";
      i += 2;
    } else if (BARE.test(c)) {
      word = (word ?? "") + c;
      i++;
    } else {
      return null;
    }
  }
  if (word !== null) argv.push(word);
  const first = argv[0];
  // A first word like NAME=value is an assignment (when unquoted; refused either way).
  if (first === undefined || first === "" || SHELL_WORDS.has(first) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(first)) return null;
  return argv;
}

const BARE = new RegExp(`[${SHELL_BARE}]`);

/**
 * Reserved words, and builtins that are not (or not reliably) the same as a
 * program of that name: special builtins, those that change the shell's own
 * state, and `echo`/`printf`/`test`/`[`, whose behaviour differs between sh
 * and coreutils on some arguments.
 */
const SHELL_WORDS = new Set([
  ...["if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for", "in", "function", "select"],
  ...[".", ":", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set", "shift", "times", "trap", "unset"],
  ...["alias", "unalias", "cd", "command", "getopts", "hash", "jobs", "fg", "bg", "read", "type", "ulimit", "umask", "wait", "local"],
  ...["echo", "printf", "test", "[", "source", "pwd", "kill"],
]);
