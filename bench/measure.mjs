#!/usr/bin/env node
// The cost of measuring each job (issue 16; not a test): bench/run.mjs's
// fan-5000 workload (5,000 `touch` jobs and a gather, 2 at a time) run by
// `wfc run` with resource capture (the default: the pool's workers reap
// with wait4, each journal record carries its usage) and with
// WFC_MEASURE=0 (waitpid, no figures), alternately, each run in a fresh
// directory; the best of each is kept and their ratio printed. Target: under
// 3% apart. See bench/README.md.
//
//   npm run bench:measure                 (builds first)
//   node bench/measure.mjs [options]      (uses the existing dist/)
//
// Options:
//   --repeat=N   runs of each (default 5), alternating, the best kept
//   --n=N        fan width (default 5000)
//   --trace      also write --trace for the measured runs (what a user who asks for it pays)
//   --keep       keep the run directories (printed path)
//   --dir=PATH   where the run directories go (default: the OS temp folder)
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { flag, fmtN, fmtS, option, printLoad, printTable, runsFolder } from "./format.mjs";
import { PARALLEL, verify, writeInputs } from "./run-peers.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist/cli/bin.js");
const repeat = Math.max(1, Number(option("repeat") ?? 5));
const n = Math.max(1, Number(option("n") ?? 5000));
const workload = { key: `fan-${n}`, kind: "fan", n };
const load0 = os.loadavg()[0];
const { out, fsType } = runsFolder("measure");

const variants = [
  { name: "measured (default)", env: {}, trace: flag("trace") },
  { name: "WFC_MEASURE=0", env: { WFC_MEASURE: "0" }, trace: false },
];

/** One run in a fresh directory: its wall time in seconds (Node's start-up included), checked. */
function once(variant, k) {
  const dir = join(out, `${variant.env.WFC_MEASURE === "0" ? "off" : "on"}-${k}`);
  mkdirSync(dir, { recursive: true });
  writeInputs("wfc", workload, dir);
  const args = [cli, "run", "workflow.yaml", "--jobs", String(PARALLEL), ...(variant.trace ? ["--trace", "trace.tsv"] : [])];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: dir, env: { ...process.env, ...variant.env }, encoding: "utf8" });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${variant.name}: wfc run exited ${r.status}: ${r.stderr}`);
  const bad = verify(workload, dir).fail;
  if (bad !== undefined) throw new Error(`${variant.name}: ${bad}`);
  // The capture is what is compared: check that it happened, or did not.
  const journal = readFileSync(join(dir, ".wfc/journal.ndjson"), "utf8");
  const measured = journal.includes('"usage"');
  if (measured !== (variant.env.WFC_MEASURE !== "0")) throw new Error(`${variant.name}: usage ${measured ? "recorded" : "missing"}`);
  if (!flag("keep")) rmSync(dir, { recursive: true, force: true });
  return s;
}

const times = variants.map(() => []);
for (let k = 0; k < repeat; k++) {
  // Alternating, and starting with the other one each round, so that drift in the machine's load hits both alike.
  const order = k % 2 === 0 ? [0, 1] : [1, 0];
  for (const v of order) {
    const s = once(variants[v], k);
    times[v].push(s);
    console.error(`${variants[v].name}, run ${k + 1}/${repeat}: ${fmtS(s)}`);
  }
}
const best = times.map((list) => Math.min(...list));
const median = times.map((list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]);
console.log(
  `\n${workload.key}: ${fmtN(n + 1)} jobs, ${PARALLEL} at a time, best and median of ${repeat} runs each (${fsType} at ${out})\n`,
);
printTable(
  ["wfc run", "best", "median", "per job (best)"],
  variants.map((v, i) => [
    v.name + (v.trace ? " + --trace" : ""),
    fmtS(best[i]),
    fmtS(median[i]),
    `${((best[i] / (n + 1)) * 1e6).toFixed(0)} µs`,
  ]),
  1,
);
const ratio = best[0] / best[1];
console.log(`\nmeasured / not measured: ${ratio.toFixed(3)} (best), ${(median[0] / median[1]).toFixed(3)} (median); target under 1.03`);
printLoad(load0);
if (!flag("keep")) rmSync(out, { recursive: true, force: true });
else console.log(`runs kept in ${out}`);
