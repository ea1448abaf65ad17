/**
 * `wfc lsp` with hostile values, through a real client: a folder whose name
 * needs escaping in a URI, foreach values built to break out of a shell or
 * a markdown hover, and buffers that are not files. The server reads, never
 * writes, never runs a value, and answers in the file the editor named.
 *
 * Needs `npm run build` first: it spawns dist/cli/bin.js, as an editor would.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";
import { applyEdits, DiagnosticSeverity, LspClient, uriOf, type TextEdit } from "./client.js";

const clients: LspClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.kill()));
});

/** Values a user or an attacker could put in a sample list: each would run something if it reached a shell unquoted. */
const HOSTILE = [
  "$(touch PWNED)",
  "`touch PWNED`",
  "a; touch PWNED",
  "x' && touch PWNED '",
  "</script><img src=x onerror=alert(1)>",
  "**bold** [link](http://x)",
];

function workflowText(limit: string): string {
  return [
    "wfc: 1",
    "limits:",
    "  net: 2",
    "stages:",
    "  fetch:",
    "    foreach:",
    "      v:",
    ...HOSTILE.map((value) => `        - ${JSON.stringify(value)}`),
    '    outputs: "out/{v}.txt"',
    '    run: "printf %s {v} > {outputs}"',
    `    limit: ${limit}`,
    "",
  ].join("\n");
}

/** Every file under `dir`, relative, sorted: what the session must leave as it was. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

test("a folder named with spaces, %, #, quotes and $( ): diagnostics, quick fix, hover and rename at that file's URI; nothing written, nothing run", async () => {
  const root = fixture({});
  const dir = join(root, `we ird %41 #frag 'q" $(touch PWNED) ü`);
  mkdirSync(dir);
  const path = join(dir, "workflow.yaml");
  const broken = workflowText("nett");
  writeFileSync(path, broken);
  const before = listing(root);

  const client = await LspClient.start({ cwd: dir });
  clients.push(client);
  const uri = uriOf(path);
  await client.open(uri, broken);
  const diagnostics = await client.waitForDiagnostics(uri, 1);

  // Exactly what `wfc validate` says about the same file, at the same place.
  const { stdout } = await wfc(["validate", "--format", "json", path], { cwd: dir });
  const json = JSON.parse(stdout) as { files: { diagnostics: { code: string; range: { start: { line: number; column: number } } }[] }[] };
  const expected = json.files[0]!.diagnostics;
  expect(diagnostics.map((d) => [d.code, d.range.start.line + 1, d.range.start.character + 1])).toEqual(
    expected.map((d) => [d.code, d.range.start.line, d.range.start.column]),
  );
  expect(diagnostics.map((d) => d.code)).toEqual(["WFC202"]);

  // The quick fix edits this file's URI, and the fixed text is valid.
  const actions = await client.request<{ title: string; edit: { changes: Record<string, TextEdit[]> } }[]>("textDocument/codeAction", {
    textDocument: { uri },
    range: diagnostics[0]!.range,
    context: { diagnostics },
  });
  expect(Object.keys(actions[0]!.edit.changes)).toEqual([uri]);
  const fixed = applyEdits(broken, actions[0]!.edit.changes[uri]!);
  expect(fixed).toBe(workflowText("net"));
  const version = await client.change(uri, fixed);
  expect((await client.waitForDiagnostics(uri, version)).filter((d) => d.severity === DiagnosticSeverity.Error)).toEqual([]);

  // Hover on the placeholder shows the values as code, so markdown in a value is not rendered as markdown.
  const line = fixed.split("\n").findIndex((l) => l.includes("printf"));
  const hover = await client.request<{ contents: { kind: string; value: string } }>("textDocument/hover", {
    textDocument: { uri },
    position: { line, character: fixed.split("\n")[line]!.indexOf("{v}") + 1 },
  });
  // Each value is a code span, a value with backticks in a longer fence: shown as it is, never rendered.
  expect(hover.contents.value).toContain("6 values: `$(touch PWNED)`, `` `touch PWNED` ``, `a; touch PWNED`, ...");

  // A rename answers with edits to this URI only; applying them is the editor's business.
  const renameLine = fixed.split("\n").findIndex((l) => l === "  fetch:");
  const edit = await client.request<{ changes: Record<string, TextEdit[]> }>("textDocument/rename", {
    textDocument: { uri },
    position: { line: renameLine, character: 3 },
    newName: "download",
  });
  expect(Object.keys(edit.changes)).toEqual([uri]);
  expect(applyEdits(fixed, edit.changes[uri]!)).toContain("  download:");

  expect((await client.shutdown()).code).toBe(0);
  // The server wrote nothing (the file on disk is still the broken one) and ran nothing.
  expect(listing(root)).toEqual(before);
  expect(listing(root).some((name) => name.includes("PWNED") && !name.includes("$(touch PWNED)"))).toBe(false);
});

test("buffers that are not files (untitled:, a diff view) get no diagnostics and do not take the server down", async () => {
  const client = await LspClient.start();
  clients.push(client);
  for (const uri of ["untitled:Untitled-1", "git:/repo/workflow.yaml?%7B%22ref%22%3A%22HEAD%22%7D", "file://not-this-host/x.yaml"]) {
    await client.open(uri, workflowText("nett"), "yaml");
    expect(await client.waitForDiagnostics(uri, 1)).toEqual([]);
  }
  // Still serving a real file afterwards.
  const dir = fixture({ "workflow.yaml": workflowText("nett") });
  const uri = uriOf(join(dir, "workflow.yaml"));
  await client.open(uri, workflowText("nett"));
  expect((await client.waitForDiagnostics(uri, 1)).map((d) => d.code)).toEqual(["WFC202"]);
  expect((await client.shutdown()).code).toBe(0);
});
