import type { Scalar } from "./ast.js";

/** A `--param` value read for its declared param, or why it cannot be. */
export type ParamText =
  { readonly ok: true; readonly value: Scalar | Scalar[] } | { readonly ok: false; readonly message: string; readonly expected: string };

type Kind = "string" | "number" | "boolean";

/** JSON's number syntax: no hex, no leading zeros, no `.5`, no spaces. */
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * Reads `--param name=text` as its declared param's type (the type of its
 * value in the workflow file). A string param gets the text byte for byte;
 * a number or boolean is parsed strictly; a list is comma-separated items,
 * each byte for byte and typed like the declared list's items (empty text:
 * an empty list). Nothing is trimmed, unquoted or parsed as YAML.
 */
export function readParamText(text: string, declared: Scalar | readonly Scalar[]): ParamText {
  if (!Array.isArray(declared)) {
    const kind = typeof declared as Kind;
    const value = scalar(text, kind);
    return value !== undefined
      ? { ok: true, value }
      : { ok: false, message: `\`${text}\` is not ${article(kind)}`, expected: example(kind) };
  }
  const kinds = new Set(declared.map((v) => typeof v as Kind));
  const kind: Kind = kinds.size === 1 ? [...kinds][0]! : "string";
  if (text === "") return { ok: true, value: [] };
  const items = text.split(",");
  const value: Scalar[] = [];
  for (const [i, item] of items.entries()) {
    const v = scalar(item, kind);
    if (v === undefined)
      return {
        ok: false,
        message: `item ${i + 1} of the list, \`${item}\`, is not ${article(kind)}`,
        expected: `comma-separated ${kind}s, like ${kind === "number" ? "`1,2,3`" : "`true,false`"}`,
      };
    value.push(v);
  }
  return { ok: true, value };
}

function scalar(text: string, kind: Kind): Scalar | undefined {
  switch (kind) {
    case "string":
      return text;
    case "number":
      return NUMBER.test(text) && Number.isFinite(Number(text)) ? Number(text) : undefined;
    case "boolean":
      return text === "true" ? true : text === "false" ? false : undefined;
  }
}

function article(kind: Kind): string {
  return kind === "string" ? "a string" : `a ${kind}`;
}

function example(kind: Kind): string {
  return kind === "number" ? "a number, like `4` or `0.5`" : kind === "boolean" ? "`true` or `false`" : "a string";
}
