#!/usr/bin/env node
// SLURM benchmark (not a test): how many sbatch calls `wfc export slurm`
// makes against one sbatch per job (what Snakemake's SLURM executor plugin
// and Nextflow's slurm executor submit), and, on the local test cluster,
// the wall time from submission to the last output of a 200-element
// workflow submitted both ways. Prints one table. See bench/README.md.
//
//   npm run bench:slurm                   (builds first)
//   node bench/slurm.mjs [options]        (uses the existing dist/)
//
// Options:
//   --no-cluster      count sbatch calls only; submit nothing
//   --elements=N      elements of the workload run on the cluster (default 200)
//   --repeat=N        runs of each submission form on the cluster, the best kept (default: 3,
//                     fewer when another round would take the runs past 4 minutes)
//   --timeout=S       cancel a run's jobs after S seconds (default 300)
//   --keep            keep the generated files and exports (printed path)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { flag, fmtN, fmtS, option, printLoad, printTable } from "./format.mjs";
import { WORKLOADS, wfcWorkflow } from "./run-peers.mjs";
import { START_HINT, cancelJobs, clusterStatus, finalStates, queue } from "./slurm-cluster.mjs";
import { LAST_OUTPUT, expectedOutputs, firstDifference, pairKey, pairWorkflow, readOutputs, writePerJob } from "./slurm-workload.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist/cli/bin.js");

const elements = Number(option("elements") ?? 200);
const repeat = Math.max(1, Number(option("repeat") ?? 3));
/** Without --repeat, a round starts only if the rounds so far plus one more as long as the slowest fit in this. */
const ROUNDS_BUDGET_S = option("repeat") === undefined ? 240 : Infinity;
const timeoutS = Number(option("timeout") ?? 300);
if (!Number.isInteger(elements) || elements < 1 || !Number.isInteger(repeat) || !(timeoutS > 0)) {
  console.error("--elements and --repeat take a positive integer, --timeout a positive number of seconds");
  process.exit(2);
}

/** SLURM's default MaxArraySize, used for the counts when there is no cluster to ask. */
const SLURM_DEFAULT_MAX_ARRAY_SIZE = 1001;
/** How often the last output is looked for, and the queue asked while jobs run. */
const FILE_POLL_MS = 20;
const QUEUE_POLL_MS = 500;

const log = (...a) => console.error(...a);
const load0 = os.loadavg()[0];
const out = mkdtempSync(join(tmpdir(), "wfc-bench-slurm-"));
/** Every job this process submits is named `wfcbench-PID-…`: how it finds (and cancels) its own. */
const jobPrefix = `wfcbench-${process.pid}-`;

const fmtX = (x) => `${x < 1 ? x.toPrecision(2) : x < 10 ? x.toFixed(2) : x.toFixed(0)}×`;

/** The submit script running now (its process group is killed on Ctrl-C), and whether jobs may be queued. */
let current;
let submitted = false;
process.on("SIGINT", () => {
  if (current) process.kill(-current.pid, "SIGKILL");
  if (submitted) log(`\ninterrupted; cancelled ${cancelJobs(jobPrefix)} queued job(s)`);
  log(`files are in ${out}`);
  process.exit(130);
});

/** `wfc ARGS` in `cwd`, timed (Node start-up included): { s, stdout } or { fail }. */
function wfc(args, cwd) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) return { fail: `wfc ${args[0]} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split("\n")[0]}` };
  return { s, stdout: r.stdout };
}

// ---------------------------------------------------------------- the cluster

const cluster = flag("no-cluster") ? { ok: false, reason: "--no-cluster" } : clusterStatus();
const maxArrayConf = cluster.ok ? Number(cluster.config.get("MaxArraySize")) : undefined;
// Without a cluster `wfc export` would ask scontrol (seconds of retries) before using 1001: pass it.
const maxArrayArgs = cluster.ok ? [] : ["--max-array-size", String(SLURM_DEFAULT_MAX_ARRAY_SIZE)];

// ---------------------------------------------------------------- part 1: sbatch calls

/**
 * The export of one workflow: compiled (for the job counts), exported, and
 * its submit.sh run with --dry-run, which prints each sbatch call it would
 * make. Returns { stageJobs, wfcJobs, calls, arrays: [{ name, size }],
 * maxArraySize, exportS } or { fail }.
 */
function exportShape(key, workflow) {
  const dir = join(out, "shapes", key);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "workflow.yaml"), workflow);
  const c = wfc(["compile", "workflow.yaml", "-o", "plan.json"], dir);
  if (c.fail) return c;
  const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8"));
  // One job per stage × element (before fusion): what a per-job executor submits.
  const jobs = plan.tasks.reduce((n, t) => n + t.stages.length * t.space.size, 0);
  const wfcJobs = plan.tasks.reduce((n, t) => n + t.jobs, 0);
  const e = wfc(["export", "slurm", "plan.json", "-o", "export", ...maxArrayArgs], dir);
  if (e.fail) return e;
  const dry = spawnSync("bash", [join(dir, "export", "submit.sh"), "--dry-run"], { encoding: "utf8" });
  if (dry.status !== 0) return { fail: `submit.sh --dry-run exited ${dry.status}: ${dry.stderr.trim().split("\n")[0]}` };
  const calls = dry.stderr.split("\n").filter((l) => l.startsWith("sbatch "));
  const arrays = calls.map((l) => {
    const script = l.split(" ").at(-1); // arrays/NAME.sh
    const range = /^#SBATCH --array=0-(\d+)/m.exec(readFileSync(join(dir, "export", script), "utf8"));
    return { name: script.slice("arrays/".length, -".sh".length), size: range ? Number(range[1]) + 1 : NaN };
  });
  const said = /(\d+) sbatch calls? \(MaxArraySize (\d+)\)/.exec(e.stdout);
  if (!said || Number(said[1]) !== calls.length)
    return {
      fail: `wfc export said ${said ? `${said[1]} sbatch calls` : JSON.stringify(e.stdout.split("\n")[0])}, submit.sh --dry-run makes ${calls.length}`,
    };
  return { stageJobs: jobs, wfcJobs, calls: calls.length, arrays, maxArraySize: Number(said[2]), exportS: e.s };
}

/** Array sizes as `4 × 1001 + 996 + 1`: runs of equal sizes collapsed. */
function sizes(arrays) {
  const runs = [];
  for (const { size } of arrays) {
    if (runs.at(-1)?.size === size) runs.at(-1).count++;
    else runs.push({ size, count: 1 });
  }
  return runs.map((r) => (r.count > 1 ? `${r.count} × ${r.size}` : String(r.size))).join(" + ");
}

const shapeDefs = [
  ...["fan-5000", "chain-200x10"].map((key) => {
    const w = WORKLOADS.find((x) => x.key === key);
    return { key, workflow: wfcWorkflow(w) };
  }),
  { key: pairKey(elements), workflow: pairWorkflow(elements, "pair") },
];
const shapes = new Map();
for (const { key, workflow } of shapeDefs) {
  log(`${key}: wfc compile, wfc export slurm, submit.sh --dry-run`);
  shapes.set(key, exportShape(key, workflow));
}

// ---------------------------------------------------------------- part 2: on the cluster

/** The three submission forms of the cluster workload. */
const FORMS = [
  { key: "wfc", label: "wfc export (job arrays)" },
  { key: "per-job", label: "one sbatch per job" },
  { key: "grouped", label: "one sbatch per job, stages grouped" },
];
const runs = new Map(FORMS.map((f) => [f.key, []]));
let runCount = 0;

/** The last output is there and written (the gather's shell creates it before `sort` writes). */
function lastOutputReady(dir) {
  const f = join(dir, LAST_OUTPUT);
  return existsSync(f) && statSync(f).size > 0;
}

/**
 * One run of one submission form in a fresh folder: prepares it (wfc: the
 * export, timed apart), then times `bash submit.sh` from its start to the
 * last output appearing, and on to the moment none of the run's jobs is
 * left in the queue; then checks the jobs' final states and the outputs.
 * Returns { calls, jobs, submitS, lastS, drainS, othersMax, exportS?, outputs } or { fail }.
 */
async function runForm(form) {
  const name = `${jobPrefix}${++runCount}`;
  const prefix = `${name}.`;
  const dir = join(out, "cluster", `${form.key}-${runCount}`);
  mkdirSync(dir, { recursive: true });
  let script;
  let exportS;
  let calls;
  if (form.key === "wfc") {
    writeFileSync(join(dir, "workflow.yaml"), pairWorkflow(elements, name));
    const e = wfc(["export", "slurm", "workflow.yaml", "-o", "export"], dir);
    if (e.fail) return e;
    exportS = e.s;
    script = join(dir, "export", "submit.sh");
  } else {
    calls = writePerJob(dir, elements, name, { grouped: form.key === "grouped" });
    script = join(dir, "submit.sh");
  }

  const t0 = performance.now();
  const since = () => (performance.now() - t0) / 1000;
  const child = spawn("bash", [script], { cwd: dir, detached: true, stdio: ["ignore", "ignore", "pipe"] });
  current = child;
  submitted = true;
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  let submitS;
  let exit;
  child.on("error", (error) => (exit = error.message));
  child.on("exit", (code, signal) => {
    submitS = since();
    exit = code === 0 ? 0 : `exit ${code ?? signal}`;
    current = undefined;
  });

  let lastS;
  let drainS;
  let othersMax = 0;
  let fail;
  let queueAt = 0;
  while (drainS === undefined && fail === undefined) {
    if (lastS === undefined && lastOutputReady(dir)) lastS = since();
    if (exit !== undefined && exit !== 0) fail = `submit script: ${exit}: ${stderr.trim().split("\n").at(-1) ?? ""}`;
    else if (since() > timeoutS) fail = `no ${LAST_OUTPUT} after ${timeoutS} s (timeout)`;
    else if (performance.now() >= queueAt) {
      // Whether every job was submitted before asking: the answer may come after the script ends.
      const allSubmitted = exit === 0;
      const q = await queue(prefix).catch(() => undefined);
      if (q) {
        othersMax = Math.max(othersMax, q.others);
        // Every job submitted and none left: the run is over, with or without its last output.
        if (allSubmitted && q.ours === 0) {
          if (lastS === undefined && lastOutputReady(dir)) lastS = since();
          drainS = since();
          if (lastS === undefined) fail = `every job left the queue, and ${LAST_OUTPUT} was never written`;
        }
      }
      queueAt = performance.now() + (lastS === undefined ? QUEUE_POLL_MS : 100);
    }
    if (drainS === undefined && fail === undefined) await sleep(FILE_POLL_MS);
  }
  if (current) process.kill(-current.pid, "SIGKILL");
  const cancelled = fail ? cancelJobs(prefix) : 0;
  const states = finalStates(prefix);
  const jobs = [...states.values()].reduce((a, b) => a + b, 0);
  const notDone = [...states].filter(([s]) => s !== "COMPLETED");
  if (!fail && notDone.length > 0) fail = `jobs ended ${notDone.map(([s, k]) => `${s} ×${k}`).join(", ")}`;
  if (fail) return { fail: `${fail}${cancelled ? `; cancelled ${cancelled} job id(s)` : ""} (files kept: ${dir})`, dir };
  if (calls === undefined)
    calls =
      readFileSync(join(dir, "export", "jobs.tsv"), "utf8")
        .trim()
        .split("\n").length - 1;
  else if (readFileSync(join(dir, "jobs.tsv"), "utf8").trim().split("\n").length !== calls)
    return { fail: `jobs.tsv does not list ${calls} ids`, dir };
  const outputs = readOutputs(dir);
  if (!flag("keep")) rmSync(dir, { recursive: true, force: true });
  return { calls, jobs, submitS, lastS, drainS, othersMax, exportS, outputs };
}

let skipped;
const compared = [];
/** Rounds of runs on the cluster actually made. */
let rounds = 0;
if (!cluster.ok) {
  skipped = `skipped the runs on a cluster: ${cluster.reason}; ${START_HINT}`;
} else {
  const before = await queue(jobPrefix);
  if (before.others > 0)
    log(`note: ${before.others} other queue entr${before.others === 1 ? "y" : "ies"} (not this benchmark's) on the cluster`);
  // Rounds interleave the forms, each round starting with the next one, so background load hits them alike.
  const t0 = performance.now();
  let slowest = 0;
  for (let round = 1; round <= repeat; round++) {
    const elapsed = (performance.now() - t0) / 1000;
    if (round > 1 && elapsed + slowest > ROUNDS_BUDGET_S) {
      rounds = round - 1;
      log(`stopping after ${rounds} round(s): another would take the runs past ${ROUNDS_BUDGET_S} s`);
      break;
    }
    rounds = round;
    const roundStart = performance.now();
    for (const form of FORMS.map((_, k) => FORMS[(k + round - 1) % FORMS.length])) {
      if (runs.get(form.key).some((r) => r.fail)) continue;
      log(`${pairKey(elements)}: ${form.label} (run ${round} of ${repeat})`);
      const r = await runForm(form);
      runs.get(form.key).push(r);
      if (r.fail) log(`  FAILED: ${r.fail}`);
      else log(`  ${r.calls} sbatch calls, ${r.jobs} jobs: last output after ${fmtS(r.lastS)}, queue empty after ${fmtS(r.drainS)}`);
    }
    slowest = Math.max(slowest, (performance.now() - roundStart) / 1000);
  }
  // Sanity: every run left exactly the expected files, identical across forms.
  const want = expectedOutputs(elements);
  const reference = runs.get("wfc").find((r) => !r.fail);
  for (const [key, rs] of runs)
    for (const [i, r] of rs.entries()) {
      if (r.fail) continue;
      const diff = firstDifference(r.outputs, want) ?? (reference ? firstDifference(r.outputs, reference.outputs) : undefined);
      compared.push({ key, run: i + 1, files: r.outputs.size, diff });
    }
  for (const r of [...runs.values()].flat()) delete r.outputs;
}

// ---------------------------------------------------------------- table

const best = (key) => {
  const rs = runs.get(key);
  if (rs.length === 0) return undefined;
  return rs.find((r) => r.fail) ?? rs.reduce((a, b) => (b.lastS < a.lastS ? b : a));
};
const header = [
  "workload",
  "submitted as",
  "sbatch calls",
  "SLURM jobs",
  "job arrays",
  "submit",
  "last output",
  "jobs/s",
  "wfc/this calls",
  "wfc/this time",
];
const rows = [];
const notes = [];
for (const { key } of shapeDefs) {
  const s = shapes.get(key);
  if (s.fail) {
    rows.push([key, FORMS[0].label, "FAILED", ...Array(header.length - 3).fill("")]);
    notes.push(`${key}: ${s.fail}`);
    continue;
  }
  const onCluster = key === pairKey(elements) && cluster.ok;
  const wfcRun = onCluster ? best("wfc") : undefined;
  const counted = { wfc: s.calls, "per-job": s.stageJobs, grouped: s.wfcJobs };
  const jobs = { wfc: s.wfcJobs, "per-job": s.stageJobs, grouped: s.wfcJobs };
  // Grouping changes nothing where wfc fuses nothing.
  for (const form of FORMS.filter((f) => f.key !== "grouped" || s.wfcJobs < s.stageJobs)) {
    const r = onCluster ? best(form.key) : undefined;
    const ok = r && !r.fail;
    const time = (pick) => (!onCluster ? "not run" : ok ? pick(r) : r ? "FAILED" : "—");
    const timeRatio = form.key === "wfc" ? "" : ok && wfcRun && !wfcRun.fail ? fmtX(wfcRun.lastS / r.lastS) : onCluster ? "—" : "";
    rows.push([
      form.key === "wfc" ? key : "",
      form.label,
      fmtN(ok ? r.calls : counted[form.key]),
      fmtN(ok ? r.jobs : jobs[form.key]),
      form.key === "wfc" ? sizes(s.arrays) : "—",
      time((x) => fmtS(x.submitS)),
      time((x) => fmtS(x.lastS)),
      time((x) => (x.jobs / x.lastS).toFixed(1)),
      form.key === "wfc" ? "" : fmtX(s.calls / counted[form.key]),
      timeRatio,
    ]);
    if (ok && (r.calls !== counted[form.key] || r.jobs !== jobs[form.key]))
      notes.push(
        `${key}, ${form.label}: ${r.calls} sbatch calls and ${r.jobs} SLURM jobs on the cluster, ${counted[form.key]} and ${jobs[form.key]} counted from the plan`,
      );
  }
  const byTask = new Map();
  for (const a of s.arrays) {
    const task = a.name.slice(0, a.name.lastIndexOf("."));
    byTask.set(task, [...(byTask.get(task) ?? []), a]);
  }
  for (const [task, arrays] of byTask)
    if (arrays.length > 1)
      notes.push(
        `${key}: \`${task}\`'s ${fmtN(arrays.reduce((n, a) => n + a.size, 0))} jobs go in ${arrays.length} arrays (MaxArraySize ${s.maxArraySize}): ${sizes(arrays)}`,
      );
  if (s.wfcJobs < s.stageJobs)
    notes.push(
      `${key}: wfc fuses one-to-one stages, so its plan runs the ${fmtN(s.stageJobs)} stage × element jobs as ${fmtN(s.wfcJobs)} SLURM jobs`,
    );
  notes.push(`${key}: \`wfc export slurm\` took ${fmtS(s.exportS)} (Node start-up included)`);
}

const maxArray = cluster.ok
  ? `MaxArraySize ${maxArrayConf} (the cluster's)`
  : `MaxArraySize ${SLURM_DEFAULT_MAX_ARRAY_SIZE} (SLURM's default)`;
const bestOf = cluster.ok ? `; ${pairKey(elements)} run on the cluster, best of ${rounds} by time to the last output` : "";
console.log(`\nwfc export slurm vs. one sbatch per job; ${maxArray}${bestOf}`);
console.log(
  cluster.ok
    ? `${cluster.version}, cluster wfc, node ${cluster.node} advertising ${cluster.cpus} CPUs (this machine has ${os.availableParallelism()}),` +
        ` SchedulerParameters=${cluster.config.get("SchedulerParameters")}; node ${process.version}\n`
    : `node ${process.version}; no cluster\n`,
);
printTable(header, rows, 2);
console.log(
  "\nsbatch calls: wfc's from its export (`submit.sh --dry-run`, or jobs.tsv after a real submission); one per job: the plan's stage × element jobs," +
    " what Snakemake's SLURM executor plugin and Nextflow's slurm executor submit (grouped: one per wfc job after fusion, as Snakemake's `group:` would)." +
    " Neither tool is installed here: their pattern is simulated with plain `sbatch --parsable` per job, every job submitted up front with" +
    " --dependency=afterok on its upstream job(s), which flatters them (they submit a job only once a status poll has seen its inputs finish)." +
    " submit: the submit script's run; last output: submit script start to the gather's all.txt; jobs/s: SLURM jobs / last output." +
    " wfc/this: wfc's figure as a fraction of this row's (0.5× = half). The grouped form runs the same SLURM jobs as wfc's export, one sbatch" +
    " each: wfc against grouped is what the arrays change, grouped against one per job what the fusion changes.",
);

const labelOf = (key) => FORMS.find((f) => f.key === key).label;
if (cluster.ok && rounds < repeat)
  notes.push(`${rounds} round(s) of runs on the cluster, not ${repeat}: another would have taken them past ${ROUNDS_BUDGET_S} s`);
for (const [key, rs] of runs)
  if (rs.length > 1 && rs.every((r) => !r.fail))
    notes.push(
      `${pairKey(elements)}, ${labelOf(key)}: every run, to the last output ${rs.map((r) => fmtS(r.lastS)).join(", ")};` +
        ` to an empty queue ${rs.map((r) => fmtS(r.drainS)).join(", ")}`,
    );
for (const [key, rs] of runs) for (const r of rs) if (r.fail) notes.push(`${pairKey(elements)}, ${labelOf(key)}: FAILED: ${r.fail}`);
const wfcExports = runs.get("wfc").filter((r) => !r.fail);
if (wfcExports.length > 0)
  notes.push(
    `${pairKey(elements)}: wfc's export before each submission took ${wfcExports.map((r) => fmtS(r.exportS)).join(", ")} (not counted)`,
  );
const others = Math.max(0, ...[...runs.values()].flat().map((r) => r.othersMax ?? 0));
if (others > 0)
  notes.push(
    `other jobs shared the cluster during the runs (up to ${others} queue entries not this benchmark's): the times include that contention`,
  );
console.log("");
for (const n of notes) console.log(`- ${n}`);

if (skipped) console.log(`\n${skipped}`);
else {
  const bad = compared.filter((c) => c.diff);
  const files = compared[0]?.files ?? 0;
  console.log(
    compared.length === 0
      ? "\noutputs: not checked, no run finished"
      : bad.length === 0
        ? `\noutputs: ok, identical in all ${compared.length} runs (${fmtN(files)} files each, as expected)`
        : `\noutputs: MISMATCH: ${bad.map((c) => `${c.key} run ${c.run}: ${c.diff}`).join("; ")}`,
  );
}
printLoad(load0);

const failed = [...runs.values()].flat().some((r) => r.fail);
if (flag("keep") || failed) log(`\nfiles kept in ${out}`);
else rmSync(out, { recursive: true, force: true });
