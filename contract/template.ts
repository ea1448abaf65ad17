import type { Binding } from "./elements.js";
import type { Part, Scalar } from "./plan.js";

/**
 * Template expansion for one element, as the compiler (dependency
 * inference, element edges) and the runtime (the paths and commands of a
 * job) both do it: `{var}` is the element's value as text, `{var.column}`
 * its sheet row's cell, `{params.x}` the param's value. How a value is
 * quoted in a shell command is contract/shell/'s to say; finding the paths a
 * glob names on disk is the runtime's.
 */

/** A param's value, by name; undefined for none. */
export type ParamLookup = (name: string) => Scalar | readonly Scalar[] | undefined;

/** `{var}` or `{var.field}` for one element: the value as text, or the cell of its sheet row; undefined when it has neither. */
export function varText(bindings: ReadonlyMap<string, Binding>, name: string, field: string | undefined): string | undefined {
  const b = bindings.get(name);
  if (b === undefined) return undefined;
  return field === undefined ? String(b.value) : b.row?.get(field);
}

/** A param's value as words: a list's items, or the one value. Outside a shell command they stand joined by spaces. */
export function paramWords(value: Scalar | readonly Scalar[]): string[] {
  return Array.isArray(value) ? value.map(String) : [String(value as Scalar)];
}

/**
 * A path template with one element's values filled in, or undefined when a
 * placeholder has no value for it: a variable or column the element lacks,
 * a param that is not defined or is a list (a path is one word), or
 * `{inputs}`/`{outputs}`, which only commands may use.
 */
export function expandPath(parts: readonly Part[], bindings: ReadonlyMap<string, Binding>, params: ParamLookup): string | undefined {
  let out = "";
  for (const p of parts) {
    if (typeof p === "string") out += p;
    else if ("var" in p) {
      const text = varText(bindings, p.var, p.field);
      if (text === undefined) return undefined;
      out += text;
    } else if ("param" in p) {
      const value = params(p.param);
      if (value === undefined || Array.isArray(value)) return undefined;
      out += String(value as Scalar);
    } else return undefined;
  }
  return out;
}
