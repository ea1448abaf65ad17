import type { ShellContext, UnsafeReason } from "./context.js";
import {
  BLANK,
  type Cursor,
  type Frame,
  type Item,
  isWordFrame,
  newWordFrame,
  OPERATOR,
  UNSAFE_FRAME,
  WHY,
  type WordFrame,
} from "./frames.js";
import { type Heredoc, readHeredocBody, readHeredocOperator } from "./heredoc.js";
import { endCommand, endWord } from "./words.js";

/**
 * The shell lexer behind shellContexts (context.ts): one pass over the
 * template's characters and placeholders with a stack of frames (quotes,
 * substitutions, arithmetic, comments), marking each placeholder with how
 * its value must be quoted there, or why it cannot be.
 */
export class Lexer {
  readonly #items: readonly Item[];
  readonly #out: ShellContext[];
  #pos = 0;
  readonly #stack: Frame[] = [newWordFrame("top")];
  /** Here-documents announced on the current line, read after its newline. */
  readonly #heredocs: Heredoc[] = [];
  /** Why nothing after this point can be trusted, once it cannot. */
  #lost: string | null = null;
  /** The cursor and trouble marks, for words.ts and heredoc.ts. */
  readonly #cursor: Cursor = {
    at: (offset) => this.#at(offset),
    advance: (by = 1) => {
      this.#pos += by;
    },
    done: () => this.#pos >= this.#items.length,
    unsafe: (hole, reason, detail) => this.#unsafe(hole, reason, detail),
    lose: (why) => this.#lose(why),
  };

  constructor(items: readonly Item[], holes: number) {
    this.#items = items;
    this.#out = Array.from({ length: holes }, (): ShellContext => ({ kind: "unquoted" }));
  }

  run(): ShellContext[] {
    while (this.#pos < this.#items.length) this.#step();
    return this.#out;
  }

  get #top(): Frame {
    return this.#stack[this.#stack.length - 1]!;
  }

  #at(offset = 0): Item | undefined {
    return this.#items[this.#pos + offset];
  }

  #lose(why: string): void {
    this.#lost ??= why;
  }

  #unsafe(hole: number, reason: UnsafeReason, detail?: string): void {
    if (this.#out[hole]!.kind === "unsafe") return;
    this.#out[hole] = { kind: "unsafe", reason, detail: detail ?? WHY[reason as keyof typeof WHY] };
  }

  /** A placeholder: unsafe if any enclosing frame makes it so, else quoted as its innermost frame says. */
  #hole(hole: number): void {
    if (this.#lost !== null) this.#unsafe(hole, "unfollowable", this.#lost);
    for (const frame of this.#stack) {
      if (!isWordFrame(frame)) continue;
      frame.test?.holes.push(hole);
      if (frame.test?.arithmetic) this.#unsafe(hole, "arithmetic");
      if (frame.evaluates !== null)
        this.#unsafe(hole, "evaluated", `in an argument of \`${frame.evaluates}\`, which runs its arguments as code`);
    }
    for (let i = this.#stack.length - 1; i >= 0; i--) {
      const reason = UNSAFE_FRAME[this.#stack[i]!.kind];
      if (reason !== undefined) this.#unsafe(hole, reason);
    }
    if (this.#out[hole]!.kind === "unsafe") return;
    const top = this.#top;
    if (top.kind === "double" || top.kind === "single") this.#out[hole] = { kind: top.kind };
  }

  /** The current word now holds more than plain characters. */
  #impure(): void {
    const top = this.#top;
    if (!isWordFrame(top)) return;
    top.wordStart = false;
    top.word = null;
  }

  #push(frame: Frame): void {
    this.#impure();
    this.#stack.push(frame);
  }

  #pop(): void {
    const frame = this.#stack.pop()!;
    if (this.#heredocs.some((h) => h.frame === frame)) this.#lose("after a here-document announced inside a substitution");
  }

  /** `\` and what it escapes; a placeholder there would have wfc's quote escaped. */
  #escape(unsafe: boolean): void {
    const next = this.#at(1);
    if (typeof next === "number") {
      if (unsafe) this.#unsafe(next, "after-backslash");
      this.#hole(next);
    }
    this.#impure();
    this.#pos += 2;
  }

  /** `$…` in unquoted text or double quotes; the `$` is at the cursor. */
  #dollar(inDouble: boolean): void {
    const next = this.#at(1);
    if (typeof next === "number") {
      this.#unsafe(next, "after-dollar");
      this.#hole(next);
      this.#impure();
      this.#pos += 2;
    } else if (next === "(" && this.#at(2) === "(") {
      this.#push({ kind: "arith", close: "))", depth: 0 });
      this.#pos += 3;
    } else if (next === "(") {
      this.#push(newWordFrame("subst"));
      this.#pos += 2;
    } else if (next === "{") {
      this.#push({ kind: "param", inDouble: inDouble || this.#inDouble() });
      this.#pos += 2;
    } else if (next === "[") {
      this.#push({ kind: "arith", close: "]", depth: 0 });
      this.#pos += 2;
    } else if (next === "'" && !inDouble) {
      this.#push({ kind: "ansi", escapedQuote: false });
      this.#pos += 2;
    } else if (next === '"' && !inDouble) {
      // bash's `$"…"` (a translated string) ends where `"…"` does in both shells.
      this.#push({ kind: "double" });
      this.#pos += 2;
    } else {
      this.#literal("$");
    }
  }

  #literal(c: string): void {
    const top = this.#top;
    if (isWordFrame(top)) {
      top.wordStart = false;
      if (top.word !== null) top.word += c;
    }
    this.#pos++;
  }

  /** Whether the innermost quoting is `"…"`: a `$(…)` inside one starts afresh, `$((…))` and `${…}` do not. */
  #inDouble(): boolean {
    for (let i = this.#stack.length - 1; i >= 0; i--) {
      const kind = this.#stack[i]!.kind;
      if (kind === "double") return true;
      if (kind !== "arith" && kind !== "param") return false;
    }
    return false;
  }

  #step(): void {
    const item = this.#at()!;
    const frame = this.#top;
    if (typeof item === "number") {
      this.#hole(item);
      this.#impure();
      this.#pos++;
      return;
    }
    if (item === "\n" && !isWordFrame(frame) && frame.kind !== "comment" && this.#heredocs.length > 0)
      this.#lose("after a here-document whose line ends inside a quote or substitution");
    switch (frame.kind) {
      case "top":
      case "subst":
      case "paren":
        return this.#wordChar(frame, item);
      case "double":
        if (item === '"') {
          this.#pop();
          this.#pos++;
        } else if (item === "\\") this.#escape(true);
        else if (item === "`") {
          this.#push({ kind: "backtick", quotes: { single: 0, double: 0 } });
          this.#pos++;
        } else if (item === "$") this.#dollar(true);
        else this.#pos++;
        return;
      case "single":
        if (item === "'") this.#pop();
        this.#pos++;
        return;
      case "ansi":
        if (item === "\\") {
          if (this.#at(1) === "'") frame.escapedQuote = true;
          this.#escape(false);
        } else {
          if (item === "'") {
            this.#pop();
            if (frame.escapedQuote) this.#lose("after a `$'…'` quote with `\\'` inside, which sh and bash end at different quotes");
          }
          this.#pos++;
        }
        return;
      case "backtick":
        if (item === "\\") this.#escape(false);
        else {
          if (item === "`") {
            this.#pop();
            if (frame.quotes.single % 2 !== 0 || frame.quotes.double % 2 !== 0)
              this.#lose("after backticks with an unbalanced quote inside, which shells end at different places");
          } else if (item === "'") frame.quotes.single++;
          else if (item === '"') frame.quotes.double++;
          this.#pos++;
        }
        return;
      case "arith":
        return this.#arithChar(frame, item);
      case "param":
        return this.#paramChar(frame, item);
      case "comment":
        // The newline is not part of the comment: it ends the command (and may start here-documents).
        if (item === "\n") this.#pop();
        else this.#pos++;
        return;
    }
  }

  /** Shared by unquoted text, `$((…))` and `${…}`: quotes and substitutions nest inside all three. */
  #nested(item: string): boolean {
    if (item === "\\") this.#escape(true);
    else if (item === "$") this.#dollar(this.#inDouble());
    else if (item === "'" || item === '"' || item === "`") {
      this.#push(
        item === "'" ? { kind: "single" } : item === '"' ? { kind: "double" } : { kind: "backtick", quotes: { single: 0, double: 0 } },
      );
      this.#pos++;
    } else return false;
    return true;
  }

  #wordChar(frame: WordFrame, item: string): void {
    if (item === "#" && frame.wordStart) {
      this.#push({ kind: "comment" });
      this.#pos++;
      return;
    }
    if (this.#nested(item)) return;
    if (BLANK.has(item)) {
      endWord(this.#cursor, this.#stack, frame);
      frame.wordStart = true;
      this.#pos++;
      return;
    }
    if (item === "\n") {
      endWord(this.#cursor, this.#stack, frame);
      endCommand(frame);
      this.#pos++;
      if (this.#heredocs.length > 0) this.#readHeredocs(frame);
      return;
    }
    if (!OPERATOR.has(item)) return this.#literal(item);

    const next = this.#at(1);
    // `2>file`: a file descriptor number, not a word.
    if ((item === "<" || item === ">") && frame.word !== null && /^[0-9]+$/.test(frame.word)) frame.word = "";
    endWord(this.#cursor, this.#stack, frame);
    if (item === "(") {
      if (next === "(") {
        // bash's `((…))` evaluates arithmetic (dash would read two subshells: refusing covers both).
        this.#push({ kind: "arith", close: "))", depth: 0 });
        this.#pos += 2;
      } else {
        this.#push(newWordFrame("paren"));
        this.#pos++;
      }
    } else if (item === ")") {
      this.#pos++;
      // At the top, a `case` pattern's `)` (or a syntax error): nothing to close.
      if (frame.kind === "top") {
        endCommand(frame);
        return;
      }
      this.#pop();
      const outer = this.#top;
      // `$(…)` is part of a word; a subshell's `)` ends a command.
      if (frame.kind === "paren" && isWordFrame(outer)) {
        outer.word = "";
        endCommand(outer);
      }
    } else if ((item === "<" || item === ">") && next === "(") {
      // bash's process substitution `<(…)`: a command of its own, like `$(…)`.
      this.#push(newWordFrame("subst"));
      this.#pos += 2;
    } else if (item === "<" && next === "<" && this.#at(2) !== "<") {
      this.#pos += 2;
      this.#heredocOperator(frame);
    } else if (item === "<" || item === ">") {
      while (this.#at() === "<" || this.#at() === ">" || this.#at() === "&" || this.#at() === "|") this.#pos++;
      // A redirection's target is not the command's name.
      frame.redirect = true;
      frame.wordStart = true;
    } else {
      // `;`, `&`, `|`: the end of a simple command (`&&` and `||` inside `[[ … ]]` are not).
      if (frame.test === null || item === ";") endCommand(frame);
      this.#pos++;
    }
  }

  #arithChar(frame: Extract<Frame, { kind: "arith" }>, item: string): void {
    if (this.#nested(item)) return;
    if (item === "(") frame.depth++;
    else if (item === ")" && frame.depth > 0) frame.depth--;
    else if (item === ")" && frame.close === "))") {
      this.#pop();
      if (this.#at(1) === ")") this.#pos++;
      else this.#lose("after an arithmetic `((` closed by a single `)`");
    } else if (item === "]" && frame.close === "]") this.#pop();
    this.#pos++;
  }

  #paramChar(frame: Extract<Frame, { kind: "param" }>, item: string): void {
    if (item === "'" && frame.inDouble) {
      // dash reads it literally, bash as a quote: they end the `${…}` at different braces.
      this.#lose("after a `${…}` with `'` inside double quotes, which sh and bash end at different braces");
      this.#pos++;
      return;
    }
    if (this.#nested(item)) return;
    if (item === "}") this.#pop();
    else if (item === "{") this.#lose("after a `${…}` with `{` inside, which wfc cannot follow");
    this.#pos++;
  }

  /** After `<<` or `<<-`: the delimiter now, the body after the line's newline (heredoc.ts). */
  #heredocOperator(frame: WordFrame): void {
    this.#heredocs.push(readHeredocOperator(this.#cursor, frame));
    frame.wordStart = true;
  }

  /** The bodies of the here-documents announced on the line that just ended. */
  #readHeredocs(frame: WordFrame): void {
    if (this.#heredocs.some((h) => h.frame !== frame)) this.#lose("after a here-document whose line ends inside a substitution");
    for (const doc of this.#heredocs.splice(0)) readHeredocBody(this.#cursor, doc);
  }
}
