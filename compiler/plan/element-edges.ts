import type { FanOut, FanVar, PathDecl, Stage, Workflow } from "../lower/ast.js";
import { varSize, varValue } from "../lower/ast.js";
import { expandPath, forEachElement } from "../lower/elements.js";
import { globMatcher } from "../../contract/glob.js";
import type { ElementEdge } from "../../contract/plan.js";
import type { DynamicSource } from "../graph/dynamic.js";

export type { ElementEdge };

/** Element edges are worked out concretely up to this many template expansions. */
const MAP_BUDGET = 200_000;

type Token =
  | { readonly kind: "lit"; readonly text: string }
  | { readonly kind: "var"; readonly key: string }
  /** `segments`: a `**` that is a whole segment before a `/`, which eats whole folders (`a/` or nothing). */
  | { readonly kind: "star"; readonly crossesSlash: boolean; readonly segments: boolean };

/** A template as tokens, params substituted; `{var.col}` is the key `var.col`. */
function tokens(decl: PathDecl, workflow: Workflow, stage: Stage, globs: boolean): Token[] {
  const out: Token[] = [];
  const lit = (text: string) => {
    const last = out.at(-1);
    if (last?.kind === "lit") out[out.length - 1] = { kind: "lit", text: last.text + text };
    else if (text !== "") out.push({ kind: "lit", text });
  };
  for (const part of decl.template.parts) {
    if (part.kind === "ref") {
      if (part.root === "params") lit(String(workflow.params.get(part.field ?? "")?.value ?? ""));
      else if (part.root === "stage") lit(stage.name);
      else out.push({ kind: "var", key: part.field === undefined ? part.root : `${part.root}.${part.field}` });
      continue;
    }
    if (!globs || !/[*?[]/.test(part.text)) {
      lit(part.text);
      continue;
    }
    // Split literal text at glob syntax; `?` and `[...]` are approximated as `*`.
    const text = part.text;
    let buf = "";
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (c === "*" && text[i + 1] === "*") {
        const last = out.at(-1);
        const atStart = buf === "" ? last === undefined || (last.kind === "lit" && last.text.endsWith("/")) : buf.endsWith("/");
        lit(buf);
        buf = "";
        out.push({ kind: "star", crossesSlash: true, segments: atStart && text[i + 2] === "/" });
        i += text[i + 2] === "/" ? 2 : 1;
      } else if (c === "*" || c === "?" || c === "[") {
        lit(buf);
        buf = "";
        out.push({ kind: "star", crossesSlash: false, segments: false });
        if (c === "[") i = Math.max(i, text.indexOf("]", i + 1));
      } else buf += c;
    }
    lit(buf);
  }
  return out;
}

/** Membership tests for the values a variable key can take. */
function valueSets(fanout: FanOut): Map<string, (value: string) => boolean> {
  const sets = new Map<string, (value: string) => boolean>();
  for (const v of fanout.vars) {
    sets.set(v.name, memberTest(v));
    for (const [c, column] of (v.sheet?.columns ?? []).entries()) {
      const values = new Set(v.sheet!.rows.map((r) => r[c] ?? ""));
      sets.set(`${v.name}.${column}`, (s) => values.has(s));
    }
  }
  return sets;
}

function memberTest(v: FanVar): (value: string) => boolean {
  const values = v.values;
  if (values.kind === "range") {
    const { start, step } = values;
    const n = varSize(values);
    return (s) => {
      if (!/^-?\d+$/.test(s)) return false;
      const k = (Number(s) - start) / step;
      return Number.isInteger(k) && k >= 0 && k < n;
    };
  }
  const set = new Set(values.items.map(String));
  return (s) => set.has(s);
}

interface Solution {
  /** producer key → consumer key */
  readonly on: Map<string, string>;
  readonly where: Map<string, string>;
  readonly when: Map<string, string>;
  /**
   * A producer variable was bound next to a consumer's glob wildcard that
   * could have taken part of its value (`a/**\/c.tsv` against `a/{p}` with
   * p = `b/c.tsv`): the binding would miss elements, so the caller lists
   * the element map concretely instead.
   */
  readonly partial: boolean;
}

/** What values of a producer variable key a wildcard could split: one of 2+ characters, one with a `/`. */
interface Splits {
  readonly long: boolean;
  readonly slash: boolean;
}

function splitsOf(fanout: FanOut): Map<string, Splits> {
  const of = (values: readonly string[]): Splits => ({
    long: values.some((v) => v.length >= 2),
    slash: values.some((v) => v.includes("/")),
  });
  const out = new Map<string, Splits>();
  for (const v of fanout.vars) {
    const n = varSize(v.values);
    // A range's values lie between its ends: all one character only if both ends are.
    const ends = n === 0 ? [] : [String(varValue(v.values, 0)), String(varValue(v.values, n - 1))];
    out.set(v.name, v.values.kind === "range" ? of(ends) : of(v.values.items.map(String)));
    for (const [c, column] of (v.sheet?.columns ?? []).entries()) out.set(`${v.name}.${column}`, of(v.sheet!.rows.map((r) => r[c] ?? "")));
  }
  return out;
}

/**
 * All ways to align a consumer's input tokens with a producer's output
 * tokens. Variables meet variables whole; a variable meeting literal text
 * takes one of its own values as a prefix of that text; a glob star swallows
 * producer variables and text. Templates are short, so backtracking is cheap;
 * the search stops at a few solutions (more means "ambiguous").
 */
function unify(
  consumer: Token[],
  producer: Token[],
  cSets: Map<string, (v: string) => boolean>,
  pSets: Map<string, (v: string) => boolean>,
  pSplits: Map<string, Splits>,
): Solution[] {
  const solutions: Solution[] = [];
  const on = new Map<string, string>();
  const reverse = new Map<string, string>();
  const where = new Map<string, string>();
  const when = new Map<string, string>();
  let steps = 0;
  let partial = 0;
  /** Whether `star` could take part of a value of producer key `key` (bound right after it, or right before it). */
  const splits = (star: Token | undefined, key: string): boolean => {
    if (star?.kind !== "star") return false;
    const s = pSplits.get(key) ?? { long: true, slash: true };
    return star.segments ? s.slash : s.long;
  };

  const go = (i: number, ci: number, j: number, pj: number): void => {
    if (solutions.length > 3 || ++steps > 100_000) return;
    const c = consumer[i];
    const p = producer[j];
    if (c === undefined && p === undefined) {
      solutions.push({ on: new Map(on), where: new Map(where), when: new Map(when), partial: partial > 0 });
      return;
    }
    if (c?.kind === "star") {
      go(i + 1, 0, j, pj); // the star ends here
      if (p?.kind === "var" && pj === 0) go(i, 0, j + 1, 0); // it swallows a producer variable
      if (p?.kind === "lit" && (c.crossesSlash || p.text[pj] !== "/")) {
        if (pj + 1 < p.text.length) go(i, 0, j, pj + 1);
        else go(i, 0, j + 1, 0);
      }
      return;
    }
    if (c === undefined || p === undefined) return;
    if (c.kind === "lit" && p.kind === "lit") {
      const a = c.text.slice(ci);
      const b = p.text.slice(pj);
      const n = Math.min(a.length, b.length);
      if (a.slice(0, n) !== b.slice(0, n)) return;
      go(n === a.length ? i + 1 : i, n === a.length ? 0 : ci + n, n === b.length ? j + 1 : j, n === b.length ? 0 : pj + n);
      return;
    }
    if (c.kind === "var" && p.kind === "var") {
      if (ci !== 0 || pj !== 0) return;
      const prev = on.get(p.key);
      const prevC = reverse.get(c.key);
      if ((prev !== undefined && prev !== c.key) || (prevC !== undefined && prevC !== p.key)) return;
      on.set(p.key, c.key);
      reverse.set(c.key, p.key);
      const loose = splits(consumer[i - 1], p.key) || splits(consumer[i + 1], p.key);
      if (loose) partial++;
      go(i + 1, 0, j + 1, 0);
      if (loose) partial--;
      if (prev === undefined) {
        on.delete(p.key);
        reverse.delete(c.key);
      }
      return;
    }
    // A variable against literal text: it must take one of its values as a prefix.
    const [varKey, text, fixed, sets] =
      c.kind === "var"
        ? [c.key, (p as { text: string }).text.slice(pj), when, cSets]
        : [(p as { key: string }).key, (c as { text: string }).text.slice(ci), where, pSets];
    if (c.kind === "var" ? ci !== 0 : pj !== 0) return;
    const test = sets.get(varKey);
    for (let n = 1; n <= text.length; n++) {
      const value = text.slice(0, n);
      if (test !== undefined && !test(value)) continue;
      const prev = fixed.get(varKey);
      if (prev !== undefined && prev !== value) continue;
      fixed.set(varKey, value);
      // A producer variable fixed to text that starts right after a wildcard, or ends right before one.
      const loose =
        c.kind !== "var" && ((ci === 0 && splits(consumer[i - 1], varKey)) || (n === text.length && splits(consumer[i + 1], varKey)));
      if (loose) partial++;
      if (c.kind === "var") go(i + 1, 0, n === text.length ? j + 1 : j, n === text.length ? 0 : pj + n);
      else go(n === text.length ? i + 1 : i, n === text.length ? 0 : ci + n, j + 1, 0);
      if (loose) partial--;
      if (prev === undefined) fixed.delete(varKey);
    }
  };
  go(0, 0, 0, 0);
  return solutions;
}

function sameSpace(a: FanOut, b: FanOut): boolean {
  if (a.size !== b.size || a.vars.length !== b.vars.length || a.zip.join() !== b.zip.join()) return false;
  return a.vars.every((v, i) => {
    const w = b.vars[i]!;
    if (v.name !== w.name || varSize(v.values) !== varSize(w.values)) return false;
    for (let k = 0; k < varSize(v.values); k++) if (String(varValue(v.values, k)) !== String(varValue(w.values, k))) return false;
    return true;
  });
}

export interface DerivedEdge {
  readonly edge: ElementEdge;
  /** Why this kind, for `--explain`. */
  readonly why: string;
}

/** Two dynamic sources that expand alike: the same producer output, the same variables. */
function sameSource(a: DynamicSource | undefined, b: DynamicSource | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.kind === b.kind &&
    a.producer === b.producer &&
    a.output === b.output &&
    a.vars.join() === b.vars.join() &&
    a.per.join() === b.per.join()
  );
}

/**
 * The element-level edge for one producer output feeding one consumer
 * input. Where a side has values known only at run time (a dynamic space, a
 * pattern output), no element map can be listed now: the edge is
 * `one-to-one` between equal spaces, a `match` (on the producer's static
 * variables only, into a static consumer), or else `all`, never `map`.
 */
export function deriveElementEdge(
  workflow: Workflow,
  producer: Stage,
  output: PathDecl,
  consumer: Stage,
  input: PathDecl,
  dynamic: ReadonlyMap<string, DynamicSource> = new Map(),
): DerivedEdge {
  const c = tokens(input, workflow, consumer, true);
  const p = tokens(output, workflow, producer, false);
  const solutions = unify(c, p, valueSets(consumer.fanout), valueSets(producer.fanout), splitsOf(producer.fanout));
  const partial = solutions.some((s) => s.partial);
  const pSource = dynamic.get(producer.name);
  const cSource = dynamic.get(consumer.name);
  // Variables of the producer with no values now: its run-time ones, the ones its job decides.
  const pLate = new Set([...producer.fanout.dynamic.map((v) => v.name), ...producer.decides.map((d) => d.name)]);
  const late = pLate.size > 0 || consumer.fanout.dynamic.length > 0;
  const barrier = (why: string): DerivedEdge => ({ edge: { kind: "all" }, why });
  if (solutions.length === 1 && !partial && late) {
    const s = solutions[0]!;
    const pairs = [...s.on].sort(([a], [b]) => (a < b ? -1 : 1));
    const touchesLate = pairs.some(([a]) => pLate.has(a)) || Object.keys(Object.fromEntries(s.where)).some((k) => pLate.has(k));
    if (cSource === undefined && touchesLate) {
      return barrier(
        `\`${producer.name}\`'s elements are known only at run time, so every element of \`${consumer.name}\` waits for all of them`,
      );
    }
    const all = [...producer.fanout.vars, ...producer.fanout.dynamic];
    const identity =
      s.where.size === 0 &&
      s.when.size === 0 &&
      pairs.length === all.length &&
      pairs.every(([a, b]) => a === b) &&
      sameSpace(producer.fanout, consumer.fanout) &&
      sameSource(pSource, cSource) &&
      !producer.decides.length;
    if (identity)
      return {
        edge: { kind: "one-to-one" },
        why: `element i of \`${consumer.name}\` reads what element i of \`${producer.name}\` writes (both expand alike at run time)`,
      };
    if (pairs.length === 0 && s.where.size === 0 && s.when.size === 0) {
      return barrier(`every element of \`${consumer.name}\` reads every output of \`${producer.name}\``);
    }
    return {
      edge: { kind: "match", on: pairs, where: Object.fromEntries([...s.where].sort()), when: Object.fromEntries([...s.when].sort()) },
      why:
        pairs.length > 0
          ? `elements are matched on ${pairs.map(([a, b]) => (a === b ? `\`${a}\`` : `\`${a}\` = \`${b}\``)).join(", ")}${late ? " (values known at run time included)" : ""}`
          : "elements are matched on fixed values",
    };
  }
  if (late)
    return barrier(
      "the templates do not line up variable by variable and some values are known only at run time, so it is a barrier (conservative)",
    );
  if (solutions.length === 1 && !partial) {
    const s = solutions[0]!;
    const pairs = [...s.on].sort(([a], [b]) => (a < b ? -1 : 1));
    const identity =
      s.where.size === 0 &&
      s.when.size === 0 &&
      pairs.length === producer.fanout.vars.length &&
      pairs.every(([a, b]) => a === b) &&
      sameSpace(producer.fanout, consumer.fanout);
    if (identity)
      return { edge: { kind: "one-to-one" }, why: `element i of \`${consumer.name}\` reads what element i of \`${producer.name}\` writes` };
    if (pairs.length === 0 && s.where.size === 0 && s.when.size === 0) {
      return { edge: { kind: "all" }, why: `every element of \`${consumer.name}\` reads every output of \`${producer.name}\`` };
    }
    return {
      edge: { kind: "match", on: pairs, where: Object.fromEntries([...s.where].sort()), when: Object.fromEntries([...s.when].sort()) },
      why:
        pairs.length > 0
          ? `elements are matched on ${pairs.map(([a, b]) => (a === b ? `\`${a}\`` : `\`${a}\` = \`${b}\``)).join(", ")}`
          : "elements are matched on fixed values",
    };
  }
  const map = concreteMap(workflow, producer, output, consumer, input);
  if (map !== undefined) {
    return {
      edge: map,
      why:
        solutions.length === 0
          ? "the templates do not line up variable by variable, so the element map is listed"
          : partial
            ? "a glob wildcard may take part of a variable's value, so the element map is listed"
            : "the templates line up in more than one way, so the element map is listed",
    };
  }
  return {
    edge: { kind: "all" },
    why: "the templates do not line up and the fan-out is too large to list, so it is a barrier (conservative)",
  };
}

function concreteMap(workflow: Workflow, producer: Stage, output: PathDecl, consumer: Stage, input: PathDecl): ElementEdge | undefined {
  const cost = input.glob ? producer.fanout.size * consumer.fanout.size : producer.fanout.size + consumer.fanout.size;
  if (cost > MAP_BUDGET) return undefined;
  const byPath = new Map<string, number[]>();
  const written: [string, number][] = [];
  let k = 0;
  forEachElement(producer.fanout, (b) => {
    const path = expandPath(output.template, b, workflow.params, producer.name);
    if (path !== undefined) {
      written.push([path, k]);
      const list = byPath.get(path);
      if (list) list.push(k);
      else byPath.set(path, [k]);
    }
    k++;
  });
  const offsets = [0];
  const indices: number[] = [];
  forEachElement(consumer.fanout, (b) => {
    const path = expandPath(input.template, b, workflow.params, consumer.name);
    if (path !== undefined) {
      if (!input.glob) indices.push(...(byPath.get(path) ?? []));
      else {
        const matches = globMatcher(path);
        for (const [w, index] of written) if (matches(w)) indices.push(index);
      }
    }
    offsets.push(indices.length);
  });
  return { kind: "map", offsets, indices };
}
