// The workload bench/slurm.mjs runs on the cluster, written three ways from
// one definition (same shell commands, same dependencies):
//   - a wfc workflow, exported with `wfc export slurm` (wfc fuses a → b);
//   - one sbatch per job, as Snakemake's SLURM executor plugin and Nextflow's
//     slurm executor submit: a script per job and a submit script that runs
//     `sbatch --parsable` for each, with --dependency=afterok on its upstream
//     job(s);
//   - the same with each element's a and b in one job (Snakemake's `group:`),
//     i.e. one sbatch per wfc job after fusion.
// Plus the outputs a correct run leaves, and reading what a run left.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Per element i: `a` writes a/{i}.txt, `b` reads it and writes b/{i}.txt;
 * then `gather` reads every b/*.txt and writes all.txt, the last output.
 * `run` is a wfc template; the per-job scripts get the same text with
 * {i}, {inputs} and {outputs} filled in.
 */
export const STAGES = [
  { id: "a", outputs: "a/{i}.txt", run: "echo {i} > {outputs}" },
  { id: "b", inputs: "a/{i}.txt", outputs: "b/{i}.txt", run: "sed s/^/b/ {inputs} > {outputs}" },
];
export const GATHER = { id: "gather", inputs: "b/*.txt", outputs: "all.txt", run: "sort b/*.txt > {outputs}" };
export const LAST_OUTPUT = GATHER.outputs;

/** The workload's key in the tables. */
export const pairKey = (n) => `pair-${n}`;

/** The wfc workflow: `foreach` over a `range`, on a `slurm` executor. */
export function pairWorkflow(n, name) {
  const lines = ["wfc: 1", `name: ${name}`, "executors: { cluster: { type: slurm } }", "defaults: { executor: cluster }", "stages:"];
  for (const s of STAGES) {
    lines.push(`  ${s.id}:`, `    foreach: { i: { range: [0, ${n}] } }`);
    if (s.inputs) lines.push(`    inputs: "${s.inputs}"`);
    lines.push(`    outputs: "${s.outputs}"`, `    run: "${s.run}"`);
  }
  lines.push(`  ${GATHER.id}:`, `    inputs: "${GATHER.inputs}"`, `    outputs: "${GATHER.outputs}"`, `    run: "${GATHER.run}"`);
  return lines.join("\n") + "\n";
}

const quote = (s) => `'${s.replaceAll("'", "'\\''")}'`;

/** One stage's step for element i, as wfc's export runs it: make the output's folder, run the command. */
function step(stage, i) {
  const fill = (t) => t.replaceAll("{i}", String(i));
  const outputs = fill(stage.outputs);
  const command = stage.run
    .replaceAll("{inputs}", fill(stage.inputs ?? ""))
    .replaceAll("{outputs}", outputs)
    .replaceAll("{i}", String(i));
  const dir = dirname(outputs);
  return dir === "." ? command : `mkdir -p -- ${dir} || exit\n${command}`;
}

/** A job script: `cd` to the workflow's folder, then each step in its own `sh -c`, stopping at the first failure. */
const jobScript = (dir, steps) => `#!/bin/sh\ncd -- ${quote(dir)} || exit 2\n${steps.map((s) => `sh -c ${quote(s)} || exit`).join("\n")}\n`;

/**
 * Writes the one-sbatch-per-job form of the workload into `dir`: jobs/*.sh
 * and submit.sh, which submits every job with `sbatch --parsable`, each
 * after its upstream job(s) (`--dependency=afterok:ID[:ID...]`), in stage
 * order, and appends each id to jobs.tsv. Jobs are named `name.STAGE`.
 * `grouped`: each element's stages in one job (Snakemake's `group:`).
 * Returns the number of sbatch calls it makes.
 */
export function writePerJob(dir, n, name, { grouped }) {
  mkdirSync(join(dir, "jobs"), { recursive: true });
  mkdirSync(join(dir, "logs"));
  const lines = [];
  const submit = (job, steps, after) => {
    const file = `jobs/${job}.sh`;
    writeFileSync(join(dir, file), jobScript(dir, steps));
    chmodSync(join(dir, file), 0o755);
    const dependency = after.length > 0 ? ` --dependency=afterok:${after.map((v) => `$${v}`).join(":")}` : "";
    return `submit --job-name=${name}.${job.split(".")[0]}${dependency} ${file}`;
  };
  // Bash variable of the job that wrote element i of a stage: the id b/{i}.txt's readers wait for.
  const v = (stage, i) => `${stage}_${i}`;
  const last = grouped ? STAGES.map((s) => s.id).join("") : STAGES.at(-1).id;
  if (grouped) {
    for (let i = 0; i < n; i++)
      lines.push(
        `${v(last, i)}=$(${submit(
          `${last}.${i}`,
          STAGES.map((s) => step(s, i)),
          [],
        )})`,
      );
  } else {
    for (const [k, s] of STAGES.entries())
      for (let i = 0; i < n; i++)
        lines.push(`${v(s.id, i)}=$(${submit(`${s.id}.${i}`, [step(s, i)], k === 0 ? [] : [v(STAGES[k - 1].id, i)])})`);
  }
  const everyLast = Array.from({ length: n }, (_, i) => v(last, i));
  lines.push(`${submit(GATHER.id, [step(GATHER, 0)], everyLast)} > /dev/null`);
  writeFileSync(
    join(dir, "submit.sh"),
    `#!/bin/bash
# One sbatch per job${grouped ? ` (each element's ${STAGES.map((s) => s.id).join(" and ")} in one job)` : ""}, each after its upstream job(s); ids in jobs.tsv.
set -euo pipefail
cd -- "$(dirname -- "$0")"
: > jobs.tsv
# submit SBATCH-ARGS...: prints the new job's id.
submit() {
  local id
  id=$(sbatch --parsable --output=logs/%x_%j.out "$@")
  id=\${id%%;*}
  echo "$id" >> jobs.tsv
  echo "$id"
}
${lines.join("\n")}
`,
  );
  chmodSync(join(dir, "submit.sh"), 0o755);
  return (grouped ? n : n * STAGES.length) + 1;
}

/** What a correct run leaves: path → content. */
export function expectedOutputs(n) {
  const files = new Map();
  for (let i = 0; i < n; i++) {
    files.set(`a/${i}.txt`, `${i}\n`);
    files.set(`b/${i}.txt`, `b${i}\n`);
  }
  files.set(
    LAST_OUTPUT,
    [...files.entries()]
      .filter(([f]) => f.startsWith("b/"))
      .map(([, text]) => text)
      .sort()
      .join(""),
  );
  return files;
}

/** What a run left in `dir`: path → content, for the folders and file the workload writes. */
export function readOutputs(dir) {
  const files = new Map();
  for (const sub of STAGES.map((s) => dirname(s.outputs)))
    if (existsSync(join(dir, sub)))
      for (const f of readdirSync(join(dir, sub))) files.set(`${sub}/${f}`, readFileSync(join(dir, sub, f), "utf8"));
  if (existsSync(join(dir, LAST_OUTPUT))) files.set(LAST_OUTPUT, readFileSync(join(dir, LAST_OUTPUT), "utf8"));
  return files;
}

/** The first difference between two path → content maps, or undefined when they are the same. */
export function firstDifference(got, want) {
  for (const [f, text] of want) {
    if (!got.has(f)) return `${f} is missing`;
    if (got.get(f) !== text) return `${f} holds ${JSON.stringify(got.get(f).slice(0, 40))}, expected ${JSON.stringify(text.slice(0, 40))}`;
  }
  for (const f of got.keys()) if (!want.has(f)) return `unexpected ${f}`;
  return undefined;
}
