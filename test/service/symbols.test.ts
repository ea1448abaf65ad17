import { describe, expect, test } from "vitest";
import { definition, references } from "../../compiler/service/service.js";
import { offsetOf, open, openFile, shown } from "./helpers.js";

/** `line:text` of every reference (and the definition) of the name at `offset`. */
function uses(opened: { doc: Parameters<typeof references>[0]; text: string }, offset: number): string[] {
  return references(opened.doc, offset, true).map((l) => shown(opened.text, l.span));
}

describe("the symbol index: definitions and references with exact spans", () => {
  test("a limit: its key under `limits` and each stage's `limit` (ruffus sample)", async () => {
    const opened = await openFile("samples/ruffus-jobs-limit/workflow.yaml");
    const at = offsetOf(opened.text, "limit: ftp_download_limit", 0, 10);
    expect(shown(opened.text, definition(opened.doc, at)?.span)).toBe("28:ftp_download_limit");
    expect(uses(opened, at)).toEqual(["28:ftp_download_limit", "49:ftp_download_limit", "58:ftp_download_limit"]);
    expect(references(opened.doc, at, false)).toHaveLength(2);
  });

  test("a foreach variable: its key and its placeholders in that stage only", async () => {
    const opened = await openFile("samples/ruffus-jobs-limit/workflow.yaml");
    const at = offsetOf(opened.text, 'inputs: "work/{i}.small', 0, 15);
    expect(opened.text.slice(at, at + 1)).toBe("i");
    expect(uses(opened, at)).toEqual(["46:i", "47:i", "48:i", "50:i"]);
  });

  test("a param in TOML: `{params.k}` inside an argv list points at `k`", async () => {
    const opened = await openFile("samples/qiime-search/workflow.toml");
    const at = offsetOf(opened.text, "{params.k}", 0, 8);
    expect(shown(opened.text, definition(opened.doc, at)?.span)).toMatch(/^\d+:k$/);
    expect(uses(opened, at).map((u) => u.split(":")[1])).toEqual(["k", "k"]);
  });

  test("a stage in TOML: every table header naming it and `from`", async () => {
    const opened = await open(
      [
        "wfc = 1",
        "[stages.split]",
        'outputs = "chunks/{chunk}.fa"',
        'decides = "chunk"',
        'run = "split"',
        "[stages.split.env]",
        'MODE = "fast"',
        "[stages.search]",
        'foreach = { chunk = { from = "split" } }',
        'inputs = "chunks/{chunk}.fa"',
        'after = ["split"]',
        'run = "search {chunk}"',
      ].join("\n"),
      "toml",
    );
    const at = offsetOf(opened.text, "from = ", 0, 8);
    expect(uses(opened, at)).toEqual(["2:split", "6:split", "9:split", "11:split"]);
    // `chunk`: decided by `split` (its `decides`), a foreach variable of `search`.
    expect(uses(opened, offsetOf(opened.text, "{chunk}.fa", 0, 1))).toEqual(["3:chunk", "4:chunk"]);
    expect(uses(opened, offsetOf(opened.text, "{chunk}.fa", 1, 1))).toEqual(["9:chunk", "10:chunk", "12:chunk"]);
  });

  test("placeholders in quoted strings with escapes have exact spans", async () => {
    const yaml = await open(
      [
        "wfc: 1",
        "stages:",
        "  a:",
        "    foreach: { x: [1] }",
        '    run: "printf \'\\t%s\\n\' {x} \\"{ x }\\""',
        '    outputs: "o/{x}"',
      ].join("\n"),
    );
    expect(uses(yaml, offsetOf(yaml.text, "x: [1]", 0, 0))).toEqual(["4:x", "5:x", "5:x", "6:x"]);
    const spans = references(yaml.doc, offsetOf(yaml.text, "x: [1]", 0, 0), false).map((l) => l.span!.start);
    expect(spans.map((s) => yaml.text.slice(s - 1, s + 2))).toEqual(["{x}", " x ", "{x}"]);
    const toml = await open(
      ["wfc = 1", "[stages.a]", "foreach = { x = [1] }", 'run = "a\\tb\\u0020{x}"', "outputs = 'o/{x}'"].join("\n"),
      "toml",
    );
    expect(uses(toml, offsetOf(toml.text, "x = [1]", 0, 0))).toEqual(["3:x", "4:x", "5:x"]);
  });

  test("limits written as a list and with weights; executors from defaults and stages, and the built-ins", async () => {
    const opened = await open(
      [
        "wfc: 1",
        "limits: { db: 2, ftp: 1 }",
        "executors:",
        "  pool: { type: processes, max: 2 }",
        "defaults: { executor: pool }",
        "stages:",
        "  a:",
        "    run: echo a",
        "    limit: [ftp, { name: db, weight: 2 }, 3]",
        "    executor: threads",
        "  b:",
        "    run: echo b",
        "    limit: { name: db }",
        "    after: a",
        "    executor: pool",
      ].join("\n"),
    );
    expect(uses(opened, offsetOf(opened.text, "db: 2", 0, 0))).toEqual(["2:db", "9:db", "13:db"]);
    expect(uses(opened, offsetOf(opened.text, "pool:", 0, 0))).toEqual(["4:pool", "5:pool", "15:pool"]);
    // A built-in executor has no definition in the file.
    expect(definition(opened.doc, offsetOf(opened.text, "executor: threads", 0, 11))).toBeUndefined();
    expect(uses(opened, offsetOf(opened.text, "executor: threads", 0, 11))).toEqual(["10:threads"]);
    expect(uses(opened, offsetOf(opened.text, "after: a", 0, 7))).toEqual(["7:a", "14:a"]);
  });

  test("a file that does not validate still has its names (an unknown limit is a reference)", async () => {
    const opened = await openFile("samples/invalid/unknown-limit-weighted.toml");
    expect(opened.doc.validated).toBeUndefined();
    const at = offsetOf(opened.text, 'name = "db"', 0, 8);
    expect(references(opened.doc, at, false).map((l) => shown(opened.text, l.span))).toEqual(["11:db"]);
    expect(definition(opened.doc, at)).toBeUndefined();
  });
});
