import { distance } from "fastest-levenshtein";

/**
 * The closest candidate to `word`, if it is close enough to be a plausible
 * typo: at most a third of the word's length in edits (and at least one).
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = candidate.toLowerCase() === word.toLowerCase() ? 0.5 : distance(word, candidate);
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** "did you mean `x`?" or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const match = closest(word, candidates);
  return match === undefined ? undefined : `did you mean \`${match}\`?`;
}

/** "`a`, `b` or `c`" — for "expected" lines. Sorted for determinism. */
export function oneOf(names: Iterable<string>, none = "none are defined"): string {
  const sorted = [...names].sort();
  if (sorted.length === 0) return none;
  const quoted = sorted.map((n) => `\`${n}\``);
  if (quoted.length === 1) return quoted[0]!;
  const shown = quoted.length > 12 ? [...quoted.slice(0, 12), `… (${quoted.length - 12} more)`] : quoted;
  return `${shown.slice(0, -1).join(", ")} or ${shown.at(-1)}`;
}
