import { stripVTControlCharacters } from "node:util";
import { describe, expect, test } from "vitest";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { formatDiagnostic, formatLocation, formatSummary } from "../../compiler/diagnostics/format.js";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import { validateDocument } from "../../compiler/validate.js";

const text = ["wfc: 1", "limits:", "  ftp: 3", "stages:", "  a:", "    limit: ftpp", '    run: "true"', ""].join("\n");
const file = new SourceFile("wf.yaml", text);
const files = (path: string) => (path === "wf.yaml" ? file : undefined);
const span = (needle: string, from = 0) => {
  const start = text.indexOf(needle, from);
  return { start, end: start + needle.length };
};

describe("formatDiagnostic", () => {
  test("header, source line, marker with `expected`, then help and related notes", () => {
    const d: Diagnostic = {
      severity: "error",
      code: "WFC202",
      message: "unknown limit `ftpp`",
      location: { file: "wf.yaml", span: span("ftpp") },
      expected: "one of `ftp`",
      help: "did you mean `ftp`?",
      related: [{ location: { file: "wf.yaml", span: span("ftp") }, message: "`ftp` is defined here" }],
    };
    expect(formatDiagnostic(d, files)).toBe(
      [
        "wf.yaml:6:12: error WFC202: unknown limit `ftpp`",
        " 6 |     limit: ftpp",
        "   |            ^^^^ expected one of `ftp`",
        "   = help: did you mean `ftp`?",
        "   = note: wf.yaml:3:3: `ftp` is defined here",
      ].join("\n"),
    );
  });

  test("a warning", () => {
    const d: Diagnostic = {
      severity: "warning",
      code: "WFC219",
      message: "limit `ftp` is not used by any stage",
      location: { file: "wf.yaml", span: { start: 17, end: 20 } },
    };
    expect(formatDiagnostic(d, files)).toBe(
      ["wf.yaml:3:3: warning WFC219: limit `ftp` is not used by any stage", " 3 |   ftp: 3", "   |   ^^^"].join("\n"),
    );
  });

  test("tabs are shown as one space each, so the marker stays under the span", () => {
    const tabbed = "stages:\n\ta:\n\t\tlimit:\tftpp\n";
    const f = new SourceFile("t.yaml", tabbed);
    const start = tabbed.indexOf("ftpp");
    const d: Diagnostic = {
      severity: "error",
      code: "WFC202",
      message: "unknown limit `ftpp`",
      location: { file: "t.yaml", span: { start, end: start + 4 } },
    };
    expect(formatDiagnostic(d, () => f)).toBe(
      ["t.yaml:3:10: error WFC202: unknown limit `ftpp`", " 3 |   limit: ftpp", "   |          ^^^^"].join("\n"),
    );
  });

  test("a span over several lines is marked to the end of its first line", () => {
    const start = text.indexOf("stages:");
    const d: Diagnostic = {
      severity: "error",
      code: "WFC101",
      message: "bad",
      location: { file: "wf.yaml", span: { start, end: text.length } },
    };
    expect(formatDiagnostic(d, files)).toBe(["wf.yaml:4:1: error WFC101: bad", " 4 | stages:", "   | ^^^^^^^"].join("\n"));
  });

  test("an empty span still gets one caret, also at the very end of the file", () => {
    const d: Diagnostic = {
      severity: "error",
      code: "WFC103",
      message: "missing",
      location: { file: "wf.yaml", span: { start: text.length, end: text.length } },
    };
    expect(formatDiagnostic(d, files)).toBe(["wf.yaml:8:1: error WFC103: missing", " 8 | ", "   | ^"].join("\n"));
  });

  test("line numbers of several digits widen the gutter", () => {
    const long = Array.from({ length: 12 }, (_, i) => `k${i}: ${i}`).join("\n");
    const f = new SourceFile("l.yaml", long);
    const start = long.indexOf("k11");
    const d: Diagnostic = {
      severity: "error",
      code: "WFC102",
      message: "unknown key `k11`",
      location: { file: "l.yaml", span: { start, end: start + 3 } },
      help: "remove it",
    };
    expect(formatDiagnostic(d, () => f)).toBe(
      ["l.yaml:12:1: error WFC102: unknown key `k11`", " 12 | k11: 11", "    | ^^^", "    = help: remove it"].join("\n"),
    );
  });

  test("CRLF: the CR is not printed", () => {
    const crlf = "wfc: 1\r\nstages: 3\r\n";
    const f = new SourceFile("c.yaml", crlf);
    const d: Diagnostic = { severity: "error", code: "WFC101", message: "bad", location: { file: "c.yaml", span: { start: 16, end: 17 } } };
    expect(formatDiagnostic(d, () => f)).toBe(["c.yaml:2:9: error WFC101: bad", " 2 | stages: 3", "   |         ^"].join("\n"));
  });

  test("a file-level diagnostic without a span: no source line, `expected` as a note", () => {
    const d: Diagnostic = {
      severity: "error",
      code: "WFC006",
      message: "cannot tell the format of `wf.txt` from its extension",
      location: { file: "wf.txt" },
      expected: "a file ending in .yaml, .yml, .toml or .json",
      help: "rename the file with the extension of its format",
    };
    expect(formatDiagnostic(d, files)).toBe(
      [
        "wf.txt: error WFC006: cannot tell the format of `wf.txt` from its extension",
        "   = expected: a file ending in .yaml, .yml, .toml or .json",
        "   = help: rename the file with the extension of its format",
      ].join("\n"),
    );
  });

  test("a command-line diagnostic without a location is attributed to wfc", () => {
    const d: Diagnostic = {
      severity: "error",
      code: "WFC216",
      message: "`--param nope=…` names no param of this workflow",
      expected: "one of `k`",
    };
    expect(formatDiagnostic(d, files)).toBe(
      ["wfc: error WFC216: `--param nope=…` names no param of this workflow", "   = expected: one of `k`"].join("\n"),
    );
  });

  test("colour only when asked for", () => {
    const d: Diagnostic = { severity: "error", code: "WFC202", message: "m", location: { file: "wf.yaml", span: span("ftpp") } };
    expect(formatDiagnostic(d, files)).not.toContain("\x1b[");
    const coloured = formatDiagnostic(d, files, { color: true });
    expect(coloured).toContain("\x1b[31m");
    // Stripped of colour, it is the plain text.
    expect(stripVTControlCharacters(coloured)).toBe(formatDiagnostic(d, files));
  });
});

describe("formatLocation and formatSummary", () => {
  test("formatLocation", () => {
    expect(formatLocation({ file: "wf.yaml", span: span("ftpp") }, files)).toBe("wf.yaml:6:12");
    expect(formatLocation({ file: "wf.yaml" }, files)).toBe("wf.yaml");
  });

  test("formatSummary counts errors and warnings", () => {
    const e: Diagnostic = { severity: "error", code: "WFC001", message: "x" };
    const w: Diagnostic = { severity: "warning", code: "WFC219", message: "y" };
    expect(formatSummary([e], "wf.yaml")).toBe("1 error in wf.yaml");
    expect(formatSummary([e, e, w], "wf.yaml")).toBe("2 errors, 1 warning in wf.yaml");
    expect(formatSummary([w, w], "wf.yaml")).toBe("0 errors, 2 warnings in wf.yaml");
  });
});

describe("messages stay on one line", () => {
  test("a value with a newline quoted in a message does not break the header", async () => {
    // A YAML literal block gives an output path with a newline in it.
    const source = [
      "wfc: 1",
      "stages:",
      "  a:",
      "    foreach: { i: [1, 2] }",
      "    outputs: |-",
      "      line",
      "      break",
      '    run: "true"',
      "",
    ].join("\n");
    const f = new SourceFile("n.yaml", source);
    const result = await validateDocument(parseSource(f, "yaml"));
    expect(result.diagnostics.map((d) => d.code)).toEqual(["WFC207"]);
    const printed = formatDiagnostic(result.diagnostics[0]!, () => f).split("\n");
    expect(printed[0]).toMatch(/^n\.yaml:5:14: error WFC207: output `line.+break` of stage `a` does not use foreach variable `\{i\}`$/);
    expect(printed[1]).toBe(" 5 |     outputs: |-");
  });
});
