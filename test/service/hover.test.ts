import { describe, expect, test } from "vitest";
import { hover } from "../../compiler/service/service.js";
import { offsetOf, open, openFile, shown } from "./helpers.js";

describe("hover: a reference's definition and value, a key's schema description", () => {
  test("references and definitions in the ruffus sample", async () => {
    const { doc, text } = await openFile("samples/ruffus-jobs-limit/workflow.yaml");
    const limit = hover(doc, offsetOf(text, "limit: ftp_download_limit", 0, 10));
    expect(shown(text, limit?.span)).toBe("49:ftp_download_limit");
    expect(limit?.markdown).toBe("limit `ftp_download_limit` (line 28): `3` slots");
    expect(hover(doc, offsetOf(text, "{params.sleep}", 0, 9))?.markdown).toBe("param `sleep` (line 24): default `0.2`");
    expect(hover(doc, offsetOf(text, "executor: multiprocess", 0, 12))?.markdown).toBe(
      "executor `multiprocess` (line 16): type `processes`, max 10",
    );
    expect(hover(doc, offsetOf(text, "size: [small", 0, 1))?.markdown).toBe(
      "foreach variable `size` of stage `make_files` (line 38): list, 10 values: `small`, `small`, `small`, ...",
    );
    expect(hover(doc, offsetOf(text, "{i}", 0, 1))?.markdown).toBe(
      "foreach variable `i` of stage `make_files` (line 37): range, 10 values: `0`, `1`, `2`, ...",
    );
  });

  test("a stage shows its run or fn and description; a built-in executor says so", async () => {
    const { doc, text } = await openFile("samples/scipion-steps/workflow.yaml");
    expect(hover(doc, offsetOf(text, "after: [processStep]", 0, 9))?.markdown).toBe(
      "stage `processStep` (line 27): fn: `./tasks/protocol.mjs#processStep`\n\nProcess one micrograph (render it, measure it, pick particles). No prerequisites, so every element may run at once.",
    );
    expect(hover(doc, offsetOf(text, "element: ", 0, 1))?.markdown).toBe(
      "foreach variable `element` of stage `processStep` (line 30): param, 6 values: `mic001`, `mic002`, `mic003`, ...",
    );
    const builtin = await open("wfc: 1\nstages:\n  a:\n    run: echo\n    executor: threads\n");
    expect(hover(builtin.doc, offsetOf(builtin.text, "threads", 0, 2))?.markdown).toBe("executor `threads`: built in (type `threads`)");
  });

  test("an undefined name says where it was looked for", async () => {
    const { doc, text } = await open("wfc: 1\nstages:\n  a:\n    run: echo {smaple}\n    limit: ftp\n");
    expect(hover(doc, offsetOf(text, "smaple", 0, 1))?.markdown).toBe("foreach variable `smaple`: not defined in stage `a`");
    expect(hover(doc, offsetOf(text, "ftp", 0, 1))?.markdown).toBe("limit `ftp`: not defined in this file");
  });

  test("keys: the schema's description of the property at that path, YAML and TOML, workflow and config", async () => {
    const yaml = await openFile("samples/ruffus-jobs-limit/workflow.yaml");
    const jobs = hover(yaml.doc, offsetOf(yaml.text, "\njobs: 10", 0, 2));
    expect(shown(yaml.text, jobs?.span)).toBe("14:jobs");
    expect(jobs?.markdown).toMatch(/^At most this many jobs at once across the whole workflow/);
    expect(hover(yaml.doc, offsetOf(yaml.text, "    zip:", 0, 5))?.markdown).toMatch(/^`foreach` variables to pair element by element/);
    // `limit` refers to `$defs/LimitUse`: its description.
    expect(hover(yaml.doc, offsetOf(yaml.text, "    limit: ftp", 0, 5))?.markdown).toMatch(/^A concurrency limit on a stage/);
    // An executor's keys through `allOf`/`if`/`then`.
    expect(hover(yaml.doc, offsetOf(yaml.text, "    max: 10", 0, 5))?.markdown).toBeDefined();
    const toml = await openFile("samples/qiime-search/workflow.toml");
    expect(hover(toml.doc, offsetOf(toml.text, "[stages.search]", 0, 2))?.markdown).toMatch(/^The stages, by name/);
    expect(hover(toml.doc, offsetOf(toml.text, "\ndecides = ", 0, 2))?.markdown).toMatch(/^Variables this stage's job decides/);
    const config = await open(
      '[executors.cluster]\ntype = "slurm"\n[map.stages]\nsearch = "cluster"\n',
      "toml",
      "config",
      "wfc.config.toml",
    );
    expect(hover(config.doc, offsetOf(config.text, "[map", 0, 2))?.markdown).toMatch(/^Which executor runs which stages/);
    expect(hover(config.doc, offsetOf(config.text, '"cluster"', 0, 2))?.markdown).toBe("executor `cluster` (line 1): type `slurm`");
  });

  test("nothing to say: a value that is no name, a comment", async () => {
    const { doc, text } = await openFile("samples/ruffus-jobs-limit/workflow.yaml");
    expect(hover(doc, offsetOf(text, "jobs: 10", 0, 7))).toBeUndefined();
    expect(hover(doc, 2)).toBeUndefined();
  });
});

test("a file that does not parse: its names' definitions from the lines, without values", async () => {
  const { doc, text } = await open(["wfc: 1", "limits:", "  ftp: 3", "stages:", "  a:", "    run: echo", "    cpus: [", ""].join("\n"));
  expect(doc.document.data).toBeUndefined();
  expect(hover(doc, offsetOf(text, "ftp", 0, 1))?.markdown).toBe("limit `ftp` (line 3)");
  expect(hover(doc, offsetOf(text, "  a:", 0, 2))?.markdown).toBe("stage `a` (line 5)");
});
