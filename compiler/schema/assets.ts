import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/**
 * The package root, found by walking up from this module: the same code runs
 * from `compiler/` under vitest and from `dist/compiler/` when built.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "schema", "workflow.schema.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("wfc: cannot find schema/workflow.schema.json above " + import.meta.url);
    dir = parent;
  }
  root = dir;
  return root;
}

/** The JSON Schemas shipped in `schema/`. */
export type SchemaName = "workflow.schema.json" | "config.schema.json";

const cache = new Map<string, unknown>();

/** A JSON file shipped in `schema/`, parsed once. */
export function loadSchema(name: SchemaName): Record<string, unknown> {
  let schema = cache.get(name);
  if (schema === undefined) {
    schema = JSON.parse(readFileSync(join(packageRoot(), "schema", name), "utf8")) as unknown;
    cache.set(name, schema);
  }
  return schema as Record<string, unknown>;
}

/** The text of a schema file, byte for byte (for `wfc schema`). */
export function schemaText(name: SchemaName): string {
  return readFileSync(join(packageRoot(), "schema", name), "utf8");
}

/** wfc's own version, from package.json. */
export function wfcVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string };
  return pkg.version;
}
