import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { repoRoot } from "../e2e/helpers.js";

const schema = JSON.parse(readFileSync(join(repoRoot, "schema/workflow.schema.json"), "utf8")) as Record<string, unknown>;

/** Every object schema node under `properties`, with its path, for the description check. */
function* propertyNodes(node: unknown, path: string): Generator<[string, Record<string, unknown>]> {
  if (typeof node !== "object" || node === null) return;
  const obj = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(obj)) {
    if (key === "properties" && typeof value === "object" && value !== null) {
      for (const [name, prop] of Object.entries(value as Record<string, unknown>)) {
        yield [`${path}/properties/${name}`, prop as Record<string, unknown>];
      }
    }
    yield* propertyNodes(value, `${path}/${key}`);
  }
}

describe("schema/workflow.schema.json", () => {
  test("is a valid JSON Schema 2020-12 that ajv compiles in strict mode", () => {
    const ajv = new Ajv2020({ strict: true, strictTypes: false, allowUnionTypes: true });
    // Annotations for editors (markdownDescription, errorMessage, patternErrorMessage) and for wfc's own mapping of schema errors: known, and nothing else.
    ajv.addVocabulary(["markdownDescription", "errorMessage", "patternErrorMessage", "x-wfc-reported-as"]);
    expect(() => ajv.compile(schema)).not.toThrow();
  });

  test("every property has a description, so editors show hovers", () => {
    const defs = schema.$defs as Record<string, Record<string, unknown>>;
    const missing: string[] = [];
    for (const [path, prop] of propertyNodes(schema, "#")) {
      if (path.includes("/if/")) continue; // conditions that pick a variant, not properties
      if (typeof prop.description === "string" && prop.description.length > 0) continue;
      // A property that is only a $ref inherits the referenced definition's description.
      const ref = typeof prop.$ref === "string" ? defs[prop.$ref.replace("#/$defs/", "")] : undefined;
      if (ref && typeof ref.description === "string") continue;
      missing.push(path);
    }
    expect(missing).toEqual([]);
  });

  test("uses no bare anyOf/oneOf: variants are told apart by a field or by JSON type", () => {
    expect(JSON.stringify(schema)).not.toMatch(/"(anyOf|oneOf)"/);
  });
});

describe("precompiled validators (npm run build)", () => {
  test("each schema's standalone validator is stamped with that schema's hash, and is what wfc uses", async () => {
    const { createHash } = await import("node:crypto");
    const { createRequire } = await import("node:module");
    const { schemaValidator } = await import("../../contract/schema-validators.js");
    const require = createRequire(import.meta.url);
    for (const name of ["workflow.schema.json", "config.schema.json", "plan.schema.json"] as const) {
      const built = require(join(repoRoot, "dist/schema", `${name}.cjs`)) as { schemaSha256: string };
      const text = readFileSync(join(repoRoot, "schema", name), "utf8");
      expect(built.schemaSha256).toBe(createHash("sha256").update(text).digest("hex"));
      expect(schemaValidator(name)).toBe(built);
    }
  });
});
