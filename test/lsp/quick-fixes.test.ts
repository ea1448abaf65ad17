/**
 * Quick fixes through a real LSP client: each did-you-mean diagnostic offers
 * a `quickfix` code action whose edit replaces exactly the misspelled word.
 *
 * Needs `npm run build` first: it spawns dist/cli/bin.js, as an editor would.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { fixture, repoRoot, wfc } from "../e2e/helpers.js";
import { applyEdits, LspClient, uriOf, type LspDiagnostic, type TextEdit } from "./client.js";

interface CodeAction {
  title: string;
  kind: string;
  diagnostics: LspDiagnostic[];
  isPreferred?: boolean;
  edit: { changes: Record<string, TextEdit[]> };
}

const corpus = join(repoRoot, "samples/invalid");
const clients: LspClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.kill()));
});

async function codeActions(client: LspClient, uri: string, diagnostics: LspDiagnostic[]): Promise<CodeAction[]> {
  const range = diagnostics[0]?.range ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return client.request<CodeAction[]>("textDocument/codeAction", {
    textDocument: { uri },
    range,
    context: { diagnostics, only: ["quickfix"] },
  });
}

/**
 * Suggestions that are not one word at the diagnostic's place, so no quick
 * fix: renaming a foreach variable (the diagnostic is at `from: stage`, the
 * variable is a key elsewhere and is used in placeholders).
 */
const notMechanical = new Set(["from-stage-decides-other.toml WFC274"]);

const suggestion = /\nhelp: did you mean `([^`]+)`\?$/;

describe("wfc lsp quick fixes", () => {
  test("a typo'd limit gets a quick fix whose edit, applied, makes the file valid", async () => {
    const dir = fixture({ "workflow.yaml": readFileSync(join(corpus, "unknown-limit.yaml"), "utf8") });
    const path = join(dir, "workflow.yaml");
    const text = readFileSync(path, "utf8");
    const client = await LspClient.start({ cwd: dir });
    clients.push(client);
    const uri = uriOf(path);
    const diagnostics = await client.waitForDiagnostics(uri, await client.open(uri, text));
    expect(diagnostics.map((d) => d.code)).toEqual(["WFC202"]);

    const actions = await codeActions(client, uri, diagnostics);
    expect(actions).toEqual([
      {
        title: "change `ftpp` to `ftp`",
        kind: "quickfix",
        diagnostics,
        isPreferred: true,
        edit: { changes: { [uri]: [{ range: diagnostics[0]!.range, newText: "ftp" }] } },
      },
    ]);
    const fixed = applyEdits(text, actions[0]!.edit.changes[uri]!);
    expect(fixed).toBe(text.replace("limit: ftpp", "limit: ftp"));
    // The editor applies it: the server sees a valid file, and so does the CLI once it is saved.
    expect(await client.waitForDiagnostics(uri, await client.change(uri, fixed))).toEqual([]);
    writeFileSync(path, fixed);
    expect((await wfc(["validate", path])).exitCode).toBe(0);
    // A fix is for the version it was computed on: none is offered for diagnostics the file no longer has.
    expect(await codeActions(client, uri, diagnostics)).toEqual([]);
  });

  test("every did-you-mean in samples/invalid has a quick fix, and applying it removes that diagnostic", async () => {
    const client = await LspClient.start();
    clients.push(client);
    const cases = readdirSync(corpus)
      .filter((name) => [".yaml", ".toml", ".json"].includes(extname(name)))
      .sort();
    const fixedCases: string[] = [];
    for (const name of cases) {
      const path = join(corpus, name);
      const uri = uriOf(path);
      const text = readFileSync(path, "utf8");
      const diagnostics = await client.waitForDiagnostics(uri, await client.open(uri, text));
      for (const d of diagnostics.filter((x) => suggestion.test(x.message))) {
        const word = suggestion.exec(d.message)![1]!;
        const actions = await codeActions(client, uri, [d]);
        if (notMechanical.has(`${name} ${d.code}`)) {
          expect(actions).toEqual([]);
          continue;
        }
        expect(actions, `${name}: ${d.message}`).toHaveLength(1);
        const [action] = actions;
        expect(action!.kind).toBe("quickfix");
        const edits = action!.edit.changes[uri]!;
        // One edit, inside the diagnostic's range, writing the suggested word.
        expect(edits.map((e) => e.newText)).toEqual([word]);
        const after = applyEdits(text, edits);
        const remaining = await client.waitForDiagnostics(uri, await client.change(uri, after));
        expect(
          remaining.filter(
            (r) => r.code === d.code && r.range.start.line === d.range.start.line && r.range.start.character === d.range.start.character,
          ),
          `${name}: ${d.message}`,
        ).toEqual([]);
        // Back to the file as it is, validated again before the next diagnostic's fixes are asked for.
        await client.waitForDiagnostics(uri, await client.change(uri, text));
        fixedCases.push(`${name} ${d.code}`);
      }
      await client.close(uri);
    }
    // The corpus has typos of limits, executors, stages, keys, params, placeholders and sheet columns.
    expect(fixedCases.length).toBeGreaterThanOrEqual(10);
    // Keys, enum values, stages, limits, executors, placeholders and params, zip variables, sheet key columns, `from` stages.
    expect([...new Set(fixedCases.map((c) => c.split(" ")[1]))].sort()).toEqual([
      "WFC102",
      "WFC104",
      "WFC201",
      "WFC202",
      "WFC203",
      "WFC205",
      "WFC211",
      "WFC243",
      "WFC274",
    ]);
  });

  test("a quick fix in TOML edits inside the quotes, and a placeholder's fix only the name in it", async () => {
    const dir = fixture({
      "workflow.toml": [
        "wfc = 1",
        "[params]",
        'genome = "hg38"',
        "[limits]",
        "db = 2",
        "[stages.align]",
        'limit = "dbb"',
        'run = "align --ref {params.genom} > out.txt"',
        'outputs = ["out.txt"]',
        "",
      ].join("\n"),
    });
    const path = join(dir, "workflow.toml");
    const text = readFileSync(path, "utf8");
    const client = await LspClient.start({ cwd: dir });
    clients.push(client);
    const uri = uriOf(path);
    const diagnostics = await client.waitForDiagnostics(uri, await client.open(uri, text));
    expect(diagnostics.map((d) => d.code)).toEqual(["WFC202", "WFC205"]);
    let fixed = text;
    const edits: TextEdit[] = [];
    for (const d of diagnostics) edits.push(...(await codeActions(client, uri, [d])).flatMap((a) => a.edit.changes[uri]!));
    expect(edits.map((e) => [e.range.start.line, e.range.start.character, e.range.end.character, e.newText])).toEqual([
      [6, 9, 12, "db"],
      [7, 27, 32, "genome"],
    ]);
    fixed = applyEdits(text, edits);
    expect(fixed).toContain('limit = "db"\nrun = "align --ref {params.genome} > out.txt"');
    expect(await client.waitForDiagnostics(uri, await client.change(uri, fixed))).toEqual([]);
  });
});
