import type { ElementEdge } from "../plan/element-edges.js";
import { unreachable } from "../../contract/unreachable.js";
import type { UniqueKeys } from "./unique-keys.js";

/** What to draw beside the graph itself. */
export interface RenderOptions {
  /** A legend of the edge kinds drawn (`wfc graph` draws it unless `--no-legend`). */
  readonly legend?: boolean;
}

/**
 * One line of a drawing's legend: a short sample edge drawn the way the
 * edges of this kind are, between two blank points, with what it means.
 */
export interface LegendEntry {
  /** The style it shows; `after` entries show the hollow arrowhead. */
  readonly kind: ElementEdge["kind"];
  readonly after: boolean;
  readonly text: string;
  /** Node keys of the two points, distinct from every other key of the drawing. */
  readonly from: string;
  readonly to: string;
}

export interface Legend {
  /** The legend's own key (its cluster), distinct from the drawing's. */
  readonly key: string;
  readonly entries: readonly LegendEntry[];
}

const ORDER: readonly ElementEdge["kind"][] = ["one-to-one", "all", "match", "map", "expand"];

/** What each kind means, as a reader of the drawing needs it (ASCII only: it ends up in terminals too). */
function meaning(kind: ElementEdge["kind"]): string {
  switch (kind) {
    case "one-to-one":
      return "1:1: element i waits for element i";
    case "all":
      return "all: every element waits for all of them (a barrier)";
    case "match":
      return "by v: waits for the elements with the same values of v";
    case "map":
      return "map: waits for the elements its input paths name";
    case "expand":
      return "expands at run time: elements made from what it wrote";
    default:
      return unreachable(kind);
  }
}

/**
 * The legend of the edges drawn: one entry per kind that occurs (an `after`
 * edge counts apart), in a fixed order; none when there are no edges. Keys
 * are claimed after the drawing's own, so they never collide with them.
 */
export function legendOf(
  edges: readonly { readonly kind: ElementEdge["kind"]; readonly after: boolean }[],
  keys: UniqueKeys,
): Legend | null {
  const kinds = ORDER.filter((k) => edges.some((e) => e.kind === k && !e.after));
  const after = edges.find((e) => e.after);
  if (kinds.length === 0 && after === undefined) return null;
  const key = keys.claim("legend");
  const entries: LegendEntry[] = kinds.map((kind, i) => ({
    kind,
    after: false,
    text: meaning(kind),
    from: keys.claim(`legend ${i} from`),
    to: keys.claim(`legend ${i} to`),
  }));
  if (after !== undefined) {
    const i = entries.length;
    entries.push({
      kind: after.kind,
      after: true,
      text: "after: order only, no input read",
      from: keys.claim(`legend ${i} from`),
      to: keys.claim(`legend ${i} to`),
    });
  }
  return { key, entries };
}
