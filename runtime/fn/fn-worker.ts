// Runs inside a pool worker (a thread, or a child process): imports a
// workflow's module once per worker and runs a batch of calls, one after
// another, each settled on its own.
import type { MessagePort } from "node:worker_threads";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

export interface FnCall {
  readonly workdir: string;
  readonly module: string;
  readonly export: string;
  readonly args: Record<string, unknown>;
}

/** One call's outcome, with when it ran (epoch ms, as measured in the worker). */
export type FnOutcome =
  | { readonly ok: true; readonly start: number; readonly end: number }
  | { readonly ok: false; readonly error: string; readonly start: number; readonly end: number; readonly timedOut?: true };

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

/** Runs one call; what the function returns is not used (a stage's results are its output files), so it is not sent back. */
async function call({ workdir, module, export: name, args }: FnCall): Promise<void> {
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

export default async function runBatch(batch: FnBatch): Promise<FnOutcome[]> {
  const out: FnOutcome[] = [];
  for (const [i, c] of batch.calls.entries()) {
    const start = Date.now();
    if (batch.reported) await report(batch, { wfcFn: "started", call: i, at: start });
    let outcome: FnOutcome;
    try {
      await call(c);
      outcome = { ok: true, start, end: Date.now() };
    } catch (error) {
      outcome = { ok: false, error: (error as Error)?.stack ?? String(error), start, end: Date.now() };
    }
    out.push(outcome);
    if (batch.reported) void report(batch, { wfcFn: "ended", call: i, outcome });
  }
  return out;
}
