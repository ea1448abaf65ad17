import { describe, expect, test } from "vitest";
import { formatDiagnostic } from "../../compiler/diagnostics/format.js";
import { hasGlob, parseTemplate, refsOf, wholeParamRef } from "../../compiler/lower/template.js";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import { validateDocument } from "../../compiler/validate.js";

describe("parseTemplate", () => {
  test("splits text and placeholders, with each placeholder's offset and length in the source", () => {
    expect(parseTemplate("data/{sample}.fa")).toEqual({
      template: {
        source: "data/{sample}.fa",
        parts: [
          { kind: "text", text: "data/" },
          { kind: "ref", root: "sample", field: undefined, offset: 5, length: 8 },
          { kind: "text", text: ".fa" },
        ],
      },
      errors: [],
    });
  });

  test("`{root.field}`: params, named inputs and outputs, sheet columns", () => {
    const { template, errors } = parseTemplate("{params.n}-{inputs.reads}{outputs}{s.col-1}");
    expect(errors).toEqual([]);
    expect(refsOf(template).map(({ root, field, offset, length }) => ({ root, field, offset, length }))).toEqual([
      { root: "params", field: "n", offset: 0, length: 10 },
      { root: "inputs", field: "reads", offset: 11, length: 14 },
      { root: "outputs", field: undefined, offset: 25, length: 9 },
      { root: "s", field: "col-1", offset: 34, length: 9 },
    ]);
  });

  test("`{{` and `}}` are literal braces, and offsets still count them as two characters", () => {
    const { template, errors } = parseTemplate("awk '{{print $1}}' {x}");
    expect(errors).toEqual([]);
    expect(template.parts).toEqual([
      { kind: "text", text: "awk '{print $1}' " },
      { kind: "ref", root: "x", field: undefined, offset: 19, length: 3 },
    ]);
  });

  test("`{{{x}}}` is a literal brace, a placeholder, a literal brace", () => {
    expect(parseTemplate("{{{x}}}").template.parts).toEqual([
      { kind: "text", text: "{" },
      { kind: "ref", root: "x", field: undefined, offset: 2, length: 3 },
      { kind: "text", text: "}" },
    ]);
  });

  test("spaces inside the braces are allowed", () => {
    expect(refsOf(parseTemplate("{ sample }").template)).toEqual([
      { kind: "ref", root: "sample", field: undefined, offset: 0, length: 10 },
    ]);
  });

  test("an unclosed `{` is an error from the brace to the end", () => {
    expect(parseTemplate("out/{chunk.fa").errors).toEqual([{ offset: 4, length: 9, message: "unclosed `{` in template" }]);
  });

  test("an unmatched `}` is an error at the brace", () => {
    expect(parseTemplate("a}b").errors).toEqual([{ offset: 1, length: 1, message: "unmatched `}` in template" }]);
  });

  test.each([
    ["{}", 0, 2],
    ["x{a b}", 1, 5],
    ["{a.b.c}", 0, 7],
    ["{1x}", 0, 4],
    ["{params.}", 0, 9],
  ])("%j is not a placeholder", (source, offset, length) => {
    const inner = source.slice(offset + 1, offset + length - 1);
    expect(parseTemplate(source).errors).toEqual([{ offset, length, message: `\`{${inner}}\` is not a placeholder` }]);
  });

  test("every error in a template is reported, not only the first", () => {
    expect(parseTemplate("}{a b}{").errors.map((e) => [e.offset, e.length, e.message])).toEqual([
      [0, 1, "unmatched `}` in template"],
      [1, 5, "`{a b}` is not a placeholder"],
      [6, 1, "unclosed `{` in template"],
    ]);
  });
});

describe("template helpers", () => {
  test("hasGlob looks at literal text only", () => {
    expect(hasGlob(parseTemplate("work/hits/*.tsv").template)).toBe(true);
    expect(hasGlob(parseTemplate("a?.txt").template)).toBe(true);
    expect(hasGlob(parseTemplate("[ab].txt").template)).toBe(true);
    expect(hasGlob(parseTemplate("work/{chunk}.tsv").template)).toBe(false);
  });

  test("wholeParamRef: exactly `{params.name}` and nothing else", () => {
    expect(wholeParamRef(parseTemplate("{params.micrographs}").template)).toBe("micrographs");
    expect(wholeParamRef(parseTemplate("{ params.micrographs }").template)).toBe("micrographs");
    expect(wholeParamRef(parseTemplate("{params.x}/y").template)).toBeUndefined();
    expect(wholeParamRef(parseTemplate("{params}").template)).toBeUndefined();
    expect(wholeParamRef(parseTemplate("{x}").template)).toBeUndefined();
    expect(wholeParamRef(parseTemplate("").template)).toBeUndefined();
  });
});

describe("template errors as users see them", () => {
  async function errorsOf(text: string): Promise<string> {
    const file = new SourceFile("wf.yaml", text);
    const result = await validateDocument(parseSource(file, "yaml"));
    return result.diagnostics.map((d) => formatDiagnostic(d, () => file)).join("\n");
  }

  test("the marker sits under the bad brace inside a quoted string", async () => {
    expect(await errorsOf('wfc: 1\nstages:\n  a:\n    run: "echo x}y"\n')).toBe(
      [
        "wf.yaml:4:17: error WFC222: unmatched `}` in template",
        ' 4 |     run: "echo x}y"',
        "   |                 ^",
        "   = help: write `{{` and `}}` for literal braces",
      ].join("\n"),
    );
  });

  test("an unclosed brace is marked to the end of the template", async () => {
    expect(await errorsOf("wfc: 1\nstages:\n  a:\n    run: echo {x\n")).toBe(
      [
        "wf.yaml:4:15: error WFC222: unclosed `{` in template",
        " 4 |     run: echo {x",
        "   |               ^^",
        "   = help: write `{{` and `}}` for literal braces",
      ].join("\n"),
    );
  });
});
