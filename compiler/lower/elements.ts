import { ElementSpace, type Binding } from "../../contract/elements.js";
import type { IndexSpace, Part, PlanVar } from "../../contract/plan.js";
import { expandPath as expandParts } from "../../contract/template.js";
import type { FanOut, Param } from "./ast.js";
import type { Template } from "./template.js";

export type { Binding };

/** A fan-out as the plan writes its index space: the compiler and the runtime number its elements alike (contract/elements.ts). */
export function indexSpaceOf(fanout: FanOut): IndexSpace {
  const vars: PlanVar[] = fanout.vars.map((v) => {
    if (v.sheet) return { name: v.name, sheet: { columns: v.sheet.columns, key: v.sheet.key, rows: v.sheet.rows } };
    if (v.values.kind === "range") return { name: v.name, range: [v.values.start, v.values.stop, v.values.step] as const };
    return { name: v.name, values: v.values.items };
  });
  return { vars, zip: fanout.zip, size: fanout.size };
}

/**
 * Visits every element of a fan-out in index order (the first variable
 * varies slowest; zipped variables advance together). Callers bound the size.
 */
export function forEachElement(fanout: FanOut, visit: (bindings: ReadonlyMap<string, Binding>) => void): void {
  new ElementSpace(indexSpaceOf(fanout)).forEach(visit);
}

/** A path template as the plan's parts, `{stage}` as text; null when a placeholder never has a value in a path. */
const partsOf = new WeakMap<Template, { readonly stage: string; readonly parts: readonly Part[] | null }>();
function pathParts(template: Template, stage: string): readonly Part[] | null {
  const known = partsOf.get(template);
  if (known?.stage === stage) return known.parts;
  let parts: Part[] | null = [];
  for (const p of template.parts) {
    if (p.kind === "text") parts.push(p.text);
    else if (p.root === "stage") parts.push(stage);
    else if (p.root === "params" && p.field !== undefined) parts.push({ param: p.field });
    else if (p.root === "params" || p.root === "inputs" || p.root === "outputs" || p.root === "log" || p.root === "cpus") {
      // `{params}` alone names no value; `{inputs}`, `{outputs}`, `{log}` and `{cpus}` are for commands, not paths.
      parts = null;
      break;
    } else parts.push(p.field === undefined ? { var: p.root } : { var: p.root, field: p.field });
  }
  partsOf.set(template, { stage, parts });
  return parts;
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
  const parts = pathParts(template, stage);
  return parts === null ? undefined : expandParts(parts, bindings, (name) => params.get(name)?.value);
}
