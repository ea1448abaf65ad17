import type { ElementEdge } from "./plan.js";
import { unreachable } from "./unreachable.js";

/** A task's elements as an edge reads them: how many so far, and each one's value of a variable. */
export interface EdgeElements {
  readonly size: number;
  value(i: number, key: string): string | undefined;
}

/**
 * Which producer elements a consumer element waits for through an element
 * edge: the one meaning of `ElementEdge` by element number, shared by the
 * runtime (gathering inputs, runtime/jobs/expand.ts) and the job graph
 * (`wfc graph --jobs`, compiler/render/jobs.ts). The `match` and `expand`
 * indexes are built once per edge and grow with a dynamic producer.
 */
export class EdgeReader {
  /** Per match or expand edge: producer elements by key, indexed up to `size`. */
  readonly #indexes = new Map<ElementEdge, { size: number; byKey: Map<string, number[]> }>();

  /**
   * The producer elements element `j` of the consumer waits for. `per` is the
   * consumer's dynamic `per` variables, read only by an `expand` edge.
   */
  *producerElements(edge: ElementEdge, j: number, ps: EdgeElements, cs: EdgeElements, per: readonly string[] = []): Generator<number> {
    switch (edge.kind) {
      case "one-to-one":
        yield j;
        return;
      case "all":
        for (let k = 0; k < ps.size; k++) yield k;
        return;
      case "map":
        for (let x = edge.offsets[j]!; x < edge.offsets[j + 1]!; x++) yield edge.indices[x]!;
        return;
      case "match": {
        if (Object.entries(edge.when).some(([v, x]) => cs.value(j, v) !== x)) return;
        const key = edge.on.map(([, b]) => cs.value(j, b) ?? "").join("\u0000");
        yield* (
          this.#matches(
            edge,
            edge.on.map(([a]) => a),
            edge.where,
            ps,
          ).get(key) ?? []
        );
        return;
      }
      case "expand": {
        // The producer element this one's block expanded from: the one with the same values of `per`.
        const key = per.map((v) => cs.value(j, v) ?? "").join("\u0000");
        yield* this.#matches(edge, per, {}, ps).get(key) ?? [];
        return;
      }
      default:
        unreachable(edge);
    }
  }

  /** A producer's elements by their values of `vars` (among those equal to `where`), indexed once and as a dynamic producer grows. */
  #matches(edge: ElementEdge, vars: readonly string[], where: Readonly<Record<string, string>>, ps: EdgeElements): Map<string, number[]> {
    let index = this.#indexes.get(edge);
    if (index === undefined) this.#indexes.set(edge, (index = { size: 0, byKey: new Map() }));
    for (let k = index.size; k < ps.size; k++) {
      if (Object.entries(where).some(([v, x]) => ps.value(k, v) !== x)) continue;
      const key = vars.map((v) => ps.value(k, v) ?? "").join("\u0000");
      const list = index.byKey.get(key);
      if (list) list.push(k);
      else index.byKey.set(key, [k]);
    }
    index.size = ps.size;
    return index.byKey;
  }
}
