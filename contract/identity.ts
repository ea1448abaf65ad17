import { ElementSpace } from "./elements.js";
import type { IndexSpace, PlanVar, Scalar } from "./plan.js";

/**
 * An element's identity: its variables' values, never its number, so that
 * reordering a sample list or dropping one sample changes nothing for the
 * others. The run state is keyed by it (the journal, up-to-date checks, log
 * names), and it reads like a target (`s=a,chunk=3`).
 *
 * `name=value` per variable in `foreach` order, joined by `,`; a sheet
 * variable's value is its row's key. In a value every byte but
 * `A-Z a-z 0-9 . _ -` is written `%XX` (UTF-8, as in a URL), so `,` `=`
 * `%` `+` `@` `~` `/` and newlines never stand for themselves: the text is
 * unambiguous, and is itself a safe file name (no `/`, never `.` or `..`).
 * An element without variables is the empty identity.
 *
 * Two elements of one space with the same values (a list that names a value
 * twice) get `@2`, `@3`, … on the second and later ones, so no two elements
 * ever share an identity.
 */
export class ElementIdentities {
  readonly #space: ElementSpace;
  readonly #names: readonly string[];
  /** Filled only for a space where some variable repeats a value. */
  #table: string[] | undefined;

  constructor(space: IndexSpace) {
    this.#space = new ElementSpace(space);
    this.#names = space.vars.map((v) => v.name);
    // Each variable's values distinct: every element's tuple is distinct (an axis's first variable alone tells its positions apart).
    if (!space.vars.every(distinctValues)) {
      const seen = new Map<string, number>();
      const table: string[] = [];
      this.#space.forEach((bindings) => {
        const plain = this.#names.map((n) => `${n}=${encodeValue(bindings.get(n)!.value)}`).join(",");
        const n = (seen.get(plain) ?? 0) + 1;
        seen.set(plain, n);
        table.push(n === 1 ? plain : `${plain}@${n}`);
      });
      this.#table = table;
    }
  }

  /** Element `i`'s identity. */
  of(i: number): string {
    if (this.#table !== undefined) return this.#table[i]!;
    const bindings = this.#space.bindings(i);
    return this.#names.map((n) => `${n}=${encodeValue(bindings.get(n)!.value)}`).join(",");
  }
}

/** A value as identities write it: `%XX` for every byte but letters, digits, `.`, `_` and `-`. */
export function encodeValue(value: Scalar): string {
  const text = String(value);
  if (/^[\w.-]*$/.test(text)) return text;
  let out = "";
  for (const c of text) {
    if (/^[\w.-]$/.test(c)) out += c;
    // A lone surrogate has no UTF-8: `%u` and its code, which no byte's `%XX` can be.
    else if (/^[\uD800-\uDFFF]$/.test(c)) out += `%u${c.charCodeAt(0).toString(16).toUpperCase()}`;
    else for (const byte of Buffer.from(c, "utf8")) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function distinctValues(v: PlanVar): boolean {
  if ("range" in v) return true;
  const values =
    "values" in v ? v.values.map((x) => encodeValue(x)) : v.sheet.rows.map((r) => r[v.sheet.columns.indexOf(v.sheet.key)] ?? "");
  return new Set(values).size === values.length;
}
