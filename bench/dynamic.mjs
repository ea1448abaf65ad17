#!/usr/bin/env node
// Data-dependent fan-out benchmark (not a test): 10,000 samples, each split
// into 1 to 5 chunks that its own input decides, each chunk mapped, the
// chunks merged per sample (~30,000 dynamic jobs). Times `wfc run` on that
// workflow, on the same jobs with the chunk counts written into the workflow
// (static), a re-run with nothing to do, and Snakemake's checkpoint version at
// the sizes it can finish; checks every run's outputs; prints one table of
// wall times and peak RSS with the ratios the issue sets targets for. See
// bench/README.md.
//
//   npm run bench:dynamic                 (builds first)
//   node bench/dynamic.mjs [options]      (uses the existing dist/)
//
// Options:
//   --no-install      never apt-get install Snakemake (or time); skip it
//   --no-peers        wfc only
//   --samples=N       samples of the large workload (default 10000)
//   --repeat=N        runs of dynamic and static at N samples, interleaved, the
//                     best kept (default 1; each takes minutes)
//   --timeout=S       kill a Snakemake run, or a wfc run at Snakemake's sizes,
//                     after S seconds (default 1200); Snakemake stops growing
//                     when its next size extrapolates beyond S/2. wfc's runs at
//                     N samples are killed only after an hour.
//   --keep            keep every run's directory (printed path)
//   --dir=PATH        where the run directories go (default: the OS temp folder)
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PARALLEL, verify, workload, writeInputs } from "./dynamic-workload.mjs";
import { flag, fmtN, fmtRatio, fmtS, option, printLoad, printTable, runsFolder } from "./format.mjs";
import { ensureTools, have, toolSpec } from "./peers.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist/cli/bin.js");
const probe = pathToFileURL(join(root, "bench/rss-probe.mjs")).href;

const samples = Number(option("samples") ?? 10_000);
const repeat = Math.max(1, Number(option("repeat") ?? 1));
// 1200 s: Snakemake reaches 400 samples, the size where checkpoints' cost per job shows (26× at 200, 68× at 400).
const timeoutS = Number(option("timeout") ?? 1200);
if (!Number.isInteger(samples) || samples < 1) {
  console.error("--samples must be a positive integer");
  process.exit(2);
}

/** The issue's targets. */
const WITHIN = 1.15; // dynamic ÷ static, wall time and peak RSS
const FASTER = 50; // Snakemake's checkpoints ÷ wfc dynamic
const NOOP_S = 1; // a re-run with nothing to do, at 10,000 samples
/** Snakemake's first size; each next one doubles while the estimate stays under half the timeout. */
const SNAKEMAKE_START = 25;
/** wfc's runs at full size take minutes on a loaded 2-core machine: they are killed only after this. */
const BIG_TIMEOUT_S = 3600;
/** Small runs (wfc at Snakemake's sizes, the no-op re-run) are repeated: best of 3. */
const REPEAT_BELOW_S = 10;

const log = (...a) => console.error(...a);
const load0 = os.loadavg()[0];
const { out, fsType } = runsFolder("dynamic");

const env = flag("no-peers")
  ? { tools: new Map(), time: have("/usr/bin/time") }
  : ensureTools({ install: !flag("no-install"), tools: [toolSpec("snakemake", "snakemake")] });

// ---------------------------------------------------------------- running

/** The process group of the run in progress, killed on Ctrl-C. */
let current;
process.on("SIGINT", () => {
  if (current) process.kill(-current.pid, "SIGKILL");
  log(`\ninterrupted; run directories are in ${out}`);
  process.exit(130);
});

/**
 * Runs a command once in `cwd`, in its own process group (killed whole after
 * the timeout), stdout and stderr to files there. Wall time is
 * performance.now() around the child; peak RSS from /usr/bin/time (the
 * largest process the command waited for), else, for wfc, from rss-probe.mjs
 * (wfc's own process). Returns { s, kb? } or { fail, killed? }.
 */
function runOnce(cmd, args, cwd, { wfc = false, limitS = timeoutS } = {}) {
  const stdout = join(cwd, "bench.stdout");
  const stderr = join(cwd, "bench.stderr");
  const rssFile = join(cwd, "bench.rss");
  rmSync(rssFile, { force: true });
  let [c, a, extraEnv] = [cmd, args, {}];
  if (env.time) [c, a] = ["/usr/bin/time", ["-f", "%M", "-o", rssFile, cmd, ...args]];
  else if (wfc) [a, extraEnv] = [["--import", probe, ...args], { WFC_BENCH_RSS: rssFile }];
  const fds = [openSync(stdout, "w"), openSync(stderr, "w")];
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(c, a, { cwd, stdio: ["ignore", ...fds], detached: true, env: { ...process.env, ...extraEnv } });
    current = child;
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      process.kill(-child.pid, "SIGKILL");
    }, limitS * 1000);
    const end = (r) => {
      clearTimeout(timer);
      current = undefined;
      fds.forEach(closeSync);
      done(r);
    };
    child.on("error", (e) => end({ fail: e.message }));
    child.on("exit", (code, signal) => {
      const s = (performance.now() - t0) / 1000;
      if (killed) return end({ killed: true, limitS, fail: `killed after ${limitS} s` });
      if (code !== 0) {
        // Why: the first error line of its output (Snakemake prints errors on stdout).
        const text = [stderr, stdout].map((f) => readFileSync(f, "utf8")).join("\n");
        const lines = text.split("\n").filter((l) => l.trim() && !/^Command exited with non-zero status/.test(l));
        const why = lines.find((l) => /error|Error|ERROR|failed/.test(l)) ?? lines.at(-1) ?? "";
        return end({ fail: `${signal ? `signal ${signal}` : `exit ${code}`}: ${why.trim().slice(0, 160)}` });
      }
      const kb = existsSync(rssFile) ? Number(readFileSync(rssFile, "utf8").trim().split("\n").at(-1)) : undefined;
      end({ s, kb });
    });
  });
}

let dirs = 0;
/** A new directory for one run (named after `label`), with the workload's inputs and `form`'s workflow. */
function freshDir(form, w, label = form) {
  const dir = join(out, `${label}-${w.n}-${++dirs}`);
  mkdirSync(dir, { recursive: true });
  writeInputs(form, w, dir);
  return dir;
}

/** The run-end event's summary in a `wfc run --json` output, or undefined. */
function runEnd(dir) {
  const text = readFileSync(join(dir, "bench.stdout"), "utf8").trimEnd();
  try {
    const last = JSON.parse(text.slice(text.lastIndexOf("\n") + 1));
    return last.type === "run-end" ? last.summary : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `wfc run FILE --jobs 2 --json` in `dir` (a new one for `form`, or an
 * existing one for a re-run), checked: the summary must say ok with every
 * job done (or, `noop`, every job up to date), and the outputs must be
 * right. Returns { s, kb, dir } or { fail, dir }.
 */
async function runWfc(form, w, { dir = freshDir(form, w), file = "workflow.yaml", noop = false } = {}) {
  const limitS = w.n === samples ? BIG_TIMEOUT_S : timeoutS;
  const r = await runOnce(process.execPath, [cli, "run", file, "--jobs", String(PARALLEL), "--json"], dir, { wfc: true, limitS });
  if (r.fail) return { ...r, dir };
  const sum = runEnd(dir);
  const [done, skipped] = noop ? [0, w.jobs] : [w.jobs, 0];
  if (!sum) return { fail: "no run-end event in the --json output", dir };
  if (sum.status !== "ok" || sum.done !== done || sum.skipped !== skipped)
    return { fail: `run ended ${sum.status}: ${sum.done} done, ${sum.skipped} up to date; expected ${done} and ${skipped}`, dir };
  const wrong = verify(w, dir);
  return wrong ? { fail: wrong, dir } : { ...r, dir };
}

/** Snakemake on the checkpoint Snakefile, 2 cores, checked as wfc's runs are. */
async function runSnakemake(w) {
  const dir = freshDir("snakemake", w);
  const r = await runOnce("snakemake", ["--cores", String(PARALLEL), "--quiet", "-s", "Snakefile", "-d", dir], dir);
  if (r.fail) return { ...r, dir };
  const wrong = verify(w, dir);
  return wrong ? { fail: wrong, dir } : { ...r, dir };
}

/** `wfc compile` alone: its time and the plan's size (shown, not counted). */
async function compileOnly(form, w) {
  const dir = freshDir(form, w, `${form}-compile`);
  const r = await runOnce(process.execPath, [cli, "compile", "workflow.yaml", "-o", "plan.json"], dir, { wfc: true });
  return r.fail ? { ...r, dir } : { ...r, bytes: statSync(join(dir, "plan.json")).size };
}

/** Repeats `once` until a failure, `n` times, or 3 times when the first run is quick; the best time, the largest RSS. */
async function best(once, n) {
  const runs = [await once()];
  const wanted = n ?? (runs[0].s < REPEAT_BELOW_S ? 3 : 1);
  while (runs.length < wanted && !runs.at(-1).fail) runs.push(await once());
  const failed = runs.find((r) => r.fail);
  if (failed) return failed;
  const kbs = runs.map((r) => r.kb).filter((kb) => kb !== undefined);
  return { s: Math.min(...runs.map((r) => r.s)), kb: kbs.length > 0 ? Math.max(...kbs) : undefined, runs: runs.length, dir: runs[0].dir };
}

// ---------------------------------------------------------------- measuring

const big = workload(samples);
const failures = [];
/** Directories of failed runs, kept for inspection. */
const kept = new Set();
const noteFail = (what, r) => {
  if (r.fail) failures.push(`${what}: ${r.killed ? "" : "FAILED: "}${r.fail}${r.dir && !r.killed ? ` (kept: ${r.dir})` : ""}`);
  if (r.fail && !r.killed && r.dir) kept.add(r.dir);
  return r;
};

log(`${fmtN(samples)} samples, ${fmtN(big.chunks)} chunks, ${fmtN(big.jobs)} stage-jobs; run directories in ${out}`);

// Dynamic and static at full size, interleaved (alternating which goes first) so background load hits both alike.
const bigRuns = { dynamic: [], static: [] };
for (let round = 0; round < repeat; round++) {
  for (const form of round % 2 === 0 ? ["dynamic", "static"] : ["static", "dynamic"]) {
    if (bigRuns[form].some((r) => r.fail)) continue;
    log(`wfc ${form} at ${fmtN(samples)} samples (run ${round + 1} of ${repeat})`);
    bigRuns[form].push(noteFail(`wfc ${form} at ${fmtN(samples)}`, await runWfc(form, big)));
  }
}
const pick = (runs) => {
  const failed = runs.find((r) => r.fail);
  if (failed) return failed;
  const kbs = runs.map((r) => r.kb).filter((kb) => kb !== undefined);
  return { s: Math.min(...runs.map((r) => r.s)), kb: kbs.length > 0 ? Math.max(...kbs) : undefined, dir: runs[0].dir };
};
const dyn = pick(bigRuns.dynamic);
const stat = pick(bigRuns.static);

// A re-run with nothing to do, in the first dynamic run's directory: the workflow (compiled again
// on the way), and its compiled plan (wfc compile first, not counted).
let noop;
let noopPlan;
if (!dyn.fail) {
  log(`wfc dynamic at ${fmtN(samples)}: no-op re-runs`);
  noop = noteFail("no-op re-run", await best(() => runWfc("dynamic", big, { dir: dyn.dir, noop: true })));
  const c = await runOnce(process.execPath, [cli, "compile", "workflow.yaml", "-o", "plan.json"], dyn.dir);
  noopPlan = c.fail
    ? noteFail("compile for the no-op re-run", { ...c, dir: dyn.dir })
    : noteFail("no-op re-run of plan.json", await best(() => runWfc("dynamic", big, { dir: dyn.dir, file: "plan.json", noop: true })));
}

// wfc compile alone (shown beside, not counted): the dynamic plan stays small, the static one lists every chunk.
const compiled = {};
for (const form of ["dynamic", "static"]) {
  log(`wfc compile ${form} at ${fmtN(samples)}`);
  compiled[form] = noteFail(`wfc compile ${form}`, await compileOnly(form, big));
}

// Snakemake from SNAKEMAKE_START samples, doubling while a power law through its last two runs
// (exponent at least 1) says the next size ends within half the timeout; wfc dynamic at each size.
const small = [];
let snakeEstimate;
const snakeNotes = [];
if (env.tools.has("snakemake")) {
  for (let n = Math.min(SNAKEMAKE_START, samples); ; n = Math.min(2 * n, samples)) {
    const w = workload(n);
    log(`Snakemake (checkpoint) at ${fmtN(n)} samples`);
    const snake = noteFail(`Snakemake at ${fmtN(n)}`, await runSnakemake(w));
    if (snake.fail) break;
    log(`wfc dynamic at ${fmtN(n)} samples`);
    const wfc = noteFail(`wfc dynamic at ${fmtN(n)}`, await best(() => runWfc("dynamic", w)));
    small.push({ w, snake, wfc });
    if (n === samples) break;
    const est = extrapolate(small, samples);
    const next = extrapolate(small, Math.min(2 * n, samples));
    if (est) snakeEstimate = est;
    if (next && next.s > timeoutS / 2) {
      snakeNotes.push(
        `Snakemake stopped at ${fmtN(n)} samples: ${fmtN(Math.min(2 * n, samples))} would take about ${fmtLong(next.s)} (above half the ${timeoutS} s timeout)`,
      );
      break;
    }
  }
}

/** A power law through Snakemake's last two runs (time ∝ jobs^e, e ≥ 1), at `n` samples. */
function extrapolate(runs, n) {
  if (runs.length < 2) return undefined;
  const [a, b] = runs.slice(-2);
  const e = Math.max(1, Math.log(b.snake.s / a.snake.s) / Math.log(b.w.jobs / a.w.jobs));
  return { s: b.snake.s * (workload(n).jobs / b.w.jobs) ** e, e, from: [a.w.n, b.w.n] };
}

// ---------------------------------------------------------------- table

/** As format.mjs's fmtS, with minutes or hours beside the seconds from 100 s on (Snakemake's estimates). */
const fmtLong = (s) =>
  s < 100 ? fmtS(s) : s < 3600 ? `${s.toFixed(0)} s (${(s / 60).toFixed(0)} min)` : `${s.toFixed(0)} s (${(s / 3600).toFixed(1)} h)`;
const fmtKB = (kb) => (kb === undefined ? "?" : kb < 1024 * 1024 ? `${(kb / 1024).toFixed(0)} MB` : `${(kb / 1024 / 1024).toFixed(1)} GB`);
const fmtB = (b) => (b < 1024 ? `${b} B` : b < 1024 * 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 / 1024).toFixed(1)} MiB`);
const time = (r) => (!r ? "not run" : r.killed ? `> ${r.limitS} s` : r.fail ? "FAILED" : fmtS(r.s));
const rss = (r) => (!r || r.fail ? "—" : fmtKB(r.kb));
const ok = (r) => r && !r.fail;
const ratioOf = (a, b, key) => (ok(a) && ok(b) && a[key] !== undefined && b[key] !== undefined ? a[key] / b[key] : undefined);
const fmtR = (x) => (x === undefined ? "—" : fmtRatio(x));

const header = ["run", "samples", "jobs", "wall time", "peak RSS", "compared", "time ratio", "RSS ratio"];
const rows = [
  ["wfc, dynamic (decides, from)", fmtN(samples), fmtN(big.jobs), time(dyn), rss(dyn), "", "", ""],
  [
    "wfc, static (chunk list in the workflow)",
    fmtN(samples),
    fmtN(big.jobs),
    time(stat),
    rss(stat),
    "dynamic ÷ static",
    fmtR(ratioOf(dyn, stat, "s")),
    fmtR(ratioOf(dyn, stat, "kb")),
  ],
  ["wfc, dynamic, no-op re-run", fmtN(samples), `0 of ${fmtN(big.jobs)}`, time(noop), rss(noop), "", "", ""],
  ["… of the compiled plan.json", fmtN(samples), `0 of ${fmtN(big.jobs)}`, time(noopPlan), rss(noopPlan), "", "", ""],
];
for (const { w, snake, wfc } of small) {
  rows.push(["Snakemake, checkpoint", fmtN(w.n), fmtN(w.jobs), time(snake), rss(snake), "", "", ""]);
  rows.push([
    "wfc, dynamic",
    fmtN(w.n),
    fmtN(w.jobs),
    time(wfc),
    rss(wfc),
    "Snakemake ÷ wfc",
    fmtR(ratioOf(snake, wfc, "s")),
    fmtR(ratioOf(snake, wfc, "kb")),
  ]);
}
if (snakeEstimate && small.at(-1)?.w.n !== samples) {
  rows.push([
    "Snakemake, checkpoint (extrapolated)",
    fmtN(samples),
    fmtN(big.jobs),
    `≈ ${fmtLong(snakeEstimate.s)}`,
    "—",
    "Snakemake ÷ wfc",
    ok(dyn) ? `≈ ${fmtRatio(snakeEstimate.s / dyn.s)}` : "—",
    "",
  ]);
}

console.log(`\nData-dependent fan-out: wfc run --jobs ${PARALLEL}, dynamic against static and against Snakemake's checkpoints`);
console.log(
  `node ${process.version}; ${[...env.tools].map(([t, v]) => `${t}: ${v}`).join("; ") || "no peers"}; ` +
    `run directories on ${fsType}; peak RSS from ${env.time ? "/usr/bin/time" : "process.resourceUsage() (wfc only)"}\n`,
);
printTable(header, rows, 1);
console.log(
  `\n${fmtN(samples)} samples, ${fmtN(big.chunks)} chunks: jobs = split per sample + map per chunk + merge per sample.` +
    " wall time: the whole `wfc run workflow.yaml --jobs 2 --json` process (compiling included) or `snakemake --cores 2`;" +
    ` best of ${repeat} at ${fmtN(samples)}, best of 3 for runs under ${REPEAT_BELOW_S} s. Every run starts in a new directory and` +
    " its outputs are checked (every sample's chunks, mapped chunks and merged reads, in order); FAILED means a non-zero exit," +
    " a summary that does not count every job, or a wrong output.",
);

const notes = [...failures, ...snakeNotes];
if (ok(compiled.dynamic) && ok(compiled.static))
  notes.push(
    `wfc compile alone (not counted above): dynamic ${fmtS(compiled.dynamic.s)}, a plan of ${fmtB(compiled.dynamic.bytes)}; ` +
      `static ${fmtS(compiled.static.s)}, a plan of ${fmtB(compiled.static.bytes)} (it lists every chunk)`,
  );
if (snakeEstimate)
  notes.push(
    `Snakemake at ${fmtN(samples)} samples: about ${fmtLong(snakeEstimate.s)} by a power law through its runs at ` +
      `${snakeEstimate.from.map(fmtN).join(" and ")} samples (time ∝ jobs^${snakeEstimate.e.toFixed(2)})`,
  );
if (notes.length > 0) console.log("");
for (const n of notes) console.log(`- ${n}`);

// ---------------------------------------------------------------- targets

const verdicts = [];
const [rt, rm] = [ratioOf(dyn, stat, "s"), ratioOf(dyn, stat, "kb")];
if (rt !== undefined)
  verdicts.push([`dynamic within ${WITHIN}× of static, wall time: ${fmtS(dyn.s)} vs ${fmtS(stat.s)} = ${rt.toFixed(3)}×`, rt <= WITHIN]);
if (rm !== undefined)
  verdicts.push([`dynamic within ${WITHIN}× of static, peak RSS: ${fmtKB(dyn.kb)} vs ${fmtKB(stat.kb)} = ${rm.toFixed(3)}×`, rm <= WITHIN]);
const largest = small.findLast((x) => ok(x.snake) && ok(x.wfc));
if (largest) {
  const x = largest.snake.s / largest.wfc.s;
  verdicts.push([
    `more than ${FASTER}× faster than Snakemake's checkpoints at ${fmtN(largest.w.n)} samples (its largest run): ` +
      `${fmtS(largest.snake.s)} vs ${fmtS(largest.wfc.s)} = ${fmtRatio(x)}`,
    x > FASTER,
  ]);
}
if (snakeEstimate && ok(dyn) && small.at(-1)?.w.n !== samples)
  console.log(
    `\nFor scale: Snakemake's estimate at ${fmtN(samples)} samples is ${fmtLong(snakeEstimate.s)}, ` +
      `≈ ${fmtRatio(snakeEstimate.s / dyn.s)} wfc dynamic's ${fmtS(dyn.s)} (the ratio grows with the size: Snakemake's time per job does).`,
  );
if (ok(noop)) verdicts.push([`a no-op re-run at ${fmtN(samples)} samples under ${NOOP_S} s: ${fmtS(noop.s)}`, noop.s < NOOP_S]);
if (verdicts.length > 0) console.log("\nTargets:");
for (const [text, met] of verdicts) console.log(`  ${met ? "met   " : "MISSED"}  ${text}`);
printLoad(load0);

// Run directories go only now (see bench/README.md, bench:run: deleting many
// files between runs slows the next run's file creation on these disks).
if (flag("keep")) log(`\nrun directories kept in ${out}`);
else {
  for (const d of readdirSync(out)) if (!kept.has(join(out, d))) rmSync(join(out, d), { recursive: true, force: true });
  if (kept.size === 0) rmSync(out, { recursive: true, force: true });
  else log(`\nfailed runs kept: ${[...kept].join(", ")}`);
}
process.exitCode = failures.length > 0 ? 1 : 0;
