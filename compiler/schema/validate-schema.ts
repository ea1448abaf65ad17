import type { ErrorObject } from "ajv";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { suggestionFix } from "../diagnostics/fixes.js";
import { didYouMean, oneOf } from "../diagnostics/suggest.js";
import type { DataPath, ParsedDocument } from "../source/document.js";
import { describePath } from "./describe.js";
import { schemaValidator } from "../../contract/schema-validators.js";
import type { SchemaName } from "./assets.js";

/** What the top level of a document is called in messages ("unknown key `x` in the config file"). */
const rootNames: Record<SchemaName, string> = {
  "workflow.schema.json": describePath([]),
  "config.schema.json": "the config file",
};

/** Checks a parsed document against a schema in `schema/` (by default the workflow's); every error located. */
export function validateSchema(doc: ParsedDocument, schemaName: SchemaName = "workflow.schema.json"): Diagnostic[] {
  const validate = schemaValidator(schemaName);
  if (checkWith(validate, doc.data)) return [];
  return mapErrors(validate.errors ?? [], doc, rootNames[schemaName]);
}

/**
 * Runs a validator, surviving hostile data: ajv's deep-equal for
 * `uniqueItems` calls an object's own `toString`/`valueOf` when it has one,
 * so `after: [{}, {toString: ""}]` threw a TypeError. Objects inside lists
 * are only ever type errors where uniqueness is checked (the items are
 * strings), so on that crash they are checked again as copies whose
 * `toString` and `valueOf` are functions giving their JSON: distinct
 * objects stay distinct, and every key is still there to be reported.
 */
function checkWith(validate: ReturnType<typeof schemaValidator>, data: unknown): boolean {
  try {
    return validate(data) as boolean;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return validate(defused(data, false)) as boolean;
  }
}

function defused(value: unknown, inList: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => defused(v, true));
  if (typeof value !== "object" || value === null || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    Object.defineProperty(out, k, { value: defused(v, inList), enumerable: true, writable: true, configurable: true });
  if (inList && (Object.hasOwn(out, "toString") || Object.hasOwn(out, "valueOf"))) {
    const text = JSON.stringify(value);
    for (const k of ["toString", "valueOf"])
      if (Object.hasOwn(out, k)) Object.defineProperty(out, k, { value: () => text, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function parsePointer(pointer: string): (string | number)[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  switch (typeof value) {
    case "string":
      return "a string";
    case "number":
      return Number.isInteger(value) ? "an integer" : "a number";
    case "boolean":
      return "a boolean";
    case "object":
      return "a map";
    default:
      return typeof value;
  }
}

const typeWords: Record<string, string> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "a boolean",
  array: "a list",
  object: "a map",
  null: "null",
};

function listWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

/** Property names a schema node allows, for "expected one of" and did-you-mean. */
function allowedKeys(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return properties ? Object.keys(properties).filter((k) => k !== "$schema") : [];
}

/**
 * Whether the failing schema node says the compiler reports this problem
 * (`"x-wfc-reported-as": "WFC210"`): the schema states some rules (`run` or
 * `fn`, one `foreach` source, reserved names) only so that editors with
 * nothing but the schema flag them; `wfc validate` reports each once, with
 * its own code, message and location, from the phase that checks it.
 */
function reportedByCompiler(error: ErrorObject): boolean {
  const parent = error.parentSchema as Record<string, unknown> | undefined;
  return typeof parent?.["x-wfc-reported-as"] === "string";
}

function mapErrors(errors: readonly ErrorObject[], doc: ParsedDocument, root: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const file = doc.file.path;
  for (const error of errors) {
    if (reportedByCompiler(error)) continue;
    const path = parsePointer(error.instancePath);
    const where = path.length === 0 ? root : describePath(path);
    const at = (p: DataPath, part: "key" | "value" = "value") => ({ file, span: doc.locate(p, part) });
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
      case "if":
        continue; // the failing `then` branch reports the real problem
      case "propertyNames":
        continue; // reported through the nested `pattern` error, which names the key
      case "additionalProperties": {
        const key = String(params.additionalProperty);
        const allowed = allowedKeys(error.parentSchema);
        out.push({
          severity: "error",
          code: "WFC102",
          message: `unknown key \`${key}\` in ${where}`,
          location: at([...path, key], "key"),
          expected: allowed.length > 0 ? `one of ${oneOf(allowed)}` : undefined,
          help: didYouMean(key, allowed) ?? `remove \`${key}\`, or check the spelling against the language reference`,
          fixes: suggestionFix(doc.file.text, doc.locate([...path, key], "key"), key, didYouMean(key, allowed)),
        } as Diagnostic);
        break;
      }
      case "required": {
        const key = String(params.missingProperty);
        const description = (error.parentSchema as { properties?: Record<string, { description?: string }> }).properties?.[key]?.description;
        out.push({
          severity: "error",
          code: "WFC103",
          message: `${where} is missing the required key \`${key}\``,
          location: path.length === 0 ? { file, span: { start: 0, end: 0 } } : at(path, "key"),
          help: description === undefined ? `add \`${key}\`` : `add \`${key}\`: ${firstSentence(description)}`,
        });
        break;
      }
      case "type": {
        const wanted = String(params.type).split(",").map((t) => typeWords[t] ?? t);
        out.push({
          severity: "error",
          code: "WFC101",
          message: `${where} must be ${listWords(wanted)}, not ${typeName(error.data)}`,
          location: at(path),
          expected: listWords(wanted),
        });
        break;
      }
      case "const":
      case "enum": {
        const allowed = (error.keyword === "const" ? [params.allowedValue] : (params.allowedValues as unknown[])).map((v) => `\`${String(v)}\``);
        const isVersion = path.length === 1 && path[0] === "wfc";
        out.push({
          severity: "error",
          code: isVersion ? "WFC107" : "WFC104",
          message: isVersion
            ? `unsupported language version ${JSON.stringify(error.data)}`
            : `${where} cannot be ${JSON.stringify(error.data)}`,
          location: at(path),
          expected: allowed.length === 1 ? allowed[0]! : `one of ${allowed.join(", ")}`,
          help: isVersion
            ? "this wfc understands `wfc: 1`; a newer file needs a newer wfc"
            : typeof error.data === "string"
              ? didYouMean(error.data, allowed.map((a) => a.slice(1, -1)))
              : undefined,
          fixes:
            !isVersion && typeof error.data === "string"
              ? suggestionFix(doc.file.text, doc.locate(path), error.data, didYouMean(error.data, allowed.map((a) => a.slice(1, -1))))
              : undefined,
        } as Diagnostic);
        break;
      }
      case "minimum":
      case "exclusiveMinimum":
      case "maximum": {
        const isLimit = path.length === 2 && path[0] === "limits";
        const isCap = path[0] === "stages" && path[2] === "limit" && typeof error.data === "number";
        if (isCap) {
          out.push({
            severity: "error",
            code: "WFC209",
            message: `the cap of stage \`${String(path[1])}\` must be at least 1, not ${String(error.data)}`,
            location: at(path),
            expected: "an integer >= 1",
            help: "a cap of 0 or less would never let a job start; remove it to run without one",
          });
          break;
        }
        out.push({
          severity: "error",
          code: isLimit ? "WFC209" : "WFC105",
          message: isLimit
            ? `limit \`${String(path[1])}\` must be at least 1, not ${String(error.data)}`
            : `${where} is out of range: ${String(error.data)}`,
          location: at(path),
          expected: `a value ${String(params.comparison)} ${String(params.limit)}`,
          help: isLimit ? "a limit of 0 or less would never let a job start; remove the limit to run without one" : undefined,
        } as Diagnostic);
        break;
      }
      case "minItems":
      case "maxItems":
      case "minLength":
      case "minProperties": {
        const n = Number(params.limit);
        const unit = error.keyword === "minLength" ? "character" : error.keyword === "minProperties" ? "entry" : "item";
        const plural = n === 1 ? unit : unit === "entry" ? "entries" : `${unit}s`;
        out.push({
          severity: "error",
          code: "WFC105",
          message: `${where} ${error.keyword === "maxItems" ? `has more than ${n} ${plural}` : n === 1 ? "is empty" : `has fewer than ${n} ${plural}`}`,
          location: at(path),
          expected: `${error.keyword === "maxItems" ? "at most" : "at least"} ${n} ${plural}`,
        });
        break;
      }
      case "uniqueItems": {
        const j = Number(params.j);
        out.push({
          severity: "error",
          code: "WFC108",
          message: `${where} lists ${JSON.stringify((error.data as unknown[])[j])} twice`,
          location: at([...path, j]),
          help: "remove the repeated item",
        });
        break;
      }
      case "pattern": {
        const propertyName = (error as { propertyName?: string }).propertyName;
        if (propertyName !== undefined) {
          out.push({
            severity: "error",
            code: "WFC106",
            message: `invalid name \`${propertyName}\` in ${where}`,
            location: at([...path, propertyName], "key"),
            expected: namePatternWords(String(params.pattern)),
          });
        } else {
          out.push({
            severity: "error",
            code: "WFC106",
            message: `${where} has an invalid format: ${JSON.stringify(error.data)}`,
            location: at(path),
            expected: formatWords(path, String(params.pattern)),
          });
        }
        break;
      }
      default:
        out.push({
          severity: "error",
          code: "WFC100",
          message: `${where} ${error.message ?? "is invalid"}`,
          location: at(path),
        });
    }
  }
  return out;
}

function firstSentence(text: string): string {
  const end = text.search(/\.(\s|$)/);
  return (end === -1 ? text : text.slice(0, end)).replace(/^./, (c) => c.toLowerCase());
}

function namePatternWords(pattern: string): string {
  if (pattern.includes("{}")) return "an image without whitespace or `{`/`}`";
  return pattern.includes("-")
    ? "letters, digits, `_` and `-`, starting with a letter or `_`"
    : "letters, digits and `_`, starting with a letter or `_`";
}

function formatWords(path: DataPath, pattern: string): string {
  const last = path.at(-1);
  if (last === "mem") return "a size like `512M` or `4G`, or megabytes as an integer";
  if (last === "time" || last === "timeout" || last === "expected")
    return "a duration like `90s`, `5m`, `1h30m`, or `HH:MM:SS`";
  if (last === "fn") return "`path/to/module.mjs#exportName`";
  if (path.at(-2) === "options") return "an sbatch option starting with `-`, like `--constraint=avx2`";
  if (last === "container") return "an image without whitespace or `{`/`}`, like `docker.io/library/debian:12` (an image is the stage's, not a template)";
  if (path.at(-2) === "images") return "an image without whitespace or `{`/`}`, like `/shared/sif/debian.sif`";
  if (path.at(-2) === "modules") return "a module name without whitespace, like `samtools/1.17`";
  return `text matching /${pattern}/`;
}
