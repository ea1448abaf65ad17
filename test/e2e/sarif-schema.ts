/**
 * The official SARIF 2.1.0 schema (a draft-04 schema, shipped in
 * @microsoft/jest-sarif), compiled once, for tests of `--format sarif`.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// A CommonJS class: required, so that it is the constructor under both tsc and vitest.
const AjvDraft04 = require("ajv-draft-04") as typeof import("ajv-draft-04").default;
const schema = JSON.parse(readFileSync(require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"), "utf8")) as object;

export const validateSarif = new AjvDraft04({ strict: false, unicodeRegExp: false, validateFormats: false, allErrors: true }).compile(
  schema,
);
