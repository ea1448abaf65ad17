#!/usr/bin/env node
// Validation benchmark (not a test): generates large workflows and reports
// how long `wfc validate` takes and its peak memory. Target: each under 1 s.
//
//   npm run bench            (builds first)
//   node bench/validate.mjs  (uses the existing dist/)
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(tmpdir(), `wfc-bench-${process.pid}`);
mkdirSync(out, { recursive: true });

/** 10,000 stages: 100 independent chains of 100, each stage fanned out over 4 samples. */
function manyStages(n = 10_000, chain = 100) {
  const lines = ["wfc: 1", "name: many-stages", "params:", "  samples: [a, b, c, d]", "limits:", "  io: 4", "stages:"];
  for (let i = 0; i < n; i++) {
    const c = Math.floor(i / chain);
    const k = i % chain;
    lines.push(`  s${i}:`);
    lines.push(`    foreach: { sample: "{params.samples}" }`);
    if (k > 0) lines.push(`    inputs: "out/c${c}/k${k - 1}/{sample}.txt"`);
    lines.push(`    outputs: "out/c${c}/k${k}/{sample}.txt"`);
    if (i % 10 === 0) lines.push(`    limit: io`);
    lines.push(k > 0 ? `    run: "step ${k} {inputs} > {outputs}"` : `    run: "seed {sample} > {outputs}"`);
  }
  return lines.join("\n") + "\n";
}

/** 1,000,000 fan-out elements: a 1000 × 1000 cross product, a one-to-one successor and a gather. */
function manyElements() {
  return `wfc: 1
name: many-elements
params:
  n: 1000
stages:
  make:
    foreach: { sample: { range: [0, "{params.n}"] }, chunk: { range: [0, 1000] } }
    outputs: "chunks/{sample}/{chunk}.txt"
    run: "echo {sample} {chunk} > {outputs}"
  search:
    foreach: { sample: { range: [0, "{params.n}"] }, chunk: { range: [0, 1000] } }
    inputs: "chunks/{sample}/{chunk}.txt"
    outputs: "hits/{sample}/{chunk}.tsv"
    run: "wc -c {inputs} > {outputs}"
  merge:
    foreach: { sample: { range: [0, "{params.n}"] } }
    inputs: "hits/{sample}/*.tsv"
    outputs: "merged/{sample}.tsv"
    run: "cat {inputs} > {outputs}"
`;
}

const cases = [
  { name: "10,000 stages (40,000 jobs)", file: "many-stages.yaml", text: manyStages() },
  { name: "1,000,000 fan-out elements", file: "many-elements.yaml", text: manyElements() },
];

const cli = join(root, "dist/cli/bin.js");
const probe = join(root, "bench/validate-probe.mjs");
const rows = [];
for (const c of cases) {
  const path = join(out, c.file);
  writeFileSync(path, c.text);
  const runs = [];
  for (let i = 0; i < 3; i++) {
    runs.push(JSON.parse(execFileSync(process.execPath, [probe, path], { encoding: "utf8" })));
  }
  const best = runs.reduce((a, b) => (a.ms < b.ms ? a : b));
  const t0 = performance.now();
  execFileSync(process.execPath, [cli, "validate", path], { stdio: "ignore" });
  const cliMs = performance.now() - t0;
  rows.push({
    case: c.name,
    size: `${(c.text.length / 1024).toFixed(0)} KiB`,
    validate: best.ms,
    cli: cliMs,
    rss: best.rssMB,
    jobs: best.jobs,
  });
}

const pad = (s, n) => String(s).padEnd(n);
console.log(`wfc validate benchmark (best of 3 in-process; whole CLI once incl. Node start-up)\n`);
console.log(
  pad("workflow", 30),
  pad("file", 10),
  pad("jobs", 10),
  pad("validate", 10),
  pad("CLI total", 10),
  pad("peak RSS", 10),
  "target",
);
for (const r of rows) {
  console.log(
    pad(r.case, 30),
    pad(r.size, 10),
    pad(r.jobs.toLocaleString("en"), 10),
    pad(`${r.validate.toFixed(0)} ms`, 10),
    pad(`${r.cli.toFixed(0)} ms`, 10),
    pad(`${r.rss.toFixed(0)} MB`, 10),
    r.cli < 1000 ? "< 1 s: met" : "< 1 s: MISSED",
  );
}
