/**
 * The validator end to end on small workflows written inline: what a user
 * sees for inputs that once went wrong (a throw, a wrong place, a silence).
 */
import { describe, expect, test } from "vitest";
import { formatDiagnostic } from "../../compiler/diagnostics/format.js";
import type { SourceFormat } from "../../compiler/source/document.js";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import { validateDocument, type ValidateResult } from "../../compiler/validate.js";

async function validate(text: string, format: SourceFormat = "yaml"): Promise<{ result: ValidateResult; printed: string }> {
  const file = new SourceFile(`wf.${format}`, text);
  const result = await validateDocument(parseSource(file, format));
  return { result, printed: result.diagnostics.map((d) => formatDiagnostic(d, () => file)).join("\n") };
}

describe("empty workflow files", () => {
  test.each([
    ["yaml", ""],
    ["yaml", "# only a comment\n"],
    ["yaml", "\n\n"],
    ["toml", ""],
    ["json", ""],
  ] as const)("%s %j is an error, not a silent failure", async (format, text) => {
    const { result } = await validate(text, format);
    expect(result.validated).toBeUndefined();
    expect(result.diagnostics.filter((d) => d.severity === "error").length).toBeGreaterThan(0);
  });
});

describe("TOML arrays of inline tables", () => {
  test.each(["after", "labels", "zip"])("`%s = [{}, {}]` is reported, not thrown", async (key) => {
    const text = `wfc = 1\n[stages.a]\nrun = "true"\n${key} = [{}, {}]\n`;
    const { result } = await validate(text, "toml");
    expect(result.validated).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toContain("WFC101");
  });

  test("the same in YAML", async () => {
    const { result } = await validate('wfc: 1\nstages:\n  a:\n    run: "true"\n    after: [{}, {}]\n');
    expect(result.diagnostics.map((d) => d.code)).toContain("WFC101");
  });
});

describe("an executor named in `defaults`", () => {
  test("unknown: pointed at in `defaults`", async () => {
    const { printed } = await validate('wfc: 1\ndefaults:\n  executor: nope\nstages:\n  a:\n    run: "true"\n');
    expect(printed).toBe(
      [
        "wf.yaml:3:13: error WFC203: unknown executor `nope`",
        " 3 |   executor: nope",
        "   |             ^^^^ expected one of `processes` or `threads`",
        "   = help: define it under `executors`, or use a built-in one: `threads` or `processes`",
      ].join("\n"),
    );
  });

  test("unknown, and the stage's own `executor` is not a string: each error at its own place", async () => {
    const { result } = await validate('wfc: 1\ndefaults:\n  executor: nope\nstages:\n  a:\n    executor: 0\n    run: "true"\n');
    const where = result.diagnostics.map((d) => `${d.code} ${d.location?.span?.start}`);
    const text = 'wfc: 1\ndefaults:\n  executor: nope\nstages:\n  a:\n    executor: 0\n    run: "true"\n';
    expect(where).toEqual([`WFC203 ${text.indexOf("nope")}`, `WFC101 ${text.indexOf("0\n")}`]);
  });
});

describe("a fan-out with no elements", () => {
  test.each([
    ["an empty list", "s: []", "5:10", "foreach variable `s` has no values, so this stage runs no jobs"],
    ["an empty range", "s: { range: [1, 0] }", "5:10", "foreach variable `s` has no values, so this stage runs no jobs"],
    [
      "a glob matching nothing",
      's: { glob: "no-such-folder/{s}.fa" }',
      "5:18",
      "glob `no-such-folder/{s}.fa` matches no files, so this stage runs no jobs",
    ],
  ])("%s is a warning (WFC217), and the workflow is valid", async (_, source, at, message) => {
    const { result, printed } = await validate(`wfc: 1\nstages:\n  a:\n    foreach:\n      ${source}\n    run: "echo {s}"\n`);
    expect(result.validated).toBeDefined();
    expect(result.diagnostics.map((d) => [d.severity, d.code])).toEqual([["warning", "WFC217"]]);
    expect(printed.split("\n")[0]).toBe(`wf.yaml:${at}: warning WFC217: ${message}`);
  });
});
