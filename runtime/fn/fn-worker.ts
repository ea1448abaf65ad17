// Runs inside a pool worker (a thread, or a child process): imports a
// workflow's module once per worker and runs a batch of calls, one after
// another, each settled on its own.
import { Worker, type MessagePort } from "node:worker_threads";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

export interface FnCall {
  readonly workdir: string;
  readonly module: string;
  readonly export: string;
  readonly args: Record<string, unknown>;
}

/**
 * The CPU a call used (issue 16), where the worker can attribute it: a child
 * process's own, while no other call ran in it. A thread shares its
 * process's CPU clock with the others (Node 20 has no per-thread one), so
 * its calls have none.
 */
export interface FnCpu {
  readonly userMs: number;
  readonly sysMs: number;
}

/** One call's outcome, with when it ran (epoch ms, as measured in the worker). */
export type FnOutcome =
  | { readonly ok: true; readonly start: number; readonly end: number; readonly cpu?: FnCpu }
  | {
      readonly ok: false;
      readonly error: string;
      readonly start: number;
      readonly end: number;
      readonly timedOut?: true;
      readonly cpu?: FnCpu;
    };

/**
 * A batch of calls. A batch with a call that has a timeout is `reported`:
 * the worker says when each call starts and how it ended as it goes, so the
 * pool can time each call, and kill the worker for one that runs too long
 * without losing what the calls before it did.
 */
export interface FnBatch {
  readonly calls: readonly FnCall[];
  readonly reported: boolean;
  /** Where a thread reports; a child process reports with process.send. */
  readonly port?: MessagePort;
}

/** What a worker reports about a call of a reported batch, in order. */
export type FnReport =
  | { readonly wfcFn: "started"; readonly call: number; readonly at: number }
  | { readonly wfcFn: "ended"; readonly call: number; readonly outcome: FnOutcome };

const modules = new Map<string, Promise<Record<string, unknown>>>();

/** Thrown where a workflow's function calls process.exit(): its call fails, the worker lives on. */
class ExitCalled extends Error {
  constructor(readonly code: unknown) {
    super(`the function called process.exit(${code === undefined ? "" : String(code)})`);
  }
}

/** The calls running in this worker now, each with the exit code its function asked for, if it did. */
const running = new Map<object, { exit?: ExitCalled }>();

// process.exit() in a function would end the worker: a thread's end left its
// calls unsettled, so wfc itself stopped mid-run with exit 0. It throws
// instead, and fails every call running when it was called (even from a
// timer, or inside the function's own try/catch).
const exit = process.exit.bind(process);
process.exit = ((code?: unknown) => {
  const error = new ExitCalled(code);
  for (const call of running.values()) call.exit ??= error;
  throw error;
}) as typeof process.exit;
// From a timer or a promise, the throw above is uncaught: it is ours, not a crash.
process.on("uncaughtException", (error) => {
  if (error instanceof ExitCalled) return;
  throw error;
});
process.on("unhandledRejection", (reason) => {
  if (reason instanceof ExitCalled) return;
  throw reason;
});
// A child process of a `processes` executor ends with wfc (kill -9, a crash):
// its IPC channel closes then, and nobody is left to want its results.
if (process.send !== undefined) {
  process.on("disconnect", () => exit(1));
  watchParent();
}

/**
 * A function stuck in a synchronous loop never sees the disconnect: a
 * thread of this process, which that loop does not block, watches for the
 * parent to go (the process is handed to another parent) and kills it.
 */
function watchParent(): void {
  const source = `const { workerData } = require("node:worker_threads");
    setInterval(() => { if (process.ppid !== workerData.parent) process.kill(workerData.self, "SIGKILL"); }, 250);`;
  const watcher = new Worker(source, {
    eval: true,
    workerData: { parent: process.ppid, self: process.pid },
    resourceLimits: { maxOldGenerationSizeMb: 8 },
  });
  watcher.unref();
}

/** Runs one call; what the function returns is not used (a stage's results are its output files), so it is not sent back. */
async function call({ workdir, module, export: name, args }: FnCall): Promise<void> {
  // A function's paths are relative to the workflow's folder. A child process
  // has a working directory of its own; a thread shares its process's, which
  // the local backend makes the workflow's (runtime/backends/local.ts).
  if (process.send !== undefined && process.cwd() !== workdir) process.chdir(workdir);
  const url = pathToFileURL(resolve(workdir, module)).href;
  let loaded = modules.get(url);
  if (loaded === undefined) {
    loaded = import(url) as Promise<Record<string, unknown>>;
    modules.set(url, loaded);
  }
  const fn = (await loaded)[name];
  if (typeof fn !== "function") throw new Error(`${module} has no exported function \`${name}\``);
  await (fn as (a: unknown) => unknown)(args);
}

/**
 * Sends a report. A child process waits until it is written: a call that
 * then loops forever must not hold back the `started` its timer needs (a
 * thread's postMessage is delivered even while the thread is busy).
 */
function report(batch: FnBatch, message: FnReport): Promise<void> | undefined {
  if (batch.port !== undefined) {
    batch.port.postMessage(message);
    return undefined;
  }
  const send = process.send?.bind(process);
  if (send === undefined) return undefined;
  return new Promise((r) => send(message, undefined, {}, () => r()));
}

/** Calls started in this worker so far: a call whose count moved on while it ran was not alone. */
let started = 0;
const measure = process.env.WFC_MEASURE !== "0";

/** The CPU this process used since `before`, if no other call started meanwhile. */
function cpuSince(before: NodeJS.CpuUsage | undefined, calls: number): { cpu?: FnCpu } {
  if (before === undefined || calls !== started) return {};
  const used = process.cpuUsage(before);
  return { cpu: { userMs: used.user / 1000, sysMs: used.system / 1000 } };
}

export default async function runBatch(batch: FnBatch): Promise<FnOutcome[]> {
  const out: FnOutcome[] = [];
  for (const [i, c] of batch.calls.entries()) {
    const start = Date.now();
    if (batch.reported) await report(batch, { wfcFn: "started", call: i, at: start });
    const state: { exit?: ExitCalled } = {};
    const key = {};
    // A call that shares the worker with another (tinypool sends a worker two batches at once) has no CPU of its own.
    const alone = running.size === 0 && process.send !== undefined && measure;
    const calls = ++started;
    const cpu0 = alone ? process.cpuUsage() : undefined;
    running.set(key, state);
    let outcome: FnOutcome;
    try {
      await call(c);
      if (state.exit) throw state.exit;
      outcome = { ok: true, start, end: Date.now(), ...cpuSince(cpu0, calls) };
    } catch (error) {
      const cause = state.exit ?? error;
      const message = cause instanceof ExitCalled ? cause.message : ((cause as Error)?.stack ?? String(cause));
      outcome = { ok: false, error: message, start, end: Date.now(), ...cpuSince(cpu0, calls) };
    } finally {
      running.delete(key);
    }
    out.push(outcome);
    if (batch.reported) void report(batch, { wfcFn: "ended", call: i, outcome });
  }
  return out;
}
