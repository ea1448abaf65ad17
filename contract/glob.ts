import picomatch from "picomatch";
import { glob } from "tinyglobby";

/**
 * wfc's one glob semantics, for the compiler (foreach globs, dependency
 * inference, element edges) and the runtime (gathered inputs) alike.
 *
 * The syntax is `*` (within a path segment), `**` (a whole segment: any
 * number of folders, none included), `?` (one character of a segment) and
 * `[...]` (one of a set; `[!...]` for none of it). A `\` escapes the next
 * character. Braces and extglobs are off, so `{a,..}` cannot climb out of the
 * workflow's folder, and `*`, `?` and `**` do not match a `.` that starts a
 * name (a `.` in the pattern does; a negated set `[!a]` does too, though
 * the walk does not enter such a folder after a `**`). Concrete matching is picomatch's, with
 * the options tinyglobby derives from walkGlob's, so a glob names the same
 * paths whether it is matched on disk or against the outputs a plan writes.
 */
const WALK_OPTIONS = { dot: false, braceExpansion: false, extglob: false } as const;

/** What tinyglobby passes picomatch for WALK_OPTIONS (its `buildCrawler`). */
const MATCH_OPTIONS: picomatch.PicomatchOptions = {
  dot: WALK_OPTIONS.dot,
  nobrace: !WALK_OPTIONS.braceExpansion,
  noextglob: !WALK_OPTIONS.extglob,
  posix: true,
};

/** Whether a relative path matches a glob. */
export function globMatcher(pattern: string): (path: string) => boolean {
  const literal = literalStart(pattern);
  // A glob whose wildcards all come after a literal folder (`out/s123/*.bam`) matches a path in that folder by its
  // rest alone: the rest (`*.bam`) is compiled once for every glob that ends with it (a gather per sample compiles it
  // once, not once per sample). `**` at the start of the rest also matches the folder itself: compiled whole.
  if (literal?.rest !== undefined && !literal.rest.startsWith("**")) {
    const prefix = `${literal.folder}/`;
    const rest = restMatcher(literal.rest);
    return (path) => path.startsWith(prefix) && rest(path.slice(prefix.length));
  }
  let match: picomatch.Matcher | undefined;
  return (path) => {
    // Compiling a glob costs ~35 µs, and the compiler makes one per element: most paths that
    // cannot match already differ in the glob's literal start, so they are turned away first.
    if (literal !== undefined && path !== literal.folder && !path.startsWith(literal.start)) return false;
    match ??= picomatch(pattern, MATCH_OPTIONS);
    return match(path);
  };
}

/** Matchers of the part of a glob after its literal folder, by that text: a few shapes serve many globs. */
const restMatchers = new Map<string, picomatch.Matcher>();

function restMatcher(rest: string): picomatch.Matcher {
  let m = restMatchers.get(rest);
  if (m === undefined) {
    // Bounded: globs with values in their rest (`*_{sample}.bam`) would fill it; past the bound they are compiled alone.
    m = picomatch(rest, MATCH_OPTIONS);
    if (restMatchers.size < 4096) restMatchers.set(rest, m);
  }
  return m;
}

/**
 * What every path a glob matches starts with: its literal folder and the
 * literal text after it (`r/5` of `r/5*`), or the folder alone (`a` of
 * `a/**`, which matches the folder itself too). Undefined when unsure.
 */
function literalStart(pattern: string): { folder: string | undefined; start: string; rest?: string } | undefined {
  const { base, glob: rest, prefix, negated } = picomatch.scan(pattern);
  // Anything picomatch might rewrite (`./`, `//`, `.` segments, escapes) gets no shortcut.
  if (base === "" || prefix !== "" || negated || /\\|\/\/|(^|\/)\.\.?(\/|$)|^\//.test(base)) return undefined;
  const text = /^[^*?[\]\\(){}!+@|/]*/.exec(rest)![0];
  // The rest alone, when it is a plain glob (no escapes, braces or extglob characters picomatch would read across the folder).
  const plain = rest !== "" && !/[\\(){}!+@|]/.test(rest);
  return { folder: text === "" ? base : undefined, start: `${base}/${text}`, ...(plain && text === "" ? { rest } : {}) };
}

/**
 * For a glob with one placeholder, `before` + `*` + `after` (a foreach
 * `data/**\/{sample}.fa`): the text the placeholder stands for in a path the
 * glob matches, or undefined when the path does not match or the placeholder
 * is not a wildcard of its own (escaped by a `\`, inside `[...]`); the
 * caller then uses the whole path, as it always has. The placeholder is
 * compiled as a letters-only marker, which picomatch leaves as is, then
 * becomes a capture that stays within its segment, like the `*` it stands
 * for; around it, the regex is picomatch's own.
 */
export function globCapture(before: string, after: string): (path: string) => string | undefined {
  const none = () => undefined;
  if (/(^|[^\\])(\\\\)*\\$/.test(before)) return none;
  let marker = "WfcPlaceholder";
  while (before.includes(marker) || after.includes(marker)) marker += "X";
  const source = picomatch.makeRe(`${before}${marker}${after}`, MATCH_OPTIONS).source;
  const at = source.indexOf(marker);
  if (at === -1 || source.indexOf(marker, at + 1) !== -1) return none;
  let re: RegExp;
  try {
    re = new RegExp(`${source.slice(0, at)}([^/]*)${source.slice(at + marker.length)}`);
  } catch {
    return none; // the marker sat inside a construct, like `[a{x}]`: no wildcard of its own
  }
  const matches = globMatcher(`${before}*${after}`);
  return (path) => (matches(path) ? re.exec(path)?.[1] : undefined);
}

/**
 * The paths under `cwd` that match a glob, sorted. An aborted walk throws
 * rather than answer with what it found so far.
 */
export async function walkGlob(pattern: string, cwd: string, signal: AbortSignal | undefined): Promise<string[]> {
  const found = await glob(pattern, {
    cwd,
    onlyFiles: false,
    expandDirectories: false,
    ...WALK_OPTIONS,
    ...(signal ? { signal } : {}),
  });
  signal?.throwIfAborted();
  return found.sort();
}
