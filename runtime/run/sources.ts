/**
 * Source files: the inputs no stage produces (`from` is empty in the plan).
 * Every one must exist before any job runs, and in a dry run: a sample
 * without its FASTQ is found now, with the stage and element that need it,
 * not mid-run after hours of work (Snakemake's MissingInputException).
 * A glob that finds nothing is not one of them (it may gather nothing, and
 * the compiler warns: WFC217).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ElementSpace, type Binding } from "../../contract/elements.js";
import type { Plan } from "../../contract/plan.js";
import { expandPath } from "../../contract/template.js";

export interface MissingSource {
  readonly path: string;
  /** The first stage (in plan order) that needs it, and that stage's element, as `sample=C`; empty for a stage without foreach. */
  readonly stage: string;
  readonly element: string;
  /** How many elements (of any stage) need it. */
  readonly neededBy: number;
}

/**
 * The source files that do not exist, in the order the plan first needs them. Each path is looked at once.
 * `only` (a partial run: select.ts) limits it to the steps that run: per task, per element, how many.
 */
export function missingSources(
  plan: Plan,
  workdir: string,
  only?: readonly (ArrayLike<number> | undefined)[],
  exists: (path: string) => boolean = (path) => existsSync(resolve(workdir, path)),
): MissingSource[] {
  const seen = new Map<string, { missing: boolean; first?: { stage: string; element: string }; count: number }>();
  const out: string[] = [];
  plan.tasks.forEach((task, t) => {
    const sources = task.steps.flatMap((step, s) => step.inputs.filter((i) => !i.glob && i.from.length === 0).map((i) => ({ step, s, i })));
    if (sources.length === 0) return;
    const runs = only?.[t];
    new ElementSpace(task.space).forEach((bindings, element) => {
      for (const { step, s, i } of sources) {
        if (runs !== undefined && s >= runs[element]!) continue;
        const path = expandPath(i.template, bindings, (name) => plan.params[name]);
        if (path === undefined) continue; // refused when the plan was loaded (check-plan.ts)
        let state = seen.get(path);
        if (state === undefined) {
          state = { missing: !exists(path), count: 0 };
          seen.set(path, state);
          if (state.missing) {
            state.first = { stage: step.stage, element: describeElement(bindings) };
            out.push(path);
          }
        }
        state.count++;
      }
    });
  });
  return out.map((path) => {
    const s = seen.get(path)!;
    return { path, stage: s.first!.stage, element: s.first!.element, neededBy: s.count };
  });
}

/** The one-line message of the RunError a run with missing source files stops with (exit 2, nothing run). */
export function missingSourcesMessage(missing: readonly MissingSource[], shown = 20): string {
  const each = missing.slice(0, shown).map((m) => {
    const who = `stage \`${m.stage}\`${m.element === "" ? "" : `, ${m.element}`}`;
    const more = m.neededBy > 1 ? ` and ${m.neededBy - 1} more element${m.neededBy === 2 ? "" : "s"}` : "";
    return `${JSON.stringify(m.path)} (needed by ${who}${more})`;
  });
  if (missing.length > shown) each.push(`and ${missing.length - shown} more`);
  const n = missing.length;
  return (
    `${n} input file${n === 1 ? " is" : "s are"} missing and no stage makes ${n === 1 ? "it" : "them"}: ${each.join(", ")}; ` +
    "add the files or fix the paths in the workflow (nothing was run)"
  );
}

function describeElement(bindings: ReadonlyMap<string, Binding>): string {
  // Values as JSON strings: a value may hold anything, and this goes to a terminal.
  return [...bindings].map(([name, b]) => `${name}=${JSON.stringify(String(b.value))}`).join(", ");
}
