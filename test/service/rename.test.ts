import { describe, expect, test } from "vitest";
import type { Validated } from "../../compiler/validate.js";
import { prepareRename, rename } from "../../compiler/service/service.js";
import { applyEdits, offsetOf, open, openFile, type Opened } from "./helpers.js";

/** The plan's shape: stages with their fan-out sizes, limits, and edges, with one name mapped. */
function shape(v: Validated | undefined, map: (name: string) => string = (n) => n): unknown {
  if (v === undefined) return undefined;
  return {
    stages: [...v.workflow.stages.values()].map(
      (s) => `${map(s.name)}×${s.fanout.size} limits=${s.limits.map((l) => (l.kind === "named" ? map(l.name) : l.cap)).join(",")}`,
    ),
    limits: [...v.workflow.limits.keys()].map(map).sort(),
    edges: v.edges.map((e) => `${map(e.from)}->${map(e.to)}`).sort(),
  };
}

/** Renames the name at `offset`, applies the edits and validates the result. */
async function renamed(opened: Opened, offset: number, newName: string, format: "yaml" | "toml" = "yaml"): Promise<Opened> {
  const result = rename(opened.doc, offset, newName);
  if (!result.ok) throw new Error(result.message);
  return open(applyEdits(opened.text, result.edits), format, "workflow", opened.doc.document.file.path);
}

describe("rename: the definition and every reference, giving a file that validates to the same plan", () => {
  test("a limit in the ruffus sample (YAML)", async () => {
    const before = await openFile("samples/ruffus-jobs-limit/workflow.yaml");
    const at = offsetOf(before.text, "limit: ftp_download_limit", 1, 10);
    expect(prepareRename(before.doc, at)).toEqual({
      kind: "limit",
      name: "ftp_download_limit",
      span: { start: at - 3, end: at - 3 + "ftp_download_limit".length },
    });
    const after = await renamed(before, at, "ftp");
    // Prose and comments keep the old name; the definition and both uses change.
    expect(after.text.match(/^ {2,4}(limit: ftp|ftp: 3)$/gm)).toEqual(["  ftp: 3", "    limit: ftp", "    limit: ftp"]);
    expect(after.doc.validated).toBeDefined();
    expect(shape(after.doc.validated)).toEqual(shape(before.doc.validated, (n) => (n === "ftp_download_limit" ? "ftp" : n)));
  });

  test("a stage in TOML: table headers, `from` and `after`", async () => {
    const before = await openFile("samples/qiime-search/workflow.toml");
    expect(before.doc.validated).toBeDefined();
    const after = await renamed(before, offsetOf(before.text, "[stages.split]", 0, 8), "chop", "toml");
    expect(after.text).toContain("[stages.chop]");
    expect(after.text).toContain('from = "chop"');
    expect(after.doc.validated).toBeDefined();
    expect(shape(after.doc.validated)).toEqual(shape(before.doc.validated, (n) => (n === "split" ? "chop" : n)));
  });

  test("a stage in YAML named by `after` (scipion sample), from the reference", async () => {
    const before = await openFile("samples/scipion-steps/workflow.yaml");
    const after = await renamed(before, offsetOf(before.text, "after: [processStep]", 0, 9), "process_step");
    expect(after.text).toContain("  process_step:\n");
    expect(after.text).toContain("after: [process_step]");
    expect(shape(after.doc.validated)).toEqual(shape(before.doc.validated, (n) => (n === "processStep" ? "process_step" : n)));
  });

  test("a param and a foreach variable, inside placeholders", async () => {
    const before = await openFile("samples/ruffus-jobs-limit/workflow.yaml");
    const param = await renamed(before, offsetOf(before.text, "{params.sleep}", 0, 9), "pause");
    expect(param.text.match(/\{params\.pause\}/g)).toHaveLength(4);
    expect(param.text).toContain("  pause: 0.2");
    expect(shape(param.doc.validated)).toEqual(shape(before.doc.validated));
    const variable = await renamed(before, offsetOf(before.text, 'inputs: "work/{i}.small', 0, 15), "n");
    expect(variable.text).toContain('inputs: "work/{n}.small_stage1"');
    expect(variable.text).toContain('inputs: "work/{i}.big_stage1"');
    expect(shape(variable.doc.validated)).toEqual(shape(before.doc.validated));
  });

  test("refused: an invalid name, a taken name, an executor, a built-in, nothing at the cursor", async () => {
    const opened = await openFile("samples/ruffus-jobs-limit/workflow.yaml");
    const stage = offsetOf(opened.text, "  stage1_small:", 0, 3);
    expect(rename(opened.doc, stage, "1st")).toEqual({
      ok: false,
      message: "`1st` is not a valid stage name: it must match ^[A-Za-z_][A-Za-z0-9_-]*$",
    });
    expect(rename(opened.doc, stage, "stage2")).toEqual({ ok: false, message: "stage `stage2` already exists" });
    const executor = offsetOf(opened.text, "executor: multiprocess", 0, 11);
    expect(prepareRename(opened.doc, executor)).toBeUndefined();
    expect(rename(opened.doc, executor, "pool")).toEqual({
      ok: false,
      message: "executors are not renamed: config files may name them too",
    });
    const variable = offsetOf(opened.text, 'inputs: "work/{i}.small', 0, 15);
    expect(rename(opened.doc, variable, "params")).toEqual({ ok: false, message: "`{params}` is reserved in templates" });
    expect(rename(opened.doc, offsetOf(opened.text, "jobs: 10", 0, 1), "x").ok).toBe(false);
  });

  test("refused: a foreach variable of stages linked by `from`, whose names must agree", async () => {
    const opened = await openFile("samples/qiime-search/workflow.toml");
    const consumer = rename(opened.doc, offsetOf(opened.text, "foreach = { chunk", 0, 13), "piece");
    expect(consumer).toEqual({
      ok: false,
      message:
        "the foreach variables of stage `search` are matched by name with those of stage `split` (`from`): rename `chunk` in both by hand",
    });
    expect(rename(opened.doc, offsetOf(opened.text, 'decides = ["chunk"]', 0, 12), "piece").ok).toBe(false);
  });

  test("refused when a use is written with an escape: renaming around it would miss it", async () => {
    const opened = await open(["wfc: 1", "stages:", "  a:", "    run: echo a", "  b:", "    run: echo b", '    after: "\\x61"'].join("\n"));
    const at = offsetOf(opened.text, "  a:", 0, 2);
    expect(prepareRename(opened.doc, at)).toBeUndefined();
    const result = rename(opened.doc, at, "z");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/not written plainly/);
  });

  test("a file that does not parse is not renamed", async () => {
    const opened = await open(
      ["wfc: 1", "limits:", "  ftp: 2", "stages:", "  a:", "    run: echo a", "    limit: ftp", "    cpus: [", ""].join("\n"),
    );
    expect(opened.doc.document.data).toBeUndefined();
    // A syntax error leaves no data: the names are read from the lines, but their uses are unknown.
    expect(rename(opened.doc, offsetOf(opened.text, "limit: ftp", 0, 8), "x").ok).toBe(false);
    const definition = offsetOf(opened.text, "  ftp: 2", 0, 3);
    expect(prepareRename(opened.doc, definition)).toBeUndefined();
    expect(rename(opened.doc, definition, "x")).toEqual({
      ok: false,
      message: "the file does not parse: fix its syntax first, or the rename could miss uses of the name",
    });
  });
});
