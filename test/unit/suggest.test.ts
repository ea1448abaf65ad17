import { describe, expect, test } from "vitest";
import { closest, didYouMean, editDistance, oneOf } from "../../compiler/diagnostics/suggest.js";

describe("editDistance", () => {
  test.each([
    ["", "", 0],
    ["", "abc", 3],
    ["ftp", "ftp", 0],
    ["ftpp", "ftp", 1],
    ["kitten", "sitting", 3],
    // An adjacent transposition is one edit, the commonest typo.
    ["hcp", "hpc", 1],
    ["porcesses", "processes", 1],
    // Optimal string alignment: a transposed pair is not edited again.
    ["ca", "abc", 3],
  ] as const)("%j → %j is %d", (a, b, expected) => {
    expect(editDistance(a, b)).toBe(expected);
    expect(editDistance(b, a)).toBe(expected);
  });
});

describe("closest", () => {
  test.each([
    ["ftpp", ["ftp", "io"], "ftp"],
    ["proccesses", ["processes", "threads"], "processes"],
    ["thread", ["processes", "threads"], "threads"],
    ["stage_1", ["stage1", "stage2"], "stage1"],
    // Case alone is the closest a word can be.
    ["FTP", ["ftp", "ftx"], "ftp"],
    ["Split", ["split", "spli"], "split"],
    ["hcp", ["hpc", "io"], "hpc"],
    // A prefix counts as one edit: `retry` for `retries`.
    ["retry", ["retries", "cpus"], "retries"],
    ["desc", ["description", "defaults"], "description"],
  ] as const)("%j among %j is %j", (word, candidates, expected) => {
    expect(closest(word, candidates)).toBe(expected);
  });

  test("ties go to the first in sorted order, whatever the order given", () => {
    expect(closest("ab", ["ac", "aa"])).toBe("aa");
    expect(closest("ab", ["aa", "ac"])).toBe("aa");
  });

  test("nothing when every candidate is too far: at most a third of the word's length in edits", () => {
    expect(closest("zzzz", ["ftp", "io"])).toBeUndefined();
    // 6 letters allow 2 edits, not 3.
    expect(closest("abcdef", ["abcxyz"])).toBeUndefined();
    expect(closest("abcdef", ["abcdxy"])).toBe("abcdxy");
    expect(closest("anything", [])).toBeUndefined();
  });

  test("accepts any iterable, such as a Map's keys", () => {
    expect(closest("htx", new Map([["htex", 1]]).keys())).toBe("htex");
  });
});

describe("didYouMean", () => {
  test("phrases the suggestion", () => {
    expect(didYouMean("ftpp", ["ftp"])).toBe("did you mean `ftp`?");
  });

  test("says nothing without a close candidate", () => {
    expect(didYouMean("zzzz", ["ftp"])).toBeUndefined();
  });
});

describe("oneOf", () => {
  test("sorted, quoted, joined with commas and a final `or`", () => {
    expect(oneOf(["b"])).toBe("`b`");
    expect(oneOf(["b", "a"])).toBe("`a` or `b`");
    expect(oneOf(["io", "ftp", "db"])).toBe("`db`, `ftp` or `io`");
  });

  test("nothing to list", () => {
    expect(oneOf([])).toBe("none are defined");
    expect(oneOf([], "no params are defined")).toBe("no params are defined");
  });

  test("long lists are cut, saying how many more there are", () => {
    const names = Array.from({ length: 40 }, (_, i) => `s${String(i).padStart(2, "0")}`);
    const text = oneOf(names);
    const cut = /^(.*) or … \((\d+) more\)$/.exec(text);
    expect(cut, text).not.toBeNull();
    const shown = cut![1]!.split(", ");
    expect(shown).toEqual(names.slice(0, shown.length).map((n) => `\`${n}\``));
    expect(shown.length + Number(cut![2])).toBe(40);
  });
});
