// Runs inside a pool worker (a thread, or a child process): imports a
// workflow's module once per worker and calls one export per job.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

export interface FnCall {
  readonly workdir: string;
  readonly module: string;
  readonly export: string;
  readonly args: Record<string, unknown>;
}

const modules = new Map<string, Promise<Record<string, unknown>>>();

export default async function call({ workdir, module, export: name, args }: FnCall): Promise<unknown> {
  const url = pathToFileURL(resolve(workdir, module)).href;
  let loaded = modules.get(url);
  if (loaded === undefined) {
    loaded = import(url) as Promise<Record<string, unknown>>;
    modules.set(url, loaded);
  }
  const fn = (await loaded)[name];
  if (typeof fn !== "function") throw new Error(`${module} has no exported function \`${name}\``);
  const result: unknown = await (fn as (a: unknown) => unknown)(args);
  // Only plain data crosses back; anything else is summarised.
  try {
    return structuredClone(result);
  } catch {
    return String(result);
  }
}
