import { describe, expect, test } from "vitest";
import { validateSarif } from "../e2e/sarif-schema.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { toGithubCommand } from "../../compiler/diagnostics/github.js";
import { toSarif } from "../../compiler/diagnostics/sarif.js";
import { SourceFile } from "../../compiler/source/source-file.js";

const text = ["wfc: 1", "limits:", "  ftp: 3", "stages:", "  a:", "    limit: ftpp", '    run: "true"', ""].join("\n");
const file = new SourceFile("/repo/wf.yaml", text);
const files = (path: string) => (path === file.path ? file : undefined);
const at = (needle: string) => ({ start: text.indexOf(needle), end: text.indexOf(needle) + needle.length });
const typo: Diagnostic = {
  severity: "error",
  code: "WFC202",
  message: "unknown limit `ftpp`",
  location: { file: file.path, span: at("ftpp") },
  expected: "one of `ftp`",
  help: "did you mean `ftp`?",
  related: [{ location: { file: file.path, span: at("ftp:") }, message: "`ftp` is defined here" }],
  fixes: [{ title: "change to `ftp`", edits: [{ span: at("ftpp"), newText: "ftp" }] }],
};

describe("toSarif", () => {
  test("a diagnostic's fixes become SARIF fixes replacing the span; related locations keep their message", () => {
    const log = toSarif([typo], files, "/repo", "1.2.3");
    expect(validateSarif(log), JSON.stringify(validateSarif.errors)).toBe(true);
    const [result] = log.runs[0].results;
    expect(result!.fixes).toEqual([
      {
        description: { text: "change to `ftp`" },
        artifactChanges: [
          {
            artifactLocation: { uri: "wf.yaml", index: 0 },
            replacements: [
              {
                deletedRegion: { startLine: 6, startColumn: 12, endLine: 6, endColumn: 16, charOffset: at("ftpp").start, charLength: 4 },
                insertedContent: { text: "ftp" },
              },
            ],
          },
        ],
      },
    ]);
    expect(result!.relatedLocations).toEqual([
      {
        id: 1,
        physicalLocation: {
          artifactLocation: { uri: "wf.yaml", index: 0 },
          region: { startLine: 3, startColumn: 3, endLine: 3, endColumn: 7, charOffset: at("ftp:").start, charLength: 4 },
        },
        message: { text: "`ftp` is defined here" },
      },
    ]);
  });

  test("a file outside the working directory is a file: URI; a diagnostic without a file has no location", () => {
    const log = toSarif(
      [typo, { severity: "warning", code: "WFC216", message: "`--param x=…` names no param" }],
      files,
      "/elsewhere",
      "1.2.3",
    );
    expect(validateSarif(log), JSON.stringify(validateSarif.errors)).toBe(true);
    expect(log.runs[0].artifacts).toEqual([{ location: { uri: "file:///repo/wf.yaml" } }]);
    expect(log.runs[0].results[1]).toEqual({
      ruleId: "WFC216",
      ruleIndex: 1,
      level: "warning",
      message: { text: "`--param x=…` names no param" },
      locations: [],
    });
  });
});

describe("toGithubCommand", () => {
  test("related locations are note lines; properties relative to the working directory", () => {
    expect(toGithubCommand(typo, files, "/repo")).toBe(
      "::error file=wf.yaml,line=6,col=12,endLine=6,endColumn=16,title=WFC202::unknown limit `ftpp`%0Aexpected one of `ftp`%0Ahelp: did you mean `ftp`?%0Anote: wf.yaml:3:3: `ftp` is defined here",
    );
  });

  test("a control character in a file name is shown escaped, as the text format shows it", () => {
    const d: Diagnostic = { severity: "error", code: "WFC005", message: "cannot read", location: { file: "/repo/a\x1b[31mb.yaml" } };
    expect(toGithubCommand(d, files, "/repo")).toBe("::error file=a\\x1b[31mb.yaml,title=WFC005::cannot read");
  });

  test("a control character in a message is shown escaped, never sent raw to the runner", () => {
    const d: Diagnostic = { severity: "warning", code: "WFC219", message: "limit `a\rb` is unused", location: { file: "/repo/wf.yaml" } };
    expect(toGithubCommand(d, files, "/repo")).toBe("::warning file=wf.yaml,title=WFC219::limit `a\\rb` is unused");
  });
});
