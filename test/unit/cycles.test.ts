import { describe, expect, test } from "vitest";
import { formatDiagnostic } from "../../compiler/diagnostics/format.js";
import type { StageEdge } from "../../compiler/graph/dependencies.js";
import { findCycles } from "../../compiler/graph/cycles.js";
import { parseTemplate } from "../../compiler/lower/template.js";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import { validateDocument } from "../../compiler/validate.js";

/** `to` runs after `from`. */
function after(from: string, to: string): StageEdge {
  return { kind: "after", from, to, ref: { name: from, path: ["stages", to, "after"] } };
}

/** Edges written `a→b` (`b` waits for `a`). */
function edges(...arrows: string[]): StageEdge[] {
  return arrows.map((arrow) => {
    const [from, to] = arrow.split("→") as [string, string];
    return after(from, to);
  });
}

/** Each cycle as its trail: `a → b → c → a`. */
function trails(cycles: StageEdge[][]): string[] {
  return cycles.map((cycle) => [...cycle.map((e) => e.from), cycle[0]!.from].join(" → "));
}

describe("findCycles", () => {
  test("no cycles in a DAG", () => {
    expect(findCycles(["a", "b", "c", "d"], edges("a→b", "a→c", "b→d", "c→d"))).toEqual([]);
  });

  test("returns the whole trail, starting from the first stage in sorted order", () => {
    expect(trails(findCycles(["c", "b", "a"], edges("b→c", "c→a", "a→b")))).toEqual(["a → b → c → a"]);
  });

  test("the same cycles whatever the order of stages and edges", () => {
    const stages = ["e", "d", "c", "b", "a"];
    const es = edges("a→b", "b→c", "c→a", "c→d", "d→e", "e→c");
    const expected = trails(findCycles(stages, es));
    expect(expected).toEqual(["a → b → c → a", "c → d → e → c"]);
    // Every rotation of both lists, forwards and backwards.
    for (let k = 0; k < es.length; k++) {
      const rotate = <T>(xs: T[]) => [...xs.slice(k % xs.length), ...xs.slice(0, k % xs.length)];
      expect(trails(findCycles(rotate(stages), rotate(es)))).toEqual(expected);
      expect(trails(findCycles(rotate(stages).reverse(), rotate(es).reverse()))).toEqual(expected);
    }
  });

  test("a self-loop is a cycle of one edge", () => {
    const cycles = findCycles(["a", "b"], edges("a→b", "b→b"));
    expect(cycles).toEqual([[after("b", "b")]]);
    expect(trails(cycles)).toEqual(["b → b"]);
  });

  test("two disjoint cycles are both reported, in sorted order", () => {
    expect(trails(findCycles(["d", "c", "b", "a"], edges("d→c", "c→d", "b→a", "a→b")))).toEqual(["a → b → a", "c → d → c"]);
  });

  test("a cycle reached through a stage outside it starts where it closes", () => {
    expect(trails(findCycles(["a", "x", "y"], edges("a→x", "x→y", "y→x")))).toEqual(["x → y → x"]);
  });

  test("one cycle per set of stages, even when two edges join the same pair", () => {
    const decl = { template: parseTemplate("b.txt").template, path: ["stages", "b", "inputs"], name: undefined, glob: false };
    const data: StageEdge = { kind: "data", from: "a", to: "b", output: decl, input: decl };
    expect(trails(findCycles(["a", "b"], [...edges("a→b", "b→a"), data]))).toEqual(["a → b → a"]);
  });

  test("at most `max` cycles", () => {
    const names = Array.from({ length: 12 }, (_, i) => `s${String(i).padStart(2, "0")}`);
    const cycles = findCycles(
      names,
      names.map((n) => after(n, n)),
      10,
    );
    expect(trails(cycles)).toEqual(names.slice(0, 10).map((n) => `${n} → ${n}`));
  });

  test("a 100,000-stage chain does not overflow the stack", () => {
    const names = Array.from({ length: 100_000 }, (_, i) => `s${i}`);
    const chain = names.slice(1).map((n, i) => after(names[i]!, n));
    expect(findCycles(names, chain)).toEqual([]);
    expect(findCycles(names, [...chain, after(names.at(-1)!, names[0]!)])[0]).toHaveLength(100_000);
  });
});

describe("cycles as users see them", () => {
  test("a three-stage cycle through `after` and data, with one note per edge", async () => {
    const text = [
      "wfc: 1",
      "stages:",
      "  a:",
      "    after: c",
      '    run: "true"',
      "  b:",
      "    after: [a]",
      "    outputs: b.txt",
      '    run: "true"',
      "  c:",
      "    inputs: b.txt",
      '    run: "true"',
      "",
    ].join("\n");
    const file = new SourceFile("wf.yaml", text);
    const result = await validateDocument(parseSource(file, "yaml"));
    expect(result.diagnostics.map((d) => formatDiagnostic(d, () => file)).join("\n")).toBe(
      [
        "wf.yaml:4:12: error WFC204: dependency cycle: `a` → `b` → `c` → `a`",
        " 4 |     after: c",
        "   |            ^",
        "   = help: break the cycle: remove an `after`, or rename an output so a stage no longer reads it",
        "   = note: wf.yaml:7:13: `b` runs after `a` (`after`)",
        "   = note: wf.yaml:11:13: `c` reads `b.txt`, which `b` writes",
        "   = note: wf.yaml:4:12: `a` runs after `c` (`after`)",
      ].join("\n"),
    );
  });

  test("a stage in its own `after`", async () => {
    const text = 'wfc: 1\nstages:\n  a:\n    after: [a]\n    run: "true"\n';
    const file = new SourceFile("wf.yaml", text);
    const result = await validateDocument(parseSource(file, "yaml"));
    expect(result.diagnostics.map((d) => formatDiagnostic(d, () => file)).join("\n")).toBe(
      [
        "wf.yaml:4:13: error WFC204: stage `a` depends on itself",
        " 4 |     after: [a]",
        "   |             ^",
        "   = help: remove the stage from its own `after`",
      ].join("\n"),
    );
  });
});
