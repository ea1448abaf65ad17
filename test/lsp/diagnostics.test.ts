/**
 * `wfc lsp` diagnostics through a real LSP client over the server's stdio
 * (test/lsp/client.ts): the same diagnostics as `wfc validate`, as the user
 * types, for wfc's files only, in the file they are about.
 *
 * Needs `npm run build` first: it spawns dist/cli/bin.js, as an editor would.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { copySample, fixture, repoRoot, wfc } from "../e2e/helpers.js";
import { applyEdits, DiagnosticSeverity, LspClient, uriOf, type LspDiagnostic, type TextEdit } from "./client.js";

const corpus = join(repoRoot, "samples/invalid");
const cases = readdirSync(corpus)
  .filter((name) => [".yaml", ".yml", ".toml", ".json"].includes(extname(name)))
  .sort();

const clients: LspClient[] = [];
async function start(options?: Parameters<typeof LspClient.start>[0]): Promise<LspClient> {
  const client = await LspClient.start(options);
  clients.push(client);
  return client;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.kill()));
});

interface JsonPosition {
  line: number;
  column: number;
}
interface JsonRange {
  start: JsonPosition;
  end: JsonPosition;
}
interface JsonDiagnostic {
  severity: "error" | "warning";
  code: string;
  message: string;
  file: string | null;
  range: JsonRange | null;
  expected: string | null;
  help: string | null;
  related: { file: string; range: JsonRange | null; message: string }[];
  fixes: { title: string; edits: { range: JsonRange | null; newText: string }[] }[];
}

/** A `--format json` range as LSP's: 0-based lines and characters; none is the file's start. */
function lspRange(range: JsonRange | null) {
  if (range === null) return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const at = (p: JsonPosition) => ({ line: p.line - 1, character: p.column - 1 });
  return { start: at(range.start), end: at(range.end) };
}

/** What an LSP diagnostic should be for a `wfc validate --format json` one. */
function expectedLsp(d: JsonDiagnostic) {
  return {
    range: lspRange(d.range),
    severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: "wfc",
    message: [d.message, ...(d.expected !== null ? [`expected ${d.expected}`] : []), ...(d.help !== null ? [`help: ${d.help}`] : [])].join(
      "\n",
    ),
    related: d.related.map((r) => ({ location: { uri: uriOf(r.file), range: lspRange(r.range) }, message: r.message })),
    fixes: d.fixes.map((f) => ({ title: f.title, edits: f.edits.map((e) => ({ range: lspRange(e.range), newText: e.newText })) })),
  };
}

function comparable(d: LspDiagnostic) {
  const fixes = (d.data as { fixes?: unknown[] } | undefined)?.fixes ?? [];
  return {
    range: d.range,
    severity: d.severity,
    code: d.code,
    source: d.source,
    message: d.message,
    related: d.relatedInformation ?? [],
    fixes,
  };
}

/** The line:column of the first diagnostic in an `.expected` file's first header, 0-based; undefined for one about the command line. */
function expectedStart(name: string): { line: number; character: number } | undefined {
  const header = readFileSync(join(corpus, name.replace(/\.[^.]+$/, ".expected")), "utf8").split("\n")[0]!;
  const match = /^samples\/invalid\/[^:]+:(\d+):(\d+): /.exec(header);
  return match ? { line: Number(match[1]) - 1, character: Number(match[2]) - 1 } : undefined;
}

describe("wfc lsp diagnostics", () => {
  test("every case of samples/invalid gets `wfc validate --format json`'s diagnostics, the first at its .expected place", async () => {
    const paths = cases.map((name) => join(corpus, name));
    const validated = await wfc(["validate", "--format", "json", ...paths]);
    expect(validated.exitCode).toBe(2);
    const report = JSON.parse(validated.stdout) as { files: { file: string; diagnostics: JsonDiagnostic[] }[] };

    const client = await start();
    const published = await Promise.all(
      paths.map(async (path) => {
        const uri = uriOf(path);
        const version = await client.open(uri, readFileSync(path, "utf8"));
        return client.waitForDiagnostics(uri, version);
      }),
    );
    let withDiagnostics = 0;
    cases.forEach((name, i) => {
      const json = report.files[i]!;
      expect(json.file).toBe(paths[i]);
      const actual = published[i]!;
      expect(actual.map(comparable), name).toEqual(json.diagnostics.map(expectedLsp));
      const start = expectedStart(name);
      if (start === undefined) return; // a `--param` case (NAME.args): the problem is on the command line, not in the file
      withDiagnostics++;
      expect(actual[0]?.range.start, name).toEqual(start);
    });
    // Every case that has its problem in the file shows it in the editor.
    expect(withDiagnostics).toBe(cases.filter((c) => expectedStart(c) !== undefined).length);
    expect(withDiagnostics).toBeGreaterThanOrEqual(cases.length - 2);
    // Nothing went wrong inside the server.
    expect(client.messages).toEqual([]);
    expect(await client.shutdown()).toEqual({ code: 0, signal: null });
  });

  test("the samples, in YAML and TOML, and a config file written by `wfc config init` get no errors", async () => {
    const samples = readdirSync(join(repoRoot, "samples"))
      .filter((s) => s !== "invalid")
      .flatMap((s) => ["workflow.yaml", "workflow.toml"].map((f) => join(repoRoot, "samples", s, f)));
    const dir = mkdtempSync(join(tmpdir(), "wfc-lsp-config-"));
    expect((await wfc(["config", "init"], { cwd: dir })).exitCode).toBe(0);
    const files = [...samples, join(dir, "wfc.config.toml")];
    const client = await start();
    for (const path of files) {
      const uri = uriOf(path);
      const diagnostics = await client.waitForDiagnostics(uri, await client.open(uri, readFileSync(path, "utf8")));
      expect(
        diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error),
        path,
      ).toEqual([]);
    }
  });

  test("a config file's problems are shown, as loading it reports them", async () => {
    const dir = fixture({ "wfc.config.toml": '[executors.hpc]\ntype = "slurm"\npartiton = "short"\n' });
    const path = join(dir, "wfc.config.toml");
    const client = await start({ cwd: dir });
    const uri = uriOf(path);
    const diagnostics = await client.waitForDiagnostics(uri, await client.open(uri, readFileSync(path, "utf8")));
    expect(diagnostics.map((d) => [d.code, d.range.start.line, d.range.start.character])).toEqual([["WFC102", 2, 0]]);
    // The same problem the CLI reports when it loads the file.
    const shown = await wfc(["config", "show"], { cwd: dir });
    expect(shown.exitCode).toBe(2);
    expect(shown.stderr).toContain("wfc.config.toml:3:1: error WFC102");
  });

  test("typing: a valid file broken, then fixed, gets its error and then none, for the version typed", async () => {
    const dir = copySample("scipion-steps");
    const path = join(dir, "workflow.yaml");
    const text = readFileSync(path, "utf8");
    const client = await start({ cwd: dir });
    const uri = uriOf(path);
    expect(await client.waitForDiagnostics(uri, await client.open(uri, text))).toEqual([]);
    // Keystroke by keystroke: an unknown key typed one letter at a time; only the last version's result counts.
    const broken = text.replace(/^stages:/m, "bogus: 1\nstages:");
    let version = 0;
    for (let n = 1; n <= "bogus".length; n++)
      version = await client.change(uri, text.replace(/^stages:/m, `${"bogus".slice(0, n)}: 1\nstages:`));
    const errors = await client.waitForDiagnostics(uri, version);
    expect(errors.map((d) => [d.code, d.range.start.line])).toEqual([
      ["WFC102", broken.split("\n").findIndex((l) => l.startsWith("bogus"))],
    ]);
    // No stale version was published after the newest one.
    expect(client.publications(uri).every((p) => p.version === 1 || p.version === version)).toBe(true);
    const fixed = await client.change(uri, text);
    expect(await client.waitForDiagnostics(uri, fixed)).toEqual([]);
  });

  test("incremental changes are applied as ranges and validated like full ones", async () => {
    const dir = fixture({ "workflow.yaml": "wfc: 1\nlimits:\n  ftp: 2\nstages:\n  get:\n    limit: ftp\n    run: echo hi\n" });
    const path = join(dir, "workflow.yaml");
    const client = await start({ cwd: dir });
    const uri = uriOf(path);
    expect(await client.waitForDiagnostics(uri, await client.open(uri, readFileSync(path, "utf8")))).toEqual([]);
    const version = await client.edit(uri, { start: { line: 5, character: 14 }, end: { line: 5, character: 14 } }, "p");
    const diagnostics = await client.waitForDiagnostics(uri, version);
    expect(diagnostics.map((d) => [d.code, d.range])).toEqual([
      ["WFC202", { start: { line: 5, character: 11 }, end: { line: 5, character: 15 } }],
    ]);
  });

  test("YAML, TOML and JSON files that are not wfc's get an empty diagnostics list", async () => {
    const dir = fixture({
      "docker-compose.yaml": "services:\n  web:\n    image: nginx\n    ports: [80:80]\n",
      "pyproject.toml": '[project]\nname = "x"\nversion = 1\n',
      "package.json": '{ "name": "x", "version": "1.0.0", }\n',
      ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
      // A top-level `stages` that is a list, not wfc's map of stages.
      ".gitlab-ci.yml": "stages:\n  - build\n  - test\nbuild:\n  stage: build\n  script: make\n",
      "azure-pipelines.yml": "trigger: [main]\nstages:\n- stage: Build\n  jobs:\n  - job: A\n",
      "pipeline.toml": 'stages = ["build", "test"]\n',
    });
    const client = await start({ cwd: dir });
    const names = [
      "docker-compose.yaml",
      "pyproject.toml",
      "package.json",
      ".github/workflows/ci.yml",
      ".gitlab-ci.yml",
      "azure-pipelines.yml",
      "pipeline.toml",
    ];
    for (const name of names) {
      const path = join(dir, name);
      const uri = uriOf(path);
      expect(await client.waitForDiagnostics(uri, await client.open(uri, readFileSync(path, "utf8"))), name).toEqual([]);
    }
  });

  test("a half-typed workflow that does not parse is still recognised by its keys, and its syntax error shown", async () => {
    const dir = fixture({ "flow.yaml": "wfc: 1\nstages:\n  a:\n    run: [echo\n" });
    const path = join(dir, "flow.yaml");
    const client = await start({ cwd: dir });
    const uri = uriOf(path);
    const diagnostics = await client.waitForDiagnostics(uri, await client.open(uri, readFileSync(path, "utf8")));
    expect(diagnostics.map((d) => d.code)).toEqual(["WFC001"]);
  });

  test("a sample-sheet error is also published at the sheet's URI, and cleared when the sheet is fixed on disk", async () => {
    const dir = fixture({
      "workflow.yaml": readFileSync(join(corpus, "sheet-duplicate-keys.yaml"), "utf8"),
      "sheet-duplicate-keys.tsv": readFileSync(join(corpus, "sheet-duplicate-keys.tsv"), "utf8"),
    });
    const path = join(dir, "workflow.yaml");
    const sheet = uriOf(join(dir, "sheet-duplicate-keys.tsv"));
    const client = await start({ cwd: dir });
    const uri = uriOf(path);
    const text = readFileSync(path, "utf8");
    const inWorkflow = await client.waitForDiagnostics(uri, await client.open(uri, text));
    expect(inWorkflow.map((d) => d.code)).toEqual(["WFC244"]);
    const inSheet = await client.waitForDiagnostics(sheet);
    expect(inSheet.map((d) => [d.code, d.message.split("\n")[0]])).toEqual([["WFC244", inWorkflow[0]!.message.split("\n")[0]]]);
    expect(inSheet[0]!.relatedInformation).toEqual([
      { location: { uri, range: inWorkflow[0]!.range }, message: "the workflow reads this sheet here" },
    ]);

    // The user fixes the sheet on disk; the editor's file watcher (registered by the server) says so,
    // and the open workflow is validated again: both files are clean, with no edit of the workflow.
    expect(client.registrations.map((r) => r.method)).toEqual(["workspace/didChangeWatchedFiles"]);
    writeFileSync(join(dir, "sheet-duplicate-keys.tsv"), "sample\tcondition\tfastq\nctl1\tcontrol\tctl1.fq\nctl2\tcontrol\tctl2.fq\n");
    await client.filesChanged([join(dir, "sheet-duplicate-keys.tsv")]);
    expect(await client.waitForDiagnostics(sheet)).toEqual([]);
    expect(await client.waitForDiagnostics(uri)).toEqual([]);
  });

  test("ranges count UTF-16 code units, as LSP positions do: a typo after an emoji and a CJK word", async () => {
    const run = 'echo "😀 标本" {smaple}';
    const dir = fixture({ "workflow.yaml": `wfc: 1\nstages:\n  a:\n    foreach: { sample: [x] }\n    run: '${run}'\n` });
    const path = join(dir, "workflow.yaml");
    const client = await start({ cwd: dir });
    const uri = uriOf(path);
    const text = readFileSync(path, "utf8");
    const diagnostics = await client.waitForDiagnostics(uri, await client.open(uri, text));
    const line = text.split("\n")[4]!;
    // JS string indexes are UTF-16 code units: the emoji counts 2, each CJK character 1.
    const at = line.indexOf("{smaple}");
    expect(diagnostics.map((d) => [d.code, d.range])).toEqual([
      ["WFC205", { start: { line: 4, character: at }, end: { line: 4, character: at + "{smaple}".length } }],
    ]);
    // The quick fix edits at the same units: applied, the file is valid.
    const [action] = await client.request<{ edit: { changes: Record<string, TextEdit[]> } }[]>("textDocument/codeAction", {
      textDocument: { uri },
      range: diagnostics[0]!.range,
      context: { diagnostics },
    });
    const fixed = applyEdits(text, action!.edit.changes[uri]!);
    expect(fixed).toContain("{sample}");
    expect(await client.waitForDiagnostics(uri, await client.change(uri, fixed))).toEqual([]);
  });

  test("hover, completion, definition, references and rename answer through compiler/service without a protocol error", async () => {
    const path = join(repoRoot, "samples/ruffus-jobs-limit/workflow.yaml");
    const client = await start();
    const uri = uriOf(path);
    const text = readFileSync(path, "utf8");
    await client.waitForDiagnostics(uri, await client.open(uri, text));
    const lines = text.split("\n");
    const lineOf = lines.findIndex((l) => /^\s+limit:/.test(l));
    const position = { line: lineOf, character: lines[lineOf]!.length - 1 };
    const at = { textDocument: { uri }, position };
    // What they answer is the service's (test/service, test/lsp/features.test.ts); here: each is wired and answers.
    await client.request("textDocument/hover", at);
    await client.request("textDocument/completion", at);
    await client.request("textDocument/definition", at);
    await client.request("textDocument/references", { ...at, context: { includeDeclaration: true } });
    await client.request("textDocument/prepareRename", at);
    // A file that is not wfc's gets no answers at all.
    const other = uriOf(join(repoRoot, "docker-compose.yaml"));
    await client.open(other, "services:\n  web:\n    image: nginx\n");
    expect(await client.request("textDocument/hover", { textDocument: { uri: other }, position: { line: 0, character: 1 } })).toBeNull();
    expect(
      await client.request("textDocument/completion", { textDocument: { uri: other }, position: { line: 0, character: 1 } }),
    ).toBeNull();
  });

  test("closing a file clears its diagnostics", async () => {
    const path = join(corpus, "unknown-limit.yaml");
    const client = await start();
    const uri = uriOf(path);
    expect(await client.waitForDiagnostics(uri, await client.open(uri, readFileSync(path, "utf8")))).toHaveLength(1);
    await client.close(uri);
    expect(await client.waitForDiagnostics(uri)).toEqual([]);
  });
});

describe("wfc lsp session", () => {
  test("--verbose logs each validation's time to the editor (window/logMessage), never to stdout", async () => {
    const client = await start({ args: ["--stdio", "--verbose"] });
    const path = join(repoRoot, "samples/scipion-steps/workflow.toml");
    const uri = uriOf(path);
    expect(await client.waitForDiagnostics(uri, await client.open(uri, readFileSync(path, "utf8")))).toEqual([]);
    expect(client.logs.filter((l) => l.startsWith("validated "))).toEqual([
      expect.stringMatching(new RegExp(`^validated ${path.replace(/[.]/g, "\\.")} \\(version 1\\) in \\d+\\.\\d ms$`)),
    ]);
  });

  test("initialize advertises exactly what the server implements", async () => {
    const client = await start();
    expect(client.initializeResult).toEqual({
      capabilities: {
        positionEncoding: "utf-16",
        textDocumentSync: { openClose: true, change: 2 },
        hoverProvider: true,
        completionProvider: { triggerCharacters: ["{", ":"] },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        codeActionProvider: { codeActionKinds: ["quickfix"] },
      },
      serverInfo: { name: "wfc", version: expect.any(String) as string },
    });
  });

  test("shutdown then exit ends the server with code 0, having written nothing but the protocol to stdout", async () => {
    const client = await start({ args: [] });
    expect(await client.shutdown()).toEqual({ code: 0, signal: null });
    expect(client.stderr).toBe("");
  });

  test("exit without shutdown ends the server with code 1, as LSP specifies", async () => {
    const client = await start();
    await client.notify("exit", null);
    expect(await client.exited).toEqual({ code: 1, signal: null });
  });

  test("a client that dies (the server's stdin closes) ends the server", async () => {
    const client = await start();
    const path = join(corpus, "unknown-limit.yaml");
    await client.waitForDiagnostics(uriOf(path), await client.open(uriOf(path), readFileSync(path, "utf8")));
    expect((await client.closeInput()).signal).toBe(null);
    expect(client.stderr).not.toContain("internal error");
  });
});
