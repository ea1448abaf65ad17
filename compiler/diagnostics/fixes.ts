/**
 * Quick fixes for the did-you-mean suggestions: the edit that replaces the
 * misspelled word, where it is written, with the suggestion the help names.
 * Built from the help text itself, so a fix can never say something else
 * than the message does.
 */
import type { Fix, Span } from "./diagnostic.js";

const SUGGESTION = /^did you mean `([^`]+)`\?$/;

/** A name character: around a match, one of these means the match is part of a longer word. */
const NAME_CHAR = /[A-Za-z0-9_-]/;

/**
 * The fix for a diagnostic at `span` of `text` whose `help` is "did you mean
 * `x`?" about `word`: `word` replaced by `x` where it is written inside the
 * span (the whole span, a quoted value's inside, or a name in a placeholder).
 * None when the help is not a suggestion or the word is not written there
 * exactly once (an escaped string): a fix must edit exactly the typo.
 */
export function suggestionFix(text: string, span: Span | undefined, word: string, help: string | undefined): Fix[] | undefined {
  const suggested = help === undefined ? undefined : SUGGESTION.exec(help)?.[1];
  if (suggested === undefined || span === undefined || word === "" || suggested === word) return undefined;
  const source = text.slice(span.start, span.end);
  const found: number[] = [];
  for (let at = source.indexOf(word); at !== -1; at = source.indexOf(word, at + 1)) {
    const before = source[at - 1];
    const after = source[at + word.length];
    if ((before === undefined || !NAME_CHAR.test(before)) && (after === undefined || !NAME_CHAR.test(after))) found.push(at);
  }
  if (found.length !== 1) return undefined;
  const start = span.start + found[0]!;
  return [{ title: `change \`${word}\` to \`${suggested}\``, edits: [{ span: { start, end: start + word.length }, newText: suggested }] }];
}
