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
import type { ElementSpace } from "../../contract/elements.js";
import { expandPath } from "../../contract/template.js";
import { globMatcher, walkGlob } from "../../contract/glob.js";
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
  spaces: readonly ElementSpace[],
  taskIndex: ReadonlyMap<string, number>,
  task: number,
  step: PlanStep,
  index: number,
  workdir: string,
  signal: AbortSignal | undefined,
): Promise<StaleInputs | undefined> {
  const input = step.inputs[index]!;
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
  for (const glob of [...globs].sort()) {
    const matches = globMatcher(glob);
    for (const found of await walkGlob(glob, workdir, signal)) {
      const path = found.endsWith("/") ? found.slice(0, -1) : found;
      if (!written.has(path) && matches(path)) stale.add(path);
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
