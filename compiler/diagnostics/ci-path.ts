import { isAbsolute, relative, resolve, sep } from "node:path";

/**
 * A diagnostic's file as CI tools want it: relative to the working directory
 * (the repository root in CI), with `/` separators. A file outside it keeps
 * its absolute path (`outside: true`): nothing relative could name it.
 */
export function ciPath(file: string, cwd: string): { path: string; outside: boolean } {
  const rel = relative(cwd, resolve(cwd, file));
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    return { path: resolve(cwd, file).split(sep).join("/"), outside: true };
  return { path: rel.split(sep).join("/"), outside: false };
}
