import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { completions } from "../../compiler/service/service.js";
import type { ServiceFileKind } from "../../compiler/service/service.js";
import type { SourceFormat } from "../../compiler/source/document.js";
import { open } from "./helpers.js";

/** The labels offered at `§`, and the text the chosen one replaces. */
async function offered(marked: string, format: SourceFormat = "yaml", kind: ServiceFileKind = "workflow") {
  const { doc, text, cursor } = await open(marked, format, kind);
  const result = completions(doc, cursor);
  return {
    labels: result?.items.map((i) => i.label) ?? [],
    replaces: result === undefined ? undefined : text.slice(result.span.start, result.span.end),
    items: result?.items ?? [],
  };
}

const YAML = [
  "wfc: 1",
  "params:",
  "  genome: hg38",
  "  samples: [a, b]",
  "limits:",
  "  ftp: 3",
  "  db: 1",
  "executors:",
  "  pool: { type: processes }",
  "stages:",
  "  fetch:",
  "    foreach:",
  '      sample: "{params.samples}"',
  "      rep: [1, 2]",
  '    outputs: "raw/{sample}-{rep}.fq"',
  "    run: curl -o {outputs}",
  "  align:",
  "    foreach: { s: [x] }",
  "    run: echo",
].join("\n");

describe("completion", () => {
  test("keys of a stage on a half-typed line that breaks the file, without those present", async () => {
    const { labels, replaces, items } = await offered(`${YAML}\n    lim§\n`);
    expect(replaces).toBe("lim");
    expect(labels).toContain("limit");
    expect(labels).toContain("after");
    expect(labels).not.toContain("run");
    expect(labels).not.toContain("foreach");
    // The stage has `run`: `fn` would be a second action.
    expect(labels).not.toContain("fn");
    const limit = items.find((i) => i.label === "limit")!;
    expect(limit.insertText).toBe("limit: ");
    expect(limit.documentation).toMatch(/^A concurrency limit on a stage/);
  });

  test("top-level keys, and an existing key being edited gets no second colon", async () => {
    expect((await offered(`${YAML}\nex§\n`)).labels).toEqual(["$schema", "name", "description", "jobs", "defaults"]);
    const editing = await offered(YAML.replace("  pool: {", "  pool: {").replace("limits:", "lim§its:"));
    expect(editing.replaces).toBe("limits");
    expect(editing.items.find((i) => i.label === "limits")?.insertText).toBeUndefined();
  });

  test("names where the schema wants one: limits, executors, stages (not itself), variables", async () => {
    expect((await offered(`${YAML}\n    limit: §\n`)).labels).toEqual(["db", "ftp"]);
    expect((await offered(`${YAML}\n    limit: [ftp, { name: d§ }]\n`)).labels).toEqual(["db", "ftp"]);
    expect((await offered(`${YAML}\n    executor: p§\n`)).labels).toEqual(["pool", "processes", "threads"]);
    expect((await offered(`${YAML}\n    after: [§]\n`)).labels).toEqual(["fetch"]);
    expect((await offered(`${YAML}\n    after:\n      - §\n`)).labels).toEqual(["fetch"]);
    expect((await offered(YAML.replace("    run: curl", "    zip: [sample, §]\n    run: curl"))).labels).toEqual(["rep", "sample"]);
    expect((await offered(YAML.replace("defaults", "x").replace("executors:", "defaults:\n  executor: §\nexecutors:"))).labels).toEqual([
      "pool",
      "processes",
      "threads",
    ]);
  });

  test("right after a YAML key's colon (the `:` trigger), the value is inserted after a blank", async () => {
    const glued = await offered(`${YAML}\n    limit:§\n`);
    expect(glued.items.map((i) => i.insertText)).toEqual([" db", " ftp"]);
    expect((await offered(`${YAML}\n    limit: §\n`)).items.map((i) => i.insertText)).toEqual([undefined, undefined]);
  });

  test("nothing inside a comment", async () => {
    expect((await offered(`${YAML}\n    # lim§\n`)).labels).toEqual([]);
    expect((await offered(`${YAML}\n    run: echo # {§\n`)).labels).toEqual([]);
    // A `#` inside a string is no comment.
    expect((await offered(`${YAML}\n    run: "echo # {§"\n`)).labels).toContain("s");
  });

  test("fixed values from the schema", async () => {
    expect((await offered(`${YAML}\n    shell: §\n`)).labels).toEqual(["bash", "sh"]);
  });

  test("inside `{` of a template: the stage's foreach variables and the params", async () => {
    const fetch = await offered(YAML.replace("curl -o {outputs}", "curl -o {outputs} {§"));
    expect(fetch.labels).toEqual(["rep", "sample", "params.genome", "params.samples", "inputs", "outputs", "cpus", "stage"]);
    expect(fetch.replaces).toBe("");
    const partial = await offered(YAML.replace('"raw/{sample}', '"raw/{sa§}'));
    expect(partial.replaces).toBe("sa");
    expect((await offered(YAML.replace("    run: echo", "    run: echo {params.ge§"))).labels).toEqual(["genome", "samples"]);
    expect((await offered(YAML.replace("    run: echo", "    run: echo {params.ge§"))).replaces).toBe("ge");
    // The other stage's variables are not offered.
    expect((await offered(YAML.replace("    run: echo", "    run: echo {§"))).labels).toEqual([
      "s",
      "params.genome",
      "params.samples",
      "inputs",
      "outputs",
      "cpus",
      "stage",
    ]);
    // In a path, only what a path may hold.
    expect((await offered(YAML.replace('"raw/{sample}', '"raw/{§'))).labels).toEqual(["rep", "sample", "params.genome", "params.samples"]);
  });

  test("TOML: keys in the current table, names quoted when no quote is typed, placeholders", async () => {
    const toml = [
      "wfc = 1",
      "[params]",
      'genome = "hg38"',
      "[limits]",
      "ftp = 3",
      "[stages.fetch]",
      "foreach = { sample = [1, 2] }",
      'run = "curl"',
    ].join("\n");
    const keys = await offered(`${toml}\nli§\n`, "toml");
    expect(keys.labels).toContain("limit");
    expect(keys.labels).not.toContain("run");
    expect(keys.items.find((i) => i.label === "limit")?.insertText).toBe("limit = ");
    const bare = await offered(`${toml}\nlimit = §\n`, "toml");
    expect(bare.items.map((i) => i.insertText)).toEqual(['"ftp"']);
    const quoted = await offered(`${toml}\nlimit = "f§"\n`, "toml");
    expect(quoted.items.map((i) => [i.label, i.insertText])).toEqual([["ftp", undefined]]);
    expect(quoted.replaces).toBe("f");
    expect((await offered(`${toml}\noutputs = "o/{§}"\n`, "toml")).labels).toEqual(["sample", "params.genome"]);
    // Inside inline tables, as TOML writes foreach sources.
    const from = toml.replace("[stages.fetch]", '[stages.use]\nforeach = { sample = [1, 2], chunk = { from = "§" } }\n[stages.fetch]');
    expect((await offered(from, "toml")).labels).toEqual(["fetch"]);
    const weighted = await offered(`${toml}\nlimit = [{ name = "f§" }]\n`, "toml");
    expect(weighted.labels).toEqual(["ftp"]);
    expect((await offered(toml.replace("[stages.fetch]", "[stages.fetch]\n§"), "toml")).labels).toContain("limit");
    // A sub-table header: the stage's keys, but not `foreach`, which the stage already has.
    const header = await offered(`${toml}\n[stages.fetch.§`, "toml");
    expect(header.labels).toContain("env");
    expect(header.labels).not.toContain("foreach");
  });

  test("config files: keys from the config schema, executors for `map`", async () => {
    const config = '[executors.cluster]\ntype = "slurm"\n[map.stages]\nsearch = §\n';
    expect((await offered(config, "toml", "config")).labels).toEqual(["cluster", "processes", "threads"]);
    expect((await offered("[executors.cluster]\ntype = 'slurm'\n§", "toml", "config")).labels).toContain("max");
    expect((await offered("§", "toml", "config")).labels).toEqual(["$schema", "executors", "map", "containers", "conda", "resources"]);
  });
});

test("after `{inputs.`: the stage's named inputs; after `{var.`: its sample sheet's columns (known when the file validates)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wfc-service-"));
  writeFileSync(join(dir, "samples.tsv"), "id\treads\tgenome\nA\ta.fq\thg38\n");
  const text = [
    "wfc: 1",
    "stages:",
    "  align:",
    "    foreach: { s: { sheet: samples.tsv } }",
    '    inputs: { reads: "{s.reads}", index: "ref/{s.genome}.idx" }',
    '    outputs: "out/{s}.bam"',
    "    run: bwa {inputs.index} {s.re§ads}",
  ].join("\n");
  const { doc, cursor } = await open(text, "yaml", "workflow", join(dir, "wf.yaml"));
  expect(doc.validated).toBeDefined();
  expect(completions(doc, cursor)?.items.map((i) => i.label)).toEqual(["id", "reads", "genome"]);
  // Typing a new one: the file does not validate until it is complete, but the stage's map is there.
  const inputs = await open(text.replace("{inputs.index} {s.re§ads}", "{inputs.§"), "yaml", "workflow", join(dir, "wf.yaml"));
  expect(completions(inputs.doc, inputs.cursor)?.items.map((i) => i.label)).toEqual(["reads", "index"]);
  rmSync(dir, { recursive: true });
});

describe("completion in a file broken elsewhere too: names read from the lines", () => {
  test("YAML with a duplicate key and TOML with a broken line still offer the defined names", async () => {
    // `limit: 5` twice: blanking the cursor's line does not make it parse.
    const yaml = `${YAML.replace("    run: echo", "    run: echo\n    cpus: 1\n    cpus: 2")}\n    limit: §\n`;
    expect((await offered(yaml)).labels).toEqual(["db", "ftp"]);
    expect((await offered(`${YAML}\n    cpus: [\n    after: §\n`)).labels).toEqual(["fetch"]);
    const toml = [
      "wfc = 1",
      "[limits]",
      "ftp = 3",
      "[stages.a]",
      'run = "echo',
      "[stages.b]",
      "limit = §",
      "[stages.a.env]",
      'X = "1"',
    ].join("\n");
    expect((await offered(toml, "toml")).labels).toEqual(["ftp"]);
    expect((await offered(toml.replace("limit = §", "after = [§"), "toml")).labels).toEqual(["a"]);
  });
});
