/**
 * contract/template.ts and contract/elements.ts on small cases: what a
 * placeholder gives for one element, and when a path has no text for it.
 */
import { describe, expect, test } from "vitest";
import { ElementSpace } from "../../contract/elements.js";
import { expandPath, paramWords, varText } from "../../contract/template.js";

const space = new ElementSpace({
  vars: [
    {
      name: "s",
      sheet: {
        columns: ["id", "reads"],
        key: "id",
        rows: [
          ["A", "a.fq"],
          ["B", "b.fq"],
        ],
      },
    },
    { name: "k", range: [10, 0, -5] },
  ],
  zip: [],
  size: 4,
});

describe("one element's text", () => {
  test("a variable is its value as text, a column its sheet row's cell; the first variable varies slowest", () => {
    const b = space.bindings(1);
    expect([varText(b, "s", undefined), varText(b, "s", "reads"), varText(b, "k", undefined)]).toEqual(["A", "a.fq", "5"]);
    expect([varText(b, "s", "nope"), varText(b, "x", undefined)]).toEqual([undefined, undefined]);
  });

  test("a param is one word, or a list's items", () => {
    expect([paramWords(3), paramWords(["a b", true, 2])]).toEqual([["3"], ["a b", "true", "2"]]);
  });

  test("a path expands variables, columns and scalar params; a missing value, a list param or {inputs} leaves it without text", () => {
    const b = space.bindings(3);
    const params = (name: string) => ({ n: 4, list: ["x", "y"] })[name];
    expect(expandPath(["out/", { var: "s", field: "reads" }, "-", { var: "k" }, ".", { param: "n" }], b, params)).toBe("out/b.fq-5.4");
    expect(expandPath(["out/", { var: "t" }], b, params)).toBeUndefined();
    expect(expandPath(["out/", { param: "list" }], b, params)).toBeUndefined();
    expect(expandPath(["out/", { param: "none" }], b, params)).toBeUndefined();
    expect(expandPath([{ inputs: true }], b, params)).toBeUndefined();
  });

  test("forEach visits the elements bindings(i) numbers, in order; a variable without values makes none", () => {
    const seen: string[] = [];
    space.forEach((b, i) => seen.push(`${i}:${varText(b, "s", undefined)}${varText(b, "k", undefined)}`));
    expect(seen).toEqual(["0:A10", "1:A5", "2:B10", "3:B5"]);
    const empty = new ElementSpace({
      vars: [
        { name: "a", values: ["x"] },
        { name: "b", values: [] },
      ],
      zip: [],
      size: 0,
    });
    let visits = 0;
    empty.forEach(() => visits++);
    expect(visits).toBe(0);
  });
});
