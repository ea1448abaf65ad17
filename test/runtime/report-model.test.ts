/**
 * The parts of `wfc report` that are computation, on synthetic inputs:
 * packing bars into rows, the critical path through element edges,
 * percentiles, identities shown decoded, and data embedded in a script.
 * The page itself is tested in a real browser (test/e2e/report.test.ts).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { ElementEdge, Plan } from "../../contract/plan.js";
import { criticalPath, type PathRecord } from "../../runtime/report/critical-path.js";
import { displayIdentity } from "../../runtime/report/display.js";
import { escapeHtml, jsonForScript } from "../../runtime/report/escape.js";
import { percentile } from "../../runtime/report/percentile.js";
import { packRows } from "../../runtime/report/rows.js";

describe("packRows", () => {
  test("bars in one row never overlap, and there are as many rows as bars ever ran at once", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 200 })), { maxLength: 200 }), (bars) => {
        const start = bars.map(([s]) => s);
        const end = bars.map(([s, d]) => s + d);
        const order = bars.map((_, i) => i).sort((a, b) => start[a]! - start[b]! || a - b);
        const { row, rows } = packRows(order, start, end);
        const byRow = new Map<number, number[]>();
        for (let i = 0; i < bars.length; i++) byRow.set(row[i]!, [...(byRow.get(row[i]!) ?? []), i]);
        for (const list of byRow.values()) {
          list.sort((a, b) => start[a]! - start[b]!);
          for (let k = 1; k < list.length; k++) expect(start[list[k]!]!).toBeGreaterThanOrEqual(end[list[k - 1]!]!);
        }
        // At most as many rows as bars overlap at some instant (greedy interval partitioning is optimal).
        let most = bars.length > 0 ? 1 : 0;
        for (const t of start) most = Math.max(most, bars.filter((_, i) => start[i]! <= t && t < end[i]!).length);
        expect(rows).toBe(most);
      }),
    );
  });
});

/** A plan with just what the critical path reads: tasks, their stages, deps and spaces. */
function plan(tasks: { id: string; stages?: string[]; deps?: [string, ElementEdge][]; per?: string[] }[]): Plan {
  return {
    tasks: tasks.map((t) => ({
      id: t.id,
      stages: t.stages ?? [t.id],
      steps: (t.stages ?? [t.id]).map((stage) => ({ stage, inputs: [] })),
      deps: (t.deps ?? []).map(([task, edge]) => ({ task, edge, input: null })),
      space: {
        vars: [],
        zip: [],
        size: 0,
        ...(t.per ? { dynamic: { vars: ["c"], per: t.per, from: { kind: "files", task: "x", step: "x", output: 0 } } } : {}),
      },
    })),
  } as unknown as Plan;
}

const rec = (stage: string, element: string, start: number, end: number): PathRecord => ({ stage, element, start, end });

describe("criticalPath", () => {
  test("one-to-one follows the same element; `all` the longest chain of all; fused steps in order", () => {
    const p = plan([
      { id: "a" },
      { id: "bc", stages: ["b", "c"], deps: [["a", { kind: "one-to-one" }]] },
      { id: "d", deps: [["bc", { kind: "all" }]] },
    ]);
    const records = [
      rec("a", "s=1", 0, 10),
      rec("a", "s=2", 0, 30),
      rec("b", "s=1", 10, 50),
      rec("c", "s=1", 50, 60),
      rec("b", "s=2", 30, 40),
      rec("c", "s=2", 40, 45),
      rec("d", "", 60, 70),
    ];
    expect(criticalPath(p, records).map((i) => `${records[i]!.stage} ${records[i]!.element}`)).toEqual(["a s=1", "b s=1", "c s=1", "d "]);
  });

  test("match reads the producer elements whose variables equal the consumer's, and only those `where` allows", () => {
    const p = plan([{ id: "a" }, { id: "m", deps: [["a", { kind: "match", on: [["s", "s"]], where: { k: "x" }, when: {} }]] }]);
    // m s=1 waits for a s=1,k=x only (5 + 50), not the longer a s=1,k=y (50) or a s=2,k=x (20 + 50 if it matched).
    const records = [rec("a", "s=1,k=x", 0, 5), rec("a", "s=1,k=y", 0, 50), rec("a", "s=2,k=x", 0, 20), rec("m", "s=1", 50, 100)];
    expect(criticalPath(p, records)).toEqual([0, 3]);
    // A shorter consumer: the longest chain is the unmatched producer alone.
    const short = [rec("a", "s=1,k=x", 0, 5), rec("a", "s=1,k=y", 0, 50), rec("m", "s=1", 50, 60)];
    expect(criticalPath(p, short)).toEqual([1]);
  });

  test("expand reads the producer element with the consumer's `per` variables; a retry follows its first attempt", () => {
    const p = plan([{ id: "split" }, { id: "map", deps: [["split", { kind: "expand" }]], per: ["s"] }]);
    const records = [
      rec("split", "s=A", 0, 10),
      rec("split", "s=B", 0, 30),
      rec("map", "s=A,c=1", 10, 20),
      rec("map", "s=A,c=1", 25, 60),
      rec("map", "s=B,c=1", 30, 40),
    ];
    expect(criticalPath(p, records)).toEqual([0, 2, 3]);
  });

  test("no records, no path", () => {
    expect(criticalPath(plan([{ id: "a" }]), [])).toEqual([]);
  });
});

test("percentile: nearest rank, always a measured value", () => {
  expect(percentile([], 50)).toBeUndefined();
  expect(percentile([5], 95)).toBe(5);
  expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
  expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
  expect(percentile([10, 1, 7], 100)).toBe(10);
});

test("identities are shown decoded: bytes as UTF-8, lone surrogates, the empty identity", () => {
  expect(displayIdentity("s=%3C%2Fscript%3E,n=3")).toBe("s=</script>,n=3");
  expect(displayIdentity("s=na%C3%AFve%20%E2%98%83")).toBe("s=naïve ☃");
  expect(displayIdentity("s=%uD800x")).toBe("s=\uD800x");
  expect(displayIdentity("s=a%0Ab")).toBe("s=a\nb");
  expect(displayIdentity("")).toBe("(no variables)");
});

test("embedded JSON cannot close its script or open a comment, and reads back unchanged", () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.string(), (value, text) => {
      const embedded = jsonForScript({ value, text: `${text}</script><!--\u2028\u2029&` });
      expect(embedded).not.toMatch(/[<>&\u2028\u2029]/);
      expect(JSON.parse(embedded)).toEqual(JSON.parse(JSON.stringify({ value, text: `${text}</script><!--\u2028\u2029&` })));
    }),
  );
  expect(escapeHtml(`<img src=x onerror="a('1')">&`)).toBe("&lt;img src=x onerror=&quot;a(&#39;1&#39;)&quot;&gt;&amp;");
});
