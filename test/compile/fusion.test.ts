import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { compileDocument } from "../../compiler/compile.js";
import type { Plan } from "../../contract/plan.js";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import { stringify } from "yaml";

async function compileData(data: unknown): Promise<Plan> {
  const doc = parseSource(new SourceFile("/tmp/wfc-fusion/wf.yaml", stringify(data)), "yaml");
  const result = await compileDocument(doc);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.plan!;
}

const step = (inputs: string | undefined, output: string, extra: Record<string, unknown> = {}) => ({
  foreach: { i: { range: [0, 3] } },
  ...(inputs === undefined ? {} : { inputs }),
  outputs: output,
  run: "cp {inputs} {outputs}",
  ...extra,
});

describe("fusion", () => {
  test("a one-to-one chain on one executor becomes one task that runs the stages in order", async () => {
    const plan = await compileData({
      wfc: 1,
      stages: { a: { ...step(undefined, "a/{i}"), run: "touch {outputs}" }, b: step("a/{i}", "b/{i}"), c: step("b/{i}", "c/{i}") },
    });
    expect(plan.tasks.map((t) => [t.id, t.stages, t.jobs])).toEqual([["a+b+c", ["a", "b", "c"], 3]]);
    expect(plan.tasks[0]!.steps[2]!.inputs[0]!.from).toEqual([{ task: "a+b+c", step: "b", output: 0 }]);
  });

  test.each([
    ["`fuse: false`", { fuse: false }],
    ["a different executor", { executor: "threads" }],
    ["different resources", { cpus: 2 }],
    ["a different limit", { limit: 2 }],
  ])("%s keeps stages apart", async (_, extra) => {
    const plan = await compileData({
      wfc: 1,
      stages: { a: { ...step(undefined, "a/{i}"), run: "touch {outputs}" }, b: step("a/{i}", "b/{i}", extra) },
    });
    expect(plan.tasks.map((t) => t.id)).toEqual(["a", "b"]);
  });

  test("a producer that feeds two stages is not fused into either", async () => {
    const plan = await compileData({
      wfc: 1,
      stages: { a: { ...step(undefined, "a/{i}"), run: "touch {outputs}" }, b: step("a/{i}", "b/{i}"), c: step("a/{i}", "c/{i}") },
    });
    expect(plan.tasks.map((t) => t.id)).toEqual(["a", "b", "c"]);
  });

  test("batching packs elements into jobs without multiplying resources", async () => {
    const plan = await compileData({
      wfc: 1,
      stages: { a: { foreach: { i: { range: [0, 10] } }, outputs: "a/{i}", run: "touch {outputs}", batch: 4, cpus: 2, mem: "1G" } },
    });
    expect(plan.tasks[0]).toMatchObject({ jobs: 3, batch: 4, resources: { cpus: 2, mem: 1024, time: null } });
  });

  test("property: fusion never changes which stages run or breaks an ordering constraint", async () => {
    // A random DAG: stage k reads from some earlier stages, element-wise or gathering.
    const dag = fc.array(
      fc.record({
        fanned: fc.boolean(),
        from: fc.uniqueArray(fc.nat({ max: 7 }), { maxLength: 2 }),
        gather: fc.boolean(),
        executor: fc.constantFrom("processes", "threads"),
        fuse: fc.boolean(),
      }),
      { minLength: 1, maxLength: 8 },
    );
    await fc.assert(
      fc.asyncProperty(dag, async (spec) => {
        const stages: Record<string, unknown> = {};
        const deps = new Map<string, string[]>();
        spec.forEach((s, k) => {
          const producers = s.from.filter((p) => p < k);
          const inputs = producers.map((p) =>
            spec[p]!.fanned && (s.gather || !s.fanned) ? `s${p}/*.txt` : spec[p]!.fanned ? `s${p}/{i}.txt` : `s${p}/one.txt`,
          );
          deps.set(
            `s${k}`,
            producers.map((p) => `s${p}`),
          );
          stages[`s${k}`] = {
            ...(s.fanned ? { foreach: { i: { range: [0, 3] } } } : {}),
            ...(inputs.length > 0 ? { inputs } : {}),
            outputs: s.fanned ? `s${k}/{i}.txt` : `s${k}/one.txt`,
            run: inputs.length > 0 ? "cat {inputs} > {outputs}" : "touch {outputs}",
            executor: s.executor,
            fuse: s.fuse,
          };
        });
        const plan = await compileData({ wfc: 1, stages });
        const taskOf = new Map<string, number>();
        plan.tasks.forEach((t, i) => t.stages.forEach((s) => taskOf.set(s, i)));
        // Every stage runs, exactly once, with its own number of elements.
        expect([...taskOf.keys()].sort()).toEqual(Object.keys(stages).sort());
        expect(plan.tasks.flatMap((t) => t.stages)).toHaveLength(spec.length);
        for (const t of plan.tasks) {
          for (const s of t.stages) expect(t.space.size).toBe(spec[Number(s.slice(1))]!.fanned ? 3 : 1);
          expect(new Set(t.stages.map((s) => spec[Number(s.slice(1))]!.executor)).size).toBe(1);
        }
        // Every dependency holds: inside a task in step order, or as a task dependency on an earlier task.
        for (const [consumer, producers] of deps) {
          for (const producer of producers) {
            const a = taskOf.get(producer)!;
            const b = taskOf.get(consumer)!;
            if (a === b) {
              const order = plan.tasks[a]!.stages;
              expect(order.indexOf(producer)).toBeLessThan(order.indexOf(consumer));
            } else {
              expect(a).toBeLessThan(b);
              expect(plan.tasks[b]!.deps.map((d) => d.task)).toContain(plan.tasks[a]!.id);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
