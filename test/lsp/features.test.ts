/**
 * The language service's features through a real LSP client: the built
 * `wfc lsp` in a child process, spoken to over stdio (test/lsp/client.ts).
 * The unit tests in test/service/ pin the details; these check that each
 * feature reaches an editor with the right positions.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { repoRoot } from "../e2e/helpers.js";
import { applyEdits, DiagnosticSeverity, LspClient, offsetAt, uriOf, type Position, type Range, type TextEdit } from "./client.js";

interface Hover {
  contents: { kind: string; value: string };
  range?: Range;
}
interface CompletionList {
  items: { label: string; kind?: number; textEdit?: TextEdit; documentation?: { kind: string; value: string } }[];
}
interface LspLocation {
  uri: string;
  range: Range;
}

/** The LSP position of the `n`-th `needle` in `text`, `within` characters into it. */
function positionOf(text: string, needle: string, n = 0, within = 1): Position {
  let at = -1;
  for (let i = 0; i <= n; i++) {
    at = text.indexOf(needle, at + 1);
    if (at === -1) throw new Error(`\`${needle}\` occurs fewer than ${n + 1} times`);
  }
  const before = text.slice(0, at + within);
  const line = before.split("\n").length - 1;
  return { line, character: before.length - (before.lastIndexOf("\n") + 1) };
}

/** `line:text` of a range, 1-based line, for readable expectations. */
function shown(text: string, range: Range): string {
  return `${range.start.line + 1}:${text.slice(offsetAt(text, range.start), offsetAt(text, range.end))}`;
}

let client: LspClient;
beforeAll(async () => {
  client = await LspClient.start();
});
afterAll(async () => {
  expect((await client.shutdown()).code).toBe(0);
});

const ruffus = join(repoRoot, "samples/ruffus-jobs-limit/workflow.yaml");
const qiime = join(repoRoot, "samples/qiime-search/workflow.toml");

describe("wfc lsp: hover, completion, definition, references, rename", () => {
  test("hover: a limit reference shows its definition and value; a key its schema description", async () => {
    const text = readFileSync(ruffus, "utf8");
    const uri = uriOf(ruffus);
    await client.open(uri, text);
    await client.waitForDiagnostics(uri, 1);
    const position = positionOf(text, "limit: ftp_download_limit", 0, 10);
    const hover = await client.request<Hover>("textDocument/hover", { textDocument: { uri }, position });
    expect(hover.contents).toEqual({ kind: "markdown", value: "limit `ftp_download_limit` (line 28): `3` slots" });
    expect(shown(text, hover.range!)).toBe("49:ftp_download_limit");
    const key = await client.request<Hover>("textDocument/hover", {
      textDocument: { uri },
      position: positionOf(text, "\njobs: 10", 0, 2),
    });
    expect(key.contents.value).toMatch(/^At most this many jobs at once across the whole workflow/);
    expect(shown(text, key.range!)).toBe("14:jobs");
    // A foreach variable, with the values the validated file gives it.
    const variable = await client.request<Hover>("textDocument/hover", { textDocument: { uri }, position: positionOf(text, "{i}", 0, 1) });
    expect(variable.contents.value).toBe("foreach variable `i` of stage `make_files` (line 37): range, 10 values: `0`, `1`, `2`, ...");
  });

  test("definition and references, in YAML and in TOML table headers", async () => {
    const text = readFileSync(ruffus, "utf8");
    const uri = uriOf(ruffus);
    const position = positionOf(text, "limit: ftp_download_limit", 1, 10);
    const definition = await client.request<LspLocation>("textDocument/definition", { textDocument: { uri }, position });
    expect(definition.uri).toBe(uri);
    expect(shown(text, definition.range)).toBe("28:ftp_download_limit");
    const refs = await client.request<LspLocation[]>("textDocument/references", {
      textDocument: { uri },
      position,
      context: { includeDeclaration: true },
    });
    expect(refs.map((r) => shown(text, r.range))).toEqual(["28:ftp_download_limit", "49:ftp_download_limit", "58:ftp_download_limit"]);

    const toml = readFileSync(qiime, "utf8");
    const tomlUri = uriOf(qiime);
    await client.open(tomlUri, toml);
    const stage = await client.request<LspLocation[]>("textDocument/references", {
      textDocument: { uri: tomlUri },
      position: positionOf(toml, 'from = "split"', 0, 9),
      context: { includeDeclaration: true },
    });
    expect(stage.map((r) => shown(toml, r.range).split(":")[1])).toEqual(["split", "split"]);
    expect(shown(toml, stage[0]!.range)).toBe(`${toml.split("\n").findIndex((l) => l === "[stages.split]") + 1}:split`);
  });

  test("completion on a half-typed line: keys with their descriptions, executor names after `executor: `, variables after `{`", async () => {
    const uri = uriOf(join(repoRoot, "samples/ruffus-jobs-limit/typing.yaml"));
    const base = readFileSync(ruffus, "utf8");
    await client.open(uri, base);
    const keys = `${base.trimEnd()}\n    ret`;
    await client.change(uri, keys);
    const position = positionOf(keys, "\n    ret", 0, 8);
    const list = await client.request<CompletionList>("textDocument/completion", { textDocument: { uri }, position });
    const retries = list.items.find((i) => i.label === "retries");
    expect(retries?.textEdit?.newText).toBe("retries: ");
    expect(shown(keys, retries!.textEdit!.range)).toBe(`${position.line + 1}:ret`);
    expect(retries?.documentation?.value).toMatch(/retry a failed job/);
    expect(list.items.map((i) => i.label)).not.toContain("run");

    const names = `${base.trimEnd()}\n    executor: `;
    await client.change(uri, names);
    const executors = await client.request<CompletionList>("textDocument/completion", {
      textDocument: { uri },
      position: positionOf(names, "\n    executor: ", 0, 15),
      context: { triggerKind: 2, triggerCharacter: ":" },
    });
    expect(executors.items.map((i) => i.label)).toEqual(["multiprocess", "processes", "threads"]);

    const placeholder = base.replace(
      'run: "sh scripts/job.sh {stage} {i} {params.sleep} {outputs} {inputs}"\n\n  stage1_big',
      'run: "sh scripts/job.sh {"\n\n  stage1_big',
    );
    await client.change(uri, placeholder);
    const inside = await client.request<CompletionList>("textDocument/completion", {
      textDocument: { uri },
      position: positionOf(placeholder, 'job.sh {"', 0, 8),
      context: { triggerKind: 2, triggerCharacter: "{" },
    });
    expect(inside.items.map((i) => i.label)).toEqual(["i", "params.sleep", "inputs", "outputs", "cpus", "stage"]);
    await client.close(uri);
  });

  test("rename a stage across a TOML file: prepareRename, then edits that leave a valid file", async () => {
    const text = readFileSync(qiime, "utf8");
    const uri = uriOf(join(repoRoot, "samples/qiime-search/renamed.toml"));
    await client.open(uri, text);
    expect(await client.waitForDiagnostics(uri, 1)).toEqual([]);
    const position = positionOf(text, "[stages.split]", 0, 9);
    const prepared = await client.request<{ range: Range; placeholder: string }>("textDocument/prepareRename", {
      textDocument: { uri },
      position,
    });
    expect(prepared.placeholder).toBe("split");
    expect(shown(text, prepared.range).split(":")[1]).toBe("split");
    const edit = await client.request<{ changes: Record<string, TextEdit[]> }>("textDocument/rename", {
      textDocument: { uri },
      position,
      newName: "chop",
    });
    const renamed = applyEdits(text, edit.changes[uri]!);
    expect(renamed).toContain("[stages.chop]");
    expect(renamed).toContain('from = "chop"');
    const version = await client.change(uri, renamed);
    expect((await client.waitForDiagnostics(uri, version)).filter((d) => d.severity === DiagnosticSeverity.Error)).toEqual([]);
    // A taken name is refused with the service's message.
    await expect(
      client.request("textDocument/rename", {
        textDocument: { uri },
        position: positionOf(renamed, "[stages.chop]", 0, 9),
        newName: "merge",
      }),
    ).rejects.toThrow("stage `merge` already exists");
    await client.close(uri);
  });

  test("a config file: executor names for `[map.stages]`, hover with the config schema and the executor", async () => {
    const uri = uriOf(join(repoRoot, "test/fixtures/lsp-features/wfc.config.toml"));
    const text = '[executors.cluster]\ntype = "slurm"\n\n[map.stages]\nsearch = \n';
    await client.open(uri, text);
    const list = await client.request<CompletionList>("textDocument/completion", {
      textDocument: { uri },
      position: positionOf(text, "search = ", 0, 9),
    });
    expect(list.items.map((i) => [i.label, i.textEdit?.newText])).toEqual([
      ["cluster", '"cluster"'],
      ["processes", '"processes"'],
      ["threads", '"threads"'],
    ]);
    const done = text.replace("search = ", 'search = "cluster"');
    await client.change(uri, done);
    const hover = await client.request<Hover>("textDocument/hover", {
      textDocument: { uri },
      position: positionOf(done, '"cluster"', 0, 3),
    });
    expect(hover.contents.value).toBe("executor `cluster` (line 1): type `slurm`");
    const key = await client.request<Hover>("textDocument/hover", { textDocument: { uri }, position: positionOf(done, "[map", 0, 2) });
    expect(key.contents.value).toMatch(/^Which executor runs which stages/);
    await client.close(uri);
  });
});
