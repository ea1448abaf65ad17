#!/usr/bin/env node
import { interruptExitCode } from "./io.js";
import { main } from "./main.js";

// A reader that went away (`wfc run … | head -1`, a closed terminal) is not
// a reason to stop: output to it is dropped and the command goes on to its
// own end and exit code. A workflow tool that killed running jobs (and threw
// their work away) because a pager was closed would surprise its user more
// than one that finishes what it was asked to do; the summary still goes to
// stderr, and the exit code says how the jobs went.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE" || error.code === "EIO" || error.code === "ERR_STREAM_DESTROYED") return;
    throw error;
  });
}

// Ctrl-C, SIGTERM or SIGHUP (the terminal closed) stops a run cleanly: jobs
// get SIGTERM, then SIGKILL after a grace period. A second one during the
// grace SIGKILLs every job's process group at once, and the run ends as soon
// as they are reaped; a third leaves at once (the jobs are gone by then).
const interrupt = new AbortController();
const kill = new AbortController();
let leaving = false;
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    if (!interrupt.signal.aborted) interrupt.abort(sig);
    else if (!kill.signal.aborted) kill.abort(sig);
    else {
      leaving = true;
      process.exit(interruptExitCode(interrupt.signal.reason));
    }
  });
}

// Node ends when nothing is left to wait for, even with the command's promise
// pending (e.g. a worker thread that died with its calls): that is never a
// success, so it must not exit 0 as if the command had finished.
let settled = false;
process.on("exit", (code) => {
  if (settled || leaving) return;
  process.stderr.write(
    `wfc: internal error: wfc stopped (exit code ${code}) before the command finished\nThis is a bug in wfc; please report it with the input that caused it.\n`,
  );
  process.exitCode = 70;
});

// The only place that touches the real process (STYLE habit 12).
main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: interrupt.signal,
  kill: kill.signal,
}).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (error: unknown) => {
    settled = true;
    // A bug, not a user error: say so plainly; the stack only on request.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`wfc: internal error: ${message}\nThis is a bug in wfc; please report it with the input that caused it.\n`);
    if (process.env.WFC_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 70;
  },
);
