import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { repoRoot } from "../e2e/helpers.js";

const read = (name: string) => JSON.parse(readFileSync(join(repoRoot, "schema", name), "utf8")) as Record<string, unknown>;
const schema = read("config.schema.json");
const workflow = read("workflow.schema.json");

/** Every schema node under `properties`, with its path. */
function* propertyNodes(node: unknown, path: string): Generator<[string, Record<string, unknown>]> {
  if (typeof node !== "object" || node === null) return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === "properties" && typeof value === "object" && value !== null) {
      for (const [name, prop] of Object.entries(value as Record<string, unknown>))
        yield [`${path}/properties/${name}`, prop as Record<string, unknown>];
    }
    yield* propertyNodes(value, `${path}/${key}`);
  }
}

describe("schema/config.schema.json", () => {
  test("is a valid JSON Schema 2020-12 that ajv compiles in strict mode", () => {
    const ajv = new Ajv2020({ strict: true, strictTypes: false, allowUnionTypes: true });
    ajv.addVocabulary(["markdownDescription"]); // the hover text editors render
    expect(() => ajv.compile(schema)).not.toThrow();
  });

  test("every property has a description, so editors show hovers", () => {
    const defs = schema.$defs as Record<string, Record<string, unknown>>;
    const missing = [...propertyNodes(schema, "#")]
      .filter(([path]) => !path.includes("/if/"))
      .filter(([, prop]) => !(typeof prop.description === "string" && prop.description.length > 0))
      .filter(([, prop]) => !(typeof prop.$ref === "string" && typeof defs[prop.$ref.replace("#/$defs/", "")]?.description === "string"))
      .map(([path]) => path);
    expect(missing).toEqual([]);
  });

  test("its executors are exactly a workflow's (copied, since a schema file stands alone for editors)", () => {
    const defs = schema.$defs as Record<string, unknown>;
    const workflowDefs = workflow.$defs as Record<string, unknown>;
    for (const name of ["Executor", "ThreadsExecutor", "ProcessesExecutor", "SlurmExecutor", "Duration", "Memory"]) {
      expect(defs[name], name).toEqual(workflowDefs[name]);
    }
    expect(JSON.stringify(schema)).not.toMatch(/"(anyOf|oneOf)"/);
    expect(JSON.stringify(schema)).not.toContain("workflow.schema.json");
  });
});
