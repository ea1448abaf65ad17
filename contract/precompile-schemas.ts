/**
 * Build step (`npm run build`): writes the schemas' standalone validators
 * to dist/schema/ so that no run pays for compiling them (schema-validators.ts).
 */
import { relative } from "node:path";
import { packageRoot } from "./package-root.js";
import { precompileSchemas } from "./schema-validators.js";

for (const file of precompileSchemas()) console.log(`precompiled ${relative(packageRoot(), file)}`);
