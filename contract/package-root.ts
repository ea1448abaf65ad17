import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/**
 * The package root, found by walking up from this module: the same code runs
 * from the sources under vitest and from `dist/` when built.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "schema", "plan.schema.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("wfc: cannot find schema/plan.schema.json above " + import.meta.url);
    dir = parent;
  }
  root = dir;
  return root;
}

let version: string | undefined;

/** wfc's own version, from package.json. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
  return version;
}
