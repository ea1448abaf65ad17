// The workload bench/dynamic.mjs runs, written three ways from one
// definition (same shell commands, same jobs, same dependencies), plus the
// checks that a run left exactly the outputs it should:
//   - wfc, dynamic: `split` decides its chunks (`decides: [chunk]`), `map`
//     fans out over them (`chunk: { from: split }`), `merge` gathers them;
//   - wfc, static: the same jobs with every sample's chunk count written into
//     the workflow (a zipped sample/chunk list), so wfc knows them when it
//     compiles;
//   - Snakemake: `checkpoint split` and an input function that asks
//     `checkpoints.split.get(...)` and `glob_wildcards` for the chunks.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Chunks per sample: 1 to MAX_CHUNKS (split's file names are one digit). */
export const MAX_CHUNKS = 5;

/** How many jobs run at once, for every tool (the machine has 2 cores). */
export const PARALLEL = 2;

/** Sample i's name: zero-padded so that names sort as numbers do. */
const sampleName = (i) => `s${String(i).padStart(5, "0")}`;

/**
 * Sample i's chunk count, 1 to MAX_CHUNKS, from a fixed pseudo-random
 * sequence (mulberry32 of i), so every run and every tool sees the same
 * data, and a size-n workload is the first n samples of a larger one.
 */
function chunkCount(i) {
  let t = (i + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return 1 + (((t ^ (t >>> 14)) >>> 0) % MAX_CHUNKS);
}

/**
 * The workload of `n` samples: names, chunk counts, and its job counts
 * (split per sample, map per chunk, merge per sample: the stage-jobs every
 * tool runs).
 */
export function workload(n) {
  const samples = Array.from({ length: n }, (_, i) => ({ name: sampleName(i), chunks: chunkCount(i) }));
  const chunks = samples.reduce((sum, s) => sum + s.chunks, 0);
  return { n, samples, chunks, jobs: n + chunks + n };
}

/** Line k (1-based) of a sample's input: one read per line, one line per chunk. */
const read = (sample, k) => `${sample} read ${k}`;

/**
 * The commands, the same text for every tool (each tool's own placeholders
 * filled in by the writers below). `split` puts each line of the sample's
 * input in its own chunk file, 1.txt to N.txt (coreutils `split`, one
 * process); `map` copies a chunk; `merge` concatenates a sample's chunks in
 * chunk order.
 */
const splitCommand = (input, folder) =>
  `mkdir -p ${folder} && split -l 1 --numeric-suffixes=1 -a 1 --additional-suffix=.txt ${input} ${folder}/`;

// ---------------------------------------------------------------- wfc

const header = (name, w) => [
  "wfc: 1",
  `name: ${name}`,
  `executors: { local: { type: processes, max: ${PARALLEL} } }`,
  "defaults: { executor: local }",
  "params:",
  `  samples: [${w.samples.map((s) => s.name).join(", ")}]`,
];

/**
 * The dynamic workflow: split decides how many chunks each sample has, and
 * nothing in the workflow says how many that is.
 */
export function dynamicWorkflow(w) {
  return (
    [
      ...header("dynamic", w),
      "stages:",
      "  split:",
      '    foreach: { sample: "{params.samples}" }',
      '    inputs: "in/{sample}.txt"',
      '    outputs: "work/chunks/{sample}/{chunk}.txt"',
      "    decides: [chunk]",
      `    run: "${splitCommand("{inputs}", "work/chunks/{sample}")}"`,
      "  map:",
      '    foreach: { sample: "{params.samples}", chunk: { from: split } }',
      '    inputs: "work/chunks/{sample}/{chunk}.txt"',
      '    outputs: "work/mapped/{sample}/{chunk}.txt"',
      '    run: "cat {inputs} > {outputs}"',
      "  merge:",
      '    foreach: { sample: "{params.samples}" }',
      '    inputs: "work/mapped/{sample}/*.txt"',
      '    outputs: "work/merged/{sample}.txt"',
      '    run: "cat {inputs} > {outputs}"',
    ].join("\n") + "\n"
  );
}

/**
 * The static workflow: the same jobs, with the chunks listed in the
 * workflow (`chunk_samples` and `chunk_ids` zipped: one element per chunk).
 * A stage's outputs must name all its foreach variables, so split (one job
 * per sample, as in the dynamic form) declares its chunk folder as its
 * output, and map reads its chunk file inside that folder: the folder is
 * the input that ties map's element to split's, by sample.
 */
export function staticWorkflow(w) {
  const each = w.samples.flatMap((s) => Array.from({ length: s.chunks }, (_, k) => [s.name, k + 1]));
  return (
    [
      ...header("static", w),
      `  chunk_samples: [${each.map(([s]) => s).join(", ")}]`,
      `  chunk_ids: [${each.map(([, k]) => k).join(", ")}]`,
      "stages:",
      "  split:",
      '    foreach: { sample: "{params.samples}" }',
      '    inputs: "in/{sample}.txt"',
      '    outputs: "work/chunks/{sample}"',
      `    run: "${splitCommand("{inputs}", "{outputs}")}"`,
      "  map:",
      '    foreach: { sample: "{params.chunk_samples}", chunk: "{params.chunk_ids}" }',
      "    zip: [sample, chunk]",
      '    inputs: "work/chunks/{sample}"',
      '    outputs: "work/mapped/{sample}/{chunk}.txt"',
      '    run: "cat {inputs}/{chunk}.txt > {outputs}"',
      "  merge:",
      '    foreach: { sample: "{params.samples}" }',
      '    inputs: "work/mapped/{sample}/*.txt"',
      '    outputs: "work/merged/{sample}.txt"',
      '    run: "cat {inputs} > {outputs}"',
    ].join("\n") + "\n"
  );
}

// ---------------------------------------------------------------- snakemake

/**
 * The Snakefile: `checkpoint split` with a directory output (how Snakemake's
 * documentation writes data-dependent fan-out), and merge's input function
 * asks the checkpoint for the folder and `glob_wildcards` for the chunks in
 * it, which makes Snakemake re-evaluate the DAG after each split.
 */
export function snakefile(w) {
  return [
    "import os",
    "",
    `SAMPLES = [${w.samples.map((s) => `"${s.name}"`).join(", ")}]`,
    "",
    'wildcard_constraints:\n    sample="[^/]+",\n    chunk="[0-9]+"',
    "",
    "rule all:",
    '    input: expand("work/merged/{sample}.txt", sample=SAMPLES)',
    "",
    "checkpoint split:",
    '    input: "in/{sample}.txt"',
    '    output: directory("work/chunks/{sample}")',
    `    shell: "${splitCommand("{input}", "{output}")}"`,
    "",
    "rule map:",
    '    input: "work/chunks/{sample}/{chunk}.txt"',
    '    output: "work/mapped/{sample}/{chunk}.txt"',
    '    shell: "cat {input} > {output}"',
    "",
    "def mapped(wildcards):",
    "    folder = checkpoints.split.get(sample=wildcards.sample).output[0]",
    '    chunks = glob_wildcards(os.path.join(folder, "{chunk}.txt")).chunk',
    '    return expand("work/mapped/{sample}/{chunk}.txt", sample=wildcards.sample, chunk=sorted(chunks, key=int))',
    "",
    "rule merge:",
    "    input: mapped",
    '    output: "work/merged/{sample}.txt"',
    '    shell: "cat {input} > {output}"',
    "",
  ].join("\n");
}

// ---------------------------------------------------------------- files

/** The tools' forms of the workload, by key. */
export const FORMS = {
  dynamic: { file: "workflow.yaml", text: dynamicWorkflow },
  static: { file: "workflow.yaml", text: staticWorkflow },
  snakemake: { file: "Snakefile", text: snakefile },
};

/** Writes the input files (in/SAMPLE.txt, one read per chunk) and form `form`'s workflow into `dir` (which exists). */
export function writeInputs(form, w, dir) {
  mkdirSync(join(dir, "in"));
  for (const s of w.samples)
    writeFileSync(join(dir, "in", `${s.name}.txt`), Array.from({ length: s.chunks }, (_, k) => read(s.name, k + 1) + "\n").join(""));
  writeFileSync(join(dir, FORMS[form].file), FORMS[form].text(w));
}

// ---------------------------------------------------------------- checks

/**
 * Checks a finished run in `dir`: every sample has exactly its chunks, its
 * mapped chunks, and a merged file that holds its reads in order, so a run
 * that skipped or duplicated a chunk, or merged in the wrong order, fails.
 * Returns undefined when all is right, else what is wrong (the first few).
 */
export function verify(w, dir) {
  const wrong = [];
  const names = (k) => Array.from({ length: k }, (_, j) => `${j + 1}.txt`).join(",");
  // Hidden files are not chunks (Snakemake leaves a .snakemake_timestamp in a directory output).
  const listing = (folder) =>
    existsSync(folder)
      ? readdirSync(folder)
          .filter((f) => !f.startsWith("."))
          .sort()
          .join(",")
      : "(missing)";
  for (const s of w.samples) {
    if (wrong.length >= 3) break;
    const expected = Array.from({ length: s.chunks }, (_, k) => read(s.name, k + 1) + "\n").join("");
    for (const sub of ["chunks", "mapped"]) {
      const got = listing(join(dir, "work", sub, s.name));
      if (got !== names(s.chunks)) wrong.push(`work/${sub}/${s.name}/ holds ${got}, expected ${names(s.chunks)}`);
    }
    const merged = join(dir, "work/merged", `${s.name}.txt`);
    const text = existsSync(merged) ? readFileSync(merged, "utf8") : undefined;
    if (text !== expected) wrong.push(`work/merged/${s.name}.txt is ${text === undefined ? "missing" : JSON.stringify(text)}`);
  }
  const extra = existsSync(join(dir, "work/merged")) ? readdirSync(join(dir, "work/merged")).length - w.n : -w.n;
  if (wrong.length === 0 && extra !== 0) wrong.push(`work/merged/ holds ${w.n + extra} files, expected ${w.n}`);
  return wrong.length === 0 ? undefined : wrong.join("; ");
}
