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

export function toPattern(template: Template, params: ReadonlyMap<string, Param>, globs: boolean): Pattern {
  const out: (number | string)[] = [];
  for (const part of template.parts) {
    if (part.kind === "ref") {
      const p = part.root === "params" && part.field !== undefined ? params.get(part.field) : undefined;
      if (p !== undefined && !Array.isArray(p.value)) out.push(...String(p.value));
      else out.push(ANY);
      continue;
    }
    const text = part.text;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (!globs || !"*?[".includes(c)) out.push(c);
      else if (c === "*" && text[i + 1] === "*") {
        out.push(ANY);
        i++;
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

/** Whether some path matches both patterns (a conservative yes for wildcards facing wildcards). */
export function intersects(p: Pattern, q: Pattern): boolean {
  const n = p.length;
  const m = q.length;
  const memo = new Uint8Array((n + 1) * (m + 1)); // 0 unknown, 1 no, 2 yes
  const go = (i: number, j: number): boolean => {
    const k = i * (m + 1) + j;
    if (memo[k] !== 0) return memo[k] === 2;
    memo[k] = 1; // guards against cycles through wildcard-wildcard steps
    let ok = false;
    const a = p[i];
    const b = q[j];
    if (i === n && j === m) ok = true;
    else if (typeof a === "number") {
      ok = go(i + 1, j) || (j < m && (typeof b === "number" ? a === ANY || b === SEGMENT : a === ANY || b !== "/") && go(i, j + 1));
    } else if (typeof b === "number") {
      ok = go(i, j + 1) || (i < n && (b === ANY || a !== "/") && go(i + 1, j));
    } else ok = i < n && j < m && a === b && go(i + 1, j + 1);
    memo[k] = ok ? 2 : 1;
    return ok;
  };
  return go(0, 0);
}
