#!/usr/bin/env node
// Compile benchmark (not a test): generates workflows of a few shapes, times
// `wfc compile` on each, and times the dry runs of make, ninja and snakemake
// on the same shapes (same jobs, same dependencies). Prints one table with
// wfc's time as a ratio of each peer's. See bench/README.md.
//
//   npm run bench:compile                 (builds first)
//   node bench/compile.mjs [options]      (uses the existing dist/)
//
// Options:
//   --no-install      never apt-get install a missing peer; skip it
//   --no-peers        time wfc only
//   --shapes=a,b      only these shapes (keys: fan-20k fan-1m fan-10m chain-1000 grid-200x10)
//   --timeout=S       kill a peer run after S seconds (default 150)
//   --keep            keep the generated files (printed path)
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { flag, fmtN, fmtRatio, fmtS as fmtShort, option, printLoad, printTable } from "./format.mjs";
import { PEERS, SHAPES, dryRun, ensureTools, jobsOf, wfcWorkflow, writePeerFiles } from "./peers.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist/cli/bin.js");
const probe = join(root, "bench/compile-probe.mjs");

const timeoutS = Number(option("timeout") ?? 150);
const only = option("shapes")?.split(",");
const shapes = only ? SHAPES.filter((s) => only.includes(s.key)) : SHAPES;

/** A peer is skipped on a shape when a linear extrapolation from a smaller measured shape exceeds these. */
const SKIP_ABOVE_S = 60;
const SKIP_ABOVE_KB = 8 * 1024 * 1024;
/** Runs under this many seconds are repeated: best of 3. */
const REPEAT_BELOW_S = 5;

const log = (...a) => console.error(...a);
const load0 = os.loadavg()[0];
const out = join(tmpdir(), `wfc-bench-compile-${process.pid}`);
mkdirSync(out, { recursive: true });

const env = flag("no-peers")
  ? { tools: new Map(), time: spawnSync("test", ["-x", "/usr/bin/time"]).status === 0 }
  : ensureTools({ install: !flag("no-install") });
const peers = PEERS.filter((t) => env.tools.has(t));

/**
 * Runs a command once: wall time with performance.now() around the child,
 * peak RSS via /usr/bin/time when available. stdout goes to /dev/null.
 */
function runOnce({ cmd, args, cwd }) {
  const rssFile = join(out, "rss.txt");
  const [c, a] = env.time ? ["/usr/bin/time", ["-f", "%M", "-o", rssFile, cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const r = spawnSync(c, a, { cwd, stdio: ["ignore", "ignore", "pipe"], timeout: timeoutS * 1000, maxBuffer: 64 << 20 });
  const s = (performance.now() - t0) / 1000;
  if (r.error?.code === "ETIMEDOUT" || r.signal) return { fail: `killed after ${timeoutS} s` };
  if (r.status !== 0) {
    // Why: stderr, else stdout (where Snakemake prints its errors), from a second run that keeps it.
    let text = String(r.stderr)
      .replace(/^Command exited with non-zero status.*$/m, "")
      .trim();
    if (!text) {
      const again = spawnSync(cmd, args, {
        cwd,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: timeoutS * 1000,
        maxBuffer: 64 << 20,
      });
      text = `${again.stderr ?? ""}\n${again.stdout ?? ""}`.trim();
    }
    const err = text.split("\n");
    // The first error line, with the next one when it only names the error (Snakemake's "WorkflowError:").
    const i = err.findIndex((l) => /Error|error:/.test(l));
    const why = i < 0 ? (err.at(-1) ?? "") : /:\s*$/.test(err[i]) && err[i + 1] ? `${err[i].trim()} ${err[i + 1].trim()}` : err[i].trim();
    return { fail: `exit ${r.status}: ${why.slice(0, 120)}` };
  }
  const kb = env.time ? Number(readFileSync(rssFile, "utf8").trim().split("\n").at(-1)) : undefined;
  return { s, kb };
}

/** Best of 3 for fast runs, one run for slow ones; peak RSS is the largest seen. */
function measure(command) {
  const first = runOnce(command);
  if (first.fail || first.s >= REPEAT_BELOW_S) return { ...first, runs: 1 };
  const all = [first, runOnce(command), runOnce(command)];
  const failed = all.find((r) => r.fail);
  if (failed) return { ...failed, runs: 3 };
  return { s: Math.min(...all.map((r) => r.s)), kb: env.time ? Math.max(...all.map((r) => r.kb)) : undefined, runs: 3 };
}

/** The largest measured run of `tool` on a smaller shape of the same kind, for extrapolation. */
const measured = new Map(); // `${tool}:${kind}` → { jobs, s, kb }
function estimate(tool, shape) {
  const prev = measured.get(`${tool}:${shape.kind}`);
  if (!prev) return undefined;
  const f = jobsOf(shape) / prev.jobs;
  return { s: prev.s * f, kb: prev.kb === undefined ? undefined : prev.kb * f, from: prev.jobs };
}

/** As format.mjs's fmtS, with minutes or hours beside the seconds from 100 s on. */
const fmtS = (s) =>
  s < 100 ? fmtShort(s) : s < 3600 ? `${s.toFixed(0)} s (${(s / 60).toFixed(0)} min)` : `${s.toFixed(0)} s (${(s / 3600).toFixed(1)} h)`;
const fmtKB = (kb) => (kb === undefined ? "?" : kb < 1024 * 1024 ? `${(kb / 1024).toFixed(0)} MB` : `${(kb / 1024 / 1024).toFixed(1)} GB`);
const fmtB = (b) => (b < 1024 ? `${b} B` : b < 1024 * 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 / 1024).toFixed(1)} MiB`);

// The fixed cost: compiling a one-job workflow.
let floor;
{
  const dir = join(out, "floor");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "workflow.yaml"), 'wfc: 1\nstages:\n  a:\n    outputs: "a.txt"\n    run: "touch {outputs}"\n');
  floor = measure({ cmd: process.execPath, args: [cli, "compile", join(dir, "workflow.yaml"), "-o", join(dir, "plan.json")], cwd: dir });
  if (floor.fail) floor = undefined;
}

const rows = [];
const notes = [];
for (const shape of shapes) {
  const dir = join(out, shape.key);
  mkdirSync(dir, { recursive: true });
  const workflow = join(dir, "workflow.yaml");
  const plan = join(dir, "plan.json");
  writeFileSync(workflow, wfcWorkflow(shape));
  log(`${shape.label}: wfc compile`);

  const wfc = measure({ cmd: process.execPath, args: [cli, "compile", workflow, "-o", plan], cwd: dir });
  if (wfc.fail) throw new Error(`wfc compile failed on ${shape.label}: ${wfc.fail}`);
  if (!env.time) {
    const p = JSON.parse(spawnSync(process.execPath, [probe, workflow, plan], { encoding: "utf8" }).stdout);
    wfc.kb = p.rssKB;
  }
  const bytes = statSync(plan).size;
  // Same jobs as the peers: every stage × element appears in exactly one task of the plan.
  const tasks = JSON.parse(readFileSync(plan, "utf8")).tasks;
  const planned = tasks.reduce((n, t) => n + t.stages.length * t.space.size, 0);
  const planJobs = tasks.reduce((n, t) => n + t.jobs, 0);
  if (planned !== jobsOf(shape)) throw new Error(`${shape.label}: the plan covers ${planned} stage-elements, expected ${jobsOf(shape)}`);
  if (planJobs !== jobsOf(shape))
    notes.push(
      `${shape.label}: wfc plans ${fmtN(jobsOf(shape))} stage-jobs as ${fmtN(planJobs)} job${planJobs === 1 ? "" : "s"} in ${tasks.length} task${tasks.length === 1 ? "" : "s"} (fusion)`,
    );

  const row = { shape, wfc, bytes, peers: {} };
  for (const tool of peers) {
    const est = estimate(tool, shape);
    if (est && (est.s > SKIP_ABOVE_S || (est.kb ?? 0) > SKIP_ABOVE_KB)) {
      row.peers[tool] = { skip: true };
      notes.push(
        `${tool} on ${shape.label}: skipped; a linear extrapolation from ${fmtN(est.from)} jobs gives ≥ ${fmtS(est.s)}` +
          (est.kb === undefined ? "" : ` and ≥ ${fmtKB(est.kb)}`) +
          ` (limit: ${SKIP_ABOVE_S} s, ${fmtKB(SKIP_ABOVE_KB)})`,
      );
      continue;
    }
    const pdir = join(dir, tool);
    log(`${shape.label}: ${tool} -n (generating its input)`);
    await writePeerFiles(tool, shape, pdir);
    log(`${shape.label}: ${tool} -n (timing${est ? `, about ${fmtS(est.s)} expected` : ""})`);
    const r = measure(dryRun(tool, pdir));
    row.peers[tool] = r;
    if (r.fail) notes.push(`${tool} on ${shape.label}: failed: ${r.fail}`);
    else measured.set(`${tool}:${shape.kind}`, { jobs: jobsOf(shape), s: r.s, kb: r.kb });
    rmSync(pdir, { recursive: true, force: true }); // build.ninja is ~60 MB at 1,000,000 elements
  }
  rows.push(row);
}

// ---------------------------------------------------------------- table

const cell = (r) => (!r ? "n/a" : r.skip ? "skipped" : r.fail ? "failed" : `${fmtS(r.s)}${r.kb === undefined ? "" : ` / ${fmtKB(r.kb)}`}`);
/** wfc's time over the peer's, to two significant digits. */
const ratio = (w, r) => {
  if (!r || r.skip || r.fail) return "—";
  return fmtRatio(w.s / r.s);
};
const header = ["shape", "jobs", "wfc time", "wfc peak RSS", "plan size", ...PEERS.map((t) => `${t} -n`), ...PEERS.map((t) => `wfc/${t}`)];
const table = rows.map((r) => [
  r.shape.label,
  fmtN(jobsOf(r.shape)),
  fmtS(r.wfc.s),
  fmtKB(r.wfc.kb),
  fmtB(r.bytes),
  ...PEERS.map((t) => (env.tools.has(t) ? cell(r.peers[t]) : "n/a")),
  ...PEERS.map((t) => ratio(r.wfc, r.peers[t])),
]);

console.log(`\nwfc compile vs. dry runs of make, ninja and snakemake (wall time, best of 3 below ${REPEAT_BELOW_S} s, else 1 run)`);
console.log(`node ${process.version}; ${[...env.tools].map(([t, v]) => `${t}: ${v}`).join("; ") || "no peers"}\n`);
printTable(header, table, 2);
console.log(
  `\njobs: stage × element jobs, one graph node each for the peers. wfc time: the whole \`wfc compile -o plan.json\` process,` +
    ` Node start-up included. Peer cells: time / peak RSS. wfc/peer: wfc's time as a fraction of the peer's (0.12× = 12%).`,
);
console.log(
  "Inputs: Makefile with one pattern rule per stage and the element list from $(shell seq) (explicit rules for the chain);" +
    " build.ninja with one build statement per job (rule `touch`); Snakefile with wildcard rules and expand() in rule all.",
);
for (const n of notes) console.log(`- ${n}`);

// ---------------------------------------------------------------- targets

const by = (key) => rows.find((r) => r.shape.key === key);
const verdicts = [];
const r20 = by("fan-20k");
const make20 = r20?.peers.make;
if (r20 && make20 && !make20.skip && !make20.fail)
  verdicts.push([`2 stages × 20,000 faster than make -n: ${fmtS(r20.wfc.s)} vs ${fmtS(make20.s)}`, r20.wfc.s < make20.s]);
const r1m = by("fan-1m");
if (r1m) {
  verdicts.push([`2 stages × 1,000,000 in about a second (≤ 1.2 s): ${fmtS(r1m.wfc.s)}`, r1m.wfc.s <= 1.2]);
  if (r1m.wfc.kb !== undefined) verdicts.push([`… peak RSS under 300 MB: ${fmtKB(r1m.wfc.kb)}`, r1m.wfc.kb < 300 * 1024]);
  verdicts.push([`… a plan of kilobytes (< 100 KiB): ${fmtB(r1m.bytes)}`, r1m.bytes < 100 * 1024]);
}
const attention = [];
for (const r of rows) {
  if (r.bytes >= 1024 * 1024) attention.push(`${r.shape.label}: a plan of ${fmtB(r.bytes)} for ${fmtN(jobsOf(r.shape))} jobs`);
  const slower = PEERS.filter((t) => r.peers[t] && !r.peers[t].skip && !r.peers[t].fail && r.wfc.s > r.peers[t].s);
  if (slower.length > 0)
    attention.push(
      `${r.shape.label}: wfc (${fmtS(r.wfc.s)}) is slower than ${slower.map((t) => `${t} -n (${fmtS(r.peers[t].s)})`).join(", ")}`,
    );
}
if (floor)
  attention.push(
    `for scale: \`wfc compile\` of a one-job workflow takes ${fmtS(floor.s)} (Node start-up, module loading, schema compilation)`,
  );
console.log("\nTargets:");
for (const [text, ok] of verdicts) console.log(`  ${ok ? "met   " : "MISSED"}  ${text}`);
if (attention.length > 0) console.log("\nWorth a look (not targets):");
for (const text of attention) console.log(`  - ${text}`);
printLoad(load0);

if (flag("keep")) log(`\ngenerated files kept in ${out}`);
else rmSync(out, { recursive: true, force: true });
