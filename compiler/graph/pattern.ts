import type { Param } from "../lower/ast.js";
import type { Template } from "../lower/template.js";

/**
 * A path template seen symbolically: literal characters and wildcards. A
 * `{var}` or `**` may stand for any text (`ANY`); a glob `*`, `?` or `[...]`
 * for any text without `/` (`SEGMENT`). Enough to tell, without expanding a
 * million elements, whether two templates can ever name the same file.
 */
export const ANY = -1;
export const SEGMENT = -2;
export type Pattern = readonly (number | string)[];

/**
 * `segments`: variables that stand for text within one path segment: a
 * decided variable's hole, or a value read from such a hole (contract/expansion.ts).
 */
export function toPattern(
  template: Template,
  params: ReadonlyMap<string, Param>,
  globs: boolean,
  segments: ReadonlySet<string> = new Set(),
): Pattern {
  const out: (number | string)[] = [];
  for (const [k, part] of template.parts.entries()) {
    if (part.kind === "ref" && part.field === undefined && segments.has(part.root)) {
      out.push(SEGMENT);
      continue;
    }
    if (part.kind === "ref") {
      const p = part.root === "params" && part.field !== undefined ? params.get(part.field) : undefined;
      if (p !== undefined && !Array.isArray(p.value)) out.push(...String(p.value));
      else out.push(ANY);
      continue;
    }
    const text = part.text;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (globs && c === "/" && k === template.parts.length - 1 && /^\/\*\*(\/\*+)*$/.test(text.slice(i))) {
        // A trailing `/**` (with more star segments after it) matches the folder itself too, as globs do: let ANY take the slash.
        out.push(ANY);
        break;
      }
      if (!globs || !"*?[".includes(c)) out.push(c);
      else if (c === "*" && text[i + 1] === "*") {
        out.push(ANY);
        i++;
        // `**/` also matches no folder at all, as globs do: let ANY take the slash.
        if (text[i + 1] === "/") i++;
      } else if (c === "[") {
        const close = text.indexOf("]", i + 1);
        out.push(SEGMENT);
        if (close !== -1) i = close;
      } else out.push(SEGMENT);
    }
  }
  return out;
}

/** The literal text before the first wildcard: the key of the prefix index. */
export function literalPrefix(pattern: Pattern): string {
  let out = "";
  for (const t of pattern) {
    if (typeof t !== "string") break;
    out += t;
  }
  return out;
}

/** Above this many DP cells, compare only the literal ends (conservatively). */
const MAX_CELLS = 4_000_000;

/**
 * Whether some path matches both patterns (a conservative yes for wildcards
 * facing wildcards). Bottom-up over two rows: O(n·m) time, O(m) memory, no
 * recursion, so an 8,000-character path cannot overflow the stack.
 */
export function intersects(p: Pattern, q: Pattern): boolean {
  const n = p.length;
  const m = q.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) return literalEndsAgree(p, q);
  let next = new Uint8Array(m + 1); // row i + 1
  let row = new Uint8Array(m + 1); // row i
  for (let i = n; i >= 0; i--) {
    for (let j = m; j >= 0; j--) {
      const a = p[i];
      const b = q[j];
      let ok: boolean;
      if (i === n && j === m) ok = true;
      else if (typeof a === "number") {
        ok = next[j] === 1 || (j < m && (typeof b === "number" ? a === ANY || b === SEGMENT : a === ANY || b !== "/") && row[j + 1] === 1);
      } else if (typeof b === "number") {
        ok = row[j + 1] === 1 || (i < n && (b === ANY || a !== "/") && next[j] === 1);
      } else ok = i < n && j < m && a === b && next[j + 1] === 1;
      row[j] = ok ? 1 : 0;
    }
    [next, row] = [row, next];
  }
  return next[0] === 1;
}

/** For huge patterns: the literal prefixes and suffixes must agree as far as both go. */
function literalEndsAgree(p: Pattern, q: Pattern): boolean {
  for (let i = 0; i < Math.min(p.length, q.length); i++) {
    const a = p[i];
    const b = q[i];
    if (typeof a !== "string" || typeof b !== "string") break;
    if (a !== b) return false;
  }
  for (let i = 1; i <= Math.min(p.length, q.length); i++) {
    const a = p[p.length - i];
    const b = q[q.length - i];
    if (typeof a !== "string" || typeof b !== "string") break;
    if (a !== b) return false;
  }
  return true;
}
