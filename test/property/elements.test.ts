/**
 * The one element numbering (contract/elements.ts), compiler against
 * runtime: for random index spaces (lists, ranges, list params, sample
 * sheets; crossed, or zipped in any order), the compiler's element walk
 * (forEachElement, the order its element edges and checks count in) and
 * its path expansion equal, element by element, what the runtime reads from
 * the compiled plan: ElementSpace.bindings(i) and the Expander's paths. And
 * through an element edge: a stage gathering some of the first stage's
 * outputs with a glob gets, from the compiled plan, exactly the outputs its
 * glob names, so the compiler's edge numbers the runtime's elements.
 *
 * The gathering globs are chosen so that the compiler lists some edges as
 * element maps (`out/{a}*.txt`: the `*` may take part of another value),
 * which name producer elements by the compiler's numbers.
 *
 * fast-check prints the seed and the shrunk counterexample on failure; rerun
 * one with `fc.assert(..., { seed, path })`.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { compileFile } from "../../compiler/compile.js";
import { expandPath, forEachElement } from "../../compiler/lower/elements.js";
import { validateFile } from "../../compiler/validate.js";
import { ElementSpace, type Binding } from "../../contract/elements.js";
import { globMatcher } from "../../contract/glob.js";
import type { Plan } from "../../contract/plan.js";
import { Expander } from "../../runtime/jobs/expand.js";
import { fixture } from "../e2e/helpers.js";

// ---------------------------------------------------------------------------
// Generators: a `foreach` of one to three variables, each a list, a range, a
// list param or a sample sheet, with distinct values so every element writes
// its own output.

type VarSpec =
  | { readonly name: string; readonly kind: "list" | "param"; readonly items: readonly (string | number)[] }
  | { readonly name: string; readonly kind: "range"; readonly start: number; readonly stop: number; readonly step: number }
  | { readonly name: string; readonly kind: "sheet"; readonly keys: readonly string[]; readonly cells: readonly string[] };

interface SpaceSpec {
  readonly vars: readonly VarSpec[];
  readonly zip: readonly string[];
  /** What `use` gathers for its value `{X}` of the first variable (a glob a wildcard of which may take part of a value gets a listed element map). */
  readonly gather: (typeof GATHER)[number];
}

const GATHER = ["{X}_*", "{X}*", "*{X}*"] as const;

/** A value: no `_` (the outputs' separator) and no glob syntax. */
const word = fc.stringMatching(/^[a-d0-9]{1,3}$/);
const item = fc.oneof(word, fc.integer({ min: -20, max: 20 }));
const items = (size: number) => fc.uniqueArray(item, { minLength: size, maxLength: size, selector: String });

function varSpec(name: string, size: number): fc.Arbitrary<VarSpec> {
  return fc.oneof(
    items(size).map((values): VarSpec => ({ name, kind: "list", items: values })),
    items(size).map((values): VarSpec => ({ name, kind: "param", items: values })),
    fc
      .record({ start: fc.integer({ min: -5, max: 5 }), step: fc.constantFrom(1, 2, 3, -1, -2) })
      .map(({ start, step }): VarSpec => ({ name, kind: "range", start, stop: start + size * step, step })),
    fc
      .tuple(
        fc.uniqueArray(word, { minLength: size, maxLength: size }),
        fc.array(fc.stringMatching(/^[a-z ]{0,4}$/), { minLength: size, maxLength: size }),
      )
      .map(([keys, cells]): VarSpec => ({ name, kind: "sheet", keys, cells })),
  );
}

/** Variables `a`, `b`, `c` in a random order; those marked zipped (two or more) share one size and are zipped, listed in any order. */
const space: fc.Arbitrary<SpaceSpec> = fc
  .integer({ min: 1, max: 3 })
  .chain((n) =>
    fc.record({
      names: fc.shuffledSubarray(["a", "b", "c"], { minLength: n, maxLength: n }),
      sizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: n, maxLength: n }),
      zipped: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      reverseZip: fc.boolean(),
      gather: fc.constantFrom(...(n > 1 ? GATHER : GATHER.slice(1))),
    }),
  )
  .chain(({ names, sizes, zipped, reverseZip, gather }) => {
    const marked = names.filter((_, i) => zipped[i]);
    const zip = marked.length >= 2 ? marked : [];
    const zipSize = zip.length > 0 ? sizes[names.indexOf(zip[0]!)]! : 0;
    return fc
      .tuple(...names.map((name, i) => varSpec(name, zip.includes(name) ? zipSize : sizes[i]!)))
      .map((vars): SpaceSpec => ({ vars, zip: reverseZip ? [...zip].reverse() : zip, gather }));
  });

// ---------------------------------------------------------------------------
// The workflow: `make` writes one output per element; `use` fans out over
// `make`'s first variable and gathers outputs that value's glob names.

function workflowFiles(spec: SpaceSpec): Record<string, unknown> {
  const files: Record<string, unknown> = {};
  const params: Record<string, unknown> = {};
  const sourceOf = (v: VarSpec): unknown => {
    switch (v.kind) {
      case "list":
        return v.items;
      case "param":
        params[`p_${v.name}`] = v.items;
        return `{params.p_${v.name}}`;
      case "range":
        return { range: [v.start, v.stop, v.step] };
      case "sheet":
        files[`s_${v.name}.tsv`] = ["id\tcol", ...v.keys.map((k, i) => `${k}\t${v.cells[i]}`)].join("\n") + "\n";
        return { sheet: `s_${v.name}.tsv`, key: "id" };
    }
  };
  const foreach = Object.fromEntries(spec.vars.map((v) => [v.name, sourceOf(v)]));
  const first = spec.vars[0]!;
  const output = `out/${spec.vars.map((v) => `{${v.name}}`).join("_")}.txt`;
  const gather = `out/${spec.gather.replace("X", first.name)}.txt`;
  files["wf.yaml"] = {
    wfc: 1,
    ...(Object.keys(params).length > 0 ? { params } : {}),
    stages: {
      make: { foreach, ...(spec.zip.length > 0 ? { zip: spec.zip } : {}), outputs: output, run: "true" },
      use: { foreach: { [first.name]: sourceOf(first) }, inputs: gather, outputs: `used/{${first.name}}`, run: "true" },
    },
  };
  return files;
}

/** A binding as data, for comparing: the value, and the sheet row's cells. */
function shown(bindings: ReadonlyMap<string, Binding>): Record<string, unknown> {
  return Object.fromEntries(
    [...bindings]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, b]) => [name, { value: b.value, row: b.row && Object.fromEntries(b.row) }]),
  );
}

function taskOf(plan: Plan, stage: string): number {
  return plan.tasks.findIndex((t) => t.steps.some((s) => s.stage === stage));
}

describe("compile-time element order = run-time element order (contract/elements.ts)", () => {
  test("for random index spaces, the compiler's walk and paths equal the runtime's element by element, and gathering through the plan's edge finds exactly the glob's outputs", async () => {
    await fc.assert(
      fc.asyncProperty(space, async (spec) => {
        const dir = fixture(workflowFiles(spec));
        try {
          const file = join(dir, "wf.yaml");
          const validated = await validateFile(file);
          const compiled = await compileFile(file, { planPath: join(dir, "plan.json") });
          expect(compiled.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
          const { workflow } = validated.validated!;
          const plan = compiled.plan!;

          // The compiler's walk of `make`, with its output path per element.
          const make = workflow.stages.get("make")!;
          const compilerSide: { bindings: Record<string, unknown>; path: string | undefined }[] = [];
          forEachElement(make.fanout, (b) =>
            compilerSide.push({ bindings: shown(b), path: expandPath(make.outputs[0]!.template, b, workflow.params, "make") }),
          );

          // The runtime's reading of the plan: element i's bindings and the Expander's output path.
          const t = taskOf(plan, "make");
          const task = plan.tasks[t]!;
          const step = task.steps.find((s) => s.stage === "make")!;
          const elements = new ElementSpace(task.space);
          const expander = new Expander(plan, dir);
          const runtimeSide: { bindings: Record<string, unknown>; path: string | undefined }[] = [];
          for (let i = 0; i < task.space.size; i++) {
            const command = await expander.step(t, step, i);
            runtimeSide.push({ bindings: shown(elements.bindings(i)), path: command.outputs[0]!.paths[0] });
          }
          expect(runtimeSide).toEqual(compilerSide);
          const visited: number[] = [];
          elements.forEach((_, i) => visited.push(i));
          expect(visited).toEqual([...Array(task.space.size).keys()]);

          // `use` gathers through the plan's element edge: exactly the outputs its glob names.
          const u = taskOf(plan, "use");
          const useTask = plan.tasks[u]!;
          const useStep = useTask.steps.find((s) => s.stage === "use")!;
          const useElements = new ElementSpace(useTask.space);
          const written = runtimeSide.map((r) => r.path!);
          const first = spec.vars[0]!.name;
          for (let j = 0; j < useTask.space.size; j++) {
            const command = await expander.step(u, useStep, j);
            const value = useElements.value(j, first)!;
            const wanted = written.filter(globMatcher(`out/${spec.gather.replace("{X}", value)}.txt`)).sort();
            expect(command.inputs[0]!.paths).toEqual(wanted);
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 150 },
    );
  });
});
