/**
 * Data-dependent fan-out in plan.json (issue 14): a stage that `decides`
 * variables, consumers with `{ from: STAGE }` or `{ lines: FILE }`, their
 * dynamic spaces, `expand` edges, fusion of equal dynamic spaces, and the
 * same plan from YAML and TOML.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { compileDocument, compileFile } from "../../compiler/compile.js";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import type { Plan, PlanTask } from "../../contract/plan.js";
import { schemaValidator } from "../../contract/schema-validators.js";

const dir = mkdtempSync(join(tmpdir(), "wfc-dynamic-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function compileText(text: string, format: "yaml" | "toml"): Promise<Plan> {
  const doc = parseSource(new SourceFile(join(dir, `wf.${format}`), text), format);
  const result = await compileDocument(doc);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const plan = result.plan!;
  // Every plan the compiler writes is one the plan schema accepts.
  const validate = schemaValidator("plan.schema.json");
  expect(validate(JSON.parse(JSON.stringify(plan))), JSON.stringify(validate.errors)).toBe(true);
  return plan;
}

const task = (plan: Plan, id: string): PlanTask => plan.tasks.find((t) => t.id === id)!;

const splitMapMergeYaml = `
wfc: 1
params:
  samples: [A, B, C]
  split_size: 100
stages:
  split:
    foreach: { sample: "{params.samples}" }
    inputs: "reads/{sample}.fq"
    outputs: { chunks: "work/chunks/{sample}/{chunk}.fa" }
    decides: [chunk]
    run: ./split.sh {inputs} work/chunks/{sample} {params.split_size}
  map:
    foreach:
      sample: "{params.samples}"
      chunk: { from: split }
    inputs: "work/chunks/{sample}/{chunk}.fa"
    outputs: "work/mapped/{sample}/{chunk}.bam"
    cpus: 2
    run: map {inputs} > {outputs}
  merge:
    foreach: { sample: "{params.samples}" }
    inputs: "work/mapped/{sample}/*.bam"
    outputs: "work/merged/{sample}.bam"
    run: cat {inputs} > {outputs}
`;

const splitMapMergeToml = `
wfc = 1

[params]
samples = ["A", "B", "C"]
split_size = 100

[stages.split]
foreach = { sample = "{params.samples}" }
inputs = "reads/{sample}.fq"
outputs = { chunks = "work/chunks/{sample}/{chunk}.fa" }
decides = "chunk"
run = "./split.sh {inputs} work/chunks/{sample} {params.split_size}"

[stages.map]
foreach = { sample = "{params.samples}", chunk = { from = "split" } }
inputs = "work/chunks/{sample}/{chunk}.fa"
outputs = "work/mapped/{sample}/{chunk}.bam"
cpus = 2
run = "map {inputs} > {outputs}"

[stages.merge]
foreach = { sample = "{params.samples}" }
inputs = "work/mapped/{sample}/*.bam"
outputs = "work/merged/{sample}.bam"
run = "cat {inputs} > {outputs}"
`;

describe("split → map → merge per sample", () => {
  test("the map task's space is dynamic: its blocks are the samples, its chunks come from split's pattern", async () => {
    const plan = await compileText(splitMapMergeYaml, "yaml");
    expect(plan.tasks.map((t) => t.id)).toEqual(["split", "map", "merge"]);
    const map = task(plan, "map");
    expect(map.space).toEqual({
      vars: [{ name: "sample", values: ["A", "B", "C"] }],
      zip: [],
      size: 3,
      dynamic: { vars: ["chunk"], from: { kind: "files", task: "split", step: "split", output: 0 }, per: ["sample"] },
    });
    expect([map.batch, map.jobs]).toEqual([1, null]);
    expect(map.deps).toEqual([{ task: "split", edge: { kind: "expand" }, input: { step: "map", index: 0 } }]);
    expect(map.steps[0]!.inputs[0]!.from).toEqual([{ task: "split", step: "split", output: 0 }]);
  });

  test("split says what it decides, and its pattern output keeps the hole", async () => {
    const plan = await compileText(splitMapMergeYaml, "yaml");
    const split = task(plan, "split");
    expect(split.steps[0]!.decides).toEqual(["chunk"]);
    expect(split.steps[0]!.outputs[0]!.template).toEqual(["work/chunks/", { var: "sample" }, "/", { var: "chunk" }, ".fa"]);
    expect([split.space.dynamic, split.jobs]).toEqual([undefined, 3]);
  });

  test("merge gathers per sample: a match on the producer's static variable, and a static space", async () => {
    const plan = await compileText(splitMapMergeYaml, "yaml");
    const merge = task(plan, "merge");
    expect(merge.deps).toEqual([
      { task: "map", edge: { kind: "match", on: [["sample", "sample"]], where: {}, when: {} }, input: { step: "merge", index: 0 } },
    ]);
    expect([merge.space.dynamic, merge.jobs]).toEqual([undefined, 3]);
  });

  test("a stage that decides nothing has no `decides` in the plan", async () => {
    const plan = await compileText(splitMapMergeYaml, "yaml");
    expect(task(plan, "map").steps[0]).not.toHaveProperty("decides");
  });

  test("TOML and YAML give the same plan", async () => {
    const yaml = await compileText(splitMapMergeYaml, "yaml");
    const toml = await compileText(splitMapMergeToml, "toml");
    expect({ ...toml, source: null }).toEqual({ ...yaml, source: null });
  });
});

describe("a producer without foreach", () => {
  test("its one element decides the consumer's elements: no blocks to match, `per` is empty", async () => {
    const plan = await compileText(
      `
wfc: 1
stages:
  split:
    inputs: "queries.fa"
    outputs: "work/chunks/{chunk}.fa"
    decides: chunk
    run: ./split.sh {inputs} work/chunks
  search:
    foreach: { chunk: { from: split } }
    inputs: "work/chunks/{chunk}.fa"
    outputs: "work/hits/{chunk}.tsv"
    run: search {inputs} > {outputs}
  merge:
    inputs: "work/hits/*.tsv"
    outputs: "hits.tsv"
    run: cat {inputs} > {outputs}
`,
      "yaml",
    );
    const search = task(plan, "search");
    expect(search.space).toEqual({
      vars: [],
      zip: [],
      size: 1,
      dynamic: { vars: ["chunk"], from: { kind: "files", task: "split", step: "split", output: 0 }, per: [] },
    });
    expect(search.jobs).toBeNull();
    expect(task(plan, "merge").deps).toEqual([{ task: "search", edge: { kind: "all" }, input: { step: "merge", index: 0 } }]);
  });
});

describe("`lines`", () => {
  test("a file a stage writes: one element per line, read after that stage's element; expand with no input when nothing else is read", async () => {
    const plan = await compileText(
      `
wfc = 1

[params]
samples = ["A", "B"]

[stages.list]
foreach = { sample = "{params.samples}" }
inputs = "reads/{sample}.fq"
outputs = ["work/{sample}/stats.txt", "work/{sample}/ids.txt"]
run = "list {inputs} work/{sample}"

[stages.fetch]
foreach = { sample = "{params.samples}", id = { lines = "work/{sample}/ids.txt" } }
outputs = "work/{sample}/fetched/{id}.fa"
run = "fetch {id} > {outputs}"
`,
      "toml",
    );
    const fetch = task(plan, "fetch");
    expect(fetch.space.dynamic).toEqual({ vars: ["id"], from: { kind: "lines", task: "list", step: "list", output: 1 }, per: ["sample"] });
    expect(fetch.deps).toEqual([{ task: "list", edge: { kind: "expand" }, input: null }]);
    expect([fetch.batch, fetch.jobs]).toEqual([1, null]);
    // A lines producer decides nothing: its outputs are ordinary paths.
    expect(task(plan, "list").steps[0]).not.toHaveProperty("decides");
  });

  test("a file no stage writes is read now, like a sample sheet: a static list, blank lines skipped", async () => {
    writeFileSync(join(dir, "accessions.txt"), "SRR2\n\nSRR1\r\nSRR10\n");
    const file = join(dir, "static-lines.yaml");
    writeFileSync(
      file,
      `
wfc: 1
stages:
  fetch:
    foreach: { id: { lines: accessions.txt } }
    outputs: "downloads/{id}.fa"
    run: fetch {id} > {outputs}
`,
    );
    const result = await compileFile(file, { planPath: join(dir, "plan.json") });
    expect(result.diagnostics).toEqual([]);
    const fetch = result.plan!.tasks[0]!;
    expect(fetch.space).toEqual({ vars: [{ name: "id", values: ["SRR2", "SRR1", "SRR10"] }], zip: [], size: 3 });
    expect(fetch.jobs).toBe(3);
  });
});

describe("`lines` next to an output that only looks alike", () => {
  test("a file no element writes is read now, though `work/{name}.txt` could name it", async () => {
    const folder = mkdtempSync(join(dir, "alike-"));
    mkdirSync(join(folder, "work"));
    writeFileSync(join(folder, "work", "ids.txt"), "x\ny\n");
    const file = join(folder, "wf.yaml");
    writeFileSync(
      file,
      `
wfc: 1
stages:
  summary:
    foreach: { name: [all, some] }
    outputs: "work/{name}.txt"
    run: echo > {outputs}
  fetch:
    foreach: { id: { lines: work/ids.txt } }
    outputs: "downloads/{id}.fa"
    run: fetch {id} > {outputs}
`,
    );
    const result = await compileFile(file);
    expect(result.diagnostics).toEqual([]);
    const fetch = result.plan!.tasks.find((t) => t.id === "fetch")!;
    expect(fetch.space).toEqual({ vars: [{ name: "id", values: ["x", "y"] }], zip: [], size: 2 });
    expect(fetch.deps).toEqual([]);
  });

  test("a missing one is reported once, as a file read now", async () => {
    const folder = mkdtempSync(join(dir, "alike-"));
    const file = join(folder, "wf.yaml");
    writeFileSync(
      file,
      `
wfc: 1
stages:
  summary:
    foreach: { name: [all] }
    outputs: "work/{name}.txt"
    run: echo > {outputs}
  fetch:
    foreach: { id: { lines: work/ids.txt } }
    outputs: "downloads/{id}.fa"
    run: fetch {id} > {outputs}
`,
    );
    const result = await compileFile(file);
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["WFC280", "cannot read `lines` file `work/ids.txt` of `id` (no such file)"],
    ]);
  });
});

describe("a chained dynamic stage", () => {
  const chain = (filterExtra: string) => `
wfc: 1
params:
  samples: [A, B]
stages:
  split:
    foreach: { sample: "{params.samples}" }
    inputs: "reads/{sample}.fq"
    outputs: "work/chunks/{sample}/{chunk}.fa"
    decides: [chunk]
    run: ./split.sh {inputs} work/chunks/{sample}
  map:
    foreach:
      sample: "{params.samples}"
      chunk: { from: split }
    inputs: "work/chunks/{sample}/{chunk}.fa"
    outputs: "work/mapped/{sample}/{chunk}.bam"
    run: map {inputs} > {outputs}
  filter:
    foreach:
      sample: "{params.samples}"
      chunk: { from: split }
    inputs: "work/mapped/{sample}/{chunk}.bam"
    outputs: "work/filtered/{sample}/{chunk}.bam"
    run: filter {inputs} > {outputs}${filterExtra}
  merge:
    foreach: { sample: "{params.samples}" }
    inputs: "work/filtered/{sample}/*.bam"
    outputs: "work/merged/{sample}.bam"
    run: cat {inputs} > {outputs}
`;

  test("with an equal space it fuses with map: one dynamic task, one expand edge from split", async () => {
    const plan = await compileText(chain(""), "yaml");
    expect(plan.tasks.map((t) => t.id)).toEqual(["split", "map+filter", "merge"]);
    const fused = task(plan, "map+filter");
    expect(fused.space.dynamic).toEqual({
      vars: ["chunk"],
      from: { kind: "files", task: "split", step: "split", output: 0 },
      per: ["sample"],
    });
    expect(fused.deps).toEqual([{ task: "split", edge: { kind: "expand" }, input: { step: "map", index: 0 } }]);
    expect(fused.steps[1]!.inputs[0]!.from).toEqual([{ task: "map+filter", step: "map", output: 0 }]);
    expect(fused.jobs).toBeNull();
  });

  test("kept apart (`fuse: false`) its edge to map is one-to-one and its own edge to split is expand", async () => {
    const plan = await compileText(chain("\n    fuse: false"), "yaml");
    expect(plan.tasks.map((t) => t.id)).toEqual(["split", "map", "filter", "merge"]);
    expect(task(plan, "filter").deps).toEqual([
      { task: "map", edge: { kind: "one-to-one" }, input: { step: "filter", index: 0 } },
      { task: "split", edge: { kind: "expand" }, input: null },
    ]);
  });

  test("on different resources it is not fused, and never by the expand edge", async () => {
    const plan = await compileText(chain("\n    cpus: 4"), "yaml");
    expect(plan.tasks.map((t) => t.id)).toEqual(["split", "map", "filter", "merge"]);
    for (const t of plan.tasks) for (const d of t.deps) expect(d.edge.kind).not.toBe("map");
  });
});

describe("edges around a dynamic space", () => {
  const base = `
wfc: 1
params:
  samples: [A, B]
stages:
  split:
    foreach: { sample: "{params.samples}" }
    inputs: "reads/{sample}.fq"
    outputs: "work/chunks/{sample}/{chunk}.fa"
    decides: [chunk]
    run: ./split.sh {inputs} work/chunks/{sample}
`;

  test("a static stage gathering the producer's pattern output waits per sample (match), not for a listed map", async () => {
    const plan = await compileText(
      `${base}  count:
    foreach: { sample: "{params.samples}" }
    inputs: "work/chunks/{sample}/*.fa"
    outputs: "work/counts/{sample}.txt"
    run: cat {inputs} | wc -l > {outputs}
`,
      "yaml",
    );
    const count = task(plan, "count");
    expect(count.space.dynamic).toBeUndefined();
    expect(count.deps).toEqual([
      { task: "split", edge: { kind: "match", on: [["sample", "sample"]], where: {}, when: {} }, input: { step: "count", index: 0 } },
    ]);
  });

  test("a dynamic stage of the same origin with another static variable is matched on all shared variables, run-time ones included", async () => {
    const plan = await compileText(
      `${base}  map:
    foreach:
      sample: "{params.samples}"
      chunk: { from: split }
    inputs: "work/chunks/{sample}/{chunk}.fa"
    outputs: "work/mapped/{sample}/{chunk}.bam"
    run: map {inputs} > {outputs}
  call:
    foreach:
      sample: "{params.samples}"
      q: [10, 20]
      chunk: { from: split }
    inputs: "work/mapped/{sample}/{chunk}.bam"
    outputs: "work/calls/{sample}/{q}/{chunk}.vcf"
    run: call -q {q} {inputs} > {outputs}
`,
      "yaml",
    );
    expect(plan.tasks.map((t) => t.id)).toEqual(["split", "map", "call"]);
    const call = task(plan, "call");
    expect(call.space.size).toBe(4);
    expect(call.space.dynamic).toEqual({
      vars: ["chunk"],
      from: { kind: "files", task: "split", step: "split", output: 0 },
      per: ["sample"],
    });
    expect(call.deps).toEqual([
      {
        task: "map",
        edge: {
          kind: "match",
          on: [
            ["chunk", "chunk"],
            ["sample", "sample"],
          ],
          where: {},
          when: {},
        },
        input: { step: "call", index: 0 },
      },
      { task: "split", edge: { kind: "expand" }, input: null },
    ]);
  });

  test("a decided variable stands for one path segment: a file in a subfolder is not one of the pattern's, nor read from it", async () => {
    const plan = await compileText(
      `${base}  pool:
    foreach: { sample: "{params.samples}" }
    inputs: "reads/{sample}.fq"
    outputs: "work/chunks/{sample}/pooled/all.fa"
    run: cp {inputs} {outputs}
  stats:
    foreach: { sample: "{params.samples}" }
    inputs: "work/chunks/{sample}/pooled/all.fa"
    outputs: "work/stats/{sample}.txt"
    run: wc -l {inputs} > {outputs}
`,
      "yaml",
    );
    // No collision with split's pattern, and stats reads pool alone (so the two fuse).
    expect(plan.tasks.map((t) => t.id)).toEqual(["pool+stats", "split"]);
    expect(task(plan, "pool+stats").deps).toEqual([]);
  });

  test("a producer fused with its own producer is named by its fused task in the consumer's space", async () => {
    const plan = await compileText(
      `${base.replace("reads/{sample}.fq", "work/trimmed/{sample}.fq")}  trim:
    foreach: { sample: "{params.samples}" }
    inputs: "reads/{sample}.fq"
    outputs: "work/trimmed/{sample}.fq"
    run: trim {inputs} > {outputs}
  map:
    foreach:
      sample: "{params.samples}"
      chunk: { from: split }
    inputs: "work/chunks/{sample}/{chunk}.fa"
    outputs: "work/mapped/{sample}/{chunk}.bam"
    run: map {inputs} > {outputs}
`,
      "yaml",
    );
    expect(plan.tasks.map((t) => t.id)).toEqual(["trim+split", "map"]);
    expect(task(plan, "map").space.dynamic!.from).toEqual({ kind: "files", task: "trim+split", step: "split", output: 0 });
    expect(task(plan, "map").deps).toEqual([{ task: "trim+split", edge: { kind: "expand" }, input: { step: "map", index: 0 } }]);
  });
});

describe("--explain notes", () => {
  test("say which tasks expand at run time, from what, and after which task; SLURM arrays are known only then", async () => {
    const doc = parseSource(
      new SourceFile(
        join(dir, "wf.yaml"),
        splitMapMergeYaml.replace("wfc: 1\n", "wfc: 1\nexecutors:\n  hpc: { type: slurm }\ndefaults: { executor: hpc }\n"),
      ),
      "yaml",
    );
    const result = await compileDocument(doc);
    expect(result.diagnostics).toEqual([]);
    expect(result.notes.filter((n) => n.topic === "dynamic").map((n) => n.message)).toEqual([
      "`map` expands at run time: `chunk` is read from the files matching `work/chunks/{sample}/{chunk}.fa`, per element of `split` (by `sample`); 3 blocks known now, jobs known after `split` runs",
    ]);
    expect(result.notes.filter((n) => n.topic === "slurm").map((n) => n.message)).toContain(
      "`map` on `hpc`: its arrays are known only at run time; each is submitted once an element of `split` has run and told its values",
    );
    expect(result.notes.filter((n) => n.topic === "slurm").map((n) => n.message)).toContain(
      "`merge` on `hpc`: 1 array of 3 (3 jobs), after `map`, whose arrays are submitted at run time",
    );
  });
});
