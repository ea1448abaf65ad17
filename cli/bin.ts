#!/usr/bin/env node
import { main } from "./main.js";

// `wfc graph plan.json | head`: a reader that stops early is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// Ctrl-C or SIGTERM stops a run cleanly; a second Ctrl-C leaves at once.
const interrupt = new AbortController();
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  });
}

// The only place that touches the real process (STYLE habit 12).
main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: interrupt.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // A bug, not a user error: say so plainly; the stack only on request.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`wfc: internal error: ${message}\nThis is a bug in wfc; please report it with the input that caused it.\n`);
    if (process.env.WFC_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 70;
  },
);
