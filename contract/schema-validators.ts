/**
 * Validators for the JSON Schemas in `schema/`, precompiled at build time.
 *
 * Loading ajv and compiling a schema costs ~35 ms + ~100 ms per schema on
 * these machines: a third of a small `wfc run`. `npm run build` therefore
 * writes each schema's validator as standalone code (ajv's standalone mode)
 * to `dist/schema/NAME.cjs`, stamped with the SHA-256 of the schema text it
 * was made from. `schemaValidator()` uses that file when its stamp matches
 * the schema on disk and otherwise (no build, or a schema edited since)
 * compiles the schema with ajv as before, so a stale file can never validate
 * against an old schema.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Options, ValidateFunction } from "ajv";
import { packageRoot } from "./package-root.js";

/** The schemas wfc validates with, and the ajv options each is compiled with. */
const SCHEMAS = {
  // Every error, with the failing data (`verbose`), so that diagnostics can say what was found.
  "workflow.schema.json": { allErrors: true, strict: false, verbose: true },
  "config.schema.json": { allErrors: true, strict: false, verbose: true },
  // A plan is machine-written: the first error is enough.
  "plan.schema.json": { strict: false },
} satisfies Record<string, Options>;

export type SchemaFile = keyof typeof SCHEMAS;

const require = createRequire(import.meta.url);

const precompiledPath = (name: SchemaFile) => join(packageRoot(), "dist", "schema", `${name}.cjs`);
const stamp = (text: string) => createHash("sha256").update(text).digest("hex");
const validators = new Map<SchemaFile, ValidateFunction>();

/** The validator for one of wfc's schemas: precompiled when the build's copy is current, else compiled now. Once per process. */
export function schemaValidator(name: SchemaFile): ValidateFunction {
  let validator = validators.get(name);
  if (validator !== undefined) return validator;
  const text = readFileSync(join(packageRoot(), "schema", name), "utf8");
  const file = precompiledPath(name);
  if (existsSync(file)) {
    const built = require(file) as ValidateFunction & { schemaSha256?: string };
    if (built.schemaSha256 === stamp(text)) validator = built;
  }
  validator ??= compile(name, text).validate;
  validators.set(name, validator);
  return validator;
}

function compile(name: SchemaFile, text: string, source = false) {
  // Loaded only when needed: most runs never load ajv at all.
  const { Ajv2020 } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
  const ajv = new Ajv2020({ ...SCHEMAS[name], code: { source } });
  return { ajv, validate: ajv.compile(JSON.parse(text) as Record<string, unknown>) };
}

/** Writes every schema's standalone validator to `dist/schema/` (atomically); returns the files written. */
export function precompileSchemas(): string[] {
  const standalone = (require("ajv/dist/standalone/index.js") as typeof import("ajv/dist/standalone/index.js")).default;
  const written: string[] = [];
  for (const name of Object.keys(SCHEMAS) as SchemaFile[]) {
    const text = readFileSync(join(packageRoot(), "schema", name), "utf8");
    const { ajv, validate } = compile(name, text, true);
    const code = `${standalone(ajv, validate)}\nmodule.exports.schemaSha256 = ${JSON.stringify(stamp(text))};\n`;
    const file = precompiledPath(name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, code);
    renameSync(`${file}.tmp`, file);
    written.push(file);
  }
  return written;
}
