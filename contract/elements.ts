import type { IndexSpace, PlanVar, Scalar } from "./plan.js";

/**
 * The one element numbering of an index space, for the compiler (element
 * edges, dependency inference, path checks) and the runtime (readiness,
 * commands) alike: an element edge in plan.json names elements by these
 * numbers, so the two sides must count the same way.
 *
 * Each crossed variable is one axis; the `zip` variables together are one
 * axis, advancing together. Elements are numbered with the first axis
 * varying slowest (the last fastest), like nested loops in `foreach` order.
 */

/** One element's value of a variable, and its sample-sheet row for `{var.column}`. */
export interface Binding {
  readonly value: Scalar;
  readonly row?: ReadonlyMap<string, string>;
}

/** Values of `range: [start, stop, step]`: start, start + step, … up to but not including stop. */
export function rangeSize(start: number, stop: number, step: number): number {
  return Math.max(0, Math.ceil((stop - start) / step));
}

/** The `i`-th value of `range: [start, stop, step]`. */
export function rangeValue(start: number, step: number, i: number): number {
  return start + i * step;
}

/** How many values a variable has. */
export function varSize(v: PlanVar): number {
  if ("values" in v) return v.values.length;
  if ("range" in v) return rangeSize(...v.range);
  return v.sheet.rows.length;
}

function varValue(v: PlanVar, i: number): Binding {
  if ("values" in v) return { value: v.values[i]! };
  if ("range" in v) return { value: rangeValue(v.range[0], v.range[2], i) };
  const row = v.sheet.rows[i]!;
  const columns = v.sheet.columns;
  return { value: row[columns.indexOf(v.sheet.key)] ?? "", row: new Map(columns.map((c, k) => [c, row[k] ?? ""])) };
}

/**
 * Each variable's axis, by name: a crossed variable is an axis of its own,
 * the zipped ones share the axis where the first of them stands, in
 * `foreach` order. Axis 0 varies slowest.
 */
export function axesOf(vars: readonly { readonly name: string }[], zip: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  let axes = 0;
  let zipAxis: number | undefined;
  for (const v of vars) {
    if (!zip.includes(v.name)) out.set(v.name, axes++);
    else out.set(v.name, (zipAxis ??= axes++));
  }
  return out;
}

/**
 * How many elements an index space has: the product of its axes' sizes, a
 * zip group counted once, by its first variable (their lengths are checked
 * equal elsewhere). `sizeOf` gives a variable's number of values.
 */
export function spaceSize<V extends { readonly name: string }>(
  vars: readonly V[],
  zip: readonly string[],
  sizeOf: (v: V) => number,
): number {
  const axisOf = axesOf(vars, zip);
  const counted = new Set<number>();
  let size = 1;
  for (const v of vars) {
    const axis = axisOf.get(v.name)!;
    if (counted.has(axis)) continue;
    counted.add(axis);
    size *= sizeOf(v);
  }
  return size;
}

/** An index space's element numbers ↔ its variables' values. */
export class ElementSpace {
  readonly size: number;
  /** Axes: each crossed variable is one; the zipped ones together are one. */
  readonly #axes: PlanVar[][] = [];
  readonly #sizes: number[] = [];

  constructor(space: IndexSpace) {
    const axisOf = axesOf(space.vars, space.zip);
    for (const v of space.vars) (this.#axes[axisOf.get(v.name)!] ??= []).push(v);
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

  /**
   * Every element's bindings in number order, as `bindings(0)`,
   * `bindings(1)`, … would give them, stepping the axes like an odometer
   * rather than dividing per element (the compiler visits millions). The
   * axes' own sizes bound it: zipped variables of different lengths (which
   * validation reports) stay within the first one's.
   */
  forEach(visit: (bindings: Map<string, Binding>, i: number) => void): void {
    const axes = this.#axes;
    const sizes = this.#sizes;
    if (sizes.some((s) => s === 0)) return;
    const index = axes.map(() => 0);
    for (let i = 0; ; i++) {
      const out = new Map<string, Binding>();
      for (let a = 0; a < axes.length; a++) for (const v of axes[a]!) out.set(v.name, varValue(v, index[a]!));
      visit(out, i);
      let a = axes.length - 1;
      while (a >= 0 && ++index[a]! === sizes[a]) index[a--] = 0;
      if (a < 0) return;
    }
  }

  /** The text of `var` or `var.field` for element `i`, as templates substitute it. */
  value(i: number, key: string): string | undefined {
    const dot = key.indexOf(".");
    const b = this.bindings(i).get(dot === -1 ? key : key.slice(0, dot));
    if (b === undefined) return undefined;
    return dot === -1 ? String(b.value) : b.row?.get(key.slice(dot + 1));
  }
}
