/**
 * Where each placeholder of a shell command sits, so that its value can be
 * quoted for that spot: unquoted, inside the author's `"…"` or `'…'`, or
 * somewhere no quoting can make a value inert (backticks, a here-document,
 * arithmetic, `${…}`, a comment, …). The compiler reports the unsafe spots
 * with their place in the file; the expander quotes by context and refuses
 * the unsafe ones, for a hand-edited plan.
 *
 * This is the project's own small lexer of the shell's quoting, not a parser
 * of its grammar: it follows only what changes how a value would be read, for
 * both dash and bash (`sh` is either). Where the two shells disagree, or where
 * it cannot be sure where a construct ends, every later placeholder is unsafe:
 * a refused command is a nuisance, a wrongly quoted one runs a value as code.
 */

/** How a value must be quoted at a placeholder, or why it cannot be. */
export type ShellContext =
  | { readonly kind: "unquoted" }
  | { readonly kind: "double" }
  | { readonly kind: "single" }
  | { readonly kind: "unsafe"; readonly reason: UnsafeReason; readonly detail: string };

export type UnsafeReason =
  | "backticks"
  | "here-document"
  | "arithmetic"
  | "parameter-expansion"
  | "comment"
  | "ansi-c-quote"
  | "evaluated"
  | "after-backslash"
  | "after-dollar"
  | "unfollowable";

export type UnsafeContext = Extract<ShellContext, { kind: "unsafe" }>;

/**
 * The context of each placeholder of a shell template, in order. `parts` is
 * the template as text and placeholders: strings are text, anything else is
 * a placeholder (whatever its value, it expands to one shell word or to a
 * quoted run of text, which leaves the context after it unchanged).
 */
export function shellContexts(parts: readonly unknown[]): ShellContext[] {
  const items: Item[] = [];
  let holes = 0;
  for (const p of parts) {
    if (typeof p === "string") for (let i = 0; i < p.length; i++) items.push(p[i]!);
    else items.push(holes++);
  }
  return new Lexer(items, holes).run();
}

/** One character of the template's text, or the index of a placeholder. */
type Item = string | number;

/** Frames that read like unquoted shell text: words, operators, comments, here-documents. */
interface WordFrame {
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

type Frame =
  | WordFrame
  | { readonly kind: "double" }
  | { readonly kind: "single" }
  | { readonly kind: "ansi"; escapedQuote: boolean }
  | { readonly kind: "backtick"; quotes: { single: number; double: number } }
  | { readonly kind: "arith"; readonly close: "))" | "]"; depth: number }
  | { readonly kind: "param"; readonly inDouble: boolean }
  | { readonly kind: "comment" };

const BLANK = new Set([" ", "\t"]);
const OPERATOR = new Set([";", "&", "|", "(", ")", "<", ">"]);
/** Words after which the next word still starts a command. */
const LEADING_WORDS = new Set(["!", "{", "if", "then", "else", "elif", "while", "until", "do", "time"]);
const EVALUATING = new Set(["eval", "let"]);
const NUMERIC_TESTS = new Set(["-eq", "-ne", "-lt", "-le", "-gt", "-ge"]);

const WHY: Record<Exclude<UnsafeReason, "unfollowable" | "evaluated">, string> = {
  backticks: "inside backticks, where quotes do not nest",
  "here-document": "in a here-document, where quotes are not special and a value could end the document",
  arithmetic: "inside shell arithmetic (`$((…))`, `((…))`, `$[…]` or a `[[ … ]]` comparing numbers), which bash evaluates as code",
  "parameter-expansion": "inside a `${…}` parameter expansion, whose words sh and bash quote differently",
  comment: "in a shell comment, which a newline in the value would end",
  "ansi-c-quote": "inside a `$'…'` quote, which sh and bash read differently",
  "after-backslash": "right after a backslash, which would escape the quote wfc puts around the value",
  "after-dollar": "right after `$`, which the shell would read together with the quoted value (in bash, as a `$'…'` escape string)",
};

class Lexer {
  readonly #items: readonly Item[];
  readonly #out: ShellContext[];
  #pos = 0;
  readonly #stack: Frame[] = [newWordFrame("top")];
  /** Here-documents announced on the current line, read after its newline. */
  readonly #heredocs: { readonly frame: WordFrame; readonly delimiter: string; readonly stripTabs: boolean; readonly quoted: boolean }[] =
    [];
  /** Why nothing after this point can be trusted, once it cannot. */
  #lost: string | null = null;

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
      this.#endWord(frame);
      frame.wordStart = true;
      this.#pos++;
      return;
    }
    if (item === "\n") {
      this.#endWord(frame);
      this.#endCommand(frame);
      this.#pos++;
      if (this.#heredocs.length > 0) this.#readHeredocs(frame);
      return;
    }
    if (!OPERATOR.has(item)) return this.#literal(item);

    const next = this.#at(1);
    // `2>file`: a file descriptor number, not a word.
    if ((item === "<" || item === ">") && frame.word !== null && /^[0-9]+$/.test(frame.word)) frame.word = "";
    this.#endWord(frame);
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
        this.#endCommand(frame);
        return;
      }
      this.#pop();
      const outer = this.#top;
      // `$(…)` is part of a word; a subshell's `)` ends a command.
      if (frame.kind === "paren" && isWordFrame(outer)) {
        outer.word = "";
        this.#endCommand(outer);
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
      if (frame.test === null || item === ";") this.#endCommand(frame);
      this.#pos++;
    }
  }

  #endWord(frame: WordFrame): void {
    const word = frame.word;
    frame.word = "";
    if (word === "") return;
    if (frame.redirect) {
      frame.redirect = false;
      return;
    }
    if (word === "case" && this.#stack.some((f) => f.kind === "subst"))
      this.#lose("after a `case` inside `$(…)`, where wfc cannot tell where the substitution ends");
    const tests = this.#stack.filter(isWordFrame).filter((f) => f.test !== null);
    if (word !== null && NUMERIC_TESTS.has(word)) {
      for (const f of tests) {
        f.test!.arithmetic = true;
        for (const hole of f.test!.holes) this.#unsafe(hole, "arithmetic");
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

  #endCommand(frame: WordFrame): void {
    frame.commandStart = true;
    frame.evaluates = null;
    frame.redirect = false;
    frame.wordStart = true;
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

  /** After `<<` or `<<-`: the delimiter word; the body is read after the line's newline. */
  #heredocOperator(frame: WordFrame): void {
    const stripTabs = this.#at() === "-";
    if (stripTabs) this.#pos++;
    while (BLANK.has(this.#at() as string)) this.#pos++;
    let delimiter = "";
    let quoted = false;
    const hole = (h: number) => {
      this.#unsafe(h, "here-document", "in a here-document's delimiter");
      this.#lose("after a here-document whose delimiter is a placeholder");
    };
    for (;;) {
      const c = this.#at();
      if (c === undefined || (typeof c === "string" && (BLANK.has(c) || c === "\n" || OPERATOR.has(c)))) break;
      this.#pos++;
      if (typeof c === "number") hole(c);
      else if (c === "'" || c === '"') {
        quoted = true;
        for (let q = this.#at(); q !== undefined && q !== c; q = this.#at()) {
          this.#pos++;
          if (typeof q === "number") hole(q);
          else if (q === "\\" && c === '"' && this.#at() !== undefined) {
            const e = this.#at()!;
            if (typeof e === "number") hole(e);
            else delimiter += e === '"' || e === "\\" || e === "$" || e === "`" ? e : `\\${e}`;
            this.#pos++;
          } else delimiter += q;
        }
        this.#pos++;
      } else if (c === "\\") {
        quoted = true;
        const e = this.#at();
        if (typeof e === "number") hole(e);
        else if (e !== undefined) delimiter += e;
        this.#pos++;
      } else delimiter += c;
    }
    if (delimiter === "" && !quoted) this.#lose("after a `<<` with no delimiter");
    this.#heredocs.push({ frame, delimiter, stripTabs, quoted });
    frame.wordStart = true;
  }

  /** The bodies of the here-documents announced on the line that just ended, line by line. */
  #readHeredocs(frame: WordFrame): void {
    if (this.#heredocs.some((h) => h.frame !== frame)) this.#lose("after a here-document whose line ends inside a substitution");
    for (const doc of this.#heredocs.splice(0)) {
      while (this.#pos < this.#items.length) {
        let line = "";
        const holes: number[] = [];
        while (this.#pos < this.#items.length && this.#at() !== "\n") {
          const c = this.#at()!;
          if (typeof c === "number") holes.push(c);
          else line += c;
          this.#pos++;
        }
        this.#pos++; // the newline
        for (const h of holes) this.#unsafe(h, "here-document");
        if (holes.length > 0) continue;
        if ((doc.stripTabs ? line.replace(/^\t+/, "") : line) === doc.delimiter) break;
        if (!doc.quoted && line.endsWith("\\")) this.#lose("after a here-document line ending in `\\`");
      }
    }
  }
}

const UNSAFE_FRAME: Partial<Record<Frame["kind"], Exclude<UnsafeReason, "unfollowable" | "evaluated">>> = {
  backtick: "backticks",
  arith: "arithmetic",
  param: "parameter-expansion",
  comment: "comment",
  ansi: "ansi-c-quote",
};

function newWordFrame(kind: WordFrame["kind"]): WordFrame {
  return { kind, wordStart: true, word: "", commandStart: true, evaluates: null, redirect: false, test: null };
}

function isWordFrame(frame: Frame): frame is WordFrame {
  return frame.kind === "top" || frame.kind === "subst" || frame.kind === "paren";
}
