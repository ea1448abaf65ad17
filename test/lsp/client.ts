/**
 * A small, real LSP client for tests: it spawns the built `wfc lsp` as an
 * editor would (node dist/cli/bin.js lsp --stdio), speaks JSON-RPC over its
 * stdin/stdout with vscode-jsonrpc, and keeps every `publishDiagnostics` the
 * server sends, so a test can wait for the ones of a given file and version.
 *
 * Needs `npm run build` first. Reusable by any LSP test (test/lsp/*.test.ts).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from "vscode-jsonrpc/node";
import { repoRoot } from "../e2e/helpers.js";

/** LSP shapes the tests look at (the protocol's own, written out to keep this file dependency-light). */
export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}
export interface LspDiagnostic {
  range: Range;
  severity?: number;
  code?: string | number;
  source?: string;
  message: string;
  relatedInformation?: { location: { uri: string; range: Range }; message: string }[];
  data?: unknown;
}
export interface TextEdit {
  range: Range;
  newText: string;
}
export interface PublishDiagnosticsParams {
  uri: string;
  version?: number;
  diagnostics: LspDiagnostic[];
}

export const DiagnosticSeverity = { Error: 1, Warning: 2, Information: 3, Hint: 4 } as const;

/** `file:///abs/path` for a path. */
export function uriOf(path: string): string {
  return pathToFileURL(path).href;
}

/** The offset of an LSP position (UTF-16 code units, as LSP's default encoding and JS strings count). */
export function offsetAt(text: string, position: Position): number {
  let line = 0;
  let offset = 0;
  while (line < position.line) {
    const nl = text.indexOf("\n", offset);
    if (nl === -1) return text.length;
    offset = nl + 1;
    line++;
  }
  const nl = text.indexOf("\n", offset);
  const end = nl === -1 ? text.length : nl;
  return Math.min(offset + position.character, end);
}

/** Applies text edits (non-overlapping, as LSP requires) to a text: what an editor does with a WorkspaceEdit. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const located = edits.map((e) => ({ start: offsetAt(text, e.range.start), end: offsetAt(text, e.range.end), newText: e.newText }));
  located.sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const e of located) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}

export interface StartOptions {
  /** The server's working directory (default: the repository). */
  readonly cwd?: string;
  /** Extra arguments after `lsp` (default: `--stdio`, as editors pass). */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Another server to start instead of `wfc lsp` (its argv; `args` is then ignored), e.g. yaml-language-server. */
  readonly command?: readonly string[];
  /** The `initialize` request's `rootUri` (default: the cwd's). */
  readonly rootUri?: string | null;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Publication extends PublishDiagnosticsParams {
  taken: boolean;
}

/** One server process and the client's side of its connection. */
export class LspClient {
  /** Everything the server wrote to stderr (its log). */
  stderr = "";
  /** The `initialize` result, once `start` has returned. */
  initializeResult: { capabilities: Record<string, unknown>; serverInfo?: { name: string; version?: string } } | undefined;
  /** Resolves when the server process has ended. */
  readonly exited: Promise<Exit>;
  readonly #publications = new Map<string, Publication[]>();
  readonly #waiters: { uri: string; version: number | undefined; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  readonly #versions = new Map<string, number>();
  /** What the server registered dynamically (`client/registerCapability`), e.g. file watchers. */
  readonly registrations: { method: string; registerOptions?: unknown }[] = [];
  /** Messages the server asked the editor to show the user (`window/showMessage`, `window/showMessageRequest`). */
  readonly messages: string[] = [];
  /** Log messages (`window/logMessage`) the server sent. */
  readonly logs: string[] = [];

  private constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly connection: MessageConnection,
  ) {
    this.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    // A server that is gone makes writes fail with EPIPE: the test sees it through `exited`, not as a crash.
    child.stdin.on("error", () => undefined);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (this.stderr += chunk));
    connection.onNotification("textDocument/publishDiagnostics", (params: PublishDiagnosticsParams) => this.#published(params));
    connection.onNotification("window/logMessage", (params: { message: string }) => {
      this.logs.push(params.message);
    });
    // Requests a server may send; answered as a minimal editor would.
    connection.onRequest("workspace/configuration", (params: { items: unknown[] }) => params.items.map(() => null));
    connection.onRequest("client/registerCapability", (params: { registrations: { method: string; registerOptions?: unknown }[] }) => {
      this.registrations.push(...params.registrations);
      return null;
    });
    connection.onRequest("window/workDoneProgress/create", () => null);
    connection.onRequest("window/showMessageRequest", (params: { message: string }) => {
      this.messages.push(params.message);
      return null;
    });
    connection.onNotification("window/showMessage", (params: { message: string }) => {
      this.messages.push(params.message);
    });
    connection.listen();
  }

  /** Spawns `wfc lsp` and completes the `initialize`/`initialized` handshake. */
  static async start(options: StartOptions = {}): Promise<LspClient> {
    const cwd = options.cwd ?? repoRoot;
    const home = mkdtempSync(join(tmpdir(), "wfc-lsp-home-"));
    const argv = options.command ?? [process.execPath, join(repoRoot, "dist/cli/bin.js"), "lsp", ...(options.args ?? ["--stdio"])];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      // Hermetic, like test/e2e/helpers.ts: no config file of this machine's user leaks in.
      env: {
        ...process.env,
        NO_COLOR: "1",
        WFC_CONFIG: "",
        HOME: home,
        XDG_CONFIG_HOME: join(home, ".config"),
        XDG_CONFIG_DIRS: join(home, "xdg"),
        ...options.env,
      },
      stdio: "pipe",
    });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const client = new LspClient(child, connection);
    // A server that dies during the handshake must fail the test, not hang it.
    const died = client.exited.then((exit) => {
      throw new Error(`${argv.join(" ")} exited during initialize (${JSON.stringify(exit)}): ${client.stderr}`);
    });
    client.initializeResult = await Promise.race([
      connection.sendRequest("initialize", {
        processId: process.pid,
        clientInfo: { name: "wfc-test-client" },
        rootUri: options.rootUri === undefined ? uriOf(cwd) : options.rootUri,
        capabilities: {
          textDocument: {
            publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true },
            codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ["quickfix"] } } },
            hover: { contentFormat: ["markdown", "plaintext"] },
            completion: { completionItem: { snippetSupport: false, documentationFormat: ["markdown"] } },
            rename: { prepareSupport: true },
          },
          workspace: { didChangeWatchedFiles: { dynamicRegistration: true } },
          general: { positionEncodings: ["utf-16"] },
        },
      }) as Promise<LspClient["initializeResult"]>,
      died,
    ]);
    died.catch(() => undefined);
    await connection.sendNotification("initialized", {});
    return client;
  }

  /** Opens a document (`didOpen`) at version 1; returns the version. */
  async open(uri: string, text: string, languageId = languageOf(uri)): Promise<number> {
    this.#versions.set(uri, 1);
    await this.connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId, version: 1, text } });
    return 1;
  }

  /** Replaces a document's whole text (`didChange`, full sync); returns the new version. */
  async change(uri: string, text: string): Promise<number> {
    const version = (this.#versions.get(uri) ?? 0) + 1;
    this.#versions.set(uri, version);
    await this.connection.sendNotification("textDocument/didChange", { textDocument: { uri, version }, contentChanges: [{ text }] });
    return version;
  }

  /** An incremental change (`didChange` with a range); returns the new version. */
  async edit(uri: string, range: Range, text: string): Promise<number> {
    const version = (this.#versions.get(uri) ?? 0) + 1;
    this.#versions.set(uri, version);
    await this.connection.sendNotification("textDocument/didChange", { textDocument: { uri, version }, contentChanges: [{ range, text }] });
    return version;
  }

  async close(uri: string): Promise<void> {
    this.#versions.delete(uri);
    await this.connection.sendNotification("textDocument/didClose", { textDocument: { uri } });
  }

  /**
   * The diagnostics published for `uri`: with `version`, the first publication
   * for that version (already received or still to come); without, the
   * newest publication not yet returned by this method, or the next one.
   */
  waitForDiagnostics(uri: string, version?: number): Promise<LspDiagnostic[]> {
    const list = this.#publications.get(uri) ?? [];
    const found = version === undefined ? list.filter((p) => !p.taken).at(-1) : list.find((p) => p.version === version);
    if (found !== undefined) {
      found.taken = true;
      return Promise.resolve(found.diagnostics);
    }
    return new Promise((resolve) => this.#waiters.push({ uri, version, resolve: (p) => resolve(p.diagnostics) }));
  }

  /** Every publication for `uri` so far, oldest first. */
  publications(uri: string): readonly PublishDiagnosticsParams[] {
    return this.#publications.get(uri) ?? [];
  }

  #published(params: PublishDiagnosticsParams): void {
    const publication: Publication = { ...params, taken: false };
    const list = this.#publications.get(params.uri) ?? [];
    list.push(publication);
    this.#publications.set(params.uri, list);
    const index = this.#waiters.findIndex((w) => w.uri === params.uri && (w.version === undefined || w.version === params.version));
    if (index === -1) return;
    const [waiter] = this.#waiters.splice(index, 1);
    publication.taken = true;
    waiter!.resolve(params);
  }

  /** Tells the server that files changed on disk (`workspace/didChangeWatchedFiles`; type 1 created, 2 changed, 3 deleted). */
  async filesChanged(paths: readonly string[], type: 1 | 2 | 3 = 2): Promise<void> {
    await this.connection.sendNotification("workspace/didChangeWatchedFiles", { changes: paths.map((p) => ({ uri: uriOf(p), type })) });
  }

  /** Any request, e.g. `request("textDocument/hover", { textDocument: { uri }, position })`. */
  request<R = unknown>(method: string, params: unknown): Promise<R> {
    return this.connection.sendRequest(method, params) as Promise<R>;
  }

  notify(method: string, params: unknown): Promise<void> {
    return this.connection.sendNotification(method, params);
  }

  /** `shutdown` then `exit`, as an editor ends a session; resolves with how the process ended. */
  async shutdown(): Promise<Exit> {
    await this.connection.sendRequest("shutdown");
    await this.connection.sendNotification("exit");
    const exit = await this.exited;
    this.connection.dispose();
    return exit;
  }

  /** Closes the server's stdin, as when an editor dies; resolves with how the process ended. */
  async closeInput(): Promise<Exit> {
    this.child.stdin.end();
    const exit = await this.exited;
    this.connection.dispose();
    return exit;
  }

  /** Ends the process whatever state it is in (for `afterEach`). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
    this.connection.dispose();
  }
}

/** The language id an editor would send for a file. */
export function languageOf(uri: string): string {
  if (/\.ya?ml$/i.test(uri)) return "yaml";
  if (/\.toml$/i.test(uri)) return "toml";
  if (/\.json$/i.test(uri)) return "json";
  return "plaintext";
}
