import { describe, expect, test } from "vitest";
import { ANY, intersects, literalPrefix, SEGMENT, toPattern } from "../../compiler/graph/pattern.js";
import type { Param } from "../../compiler/lower/ast.js";
import { parseTemplate } from "../../compiler/lower/template.js";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import { validateDocument } from "../../compiler/validate.js";

const noParams = new Map<string, Param>();
/** An input template: glob syntax is a wildcard. */
const input = (s: string, params = noParams) => toPattern(parseTemplate(s).template, params, true);
/** An output template: glob syntax is literal. */
const output = (s: string, params = noParams) => toPattern(parseTemplate(s).template, params, false);

describe("toPattern", () => {
  test("placeholders and `**` are ANY (`**/` takes its slash, to match no folder too); `*`, `?` and `[...]` in inputs are SEGMENT", () => {
    expect(input("a/{x}/**/*.t?[ch]")).toEqual(["a", "/", ANY, "/", ANY, SEGMENT, ".", "t", SEGMENT, SEGMENT]);
  });

  test("glob characters in an output are literal", () => {
    expect(output("a*b")).toEqual(["a", "*", "b"]);
  });

  test("a scalar param is its value; a list param is ANY", () => {
    const params = new Map<string, Param>([
      ["n", { name: "n", value: 3, path: ["params", "n"], overridden: false }],
      ["xs", { name: "xs", value: ["a", "b"], path: ["params", "xs"], overridden: false }],
    ]);
    expect(input("{params.n}/{params.xs}", params)).toEqual(["3", "/", ANY]);
    expect(input("{params.nope}")).toEqual([ANY]);
  });

  test("literalPrefix is the text before the first wildcard", () => {
    expect(literalPrefix(input("work/hits/*.tsv"))).toBe("work/hits/");
    expect(literalPrefix(output("work/{chunk}.fa"))).toBe("work/");
    expect(literalPrefix(output("{x}"))).toBe("");
    expect(literalPrefix(output("plain.txt"))).toBe("plain.txt");
  });
});

describe("intersects: can one path match both templates?", () => {
  test.each([
    // Placeholders stand for any text, so these can name the same file.
    ["{s}.txt", "{s}.sorted.txt", true],
    ["{a}", "{b}/{c}", true],
    ["x{a}", "{b}y", true],
    ["work/{i}.stage2", "work/{i}.stage2", true],
    ["a.txt", "a.txt", true],
    ["a.txt", "b.txt", false],
    ["work/{i}.stage2", "work/{i}.stage3", false],
    ["a/{x}", "b/{x}", false],
    ["", "", true],
    ["", "a", false],
    ["{x}", "", true],
  ] as const)("output %j and output %j: %s", (a, b, expected) => {
    expect(intersects(output(a), output(b))).toBe(expected);
    expect(intersects(output(b), output(a))).toBe(expected);
  });

  test.each([
    ["a/*.tsv", "a/{x}.tsv", true],
    ["a/*.tsv", "a/b.tsv", true],
    // `*` does not cross `/`; `**` does.
    ["a/*.tsv", "a/b/c.tsv", false],
    ["*.txt", "d/{x}.txt", false],
    ["a/**", "a/b/c.tsv", true],
    ["a/**.tsv", "a/b/c.tsv", true],
    ["**/c.tsv", "a/b/c.tsv", true],
    ["a/**/c.tsv", "a/b/c.tsv", true],
    // `?` and `[...]` stay within a path segment.
    ["a?.txt", "ab.txt", true],
    ["a?.txt", "a/.txt", false],
    ["[ab].txt", "a.txt", true],
    ["a/[ab]", "a/x/y", false],
    ["work/hits/*.tsv", "work/hits/chunk-{chunk}.tsv", true],
    ["work/hits/*.tsv", "work/hits.tsv", false],
    ["work/step-*.txt", "work/step-{element}.txt", true],
    ["*", "{x}/y", false],
  ] as const)("input %j and output %j: %s", (glob, path, expected) => {
    expect(intersects(input(glob), output(path))).toBe(expected);
    expect(intersects(output(path), input(glob))).toBe(expected);
  });

  test("`**/` also matches no folder at all, as the glob does when it runs", () => {
    // globMatcher (contract/glob.ts) and tinyglobby both match
    // `a/**/c.tsv` against `a/c.tsv`; dependency inference must agree.
    expect(intersects(input("a/**/c.tsv"), output("a/c.tsv"))).toBe(true);
  });

  test("a trailing `/**` also matches the folder itself, as the glob does", () => {
    // Found by the property test against picomatch (test/property/globs.test.ts).
    expect(intersects(input("out/**"), output("out"))).toBe(true);
    expect(intersects(input("out/**/**"), output("out"))).toBe(true);
    expect(intersects(input("out/**"), output("out/a/b"))).toBe(true);
    expect(intersects(input("out/**/x"), output("out"))).toBe(false);
  });

  test("long paths do not overflow the stack", () => {
    const long = "x".repeat(10_000);
    expect(intersects(output(long), output(long))).toBe(true);
    expect(intersects(input("*".repeat(10_000)), output(long))).toBe(true);
  });
});

describe("dependencies through globs, as users see them", () => {
  async function edges(text: string): Promise<string[]> {
    const result = await validateDocument(parseSource(new SourceFile("/tmp/wfc-pattern/wf.yaml", text), "yaml"));
    expect(result.diagnostics).toEqual([]);
    return result.validated!.edges.map((e) => `${e.from} → ${e.to} (${e.kind})`);
  }

  test("`a/**/c.tsv` reads `a/c.tsv`", async () => {
    const text =
      'wfc: 1\nstages:\n  make:\n    outputs: a/c.tsv\n    run: "true"\n  use:\n    inputs: "a/**/c.tsv"\n    outputs: b\n    run: "true"\n';
    expect(await edges(text)).toEqual(["make → use (data)"]);
  });

  test("`a/*.tsv` does not read `a/b/c.tsv`, but `a/**/*.tsv` does", async () => {
    const stages = (glob: string) =>
      `wfc: 1\nstages:\n  make:\n    outputs: a/b/c.tsv\n    run: "true"\n  use:\n    inputs: "${glob}"\n    outputs: b\n    run: "true"\n`;
    expect(await edges(stages("a/*.tsv"))).toEqual([]);
    expect(await edges(stages("a/**/*.tsv"))).toEqual(["make → use (data)"]);
  });
});
