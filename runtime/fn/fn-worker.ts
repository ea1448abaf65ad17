// Runs inside a pool worker (a thread, or a child process): imports a
// workflow's module once per worker and runs a batch of calls, one after
// another, each settled on its own.
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
  | { readonly ok: false; readonly error: string; readonly start: number; readonly end: number };

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

export default async function runBatch(calls: readonly FnCall[]): Promise<FnOutcome[]> {
  const out: FnOutcome[] = [];
  for (const c of calls) {
    const start = Date.now();
    try {
      await call(c);
      out.push({ ok: true, start, end: Date.now() });
    } catch (error) {
      out.push({ ok: false, error: (error as Error)?.stack ?? String(error), start, end: Date.now() });
    }
  }
  return out;
}
