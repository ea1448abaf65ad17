/**
 * Templates: `{var}`, `{var.field}`, `{params.x}`, `{inputs}`, `{outputs.name}`,
 * with `{{` and `}}` for literal braces. Parsed once into parts; the offsets
 * let diagnostics point at the placeholder inside the string.
 */
export type TemplatePart =
  | { readonly kind: "text"; readonly text: string }
  | {
      readonly kind: "ref";
      /** `sample` in `{sample}`, `params` in `{params.n}`. */
      readonly root: string;
      /** `n` in `{params.n}`; undefined for `{sample}`. */
      readonly field: string | undefined;
      /** Offset of `{` in the template string. */
      readonly offset: number;
      /** Length including the braces. */
      readonly length: number;
    };

export interface Template {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
}

export interface TemplateSyntaxError {
  readonly offset: number;
  readonly length: number;
  readonly message: string;
}

const REF = /^([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_-]*))?$/;

export function parseTemplate(source: string): { template: Template; errors: TemplateSyntaxError[] } {
  const parts: TemplatePart[] = [];
  const errors: TemplateSyntaxError[] = [];
  let text = "";
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === "{" && source[i + 1] === "{") {
      text += "{";
      i += 2;
    } else if (c === "}" && source[i + 1] === "}") {
      text += "}";
      i += 2;
    } else if (c === "{") {
      const close = source.indexOf("}", i + 1);
      if (close === -1) {
        errors.push({ offset: i, length: source.length - i, message: "unclosed `{` in template" });
        text += source.slice(i);
        break;
      }
      const inner = source.slice(i + 1, close);
      const match = REF.exec(inner.trim());
      if (!match) {
        errors.push({ offset: i, length: close + 1 - i, message: `\`{${inner}}\` is not a placeholder` });
      } else {
        if (text !== "") parts.push({ kind: "text", text });
        text = "";
        parts.push({ kind: "ref", root: match[1]!, field: match[2], offset: i, length: close + 1 - i });
      }
      i = close + 1;
    } else if (c === "}") {
      errors.push({ offset: i, length: 1, message: "unmatched `}` in template" });
      text += c;
      i++;
    } else {
      // Copy the run of plain text up to the next brace in one go.
      let next = i + 1;
      while (next < source.length && source[next] !== "{" && source[next] !== "}") next++;
      text += source.slice(i, next);
      i = next;
    }
  }
  if (text !== "") parts.push({ kind: "text", text });
  return { template: { source, parts }, errors };
}

/** The placeholders of a template, in order. */
export function refsOf(template: Template): Extract<TemplatePart, { kind: "ref" }>[] {
  return template.parts.filter((p): p is Extract<TemplatePart, { kind: "ref" }> => p.kind === "ref");
}

/** Whether a template's literal text contains glob syntax (`*`, `?`, `[`). */
export function hasGlob(template: Template): boolean {
  return template.parts.some((p) => p.kind === "text" && /[*?[]/.test(p.text));
}

/** `{params.x}` exactly (and nothing else): a whole-parameter reference. */
export function wholeParamRef(template: Template): string | undefined {
  const [only, ...rest] = template.parts;
  if (rest.length > 0 || only?.kind !== "ref" || only.root !== "params" || only.field === undefined) return undefined;
  return only.field;
}
