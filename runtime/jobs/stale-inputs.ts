/**
 * Files a gather leaves out. A gathering input fed by producer stages
 * (`PlanPath.from`) takes the paths those producers write in this run, not
 * what its glob finds on disk (expand.ts); a file on disk that matches the
 * glob but that no producer element of this run writes (left by an earlier
 * run with more samples, most likely) is not gathered. That is right, and
 * silent: this finds those files, once per input, so the run can say so.
 * They are never removed: wfc did not make them in this run.
 */
import type { Part, Plan, PlanStep } from "../../contract/plan.js";
import type { Binding } from "../../contract/elements.js";
import { expandPath } from "../../contract/template.js";
import { globMatcher } from "../../contract/glob.js";
import { globProblem } from "../../contract/paths.js";

/** The files on disk one gathering input matches but does not gather. */
export interface StaleInputs {
  readonly task: string;
  readonly stage: string;
  /** The input's name, or its position among the stage's inputs (from 0) when it has none. */
  readonly input: string | number;
  /** The input's glob as written (`{var}` for each placeholder), or as expanded when every element expands it alike. */
  readonly glob: string;
  /** The stages whose outputs feed it. */
  readonly producers: readonly string[];
  /** Every such file, sorted. */
  readonly paths: readonly string[];
}

/** How many files a warning names before it says how many more. */
const SHOWN = 5;

/**
 * Every file on disk that some element's expansion of `step.inputs[index]`
 * matches and no element of its producers writes in this run. One walk of
 * the disk per distinct expanded glob (a 100,000-element gather whose glob
 * has no placeholder walks once), one expansion per producer element.
 */
export async function findStaleInputs(
  plan: Plan,
  spaces: readonly { readonly size: number; bindings(i: number): ReadonlyMap<string, Binding> }[],
  taskIndex: ReadonlyMap<string, number>,
  task: number,
  step: PlanStep,
  index: number,
  /** Walks a glob under the workflow's folder, sorted (contract/glob.ts walkGlob, through the run's Mtimes). */
  walk: (glob: string) => Promise<string[]>,
): Promise<StaleInputs | undefined> {
  const input = step.inputs[index]!;
  // What a dynamic producer (or a pattern output) writes is known only as its elements end: the listing
  // after each producer element reports the files it did not write instead (runtime/run/expansion.ts).
  for (const from of input.from) {
    const producer = plan.tasks[taskIndex.get(from.task)!]!;
    if (producer.space.dynamic !== undefined || producer.steps.find((s) => s.stage === from.step)?.decides !== undefined) return undefined;
  }
  const params = (name: string) => plan.params[name];
  const globs = new Set<string>();
  const space = spaces[task]!;
  for (let e = 0; e < space.size; e++) {
    const glob = expandPath(input.template, space.bindings(e), params);
    // A glob that climbs out of the workflow's folder is refused when its job expands; nothing to walk here.
    if (glob !== undefined && globProblem(glob) === undefined) globs.add(glob);
  }
  const written = new Set<string>();
  const producers = new Set<string>();
  for (const from of input.from) {
    const p = taskIndex.get(from.task)!;
    const producer = plan.tasks[p]!.steps.find((s) => s.stage === from.step)!;
    producers.add(producer.stage);
    const template = producer.outputs[from.output]!.template;
    for (let k = 0; k < spaces[p]!.size; k++) {
      const path = expandPath(template, spaces[p]!.bindings(k), params);
      if (path === undefined) continue;
      written.add(path);
      // A `**` glob also matches the folders the outputs are written in: those are no leftovers.
      for (let slash = path.indexOf("/"); slash !== -1; slash = path.indexOf("/", slash + 1)) written.add(path.slice(0, slash));
    }
  }
  const stale = new Set<string>();
  const leftOut = (found: string) => {
    const path = found.endsWith("/") ? found.slice(0, -1) : found;
    return written.has(path) ? undefined : path;
  };
  // Many elements, each its own glob (`out/{sample}/*.bam`): one walk of the glob with `*` for each placeholder, which
  // finds what any of them would, then only what that finds and no producer writes is matched against each of them.
  const general = generalGlob(input.template);
  const sorted = [...globs].sort();
  if (sorted.length > ONE_WALK_ABOVE && general !== undefined && sorted.every(globMatcher(general))) {
    const candidates = (await walk(general)).flatMap((f) => leftOut(f) ?? []);
    if (candidates.length > 0) {
      const matchers = sorted.map((g) => globMatcher(g));
      for (const path of candidates) if (matchers.some((m) => m(path))) stale.add(path);
    }
  } else {
    for (const glob of sorted) {
      const matches = globMatcher(glob);
      for (const found of await walk(glob)) {
        const path = leftOut(found);
        if (path !== undefined && matches(path)) stale.add(path);
      }
    }
  }
  if (stale.size === 0) return undefined;
  return {
    task: plan.tasks[task]!.id,
    stage: step.stage,
    input: input.name ?? index,
    glob: globs.size === 1 ? [...globs][0]! : templateText(input.template),
    producers: [...producers].sort(),
    paths: [...stale].sort(),
  };
}

/** The warning, one line: which input, the first few files and how many, why they were left out, that they stay. */
export function staleInputsMessage(s: StaleInputs): string {
  const n = s.paths.length;
  const files = n === 1 ? "1 file" : `${n} files`;
  const shown = s.paths.slice(0, SHOWN).map((p) => JSON.stringify(p));
  const list = n > SHOWN ? `${shown.join(", ")} and ${n - SHOWN} more` : shown.join(", ");
  const input = typeof s.input === "string" ? `input \`${s.input}\`` : `input ${s.input + 1}`;
  const stages = s.producers.map((p) => `\`${p}\``).join(", ");
  const of = s.producers.length === 1 ? `stage ${stages}` : `stages ${stages}`;
  return (
    `stage \`${s.stage}\`: ${input} (${JSON.stringify(s.glob)}) did not gather ${files} on disk that ${n === 1 ? "matches" : "match"} it: ${list}; ` +
    `no element of ${of} writes ${n === 1 ? "it" : "them"} in this run (made by an earlier run with other elements of ${of}?). ` +
    `Left in place; remove ${n === 1 ? "it" : "them"} if no longer wanted`
  );
}

/** Above this many distinct globs, one walk of their generalisation replaces a walk each. */
const ONE_WALK_ABOVE = 16;

/**
 * The glob with a `*` for each placeholder (`out/{sample}/x.bam` becomes
 * `out/` `*` `/x.bam`), undefined when that cannot be a glob wfc walks.
 */
function generalGlob(parts: readonly Part[]): string | undefined {
  const glob = parts.map((p) => (typeof p === "string" ? p : "*")).join("");
  return globProblem(glob) === undefined ? glob : undefined;
}

/** A path template as written: text, and `{var}` (`{var.field}`) for each placeholder. */
function templateText(parts: readonly Part[]): string {
  return parts
    .map((p) =>
      typeof p === "string"
        ? p
        : "var" in p
          ? `{${p.var}${p.field !== undefined ? `.${p.field}` : ""}}`
          : "param" in p
            ? `{params.${p.param}}`
            : "{?}",
    )
    .join("");
}
