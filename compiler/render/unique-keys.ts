/**
 * Hands out distinct keys: the first request for a name gets it, later ones
 * get `name~2`, `name~3`… Callers ask in a sorted order, so the result is
 * deterministic (STYLE habit 15).
 */
export class UniqueKeys {
  readonly #taken = new Set<string>();

  claim(name: string): string {
    let key = name;
    for (let n = 2; this.#taken.has(key); n++) key = `${name}~${n}`;
    this.#taken.add(key);
    return key;
  }
}
