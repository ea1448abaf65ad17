/**
 * The text of a target, as `wfc run FILE TARGET…`, `--until` and
 * `--forcerun` take it: a stage (`bwa_map`), a stage with variable values
 * (`bwa_map[sample=A]`, `call[sample=A,chrom=2]`), or an output path. Pure:
 * which stage, variable or file a target names is select.ts's to find out.
 * A value is only ever compared with elements' values, never run.
 */

/** A target as written. */
export type Target =
  /** `stage[var=value,…]`: the elements of `stage` with these values. */
  | { readonly kind: "stage"; readonly text: string; readonly stage: string; readonly values: readonly (readonly [string, string])[] }
  /** Bare text: a stage if one has this name, else an output path. */
  | { readonly kind: "name"; readonly text: string };

/** Why a target's text is not one. */
export interface TargetSyntaxError {
  readonly text: string;
  readonly message: string;
}

export type ParsedTarget = { readonly ok: true; readonly target: Target } | { readonly ok: false; readonly error: TargetSyntaxError };

/** A stage's name, as the workflow schema allows it. */
const STAGE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * One target. `name[…]` where `name` is a stage name is a stage with
 * values: `var=value` pairs separated by commas, a value either plain text
 * (up to the next comma or the closing `]`) or a JSON string (`"a,b"`) for
 * one that holds a comma, a bracket or a quote. Anything else (`results/a.txt`,
 * `./x`, `x[1].txt`) is a name or a path.
 */
export function parseTarget(text: string): ParsedTarget {
  const bracket = text.indexOf("[");
  if (bracket <= 0 || !STAGE.test(text.slice(0, bracket))) {
    if (text === "") return fail(text, "an empty target");
    return { ok: true, target: { kind: "name", text } };
  }
  const stage = text.slice(0, bracket);
  const values: [string, string][] = [];
  let at = bracket + 1;
  for (;;) {
    const eq = text.indexOf("=", at);
    if (eq === -1) return fail(text, `expected \`var=value\` after \`${text.slice(0, at)}\``);
    const name = text.slice(at, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      return fail(text, name === "" ? "a value without a variable name" : `\`${name}\` is not a variable name`);
    if (values.some(([n]) => n === name)) return fail(text, `\`${name}\` is given twice`);
    const value = readValue(text, eq + 1);
    if (!value.ok) return fail(text, value.message);
    values.push([name, value.value]);
    at = value.end;
    if (text[at] === ",") {
      at++;
      continue;
    }
    if (text[at] === "]" && at === text.length - 1) break;
    return fail(text, text[at] === "]" ? "text after the closing `]`" : "a missing `]` at the end");
  }
  return { ok: true, target: { kind: "stage", text, stage, values } };
}

/** A value from `start`: a JSON string, or plain text up to the next `,` or `]`. */
function readValue(text: string, start: number): { ok: true; value: string; end: number } | { ok: false; message: string } {
  if (text[start] !== '"') {
    let end = start;
    while (end < text.length && text[end] !== "," && text[end] !== "]") end++;
    return { ok: true, value: text.slice(start, end), end };
  }
  // A JSON string: the shortest prefix from the quote that parses as one.
  for (let end = text.indexOf('"', start + 1); end !== -1; end = text.indexOf('"', end + 1)) {
    if (text[end - 1] === "\\" && !evenBackslashes(text, end)) continue;
    try {
      return { ok: true, value: JSON.parse(text.slice(start, end + 1)) as string, end: end + 1 };
    } catch {
      return { ok: false, message: "a quoted value that is not a JSON string" };
    }
  }
  return { ok: false, message: 'a quoted value without its closing `"`' };
}

/** Whether the quote at `quote` ends a JSON string: an even run of backslashes before it escapes nothing. */
function evenBackslashes(text: string, quote: number): boolean {
  let n = 0;
  while (text[quote - 1 - n] === "\\") n++;
  return n % 2 === 0;
}

function fail(text: string, message: string): ParsedTarget {
  return { ok: false, error: { text, message } };
}

/** `--forcerun a,b --forcerun c`: the stage names, in order, without empty ones. */
export function stageList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(",")).filter((v) => v !== "");
}
