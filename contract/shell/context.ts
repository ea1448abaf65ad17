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
import type { Item } from "./frames.js";
import { Lexer } from "./lexer.js";

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
