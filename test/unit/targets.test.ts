/** The text of a `wfc run` target (runtime/run/target.ts): stages, stage[var=value,…], names and paths; values are only text. */
import { describe, expect, test } from "vitest";
import { parseTarget, stageList } from "../../runtime/run/target.js";

const ok = (text: string) => {
  const parsed = parseTarget(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.error.message}`);
  return parsed.target;
};
const error = (text: string) => {
  const parsed = parseTarget(text);
  if (parsed.ok) throw new Error(`${text} parsed`);
  return parsed.error.message;
};

describe("parseTarget", () => {
  test("a bare word or a path is a name, resolved later as a stage or an output", () => {
    expect(ok("bwa_map")).toEqual({ kind: "name", text: "bwa_map" });
    expect(ok("results/a.txt")).toEqual({ kind: "name", text: "results/a.txt" });
    expect(ok("./x")).toEqual({ kind: "name", text: "./x" });
    expect(ok("/abs/x.txt")).toEqual({ kind: "name", text: "/abs/x.txt" });
    // Brackets after something that is no stage name are part of a path.
    expect(ok("out/x[1].txt")).toEqual({ kind: "name", text: "out/x[1].txt" });
  });

  test("stage[var=value,…]: one or several values", () => {
    expect(ok("bwa_map[sample=A]")).toEqual({ kind: "stage", text: "bwa_map[sample=A]", stage: "bwa_map", values: [["sample", "A"]] });
    expect(ok("call[sample=A,chrom=2]")).toMatchObject({
      stage: "call",
      values: [
        ["sample", "A"],
        ["chrom", "2"],
      ],
    });
    // An empty value is a value (a sample named "" is possible).
    expect(ok("s[v=]")).toMatchObject({ values: [["v", ""]] });
    expect(ok("s[v=a=b]")).toMatchObject({ values: [["v", "a=b"]] });
  });

  test("a value with a comma, a bracket or quotes is written as a JSON string", () => {
    expect(ok('s[v="a,b]"]')).toMatchObject({ values: [["v", "a,b]"]] });
    expect(ok('s[v="say \\"hi\\"",w=x]')).toMatchObject({
      values: [
        ["v", 'say "hi"'],
        ["w", "x"],
      ],
    });
    expect(ok('s[v="a\\\\"]')).toMatchObject({ values: [["v", "a\\"]] });
  });

  test("hostile text is a value, byte for byte", () => {
    for (const value of ["$(touch pwned)", "`id`", "a'b", "x;rm -rf /", "line\nbreak", "\u001b[31m"]) {
      expect(ok(`s[v=${value}]`)).toMatchObject({ kind: "stage", values: [["v", value]] });
      expect(ok(`s[v=${JSON.stringify(value)}]`)).toMatchObject({ kind: "stage", values: [["v", value]] });
    }
  });

  test("malformed ones say what is wrong", () => {
    expect(error("")).toBe("an empty target");
    expect(error("s[v=a")).toBe("a missing `]` at the end");
    expect(error("s[v=a]x")).toBe("text after the closing `]`");
    expect(error("s[]")).toBe("expected `var=value` after `s[`");
    expect(error("s[=a]")).toBe("a value without a variable name");
    expect(error("s[1x=a]")).toBe("`1x` is not a variable name");
    expect(error("s[v=a,v=b]")).toBe("`v` is given twice");
    expect(error('s[v="a]')).toBe('a quoted value without its closing `"`');
    expect(error('s[v="\\q"]')).toBe("a quoted value that is not a JSON string");
  });
});

test("stageList: repeatable and comma-separated", () => {
  expect(stageList(["a,b", "c", ""])).toEqual(["a", "b", "c"]);
});
