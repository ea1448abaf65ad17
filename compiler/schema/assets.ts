import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot, packageVersion } from "../../contract/package-root.js";

export { packageRoot };

/** The JSON Schemas shipped in `schema/`. */
export type SchemaName = "workflow.schema.json" | "config.schema.json";

/** The text of a schema file, byte for byte (for `wfc schema`). */
export function schemaText(name: SchemaName): string {
  return readFileSync(join(packageRoot(), "schema", name), "utf8");
}

/** wfc's own version, from package.json. */
export const wfcVersion = packageVersion;
