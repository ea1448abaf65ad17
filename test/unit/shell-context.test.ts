/**
 * The shell-quoting lexer (contract/shell/) and quoting by
 * context (quote.ts): which context each placeholder is in, and, with real
 * shells, that a value spliced in by its context reaches the command byte
 * for byte under both dash (`sh`) and bash, for random commands and values.
 */
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { quoteFor } from "../../contract/shell/quote.js";
import { shellContexts, type ShellContext } from "../../contract/shell/context.js";

const HOLE = { hole: true };

/** The contexts of a command written with `@` for each placeholder, as short labels. */
function contexts(command: string): string[] {
  const parts = command.split("@").flatMap((text, i) => (i === 0 ? [text] : [HOLE, text]));
  return shellContexts(parts).map((c) => (c.kind === "unsafe" ? `unsafe:${c.reason}` : c.kind));
}

describe("shellContexts: where each placeholder sits", () => {
  test.each([
    [`echo @ "@" '@' x@y`, ["unquoted", "double", "single", "unquoted"]],
    [`echo $(echo @ "@") "$(echo @ '@' "@")"`, ["unquoted", "double", "unquoted", "single", "double"]],
    [`echo "$(echo "$(echo @)")" <(cat @)`, ["unquoted", "unquoted"]],
    ['echo `@` "`@`"', ["unsafe:backticks", "unsafe:backticks"]],
    ["cat <<EOF\nhi @\nEOF\necho @", ["unsafe:here-document", "unquoted"]],
    ["cat <<-'EOF'\n\thi @\n\tEOF\necho @", ["unsafe:here-document", "unquoted"]],
    ["cat <<EOF; echo @\nbody @\nEOF\n@", ["unquoted", "unsafe:here-document", "unquoted"]],
    ["cat <<@\nx\n@\necho @", ["unsafe:here-document", "unsafe:here-document", "unsafe:here-document"]],
    ["cat <<< @", ["unquoted"]],
    ["echo $((@ + 1)) ((@)) $[@] @", ["unsafe:arithmetic", "unsafe:arithmetic", "unsafe:arithmetic", "unquoted"]],
    ["echo $(( $(echo @) )) @", ["unsafe:arithmetic", "unquoted"]],
    [`echo \${x:-@} "\${x:-@}" @`, ["unsafe:parameter-expansion", "unsafe:parameter-expansion", "unquoted"]],
    ["echo hi # @\necho @ a#@", ["unsafe:comment", "unquoted", "unquoted"]],
    [`echo \\@ "\\@" '\\@' \\\\@`, ["unsafe:after-backslash", "unsafe:after-backslash", "single", "unquoted"]],
    [`echo $@ "$@" '$@'`, ["unsafe:after-dollar", "unsafe:after-dollar", "single"]],
    [`echo $'@' $"@" @`, ["unsafe:ansi-c-quote", "double", "unquoted"]],
    [
      `eval @; echo @; x=1 eval "$(echo @)"; let @; 2>/dev/null eval @`,
      ["unsafe:evaluated", "unquoted", "unsafe:evaluated", "unsafe:evaluated", "unsafe:evaluated"],
    ],
    [
      "[[ @ == x ]]; [[ @ -eq 1 ]]; [ @ -eq 1 ]; [[ ( @ -lt 1 ) ]] && echo @",
      ["unquoted", "unsafe:arithmetic", "unquoted", "unsafe:arithmetic", "unquoted"],
    ],
    ["x=$(case a in a) echo;; esac) @", ["unsafe:unfollowable"]],
    ["case @ in a) echo @;; esac", ["unquoted", "unquoted"]],
    [`echo $'a\\'b' @`, ["unsafe:unfollowable"]],
    [`echo "$(echo $'x' @)" "$(echo $'a\\'b' @)"`, ["unquoted", "unsafe:unfollowable"]],
    [`echo "\${x:-'}'}" @`, ["unsafe:unfollowable"]],
    ['echo `echo "` @', ["unsafe:unfollowable"]],
    ["f() { echo @; }; (echo @) ; echo @", ["unquoted", "unquoted", "unquoted"]],
    [`echo "unterminated @`, ["double"]],
  ])("%j", (command, expected) => {
    expect(contexts(command)).toEqual(expected);
  });

  test("never throws, and gives one context per placeholder, for any text", () => {
    const piece = fc.oneof(fc.string({ unit: fc.constantFrom(..."$`'\"\\(){}[]#<>-;&| \n\tabcEOF=") }), fc.constant(HOLE));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        expect(shellContexts(parts)).toHaveLength(parts.filter((p) => p === HOLE).length);
      }),
      { seed: 228, numRuns: 2000 },
    );
  });
});

describe("quoteFor: a value spliced in by its context", () => {
  test.each([
    ["unquoted", ["a b", "it's", "", "x=1"], `'a b' 'it'\\''s' '' 'x=1'`],
    ["unquoted", ["plain/path.txt"], "plain/path.txt"],
    ["double", ["a b", "c"], `"'a b c'"`],
    ["double", ["plain"], "plain"],
    ["double", [""], ""],
    ["single", ["it's $x"], `it'\\''s $x`],
  ] as const)("%s %j", (context, words, expected) => {
    expect(quoteFor(context, words)).toBe(expected);
  });
});

/* ------------------------------------------------------- with real shells: random commands and values */

/** One argument of `printf '%s\0' …`, as segments, each context the lexer must tell apart. */
type Seg =
  | { readonly kind: "bare"; readonly text: string }
  | { readonly kind: "hole" }
  | { readonly kind: "double"; readonly segs: readonly DoubleSeg[] }
  | { readonly kind: "single"; readonly segs: readonly ({ readonly kind: "text"; readonly text: string } | { readonly kind: "hole" })[] };
type DoubleSeg =
  { readonly kind: "text"; readonly text: string } | { readonly kind: "hole" } | { readonly kind: "subst"; readonly word: readonly Seg[] };

const bareText = fc.string({ unit: fc.constantFrom(..."abcXYZ019_./,:+%@="), minLength: 1, maxLength: 4 });
// Inside "…" only $ ` " \ mean something; inside '…' only '.
const doubleText = fc.string({ unit: fc.constantFrom(..."ab 'x#*;&|(){}<>~=\t\n"), minLength: 1, maxLength: 4 });
const singleText = fc.string({ unit: fc.constantFrom(...'ab "$`\\x#*;&|(){}~\n'), minLength: 1, maxLength: 4 });
const hole = fc.constant({ kind: "hole" as const });

const { word } = fc.letrec<{ word: readonly Seg[]; seg: Seg; dseg: DoubleSeg }>((tie) => ({
  word: fc.array(tie("seg"), { minLength: 1, maxLength: 4 }),
  seg: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    bareText.map((text) => ({ kind: "bare" as const, text })),
    hole,
    fc.array(tie("dseg"), { maxLength: 3 }).map((segs) => ({ kind: "double" as const, segs })),
    fc
      .array(
        fc.oneof(
          singleText.map((text) => ({ kind: "text" as const, text })),
          hole,
        ),
        { maxLength: 3 },
      )
      .map((segs) => ({ kind: "single" as const, segs })),
  ),
  dseg: fc.oneof(
    { depthSize: "small" },
    doubleText.map((text) => ({ kind: "text" as const, text })),
    hole,
    tie("word").map((w) => ({ kind: "subst" as const, word: w })),
  ),
}));

/** Values that try every way out of a quote; no NUL (no argument can hold one). */
const value = fc.string({
  unit: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(..."'\"$`\\(){}[];&|<>*?~#!=% -\n\t\r") },
    { weight: 2, arbitrary: fc.constantFrom(..."aZ9", "é", "☃", "日", "\u0001", "\u007f") },
  ),
  maxLength: 12,
});

/** The word as template parts (text and placeholders) and what printf must print for `v`. */
function render(segs: readonly Seg[], v: string): { parts: (string | typeof HOLE)[]; expected: string } {
  const parts: (string | typeof HOLE)[] = [];
  let expected = "";
  const text = (t: string) => parts.push(t);
  for (const s of segs) {
    if (s.kind === "bare") {
      text(s.text);
      expected += s.text;
    } else if (s.kind === "hole") {
      parts.push(HOLE);
      expected += v;
    } else if (s.kind === "single") {
      text("'");
      for (const x of s.segs) {
        parts.push(x.kind === "hole" ? HOLE : x.text);
        expected += x.kind === "hole" ? v : x.text;
      }
      text("'");
    } else {
      text('"');
      for (const x of s.segs) {
        if (x.kind === "text") {
          text(x.text);
          expected += x.text;
        } else if (x.kind === "hole") {
          parts.push(HOLE);
          expected += v;
        } else {
          const inner = render(x.word, v);
          text("$(printf %s ");
          parts.push(...inner.parts);
          text(")");
          expected += inner.expected.replace(/\n+$/, ""); // what `$(…)` does to any output
        }
      }
      text('"');
    }
  }
  return { parts, expected };
}

/** The parts expanded as the runtime does: each placeholder quoted for its context. */
function expand(parts: readonly (string | typeof HOLE)[], v: string): string {
  const cs: ShellContext[] = shellContexts(parts);
  let i = 0;
  return parts
    .map((p) => {
      if (typeof p === "string") return p;
      const c = cs[i++]!;
      if (c.kind === "unsafe") throw new Error(`unexpected unsafe context: ${c.detail}`);
      return quoteFor(c.kind, [v]);
    })
    .join("");
}

// `bash -euo pipefail` is how wfc runs a `run` string by default (shell: bash); `sh` is `shell: sh`.
describe.each(["sh", "bash", "bash -euo pipefail"])("%s reads back every value byte for byte", (shell) => {
  test("random commands of unquoted text, \"…\", '…' and $(…), with hostile values", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(word, value), { minLength: 40, maxLength: 40 }), (cases) => {
        const rendered = cases.map(([w, v]) => ({ ...render(w, v), v }));
        const script = rendered.map((r) => `printf '%s\\000' ${expand(r.parts, r.v)}`).join("\n");
        const [program, ...options] = shell.split(" ");
        const out = spawnSync(program!, [...options, "-c", script], { cwd: "/", encoding: "buffer" });
        expect(out.stderr.toString(), script).toBe("");
        const got = out.stdout.toString("utf8").split("\0").slice(0, -1);
        expect(got).toEqual(rendered.map((r) => r.expected));
      }),
      { seed: 5, numRuns: 30 },
    );
  });
});
