#!/usr/bin/env node
// Language-server benchmark (not a test): starts `wfc lsp --verbose` as an
// editor would, opens every sample and every file of samples/invalid, then
// retypes each a few times, and prints the time of each validation as the
// server logs it (parse + validate of the editor's text, no I/O of the
// protocol). The target: well under 100 ms for the samples.
//
//   npm run bench:lsp            (builds first)
//   node bench/lsp.mjs           (uses the existing dist/)
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, extname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const RETYPES = 5;

const samples = readdirSync(join(root, "samples"))
  .filter((s) => s !== "invalid")
  .flatMap((s) => ["workflow.yaml", "workflow.toml"].map((f) => join(root, "samples", s, f)));
const invalid = readdirSync(join(root, "samples/invalid"))
  .filter((f) => [".yaml", ".toml", ".json"].includes(extname(f)))
  .map((f) => join(root, "samples/invalid", f));

const child = spawn(process.execPath, [join(root, "dist/cli/bin.js"), "lsp", "--verbose"], {
  cwd: root,
  stdio: ["pipe", "pipe", "inherit"],
});
const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
/** ms per validation, by path, in the order logged. */
const times = new Map();
const waiting = new Map();
connection.onNotification("window/logMessage", ({ message }) => {
  const m = /^validated (.+) \(version (\d+)\) in ([\d.]+) ms$/.exec(message);
  if (!m) return;
  const list = times.get(m[1]) ?? [];
  list.push(Number(m[3]));
  times.set(m[1], list);
});
connection.onNotification("textDocument/publishDiagnostics", ({ uri, version }) => {
  const key = `${uri}@${version}`;
  waiting.get(key)?.();
  waiting.delete(key);
});
connection.listen();
await connection.sendRequest("initialize", { processId: process.pid, rootUri: pathToFileURL(root).href, capabilities: {} });
await connection.sendNotification("initialized", {});

const published = (uri, version) => new Promise((resolve) => waiting.set(`${uri}@${version}`, resolve));

async function measure(path) {
  const uri = pathToFileURL(path).href;
  const text = readFileSync(path, "utf8");
  let wait = published(uri, 1);
  await connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "yaml", version: 1, text } });
  await wait;
  for (let v = 2; v <= RETYPES + 1; v++) {
    // One at a time, each after the last one's diagnostics: a pause in typing longer than the debounce.
    wait = published(uri, v);
    await connection.sendNotification("textDocument/didChange", {
      textDocument: { uri, version: v },
      contentChanges: [{ text: `${text}\n` }],
    });
    await wait;
  }
  await connection.sendNotification("textDocument/didClose", { textDocument: { uri } });
}

for (const path of [...samples, ...invalid]) await measure(path);
await connection.sendRequest("shutdown");
await connection.sendNotification("exit");

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const row = (path) => {
  const [first, ...rest] = times.get(path) ?? [];
  return `${relative(root, path).padEnd(58)} ${String(first?.toFixed(1)).padStart(8)} ${String(median(rest)?.toFixed(1)).padStart(10)}`;
};
console.log(`${"file".padEnd(58)} ${"open ms".padStart(8)} ${"retype ms".padStart(10)}`);
for (const path of samples) console.log(row(path));
const all = invalid.flatMap((p) => (times.get(p) ?? []).slice(1));
console.log(
  `samples/invalid (${invalid.length} files): median retype ${median(all).toFixed(1)} ms, slowest ${Math.max(...all).toFixed(1)} ms`,
);
