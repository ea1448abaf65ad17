/**
 * `wfc lsp`: the protocol side. Documents are kept in sync with the editor,
 * each version is validated (debounced while the user types; a newer version
 * aborts an older validation, and results of an old version are dropped), and
 * the diagnostics are published per file. Hover, completion, definition,
 * references and rename convert positions and ask compiler/service; quick
 * fixes come from the diagnostics' own `fixes`.
 *
 * Nothing here writes to stdout: it is the protocol's channel. Logs go to the
 * client through `connection.console`.
 */
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  CodeActionKind,
  CompletionItemKind,
  createConnection,
  createProtocolConnection,
  DidChangeWatchedFilesNotification,
  LSPErrorCodes,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type CodeAction,
  type CompletionItem as LspCompletionItem,
  type Connection,
  type Diagnostic as LspDiagnostic,
  type InitializeResult,
  type Location as LspLocation,
  type MessageReader,
  type MessageWriter,
  type TextDocumentPositionParams,
  type WatchDog,
} from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { Location } from "../../compiler/diagnostics/diagnostic.js";
import { wfcVersion } from "../../compiler/schema/assets.js";
import * as service from "../../compiler/service/service.js";
import type { CompletionKind, ServiceDocument } from "../../compiler/service/service.js";
import { analyze, parseBuffer, sheetOf, type Analysis } from "./analyze.js";
import { offsetOf, rangeOf, textEdit, toLspDiagnostic, uriOf } from "./convert.js";
import { fileKind } from "./detect.js";

export interface ServerOptions {
  /** Log each validation's time (`--verbose`). */
  readonly verbose: boolean;
  /** How long typing must pause before a changed file is validated again. */
  readonly debounceMs: number;
}

/** What the server knows of one open document. */
interface OpenState {
  timer?: NodeJS.Timeout;
  controller?: AbortController;
  /** The newest validation's result and the version it is of. */
  analysis?: { version: number; result: Analysis; diagnostics: readonly LspDiagnostic[] };
}

/** The capabilities the server implements, exactly (the test checks them). */
export function capabilities(): InitializeResult["capabilities"] {
  return {
    positionEncoding: "utf-16",
    textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
    hoverProvider: true,
    completionProvider: { triggerCharacters: ["{", ":"] },
    definitionProvider: true,
    referencesProvider: true,
    renameProvider: { prepareProvider: true },
    codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
  };
}

/**
 * Wires the handlers onto a connection and starts listening. Resolves with
 * the exit code when the session ends: 0 after `shutdown` then `exit`, 1 for
 * an `exit` without `shutdown` (as LSP specifies) and for a client that went
 * away (its input closed, or its process gone) without one.
 */
export function serve(reader: MessageReader, writer: MessageWriter, options: ServerOptions): Promise<number> {
  let end: (code: number) => void = () => undefined;
  const ended = new Promise<number>((resolve) => (end = resolve));
  let parentWatch: NodeJS.Timeout | undefined;
  // The library's own watchdog calls process.exit; this one ends the session and lets the command return its code.
  const watchDog: WatchDog = {
    shutdownReceived: false,
    initialize: (params) => {
      const pid = params.processId;
      if (typeof pid !== "number") return;
      // An editor that died without closing our stdin: stop with it.
      parentWatch = setInterval(() => {
        if (!alive(pid)) end(1);
      }, 3000);
      parentWatch.unref();
    },
    exit: (code) => end(code),
  };
  const connection: Connection = createConnection((logger) => createProtocolConnection(reader, writer, logger), watchDog);
  reader.onClose(() => end(watchDog.shutdownReceived ? 0 : 1));
  const documents = new TextDocuments(TextDocument);
  const open = new Map<string, OpenState>();
  /** Diagnostics per file, per the open document they came from (a sheet may get some from a workflow). */
  const published = new Map<string, Map<string, readonly LspDiagnostic[]>>();

  let watchFiles = false;
  connection.onInitialize((params) => {
    watchFiles = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    return { capabilities: capabilities(), serverInfo: { name: "wfc", version: wfcVersion() } };
  });
  // A workflow's diagnostics depend on files it reads (sample sheets, `lines` files, globs, `fn`
  // modules, conda files): when the editor sees one change on disk, open workflows are validated again.
  connection.onInitialized(() => {
    if (watchFiles) void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: "**/*" }] });
  });
  connection.onDidChangeWatchedFiles(() => {
    for (const [uri, state] of open) {
      clearTimeout(state.timer);
      state.timer = setTimeout(() => void validate(uri, state), options.debounceMs);
    }
  });

  /** Publishes what every source says about `target`, with the target's version when it is open. */
  const publish = (target: string) => {
    const diagnostics = [...(published.get(target)?.values() ?? [])].flat();
    const version = documents.get(target)?.version;
    void connection.sendDiagnostics({ uri: target, ...(version !== undefined ? { version } : {}), diagnostics });
  };

  /** Replaces what `source` says, publishing every file whose diagnostics changed (cleared ones included). */
  const setDiagnostics = (source: string, byTarget: ReadonlyMap<string, readonly LspDiagnostic[]>) => {
    const targets = new Set<string>([source, ...byTarget.keys()]);
    for (const [target, sources] of published) if (sources.has(source)) targets.add(target);
    for (const target of targets) {
      const sources = published.get(target) ?? new Map<string, readonly LspDiagnostic[]>();
      const mine = byTarget.get(target);
      if (mine === undefined || mine.length === 0) sources.delete(source);
      else sources.set(source, mine);
      if (sources.size === 0) published.delete(target);
      else published.set(target, sources);
      publish(target);
    }
  };

  const validate = async (uri: string, state: OpenState) => {
    const document = documents.get(uri);
    if (document === undefined) return;
    state.controller?.abort("a newer version");
    const controller = new AbortController();
    state.controller = controller;
    const version = document.version;
    const text = document.getText();
    const path = pathOf(uri);
    const kind = path === undefined ? undefined : fileKind(path, text);
    if (path === undefined || kind === undefined) {
      // Not a wfc file (a docker-compose file, a CI config): nothing to say about it.
      delete state.analysis;
      setDiagnostics(uri, new Map());
      return;
    }
    const started = performance.now();
    let result: Analysis | undefined;
    try {
      result = await analyze(path, text, kind, controller.signal);
    } catch (error) {
      if (controller.signal.aborted) return;
      // A bug in wfc, not the user's: say so where they look, and take down the diagnostics of an older text.
      const message = `wfc: internal error validating ${path}: ${error instanceof Error ? error.message : String(error)}`;
      connection.console.error(error instanceof Error && error.stack !== undefined ? error.stack : message);
      void connection.window.showErrorMessage(`${message}. This is a bug in wfc; please report it with the file.`);
      delete state.analysis;
      setDiagnostics(uri, new Map());
      return;
    }
    // A newer version was typed meanwhile (or the file was closed): these results are stale.
    if (controller.signal.aborted || documents.get(uri)?.version !== version || open.get(uri) !== state) return;
    if (result === undefined) return;
    if (options.verbose)
      connection.console.info(`validated ${path} (version ${version}) in ${(performance.now() - started).toFixed(1)} ms`);
    const byTarget = new Map<string, LspDiagnostic[]>();
    const add = (target: string, d: LspDiagnostic) => byTarget.set(target, [...(byTarget.get(target) ?? []), d]);
    const own: LspDiagnostic[] = [];
    for (const d of result.diagnostics) {
      const converted = toLspDiagnostic(d, result.files);
      const file = d.location?.file;
      if (file === undefined || file === path) own.push(converted);
      else add(uriOf(file), converted);
      // The sheet a sheet error is about shows it too, pointing back at the workflow.
      const sheet = sheetOf(d, result.service.document);
      if (sheet !== undefined) {
        add(uriOf(sheet), {
          range: rangeOf(undefined, undefined),
          severity: converted.severity!,
          code: d.code,
          source: "wfc",
          message: converted.message,
          relatedInformation: [{ location: { uri, range: converted.range }, message: "the workflow reads this sheet here" }],
        });
      }
    }
    byTarget.set(uri, own);
    state.analysis = { version, result, diagnostics: own };
    setDiagnostics(uri, byTarget);
  };

  documents.onDidChangeContent(({ document }) => {
    const uri = document.uri;
    const state = open.get(uri);
    if (state === undefined) {
      // Just opened: validate at once.
      const fresh: OpenState = {};
      open.set(uri, fresh);
      void validate(uri, fresh);
      return;
    }
    clearTimeout(state.timer);
    state.controller?.abort("a newer version");
    state.timer = setTimeout(() => void validate(uri, state), options.debounceMs);
  });

  documents.onDidClose(({ document }) => {
    const state = open.get(document.uri);
    if (state !== undefined) {
      clearTimeout(state.timer);
      state.controller?.abort("closed");
    }
    open.delete(document.uri);
    setDiagnostics(document.uri, new Map());
  });

  /** The file as the service sees it: the newest validation when it is of this version, else a fresh parse. */
  const serviceDocument = (uri: string): ServiceDocument | undefined => {
    const document = documents.get(uri);
    const path = pathOf(uri);
    if (document === undefined || path === undefined) return undefined;
    const analysis = open.get(uri)?.analysis;
    if (analysis !== undefined && analysis.version === document.version) return analysis.result.service;
    const text = document.getText();
    const kind = fileKind(path, text);
    const parsed = kind === undefined ? undefined : parseBuffer(path, text);
    return kind === undefined || parsed === undefined ? undefined : { kind, document: parsed };
  };

  /** Runs a service call at the request's position; undefined for a file that is not wfc's. */
  const at = <T>(params: TextDocumentPositionParams, call: (doc: ServiceDocument, offset: number) => T): T | undefined => {
    const doc = serviceDocument(params.textDocument.uri);
    if (doc === undefined) return undefined;
    return call(doc, offsetOf(doc.document.file, params.position));
  };

  const toLocation = (doc: ServiceDocument, location: Location): LspLocation => ({
    uri: uriOf(location.file),
    range: rangeOf(location.file === doc.document.file.path ? doc.document.file : undefined, location.span),
  });

  connection.onHover(
    (params) =>
      at(params, (doc, offset) => {
        const found = service.hover(doc, offset);
        return found === undefined
          ? null
          : { contents: { kind: "markdown" as const, value: found.markdown }, range: rangeOf(doc.document.file, found.span) };
      }) ?? null,
  );

  connection.onCompletion(
    (params) =>
      at(params, (doc, offset) => {
        const found = service.completions(doc, offset);
        if (found === undefined) return null;
        const range = rangeOf(doc.document.file, found.span);
        const items: LspCompletionItem[] = found.items.map((item) => ({
          label: item.label,
          kind: completionKind(item.kind),
          ...(item.detail !== undefined ? { detail: item.detail } : {}),
          ...(item.documentation !== undefined ? { documentation: { kind: "markdown" as const, value: item.documentation } } : {}),
          textEdit: { range, newText: item.insertText ?? item.label },
        }));
        return { isIncomplete: false, items };
      }) ?? null,
  );

  connection.onDefinition(
    (params) =>
      at(params, (doc, offset) => {
        const found = service.definition(doc, offset);
        return found === undefined ? null : toLocation(doc, found);
      }) ?? null,
  );

  connection.onReferences(
    (params) =>
      at(params, (doc, offset) => service.references(doc, offset, params.context.includeDeclaration).map((l) => toLocation(doc, l))) ??
      null,
  );

  connection.onPrepareRename(
    (params) =>
      at(params, (doc, offset) => {
        const target = service.prepareRename(doc, offset);
        return target === undefined ? null : { range: rangeOf(doc.document.file, target.span), placeholder: target.name };
      }) ?? null,
  );

  connection.onRenameRequest((params) => {
    const result = at(params, (doc, offset) => ({ doc, renamed: service.rename(doc, offset, params.newName) }));
    if (result === undefined) return null;
    const { doc, renamed } = result;
    if (!renamed.ok) return new ResponseError(LSPErrorCodes.RequestFailed, renamed.message);
    return { changes: { [params.textDocument.uri]: renamed.edits.map((e) => textEdit(doc.document.file, e)) } };
  });

  connection.onCodeAction((params) => {
    const uri = params.textDocument.uri;
    const analysis = open.get(uri)?.analysis;
    // Fixes of an older version would edit the wrong text: offer them only for the version on screen.
    if (analysis === undefined || analysis.version !== documents.get(uri)?.version) return [];
    const actions: CodeAction[] = [];
    for (const asked of params.context.diagnostics) {
      const ours = analysis.diagnostics.find(
        (d) => d.code === asked.code && d.message === asked.message && sameRange(d.range, asked.range),
      );
      const fixes =
        (ours?.data as { fixes?: { title: string; edits: { range: typeof asked.range; newText: string }[] }[] } | undefined)?.fixes ?? [];
      for (const fix of fixes) {
        actions.push({
          title: fix.title,
          kind: CodeActionKind.QuickFix,
          diagnostics: [asked],
          isPreferred: fixes.length === 1,
          edit: { changes: { [uri]: fix.edits } },
        });
      }
    }
    return actions;
  });

  connection.onShutdown(() => {
    for (const state of open.values()) {
      clearTimeout(state.timer);
      state.controller?.abort("shutdown");
    }
  });

  documents.listen(connection);
  connection.listen();
  return ended.then((code) => {
    clearInterval(parentWatch);
    for (const state of open.values()) {
      clearTimeout(state.timer);
      state.controller?.abort("exit");
    }
    connection.dispose();
    return code;
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, and belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sameRange(a: LspDiagnostic["range"], b: LspDiagnostic["range"]): boolean {
  return (
    a.start.line === b.start.line &&
    a.start.character === b.start.character &&
    a.end.line === b.end.line &&
    a.end.character === b.end.character
  );
}

/** The file path of a `file:` URI; other schemes (an unsaved buffer, a diff view) have no place on disk. */
function pathOf(uri: string): string | undefined {
  if (!uri.startsWith("file:")) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

function completionKind(kind: CompletionKind): LspCompletionItem["kind"] {
  switch (kind) {
    case "key":
      return CompletionItemKind.Property;
    case "stage":
      return CompletionItemKind.Function;
    case "limit":
      return CompletionItemKind.Constant;
    case "executor":
      return CompletionItemKind.Class;
    case "param":
      return CompletionItemKind.Variable;
    case "variable":
      return CompletionItemKind.Variable;
    case "value":
      return CompletionItemKind.Value;
  }
}
