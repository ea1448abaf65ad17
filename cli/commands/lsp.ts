import { StreamMessageReader, StreamMessageWriter } from "vscode-languageserver/node";
import type { Io } from "../io.js";
import { serve } from "../lsp/server.js";

export interface LspCommandOptions {
  readonly verbose: boolean;
}

/**
 * `wfc lsp`: a language server on the process's own stdin and stdout (the
 * protocol's channel, so a server is the one command that reads stdin). The
 * session ends on `exit` or when the editor closes our stdin; the command
 * then returns its exit code like every other, and bin.ts sets it.
 */
export async function lspCommand(options: LspCommandOptions, io: Io): Promise<number> {
  const input = process.stdin;
  // Whatever might print to stdout would corrupt the protocol: send it to stderr instead.
  console.log = console.info = console.debug = (...args: unknown[]) => io.stderr.write(`${args.map(String).join(" ")}\n`);
  const code = await serve(new StreamMessageReader(input), new StreamMessageWriter(process.stdout), {
    verbose: options.verbose,
    debounceMs: 150,
  });
  // Nothing more will be read: let the process end.
  input.destroy();
  return code;
}
