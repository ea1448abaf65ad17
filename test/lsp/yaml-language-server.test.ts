/**
 * The schema on its own, in a real editor's YAML server: Red Hat's
 * yaml-language-server (what VS Code's YAML extension runs) given only the
 * schema line. The rules the schema can express without wfc (issue 17:
 * `run` with `fn`, two foreach sources, reserved names) must show there at
 * the key, in wfc's words; the samples must show nothing. What needs wfc
 * itself (an unknown limit) is `wfc lsp`'s to show.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fixture, repoRoot } from "../e2e/helpers.js";
import { LspClient, uriOf } from "./client.js";

const server = [process.execPath, join(repoRoot, "node_modules/yaml-language-server/bin/yaml-language-server"), "--stdio"];
const modeline = `# yaml-language-server: $schema=${join(repoRoot, "schema/workflow.schema.json")}\n`;

let client: LspClient;
let dir: string;
beforeAll(async () => {
  dir = fixture({});
  client = await LspClient.start({ command: server, cwd: dir });
});
afterAll(async () => {
  await client.kill();
});

/** yaml-language-server's diagnostics for `text` with the schema line put first, as 1-based line:column in `text` and message. */
async function flagged(name: string, text: string): Promise<string[]> {
  const uri = uriOf(join(dir, name));
  await client.open(uri, modeline + text, "yaml");
  // It publishes without a version: the first list for this (new) URI is the one.
  const diagnostics = await client.waitForDiagnostics(uri);
  // The schema line is one line more above the text.
  return diagnostics.map((d) => `${d.range.start.line}:${d.range.start.character + 1}: ${d.message}`).sort();
}

const corpus = (name: string) => readFileSync(join(repoRoot, "samples/invalid", name), "utf8");
const RESERVED = "`params`, `inputs`, `outputs`, `log`, `stage` and `cpus` already mean something in templates: choose another name";
const ONE_SOURCE = "a foreach variable has one source: `range`, `glob`, `sheet`, `lines` or `from`";

describe("yaml-language-server with only wfc's schema", () => {
  test("a stage with both `run` and `fn`: the `run` key, in wfc's words", async () => {
    expect(await flagged("run-and-fn.yaml", corpus("run-and-fn.yaml"))).toEqual([
      "8:5: a stage has either `run` (a command) or `fn` (a JavaScript function), not both: split it into two stages",
    ]);
  });

  test("`range` with `glob` in one foreach variable: both source keys", async () => {
    expect(await flagged("range-and-glob.yaml", corpus("range-and-glob.yaml"))).toEqual([`8:9: ${ONE_SOURCE}`, `9:9: ${ONE_SOURCE}`]);
  });

  test.each([
    ["reserved-foreach-cpus.yaml", "6:7"],
    ["reserved-foreach-var.yaml", "7:7"],
  ])("a reserved foreach variable name (%s): at the name, where wfc validate puts it", async (name, at) => {
    expect(await flagged(name, corpus(name))).toEqual([`${at}: ${RESERVED}`]);
  });

  test.each(["environments", "qiime-search", "reads-split", "ruffus-jobs-limit", "scipion-steps"])(
    "samples/%s/workflow.yaml: nothing flagged",
    async (sample) => {
      const text = readFileSync(join(repoRoot, "samples", sample, "workflow.yaml"), "utf8").replace(/^# yaml-language-server:.*\n/, "");
      expect(await flagged(`${sample}.yaml`, text)).toEqual([]);
    },
  );

  test("an unknown limit needs wfc: the schema alone cannot see it (wfc lsp does, test/lsp/diagnostics.test.ts)", async () => {
    expect(await flagged("unknown-limit.yaml", corpus("unknown-limit.yaml"))).toEqual([]);
  });
});
