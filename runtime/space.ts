import type { IndexSpace, PlanVar, Scalar } from "../contract/plan.js";

/** One element's value of a variable, and its sample-sheet row for `{var.column}`. */
export interface Binding {
  readonly value: Scalar;
  readonly row?: ReadonlyMap<string, string>;
}

/** How many values a variable has. */
export function varSize(v: PlanVar): number {
  if ("values" in v) return v.values.length;
  if ("range" in v) {
    const [start, stop, step] = v.range;
    return Math.max(0, Math.ceil((stop - start) / step));
  }
  return v.sheet.rows.length;
}

function varValue(v: PlanVar, i: number): Binding {
  if ("values" in v) return { value: v.values[i]! };
  if ("range" in v) return { value: v.range[0] + i * v.range[2] };
  const row = v.sheet.rows[i]!;
  const columns = v.sheet.columns;
  return { value: row[columns.indexOf(v.sheet.key)] ?? "", row: new Map(columns.map((c, k) => [c, row[k] ?? ""])) };
}

/**
 * An index space as the runtime sees it: element numbers ↔ variable values.
 * Elements are numbered with the first axis varying slowest; `zip`
 * variables form one axis. The same order as the compiler's.
 */
export class ElementSpace {
  readonly size: number;
  /** Axes: each crossed variable is one; the zipped ones together are one. */
  readonly #axes: PlanVar[][] = [];
  readonly #sizes: number[] = [];

  constructor(space: IndexSpace) {
    let zipAxis: PlanVar[] | undefined;
    for (const v of space.vars) {
      if (space.zip.includes(v.name)) {
        if (zipAxis === undefined) this.#axes.push((zipAxis = []));
        zipAxis.push(v);
      } else this.#axes.push([v]);
    }
    for (const axis of this.#axes) this.#sizes.push(varSize(axis[0]!));
    this.size = space.size;
  }

  /** The variable bindings of element `i`. */
  bindings(i: number): Map<string, Binding> {
    const out = new Map<string, Binding>();
    let rest = i;
    for (let a = this.#axes.length - 1; a >= 0; a--) {
      const size = this.#sizes[a]!;
      const k = rest % size;
      rest = Math.floor(rest / size);
      for (const v of this.#axes[a]!) out.set(v.name, varValue(v, k));
    }
    return out;
  }

  /** The text of `var` or `var.field` for element `i`, as templates substitute it. */
  value(i: number, key: string): string | undefined {
    const dot = key.indexOf(".");
    const b = this.bindings(i).get(dot === -1 ? key : key.slice(0, dot));
    if (b === undefined) return undefined;
    return dot === -1 ? String(b.value) : b.row?.get(key.slice(dot + 1));
  }
}
