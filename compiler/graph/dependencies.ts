import type { DynamicVar, NameRef, PathDecl, Stage, Workflow } from "../lower/ast.js";
import { expandPath, forEachElement } from "../lower/elements.js";
import { globMatcher } from "../../contract/glob.js";
import { intersects, literalPrefix, toPattern, type Pattern } from "./pattern.js";

/** Why stage `to` waits for stage `from`. */
export type StageEdge =
  | { readonly kind: "data"; readonly from: string; readonly to: string; readonly output: PathDecl; readonly input: PathDecl }
  | { readonly kind: "after"; readonly from: string; readonly to: string; readonly ref: NameRef }
  /** `to` fans out over values `from`'s job decides or writes (`{ from: STAGE }`, a produced `lines` file): graph/dynamic.ts. */
  | { readonly kind: "expand"; readonly from: string; readonly to: string; readonly variable: DynamicVar };

/** Above this many template expansions, trust the symbolic answer instead of enumerating elements. */
const CONCRETE_BUDGET = 200_000;

interface OutputEntry {
  readonly stage: Stage;
  readonly decl: PathDecl;
  readonly pattern: Pattern;
  readonly prefix: string;
}

/**
 * An index of every output template by its literal prefix, so that matching
 * an input against 10,000 stages' outputs looks at a handful of candidates.
 * `declsOf` picks other paths to index instead (the logs, for their checks).
 */
export class OutputIndex {
  readonly #byPrefix = new Map<string, OutputEntry[]>();
  readonly #sorted: OutputEntry[];
  /** The distinct prefix lengths, so a lookup tries only those. */
  readonly #lengths: number[];

  constructor(
    readonly workflow: Workflow,
    declsOf: (stage: Stage) => readonly PathDecl[] = (stage) => stage.outputs,
  ) {
    const entries: OutputEntry[] = [];
    for (const stage of workflow.stages.values()) {
      for (const decl of declsOf(stage)) {
        const pattern = toPattern(decl.template, workflow.params, false, oneSegment(stage));
        const entry = { stage, decl, pattern, prefix: literalPrefix(pattern) };
        entries.push(entry);
        const list = this.#byPrefix.get(entry.prefix);
        if (list) list.push(entry);
        else this.#byPrefix.set(entry.prefix, [entry]);
      }
    }
    this.#lengths = [...new Set(entries.map((e) => e.prefix.length))].sort((a, b) => a - b);
    this.#sorted = entries.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  }

  get entries(): readonly OutputEntry[] {
    return this.#sorted;
  }

  /** Outputs whose literal prefix is compatible with `prefix` (one is a prefix of the other). */
  candidates(prefix: string): OutputEntry[] {
    const out: OutputEntry[] = [];
    for (const k of this.#lengths) {
      if (k >= prefix.length) break;
      const list = this.#byPrefix.get(prefix.slice(0, k));
      if (list) for (const e of list) out.push(e);
    }
    // Entries starting with `prefix` are contiguous in sorted order.
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#sorted[mid]!.prefix < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.#sorted.length && this.#sorted[i]!.prefix.startsWith(prefix); i++) out.push(this.#sorted[i]!);
    return out;
  }
}

/**
 * Whether a template names a variable known only at run time: a consumer's
 * dynamic variable or a decided one. Its paths cannot be listed now, so a
 * match with it is judged on the patterns alone (conservatively: an extra
 * dependency waits longer, a missing one reads a file before it is written).
 */
function hasLateVars(stage: Stage, decl: PathDecl): boolean {
  const late = new Set([...stage.fanout.dynamic.map((v) => v.name), ...stage.decides.map((d) => d.name)]);
  return late.size > 0 && decl.template.parts.some((p) => p.kind === "ref" && late.has(p.root));
}

/**
 * A stage's variables whose every value lies within one path segment: the
 * ones its job decides (a hole never matches `/`), and its own that take
 * them (`{ from: STAGE }`); a `lines` value may be any text.
 */
export function oneSegment(stage: Stage): Set<string> {
  return new Set([...stage.decides.map((d) => d.name), ...stage.fanout.dynamic.filter((v) => v.source.kind === "from").map((v) => v.name)]);
}

/** Every concrete path a stage's output template names, or undefined if too many to list. */
function concreteOutputs(workflow: Workflow, stage: Stage, decl: PathDecl, budget: number): string[] | undefined {
  if (stage.fanout.size > budget || hasLateVars(stage, decl)) return undefined;
  const out: string[] = [];
  forEachElement(stage.fanout, (b) => {
    const p = expandPath(decl.template, b, workflow.params, stage.name);
    if (p !== undefined) out.push(p);
  });
  return out;
}

/** Whether some element of `consumer` reads a file some element of `producer` writes (yes when it cannot be told now). */
export function confirmRead(workflow: Workflow, producer: Stage, output: PathDecl, consumer: Stage, input: PathDecl): boolean {
  const cost = input.glob ? producer.fanout.size * consumer.fanout.size : producer.fanout.size + consumer.fanout.size;
  if (cost > CONCRETE_BUDGET || hasLateVars(consumer, input)) return true;
  if (hasLateVars(producer, output)) {
    // A pattern against the paths the consumer reads; against a glob, the symbolic answer.
    if (input.glob) return true;
    const matchers = lateMatchers(workflow, producer, output, CONCRETE_BUDGET);
    if (matchers === undefined || matchers.length * consumer.fanout.size > CONCRETE_BUDGET) return true;
    let read = false;
    forEachElement(consumer.fanout, (b) => {
      const path = read ? undefined : expandPath(input.template, b, workflow.params, consumer.name);
      if (path !== undefined && matchers.some((m) => m(path))) read = true;
    });
    return read;
  }
  const written = concreteOutputs(workflow, producer, output, CONCRETE_BUDGET);
  if (written === undefined) return true;
  const set = new Set(written);
  let found = false;
  forEachElement(consumer.fanout, (b) => {
    if (found) return;
    const path = expandPath(input.template, b, workflow.params, consumer.name);
    if (path === undefined) return;
    if (!input.glob) found = set.has(path);
    else {
      const matches = globMatcher(path);
      found = written.some(matches);
    }
  });
  return found;
}

/** Stage-level dependencies: inferred from outputs → inputs, plus `after`. */
export function inferDependencies(workflow: Workflow, index = new OutputIndex(workflow)): StageEdge[] {
  const edges: StageEdge[] = [];
  for (const consumer of workflow.stages.values()) {
    for (const ref of consumer.after) {
      if (workflow.stages.has(ref.name)) edges.push({ kind: "after", from: ref.name, to: consumer.name, ref });
    }
    for (const input of consumer.inputs) {
      const pattern = toPattern(input.template, workflow.params, true, oneSegment(consumer));
      const seen = new Set<string>();
      for (const entry of index.candidates(literalPrefix(pattern))) {
        const key = `${entry.stage.name}\u0000${entry.decl.template.source}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (!intersects(pattern, entry.pattern)) continue;
        if (!confirmRead(workflow, entry.stage, entry.decl, consumer, input)) continue;
        edges.push({ kind: "data", from: entry.stage.name, to: consumer.name, output: entry.decl, input });
      }
    }
  }
  return edges;
}

/** Pairs of output templates of different stages that name the same file. */
export function findOutputCollisions(workflow: Workflow, index: OutputIndex): [OutputEntry, OutputEntry][] {
  const collisions: [OutputEntry, OutputEntry][] = [];
  const order = new Map([...workflow.stages.keys()].map((name, i) => [name, i]));
  for (const entry of index.entries) {
    for (const other of index.candidates(entry.prefix)) {
      if (other.stage === entry.stage) continue;
      // Visit each pair once, reported on the stage that comes later in the file.
      if (order.get(other.stage.name)! >= order.get(entry.stage.name)!) continue;
      if (!intersects(entry.pattern, other.pattern)) continue;
      if (!confirmCollision(workflow, other, entry)) continue;
      collisions.push([other, entry]);
    }
  }
  return collisions;
}

/**
 * Log templates that name a file another log or an output names, for some
 * elements: `other` is a log (each pair once, `log` the later one in the
 * file) or an output, of any stage, this one too; in the order of the file.
 * A log and an output cannot be one file (a failure keeps the one and removes
 * the other), nor can two jobs share a log (their words would mix); a log
 * template that two elements of its own stage share is WFC207's instead.
 */
export function findLogCollisions(
  workflow: Workflow,
  outputs: OutputIndex,
  logs: OutputIndex,
): { readonly log: OutputEntry; readonly other: OutputEntry; readonly otherIs: "log" | "output" }[] {
  const found: { log: OutputEntry; other: OutputEntry; otherIs: "log" | "output" }[] = [];
  // Logs in the order of the file: stages, then each stage's logs.
  const rank = new Map([...workflow.stages.values()].flatMap((s) => s.logs).map((decl, i) => [decl, i]));
  const clash = (a: OutputEntry, b: OutputEntry) => intersects(a.pattern, b.pattern) && confirmCollision(workflow, a, b);
  for (const log of logs.entries) {
    for (const other of logs.candidates(log.prefix)) {
      if (other.decl === log.decl || rank.get(other.decl)! > rank.get(log.decl)!) continue;
      if (clash(other, log)) found.push({ log, other, otherIs: "log" });
    }
    for (const output of outputs.candidates(log.prefix)) if (clash(output, log)) found.push({ log, other: output, otherIs: "output" });
  }
  return found.sort((a, b) => rank.get(a.log.decl)! - rank.get(b.log.decl)!);
}

/** Stands for a value known only at run time in an expanded path: never in a real one. */
const HOLE = "\u0000";
const LONG_HOLE = "\u0001";

/**
 * For an output with values known only at run time: one matcher per
 * element, its static values filled in and each late variable matching what
 * it may (within one segment, or any text for a `lines` value); undefined if
 * too many to list.
 */
function lateMatchers(workflow: Workflow, stage: Stage, decl: PathDecl, budget: number): ((path: string) => boolean)[] | undefined {
  if (stage.fanout.size > budget) return undefined;
  const segment = oneSegment(stage);
  const late = [...stage.decides.map((d) => d.name), ...stage.fanout.dynamic.map((v) => v.name)];
  const out: ((path: string) => boolean)[] = [];
  forEachElement(stage.fanout, (b) => {
    const bindings = new Map(b);
    for (const name of late) if (!bindings.has(name)) bindings.set(name, { value: segment.has(name) ? HOLE : LONG_HOLE });
    const path = expandPath(decl.template, bindings, workflow.params, stage.name);
    if (path === undefined) return;
    let source = "";
    for (const c of path) source += c === HOLE ? "[^/]+" : c === LONG_HOLE ? ".+" : c.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
    const regex = new RegExp(`^${source}$`, "u");
    out.push((p) => regex.test(p));
  });
  return out;
}

function confirmCollision(workflow: Workflow, a: OutputEntry, b: OutputEntry): boolean {
  if (a.stage.fanout.size + b.stage.fanout.size > CONCRETE_BUDGET) return true;
  const [lateA, lateB] = [hasLateVars(a.stage, a.decl), hasLateVars(b.stage, b.decl)];
  // Two patterns: the symbolic answer. One pattern: its matchers against the other's paths.
  if (lateA && lateB) return true;
  if (lateA || lateB) {
    const [pattern, fixed] = lateA ? [a, b] : [b, a];
    const matchers = lateMatchers(workflow, pattern.stage, pattern.decl, CONCRETE_BUDGET);
    const paths = concreteOutputs(workflow, fixed.stage, fixed.decl, CONCRETE_BUDGET);
    if (matchers === undefined || paths === undefined || matchers.length * paths.length > CONCRETE_BUDGET) return true;
    return paths.some((p) => matchers.some((m) => m(p)));
  }
  const left = new Set(concreteOutputs(workflow, a.stage, a.decl, CONCRETE_BUDGET));
  return (concreteOutputs(workflow, b.stage, b.decl, CONCRETE_BUDGET) ?? []).some((p) => left.has(p));
}
