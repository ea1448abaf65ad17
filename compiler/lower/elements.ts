import type { FanOut, Param, Scalar } from "./ast.js";
import { varSize, varValue } from "./ast.js";
import type { Template } from "./template.js";

/** One element's variable bindings: value, and the sheet row for `{var.column}`. */
export interface Binding {
  readonly value: Scalar;
  readonly row?: ReadonlyMap<string, string>;
}

/**
 * Visits every element of a fan-out in index order (the first variable
 * varies slowest; zipped variables advance together). Callers bound the size.
 */
export function forEachElement(fanout: FanOut, visit: (bindings: ReadonlyMap<string, Binding>) => void): void {
  // Axes: each crossed variable is one axis; the zip group is one axis.
  const axes: string[][] = [];
  let zipAxis: string[] | undefined;
  for (const v of fanout.vars) {
    if (fanout.zip.includes(v.name)) {
      if (zipAxis === undefined) axes.push((zipAxis = []));
      zipAxis.push(v.name);
    } else axes.push([v.name]);
  }
  const byName = new Map(fanout.vars.map((v) => [v.name, v]));
  const sizes = axes.map((axis) => varSize(byName.get(axis[0]!)!.values));
  if (sizes.some((s) => s === 0)) return;
  const index = axes.map(() => 0);
  for (;;) {
    const bindings = new Map<string, Binding>();
    axes.forEach((axis, a) => {
      for (const name of axis) {
        const v = byName.get(name)!;
        const i = index[a]!;
        const row = v.sheet ? new Map(v.sheet.columns.map((c, k) => [c, v.sheet!.rows[i]![k] ?? ""])) : undefined;
        bindings.set(name, row ? { value: varValue(v.values, i), row } : { value: varValue(v.values, i) });
      }
    });
    visit(bindings);
    let a = axes.length - 1;
    while (a >= 0 && ++index[a]! === sizes[a]) index[a--] = 0;
    if (a < 0) return;
  }
}

/**
 * A path template with one element's values filled in; undefined when a
 * placeholder has no value here (already reported by the checks).
 */
export function expandPath(
  template: Template,
  bindings: ReadonlyMap<string, Binding>,
  params: ReadonlyMap<string, Param>,
  stage: string,
): string | undefined {
  let out = "";
  for (const part of template.parts) {
    if (part.kind === "text") {
      out += part.text;
      continue;
    }
    if (part.root === "params") {
      const p = part.field === undefined ? undefined : params.get(part.field);
      if (p === undefined || Array.isArray(p.value)) return undefined;
      out += String(p.value);
    } else if (part.root === "stage") {
      out += stage;
    } else {
      const b = bindings.get(part.root);
      if (b === undefined) return undefined;
      if (part.field === undefined) out += String(b.value);
      else {
        const cell = b.row?.get(part.field);
        if (cell === undefined) return undefined;
        out += cell;
      }
    }
  }
  return out;
}
