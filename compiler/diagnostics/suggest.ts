/**
 * Optimal-string-alignment distance: Levenshtein plus adjacent transpositions
 * as one edit, because `hcp` for `hpc` is the commonest typo there is (the
 * Levenshtein libraries on npm count it as two).
 */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const row = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[n]!;
}

/**
 * The closest candidate to `word`, if it is close enough to be a plausible
 * typo: at most a third of the word's length in edits (and at least one).
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const lower = word.toLowerCase();
    const other = candidate.toLowerCase();
    // A prefix (`retry` for `retries`) is as good as one edit.
    let shared = 0;
    while (shared < lower.length && lower[shared] === other[shared]) shared++;
    const prefix = lower.length >= 3 && shared >= Math.min(other.length, lower.length - 1) ? 1 : Infinity;
    const d = other === lower ? 0.5 : Math.min(prefix, editDistance(word, candidate));
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
  const shown = quoted.length > 24 ? [...quoted.slice(0, 24), `… (${quoted.length - 24} more)`] : quoted;
  return `${shown.slice(0, -1).join(", ")} or ${shown.at(-1)}`;
}
