/**
 * What an editor with nothing but schema/workflow.schema.json (e.g.
 * yaml-language-server) can flag on its own: a stage with both `run` and
 * `fn` or neither, a foreach variable with two sources, a reserved variable
 * name. Checked with the schema alone (ajv, as editors validate), on the
 * invalid corpus's cases for them, while every valid sample still passes; and
 * the hovers: every description has a `markdownDescription`, and `fn`'s lists
 * every argument a function really receives (a real run records them).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { describe, expect, test } from "vitest";
import { fixture, repoRoot, wfc } from "../e2e/helpers.js";

const schema = JSON.parse(readFileSync(join(repoRoot, "schema/workflow.schema.json"), "utf8")) as Record<string, unknown>;
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);

/** The file's data as an editor's YAML/TOML parser sees it. */
function load(file: string): unknown {
  const text = readFileSync(join(repoRoot, file), "utf8");
  return extname(file) === ".toml" ? parseToml(text) : extname(file) === ".json" ? JSON.parse(text) : parseYaml(text);
}

/**
 * The schema errors as `instancePath keyword detail` (a key's name for a key
 * pattern), without the wrappers that only say an inner rule failed (`if`,
 * `propertyNames`).
 */
function schemaErrors(data: unknown): string[] {
  if (validate(data)) return [];
  return (validate.errors ?? [])
    .filter((e: ErrorObject) => e.keyword !== "if" && e.keyword !== "propertyNames")
    .map((e: ErrorObject) => {
      const p = e.params as Record<string, unknown>;
      const detail = p.missingProperty ?? p.propertyName ?? (e as { propertyName?: string }).propertyName ?? "";
      return `${e.instancePath} ${e.keyword} ${String(detail)}`.trim();
    });
}

describe("the schema alone flags", () => {
  test("a stage with both `run` and `fn`: at its `run` key", () => {
    expect(schemaErrors(load("samples/invalid/run-and-fn.yaml"))).toEqual(["/stages/summarize pattern run"]);
  });

  test("a stage with neither: `run` missing", () => {
    expect(schemaErrors(load("samples/invalid/nothing-to-run.toml"))).toEqual(["/stages/summarize required run"]);
  });

  test("a foreach variable with `range` and `glob`: at each of their keys", () => {
    expect(schemaErrors(load("samples/invalid/range-and-glob.yaml")).sort()).toEqual([
      "/stages/render/foreach/tile pattern glob",
      "/stages/render/foreach/tile pattern range",
    ]);
  });

  test.for([
    ["reserved-foreach-var.yaml", "/stages/run_step/foreach", "stage"],
    ["reserved-foreach-cpus.yaml", "/stages/bench/foreach", "cpus"],
  ] as const)("a reserved foreach variable name (%s)", ([file, path, name]) => {
    const errors = schemaErrors(load(`samples/invalid/${file}`));
    expect(errors).toEqual([`${path} pattern ${name}`]);
  });

  test("every reserved name, as a foreach variable and as a decided one (a name or a list)", () => {
    for (const name of ["params", "inputs", "outputs", "log", "stage", "cpus"]) {
      expect(schemaErrors({ wfc: 1, stages: { a: { foreach: { [name]: [1] }, run: "true" } } }), name).toEqual([`/stages/a/foreach pattern ${name}`]);
      expect(schemaErrors({ wfc: 1, stages: { a: { decides: name, outputs: "x", run: "true" } } }), name).toEqual(["/stages/a/decides pattern"]);
      expect(schemaErrors({ wfc: 1, stages: { a: { decides: ["ok", name], outputs: "x", run: "true" } } }), name).toEqual(["/stages/a/decides/1 pattern"]);
    }
  });

  test("but no valid sample, nor any source alone or a sheet with its key", () => {
    const samples = readdirSync(join(repoRoot, "samples"))
      .filter((d) => d !== "invalid")
      .flatMap((d) => ["workflow.yaml", "workflow.toml"].map((f) => `samples/${d}/${f}`))
      .filter((f) => existsSync(join(repoRoot, f)));
    expect(samples.length).toBeGreaterThanOrEqual(8);
    for (const f of samples) expect(schemaErrors(load(f)), f).toEqual([]);
    const sources = [{ range: [0, 3] }, { glob: "d/{v}.txt" }, { sheet: "s.tsv", key: "id" }, { lines: "ids.txt" }, { from: "split" }, [1, 2], "{params.xs}"];
    for (const v of sources) expect(schemaErrors({ wfc: 1, stages: { a: { foreach: { v }, fn: "m.mjs" } } }), JSON.stringify(v)).toEqual([]);
  });
});

describe("wfc validate reports each of them once, with the compiler's code", () => {
  test.for([
    ["run-and-fn.yaml", "WFC210"],
    ["nothing-to-run.toml", "WFC210"],
    ["range-and-glob.yaml", "WFC212"],
    ["reserved-foreach-var.yaml", "WFC220"],
  ])("%s: %s only", async ([file, code]) => {
    const result = await wfc(["validate", "--format", "json", `samples/invalid/${file}`]);
    const codes = (JSON.parse(result.stdout) as { files: { diagnostics: { code: string }[] }[] }).files[0]!.diagnostics.map((d) => d.code);
    expect(codes).toEqual([code]);
  });

  test("a reserved decided variable: WFC272 only", async () => {
    const dir = fixture({ "wf.yaml": { wfc: 1, stages: { a: { decides: "stage", outputs: "out/{stage}.txt", run: "true" } } } });
    const result = await wfc(["validate", "--format", "json", "wf.yaml"], { cwd: dir });
    const codes = (JSON.parse(result.stdout) as { files: { diagnostics: { code: string }[] }[] }).files[0]!.diagnostics.map((d) => d.code);
    expect(codes).toEqual(["WFC272"]);
  });
});

/** Every schema node (with its JSON pointer) that has a `description`. */
function* described(node: unknown, path: string): Generator<[string, Record<string, unknown>]> {
  if (typeof node !== "object" || node === null) return;
  const obj = node as Record<string, unknown>;
  if (typeof obj.description === "string") yield [path, obj];
  for (const [key, value] of Object.entries(obj)) {
    if (key === "enum" || key === "const") continue;
    yield* described(value, `${path}/${key}`);
  }
}

describe("hovers", () => {
  test.for(["workflow.schema.json", "config.schema.json"])("every description in %s has a markdownDescription, which editors render", (name) => {
    const nodes = [...described(JSON.parse(readFileSync(join(repoRoot, "schema", name), "utf8")), "#")];
    expect(nodes.length).toBeGreaterThan(30);
    expect(nodes.filter(([, n]) => typeof n.markdownDescription !== "string" || n.markdownDescription === "").map(([p]) => p)).toEqual([]);
  });

  test("`fn`'s description names every argument a function receives", async () => {
    const dir = fixture({
      "wf.yaml": {
        wfc: 1,
        params: { n: 1 },
        stages: { a: { foreach: { x: ["one"] }, outputs: "out/{x}.json", log: "logs/{x}.log", env: { E: "{x}" }, fn: "./keys.mjs#keys" } },
      },
      "keys.mjs": [
        'import { mkdirSync, writeFileSync } from "node:fs";',
        "export function keys(args) {",
        '  mkdirSync("out", { recursive: true });',
        "  writeFileSync(args.outputs, JSON.stringify(Object.keys(args).sort()));",
        "}",
        "",
      ].join("\n"),
    });
    const run = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(run.exitCode, run.stderr).toBe(0);
    const received = JSON.parse(readFileSync(join(dir, "out/one.json"), "utf8")) as string[];
    expect(received).toEqual(["env", "inputs", "log", "outputs", "params", "stage", "vars"]);
    const stage = (schema.$defs as Record<string, { properties: Record<string, { description: string; markdownDescription: string }> }>).Stage!;
    for (const key of received) {
      expect(stage.properties.fn!.description).toContain(`\`${key}\``);
      expect(stage.properties.fn!.markdownDescription).toContain(`\`${key}\``);
    }
  });
});
