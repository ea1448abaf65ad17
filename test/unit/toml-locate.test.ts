import { describe, expect, test } from "vitest";
import type { DataPath, SpanPart } from "../../compiler/source/document.js";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";

/** The text `locate` points at. */
function at(text: string, path: DataPath, part?: SpanPart): string {
  const doc = parseSource(new SourceFile("wf.toml", text), "toml");
  expect(doc.diagnostics).toEqual([]);
  const span = doc.locate(path, part);
  return text.slice(span.start, span.end);
}

describe("TOML locate: from a data path back to the text", () => {
  test("a value in an inline table", () => {
    const text = 'wfc = 1\n[stages]\nx = { run = "a", limit = "ftp" }\n';
    expect(at(text, ["stages", "x", "limit"])).toBe('"ftp"');
    expect(at(text, ["stages", "x", "limit"], "key")).toBe("limit");
    expect(at(text, ["stages", "x"])).toBe('{ run = "a", limit = "ftp" }');
    expect(at(text, ["stages", "x"], "key")).toBe("x");
  });

  test("dotted keys at the top level and inside a table", () => {
    const top = "wfc = 1\nstages.x.limit = 3\n";
    expect(at(top, ["stages", "x", "limit"])).toBe("3");
    expect(at(top, ["stages", "x", "limit"], "key")).toBe("limit");
    expect(at(top, ["stages", "x"], "key")).toBe("x");
    const inTable = "[stages]\nx.limit = 3\nx.run = 'true'\n";
    expect(at(inTable, ["stages", "x", "limit"])).toBe("3");
    expect(at(inTable, ["stages", "x", "run"])).toBe("'true'");
    expect(at(inTable, ["stages", "x", "run"], "key")).toBe("run");
  });

  test("`[stages.x]` headers: the table is its header, its key the last word", () => {
    const text = '[stages.x]\nlimit = ["a", { name = "b", weight = 2 }]\n\n[stages.y]\nrun = "true"\n';
    expect(at(text, ["stages", "x", "limit"])).toBe('["a", { name = "b", weight = 2 }]');
    expect(at(text, ["stages", "x", "limit", 0])).toBe('"a"');
    expect(at(text, ["stages", "x", "limit", 1])).toBe('{ name = "b", weight = 2 }');
    expect(at(text, ["stages", "x", "limit", 1, "weight"])).toBe("2");
    expect(at(text, ["stages", "x", "limit", 1, "weight"], "key")).toBe("weight");
    expect(at(text, ["stages", "y"])).toBe("stages.y");
    expect(at(text, ["stages", "y"], "key")).toBe("y");
    expect(at(text, ["stages", "y", "run"])).toBe('"true"');
  });

  test("quoted keys, and spaces inside a header", () => {
    const text = '[ stages . "my stage" ]\n"the key" = 1\n';
    expect(at(text, ["stages", "my stage"], "key")).toBe('"my stage"');
    expect(at(text, ["stages", "my stage", "the key"])).toBe("1");
    expect(at(text, ["stages", "my stage", "the key"], "key")).toBe('"the key"');
  });

  test("`[[...]]` arrays of tables: each element is its own header", () => {
    const text = "[[a.b]]\nc = 1\n\n[[a.b]]\nc = 22\n";
    expect(at(text, ["a", "b", 0, "c"])).toBe("1");
    expect(at(text, ["a", "b", 1, "c"])).toBe("22");
    const second = text.indexOf("a.b", 10);
    const doc = parseSource(new SourceFile("wf.toml", text), "toml");
    expect(doc.locate(["a", "b", 1])).toEqual({ start: second, end: second + 3 });
  });

  test("nested arrays", () => {
    const text = "x = [[1, 2], [3, [4, 5]]]\n";
    expect(at(text, ["x", 1])).toBe("[3, [4, 5]]");
    expect(at(text, ["x", 1, 1])).toBe("[4, 5]");
    expect(at(text, ["x", 1, 1, 0])).toBe("4");
  });

  test("multi-line strings and arrays span all their lines", () => {
    const text = 'run = """\necho hi\n"""\nxs = [\n  1,\n  2,\n]\n';
    expect(at(text, ["run"])).toBe('"""\necho hi\n"""');
    expect(at(text, ["xs"])).toBe("[\n  1,\n  2,\n]");
  });

  test("a path that does not exist points at its nearest ancestor", () => {
    const text = '[stages.x]\nrun = "true"\n';
    expect(at(text, ["stages", "x", "limit"])).toBe("stages.x");
    expect(at(text, ["stages", "x", "limit"], "key")).toBe("stages.x");
    expect(at(text, ["stages", "x", "run", 3])).toBe('"true"');
    expect(at(text, ["nope"])).toBe("");
  });

  test("CRLF line endings do not shift spans", () => {
    const text = '[stages.x]\r\nlimit = "ftp"\r\n';
    expect(at(text, ["stages", "x", "limit"])).toBe('"ftp"');
  });
});

describe("TOML syntax errors", () => {
  function errors(text: string) {
    const doc = parseSource(new SourceFile("wf.toml", text), "toml");
    return doc.diagnostics.map((d) => ({
      code: d.code,
      at: text.slice(d.location!.span!.start, d.location!.span!.end),
      span: d.location!.span,
    }));
  }

  test("are located inside the text, even at its very end", () => {
    for (const text of ['a = "x', "a = [1,", "[stages", "a =", "a = 1\na = 2", "a = 1\n[a]\n"]) {
      const doc = parseSource(new SourceFile("wf.toml", text), "toml");
      expect(doc.data).toBeUndefined();
      expect(doc.diagnostics.length).toBeGreaterThan(0);
      for (const d of doc.diagnostics) {
        const span = d.location!.span!;
        expect(
          0 <= span.start && span.start <= span.end && span.end <= text.length,
          `${JSON.stringify(text)}: ${JSON.stringify(span)}`,
        ).toBe(true);
      }
    }
  });

  test("a key defined twice is WFC004", () => {
    expect(errors("a = 1\na = 2\n").map((e) => e.code)).toEqual(["WFC004"]);
  });
});
