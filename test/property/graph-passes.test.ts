/**
 * The compiler's graph passes against straightforward references on random
 * graphs: topological order, critical-path priorities, fusion's "A feeds
 * only B" rule and cycle detection.
 *
 * fast-check prints the seed and the shrunk counterexample on failure; rerun
 * one with `fc.assert(..., { seed, path })`.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { findCycles } from "../../compiler/graph/cycles.js";
import type { StageEdge } from "../../compiler/graph/dependencies.js";
import type { NameRef, Stage } from "../../compiler/lower/ast.js";
import { fuse } from "../../compiler/passes/fusion.js";
import { priorities } from "../../compiler/passes/priorities.js";
import { topologicalOrder, type DraftDep, type DraftTask } from "../../compiler/passes/tasks.js";

interface RandomGraph {
  readonly names: readonly string[];
  /** producer → consumer, possibly repeated (a pair with several dependencies). */
  readonly edges: readonly { readonly from: string; readonly to: string; readonly oneToOne: boolean }[];
  readonly expected: ReadonlyMap<string, number>;
}

/**
 * A random DAG: names in a shuffled order (so id order is not dependency
 * order), edges only from earlier to later in that order.
 */
const dag: fc.Arbitrary<RandomGraph> = fc
  .integer({ min: 1, max: 9 })
  .chain((n) =>
    fc.record({
      order: fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => `s${i}`),
        { minLength: n, maxLength: n },
      ),
      pairs: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1), fc.boolean()), { maxLength: 3 * n }),
      expected: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: n, maxLength: n }),
    }),
  )
  .map(({ order, pairs, expected }) => ({
    names: order,
    edges: pairs
      .filter(([a, b]) => a !== b)
      .map(([a, b, oneToOne]) => ({ from: order[Math.min(a, b)]!, to: order[Math.max(a, b)]!, oneToOne })),
    expected: new Map(order.map((name, i) => [name, expected[i]!])),
  }));

/** Just enough of a stage for the passes: one element, default settings. */
function fakeStage(name: string, expected: number): Stage {
  return {
    name,
    fanout: { size: 1 },
    limits: [],
    settings: { expected, batch: 1, fuse: true, cpus: 1, mem: undefined, time: undefined, retries: 0, timeout: undefined },
  } as unknown as Stage;
}

function tasksOf(g: RandomGraph): DraftTask[] {
  return [...g.names].sort().map((name) => ({
    id: name,
    stages: [fakeStage(name, g.expected.get(name)!)],
    deps: g.edges
      .filter((e) => e.to === name)
      .map((e): DraftDep => ({
        task: e.from,
        edge: e.oneToOne ? { kind: "one-to-one" } : { kind: "all" },
        input: e.oneToOne ? { step: name, index: 0 } : null,
        output: e.oneToOne ? { step: e.from, index: 0 } : null,
        why: "test",
      })),
  }));
}

const producersOf = (g: RandomGraph, name: string) => new Set(g.edges.filter((e) => e.to === name).map((e) => e.from));
const consumersOf = (g: RandomGraph, name: string) => new Set(g.edges.filter((e) => e.from === name).map((e) => e.to));

/** Kahn's algorithm the slow way: at each step, the smallest id whose producers are all placed. */
function referenceOrder(g: RandomGraph): string[] {
  const placed: string[] = [];
  while (placed.length < g.names.length) {
    const next = [...g.names].sort().find((n) => !placed.includes(n) && [...producersOf(g, n)].every((p) => placed.includes(p)));
    if (next === undefined) break;
    placed.push(next);
  }
  return placed;
}

/** The longest chain of expected seconds from a task to any end, by trying every path. */
function longestPath(g: RandomGraph, from: string): number {
  return g.expected.get(from)! + Math.max(0, ...[...consumersOf(g, from)].map((c) => longestPath(g, c)));
}

/** Whether `to` can be reached from `from` along one or more edges. */
function reaches(edges: readonly { from: string; to: string }[], from: string, to: string): boolean {
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length > 0) {
    const n = todo.pop()!;
    for (const e of edges)
      if (e.from === n && !seen.has(e.to)) {
        if (e.to === to) return true;
        seen.add(e.to);
        todo.push(e.to);
      }
  }
  return false;
}

describe("stage graph passes agree with straightforward references on random DAGs", () => {
  test("topological order lists every task once, respects every edge and breaks ties by id", () => {
    fc.assert(
      fc.property(dag, (g) => {
        const order = topologicalOrder(tasksOf(g)).map((t) => t.id);
        expect([...order].sort()).toEqual([...g.names].sort());
        for (const e of g.edges) expect(order.indexOf(e.from)).toBeLessThan(order.indexOf(e.to));
        expect(order).toEqual(referenceOrder(g));
      }),
    );
  });

  test("priorities equal the longest path of expected seconds, computed naively", () => {
    fc.assert(
      fc.property(dag, (g) => {
        const { priority } = priorities(topologicalOrder(tasksOf(g)));
        expect(Object.fromEntries(priority)).toEqual(Object.fromEntries(g.names.map((n) => [n, longestPath(g, n)])));
      }),
    );
  });

  test("fusion joins A → B exactly when every A → B dependency is one-to-one and A feeds only B", () => {
    fc.assert(
      fc.property(dag, (g) => {
        const { tasks, notes } = fuse(tasksOf(g));
        const fused = notes.flatMap((n) => {
          const m = /^`([^`]+)` → `([^`]+)` fused into/.exec(n.message);
          return m ? [`${m[1]}→${m[2]}`] : [];
        });
        const expected = g.edges
          .filter((e) => consumersOf(g, e.from).size === 1 && g.edges.filter((x) => x.from === e.from).every((x) => x.oneToOne))
          .map((e) => `${e.from}→${e.to}`);
        expect(fused.sort()).toEqual([...new Set(expected)].sort());

        // Every stage in one task; the fused graph keeps every path and gains no cycle.
        const taskOf = new Map(tasks.flatMap((t) => t.stages.map((s) => [s.name, t.id] as const)));
        expect([...taskOf.keys()].sort()).toEqual([...g.names].sort());
        const fusedEdges = tasks.flatMap((t) => t.deps.map((d) => ({ from: d.task, to: t.id })));
        for (const e of g.edges) {
          const [a, b] = [taskOf.get(e.from)!, taskOf.get(e.to)!];
          if (a !== b) expect(reaches(fusedEdges, a, b)).toBe(true);
        }
        for (const t of tasks) expect(reaches(fusedEdges, t.id, t.id)).toBe(false);
        expect(topologicalOrder(tasks)).toHaveLength(tasks.length);
      }),
    );
  });
});

describe("cycle detection on the stage graph", () => {
  const ref = (name: string): NameRef => ({ name, path: [] }) as unknown as NameRef;
  const graph = fc
    .integer({ min: 1, max: 7 })
    .chain((n) =>
      fc.record({
        names: fc.constant(Array.from({ length: n }, (_, i) => `s${i}`)),
        pairs: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 2 * n }),
      }),
    )
    .map(({ names, pairs }) => ({
      names,
      edges: pairs.map(([a, b]): StageEdge => ({ kind: "after", from: names[a]!, to: names[b]!, ref: ref(names[a]!) })),
    }));

  test("finds a cycle exactly when some stage reaches itself, and each trail is a closed walk along edges", () => {
    fc.assert(
      fc.property(graph, ({ names, edges }) => {
        const cycles = findCycles(names, edges);
        expect(cycles.length > 0).toBe(names.some((n) => reaches(edges, n, n)));
        for (const cycle of cycles) {
          for (const e of cycle) expect(edges).toContain(e);
          cycle.forEach((e, i) => expect(e.to).toBe(cycle[(i + 1) % cycle.length]!.from));
        }
      }),
    );
  });

  test("a random DAG has no cycle", () => {
    fc.assert(
      fc.property(dag, (g) => {
        const edges = g.edges.map((e): StageEdge => ({ kind: "after", from: e.from, to: e.to, ref: ref(e.from) }));
        expect(findCycles(g.names, edges)).toEqual([]);
      }),
    );
  });
});
