import { describe, expect, test } from "vitest";
import { suggestionFix } from "../../compiler/diagnostics/fixes.js";

describe("suggestionFix", () => {
  const at = (text: string, part: string) => ({ start: text.indexOf(part), end: text.indexOf(part) + part.length });

  test("replaces the whole span when it is the word", () => {
    const text = "    limit: ftpp\n";
    expect(suggestionFix(text, at(text, "ftpp"), "ftpp", "did you mean `ftp`?")).toEqual([
      { title: "change `ftpp` to `ftp`", edits: [{ span: at(text, "ftpp"), newText: "ftp" }] },
    ]);
  });

  test("replaces inside quotes and inside a placeholder, never the neighbouring name", () => {
    const text = 'run = "x {params.genom} {params.genomes}"\n';
    const span = at(text, "{params.genom}");
    expect(suggestionFix(text, span, "genom", "did you mean `genome`?")?.[0]?.edits).toEqual([
      { span: { start: span.start + 8, end: span.end - 1 }, newText: "genome" },
    ]);
    const quoted = 'limit = "dbb"';
    expect(suggestionFix(quoted, at(quoted, '"dbb"'), "dbb", "did you mean `db`?")?.[0]?.edits).toEqual([
      { span: at(quoted, "dbb"), newText: "db" },
    ]);
  });

  test("no fix unless the help is a did-you-mean and the word is written there exactly once", () => {
    const text = "after: [preprocess]\n";
    const span = at(text, "preprocess");
    expect(suggestionFix(text, span, "preprocess", "define it under `stages`")).toBeUndefined();
    expect(suggestionFix(text, span, "preprocess", undefined)).toBeUndefined();
    expect(suggestionFix(text, undefined, "preprocess", "did you mean `prep`?")).toBeUndefined();
    // Written with an escape (`\x61` for `a`): the word is not there as typed, so no edit could be exact.
    const escaped = 'limit: "ft\\x61"\n';
    expect(suggestionFix(escaped, at(escaped, '"ft\\x61"'), "fta", "did you mean `ftp`?")).toBeUndefined();
    // Twice in the span (`{x.x}`): ambiguous.
    const twice = "{x.x}";
    expect(suggestionFix(twice, at(twice, twice), "x", "did you mean `y`?")).toBeUndefined();
  });
});
