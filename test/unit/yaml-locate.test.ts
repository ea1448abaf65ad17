import { describe, expect, test } from "vitest";
import { formatDiagnostic } from "../../compiler/diagnostics/format.js";
import type { DataPath, SourceFormat, SpanPart } from "../../compiler/source/document.js";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";

/** The text `locate` points at. */
function at(text: string, path: DataPath, part?: SpanPart, format: SourceFormat = "yaml"): string {
  const doc = parseSource(new SourceFile(`wf.${format}`, text), format);
  expect(doc.diagnostics).toEqual([]);
  const span = doc.locate(path, part);
  return text.slice(span.start, span.end);
}

describe("YAML locate: from a data path back to the text", () => {
  const text = [
    "stages:",
    "  x:",
    "    limit: ftp",
    '    inline: { limit: "ftp", n: 2 }',
    "    after:",
    "      - a",
    "      - b",
    "    run: |",
    "      echo one",
    "      echo two",
    "",
    "    empty:",
    "    'quoted key': 1",
    "limits:",
    "  1: 2",
    "",
  ].join("\n");

  test("block mappings: the value, or with part `key` the key", () => {
    expect(at(text, ["stages", "x", "limit"])).toBe("ftp");
    expect(at(text, ["stages", "x", "limit"], "key")).toBe("limit");
    expect(at(text, ["stages", "x"], "key")).toBe("x");
  });

  test("flow mappings", () => {
    expect(at(text, ["stages", "x", "inline", "limit"])).toBe('"ftp"');
    expect(at(text, ["stages", "x", "inline", "n"])).toBe("2");
    expect(at(text, ["stages", "x", "inline"])).toBe('{ limit: "ftp", n: 2 }');
  });

  test("sequence items", () => {
    expect(at(text, ["stages", "x", "after", 1])).toBe("b");
    expect(at(text, ["stages", "x", "after"])).toBe("- a\n      - b");
  });

  test("a block scalar spans its lines, without the trailing newlines", () => {
    expect(at(text, ["stages", "x", "run"])).toBe("|\n      echo one\n      echo two");
  });

  test("a key with no value points at the key", () => {
    expect(at(text, ["stages", "x", "empty"])).toBe("empty");
  });

  test("quoted keys and numeric keys", () => {
    expect(at(text, ["stages", "x", "quoted key"], "key")).toBe("'quoted key'");
    expect(at(text, ["limits", "1"])).toBe("2");
    expect(at(text, ["limits", "1"], "key")).toBe("1");
  });

  test("a path that does not exist points at its nearest ancestor", () => {
    expect(at(text, ["stages", "x", "after", 5])).toBe("- a\n      - b");
    expect(at(text, ["stages", "x", "limit", "deeper"])).toBe("ftp");
    expect(at(text, ["stages", "nope"], "key")).toBe(text.slice(text.indexOf("x:"), text.indexOf("limits:")).trimEnd());
  });

  test("CRLF line endings do not shift spans", () => {
    expect(at("stages:\r\n  x:\r\n    limit: ftp\r\n", ["stages", "x", "limit"])).toBe("ftp");
  });

  test("JSON goes through the same walk", () => {
    const json = '{\n  "stages": { "x": { "limit": ["a", "b"] } }\n}\n';
    expect(at(json, ["stages", "x", "limit", 1], undefined, "json")).toBe('"b"');
    expect(at(json, ["stages", "x"], "key", "json")).toBe('"x"');
  });

  test("a key after a lone CR (old Mac line ending) is still found", () => {
    // The yaml library keeps the CR in the key node but not in the data.
    const doc = parseSource(new SourceFile("wf.yaml", "\rkey: 1\nwfc: 1\n"), "yaml");
    const key = Object.keys(doc.data as object)[0]!;
    const span = doc.locate([key], "key");
    expect(span.end - span.start).toBeLessThanOrEqual(4);
  });
});

describe("YAML and JSON syntax errors", () => {
  function diagnostics(text: string, format: SourceFormat) {
    const file = new SourceFile(`wf.${format}`, text);
    const doc = parseSource(file, format);
    return { doc, printed: doc.diagnostics.map((d) => formatDiagnostic(d, () => file)).join("\n") };
  }

  test("a duplicate key names the whole key and marks all of it", () => {
    const { printed } = diagnostics("stages:\n  split: {}\n  split: {}\n", "yaml");
    expect(printed).toBe(
      [
        "wf.yaml:3:3: error WFC004: duplicate key `split`",
        " 3 |   split: {}",
        "   |   ^^^^^",
        "   = help: each key may appear once in a mapping; merge the two entries or rename one",
        "   = note: wf.yaml:2:3: `split` is first defined here",
      ].join("\n"),
    );
  });

  test("a duplicate key after a key with no value still names the key", () => {
    const { doc } = diagnostics("description: a\nstages:\ndescription: b\n", "yaml");
    expect(doc.diagnostics.map((d) => d.message)).toEqual(["duplicate key `description`"]);
  });

  test.each([
    ["yaml", 'wfc: "unclosed'],
    ["yaml", "wfc: [1, 2"],
    ["yaml", "wfc: {a: 1"],
    ["json", '{"wfc": 1'],
    ["json", ""],
    ["json", '{"wfc": '],
  ] as const)("%s %j: the error span lies within the text, even at its end", (format, text) => {
    const { doc } = diagnostics(text, format);
    expect(doc.data).toBeUndefined();
    expect(doc.diagnostics.length).toBeGreaterThan(0);
    for (const d of doc.diagnostics) {
      const span = d.location!.span!;
      expect(span.start <= span.end && span.end <= text.length, `${d.message} at ${JSON.stringify(span)}`).toBe(true);
    }
  });

  test("a JSON trailing comma is marked at the comma", () => {
    const { printed } = diagnostics('{\n  "wfc": 1,\n}\n', "json");
    expect(printed.split("\n").slice(0, 3)).toEqual([
      "wf.json:2:11: error WFC003: JSON syntax error: trailing comma",
      ' 2 |   "wfc": 1,',
      "   |           ^",
    ]);
  });
});

describe("values ending in a Unicode space", () => {
  test("keep that space in their span (only YAML's own blanks are trimmed)", () => {
    expect(at("stages:\n  a:\n    executor: 0\u2000\n    run: x\n", ["stages", "a", "executor"])).toBe("0\u2000");
  });
});
