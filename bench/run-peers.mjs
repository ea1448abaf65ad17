// Helpers for bench/run.mjs: the runtime workloads written as a wfc workflow,
// a build.ninja, a Makefile, a Snakefile and a Ruffus script (same jobs, same
// shell commands, same dependencies), the command line that runs each at
// 2-way parallelism, and the checks that a run produced what it should.
// Tool detection and installation come from peers.mjs.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toolSpec } from "./peers.mjs";

/** How many jobs run at once, for every tool. */
export const PARALLEL = 2;

/**
 * The workloads. `kind`:
 *   fan   — n independent jobs `touch out/{i}.txt`, then one gather `ls out | wc -l > all.txt`
 *   chain — n items × `stages` stages, one-to-one: s0 writes `echo {i} > s0/{i}.txt`,
 *           stage k runs `cp s{k-1}/{i}.txt s{k}/{i}.txt`
 *   limit — n jobs that each sleep `sleep` s and record their start and end
 *           times in their output; `limited` of them (one/{i}.txt) share a
 *           named limit of 1, the others (free/{i}.txt) are unconstrained
 *   fn    — n no-op `fn` tasks on a `threads` executor (wfc only)
 * `probe`: peers first run the workload at n/(2·probe) and n/probe elements;
 * a power law through those two (exponent at least 1) extrapolates to n, and
 * a peer is skipped when that estimate exceeds half the timeout (run.mjs).
 */
export const WORKLOADS = [
  { key: "fan-5000", kind: "fan", n: 5000, probe: 10 },
  { key: "chain-200x10", kind: "chain", n: 200, stages: 10, probe: 10 },
  { key: "limit-60", kind: "limit", n: 60, limited: 30, sleep: 0.05 },
  { key: "fn-100k", kind: "fn", n: 100_000, wfcOnly: true },
];

/**
 * wfc beside itself on the fan workload (bench/run.mjs's shell table): its
 * `touch` jobs are plain words that wfc runs without any shell, so `shell: sh`
 * there changes only the gather; the same fan with a shell string per job
 * (`echo {i} > {outputs}`) pays for each job's shell, strict bash (the
 * default) against `/bin/sh` (dash).
 */
export const WFC_SHELLS = [
  { tool: "wfc-sh", shell: "sh" },
  { tool: "wfc-echo", run: "echo {i} > {outputs}" },
  { tool: "wfc-echo-sh", run: "echo {i} > {outputs}", shell: "sh" },
];

/** Whether `tool` is wfc or one of its shell variants. */
export const isWfc = (tool) => tool === "wfc" || WFC_SHELLS.some((v) => v.tool === tool);

/** Jobs a peer schedules (one graph node per stage × element, the gather included). */
export const jobsOf = (w) => (w.kind === "fan" ? w.n + 1 : w.kind === "chain" ? w.n * w.stages : w.n);

/** The same workload with `n` elements (a probe). */
export const resized = (w, n) => ({ ...w, key: `${w.key.split("-")[0]}-${n}`, n });

/**
 * The limit workload's lower bound on the makespan: the longest of the
 * critical path (one job), the work over the cores, and the limited work
 * over the limit's capacity (1).
 */
export const limitBound = (w) => Math.max(w.sleep, (w.n * w.sleep) / PARALLEL, w.limited * w.sleep);

/**
 * The limit workload's job: it says `s OUT` and `e OUT` around its sleep
 * into the run's stamp pipe (`w.fifo`), where one reader (STAMP_READER) takes
 * the time of each line as it arrives, and creates its output. `echo` is a
 * shell builtin, so the stamps cost no process start: a `date` before and
 * after the sleep cost two, which alone put the best possible schedule 8-10%
 * above the bound.
 */
export const stamped = (w, out) => `echo s ${out} >> ${w.fifo}; : > ${out}; sleep ${w.sleep}; echo e ${out} >> ${w.fifo}`;

/** In a limit run's directory: the pipe jobs write their stamps to, and the reader's timed copy. */
export const STAMP_FIFO = "stamps.fifo";
export const STAMPS = "stamps.txt";

/**
 * The stamp reader (python3 -c): opens the pipe read-write (so it never sees
 * end-of-file and writers never block), says "ready", then writes each line
 * it reads, prefixed with the time it was read, to the stamps file.
 */
export const STAMP_READER = `
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
out = open(sys.argv[2], "w", buffering=1)
print("ready", flush=True)
while True:
    chunk = os.read(fd, 65536)
    t = "%.6f" % time.time()
    for line in chunk.decode().splitlines():
        if line:
            out.write(t + " " + line + "\\n")
`;

/** Workload `w` as run in `dir`: the limit workload's jobs stamp into the pipe there. */
export function inDir(w, dir) {
  if (w.kind !== "limit") return w;
  const fifo = join(dir, STAMP_FIFO);
  // The path goes into five tools' command syntaxes unquoted.
  if (!/^[\w./-]+$/.test(fifo)) throw new Error(`bench: run directory path ${fifo} needs quoting; use --dir with a plain path`);
  return { ...w, fifo };
}

// ---------------------------------------------------------------- wfc
// `foreach` over a `range` and path templates, on a processes executor of
// PARALLEL workers (the built-in one has CPUs − 1, i.e. 1 on a 2-core machine).

/** `variant`: one of WFC_SHELLS (its `run` replaces the fan's `touch`, its `shell` goes under `defaults`), or none. */
export function wfcWorkflow(w, variant = {}) {
  const lines = ["wfc: 1", `name: ${w.key}`];
  const each = (n, from = 0) => `    foreach: { i: { range: [${from}, ${n}] } }`;
  if (w.kind === "fn") {
    lines.push(`executors: { pool: { type: threads, max: ${PARALLEL} } }`, "stages:", "  noop:", each(w.n));
    lines.push("    executor: pool", '    fn: "lib.mjs#noop"');
    return lines.join("\n") + "\n";
  }
  const shell = variant.shell ? `, shell: ${variant.shell}` : "";
  lines.push(`executors: { local: { type: processes, max: ${PARALLEL} } }`, `defaults: { executor: local${shell} }`);
  if (w.kind === "limit") lines.push("limits: { one: 1 }");
  lines.push("stages:");
  if (w.kind === "fan") {
    lines.push("  touch:", each(w.n), '    outputs: "out/{i}.txt"', `    run: "${variant.run ?? "touch {outputs}"}"`);
    lines.push("  gather:", '    inputs: "out/*.txt"', '    outputs: "all.txt"', '    run: "ls out | wc -l > {outputs}"');
  } else if (w.kind === "chain") {
    lines.push("  s0:", each(w.n), '    outputs: "s0/{i}.txt"', '    run: "echo {i} > {outputs}"');
    for (let k = 1; k < w.stages; k++)
      lines.push(
        `  s${k}:`,
        each(w.n),
        `    inputs: "s${k - 1}/{i}.txt"`,
        `    outputs: "s${k}/{i}.txt"`,
        '    run: "cp {inputs} {outputs}"',
      );
  } else {
    lines.push("  one:", each(w.limited), '    outputs: "one/{i}.txt"', "    limit: one", `    run: "${stamped(w, "{outputs}")}"`);
    lines.push("  free:", each(w.n - w.limited), '    outputs: "free/{i}.txt"', `    run: "${stamped(w, "{outputs}")}"`);
  }
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------- ninja
// One build statement per job, as generators emit; ninja creates output
// directories itself and builds every output nothing else reads.

function buildNinja(w) {
  const out = [];
  if (w.kind === "fan") {
    out.push("rule touch", "  command = touch $out", "rule gather", "  command = ls out | wc -l > $out");
    const all = Array.from({ length: w.n }, (_, i) => `out/${i}.txt`);
    for (const f of all) out.push(`build ${f}: touch`);
    out.push(`build all.txt: gather ${all.join(" ")}`);
  } else if (w.kind === "chain") {
    out.push("rule first", "  command = echo $i > $out", "rule cp", "  command = cp $in $out");
    for (let k = 0; k < w.stages; k++)
      for (let i = 0; i < w.n; i++)
        out.push(k === 0 ? `build s0/${i}.txt: first\n  i = ${i}` : `build s${k}/${i}.txt: cp s${k - 1}/${i}.txt`);
  } else {
    out.push("pool one", "  depth = 1", "rule one", `  command = ${stamped(w, "$out")}`, "  pool = one");
    out.push("rule free", `  command = ${stamped(w, "$out")}`);
    for (let i = 0; i < w.limited; i++) out.push(`build one/${i}.txt: one`);
    for (let i = 0; i < w.n - w.limited; i++) out.push(`build free/${i}.txt: free`);
  }
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------- make
// Pattern rules with the element list from `seq`; output directories as
// order-only prerequisites (one `mkdir` per directory, not per job), and
// `.SECONDARY:` so make keeps the chain's intermediate files. make has
// no limits: the limited recipe takes a lock with flock(1), so a limited job
// waiting for the lock holds one of make's job slots meanwhile.

function makefile(w) {
  const list = (dir, n) => `$(patsubst %,${dir}/%.txt,$(shell seq 0 ${n - 1}))`;
  const out = [];
  if (w.kind === "fan") {
    out.push(`all.txt: ${list("out", w.n)}`, "\tls out | wc -l > $@", "out/%.txt: | out", "\ttouch $@", "out:", "\tmkdir -p $@");
  } else if (w.kind === "chain") {
    const dirs = Array.from({ length: w.stages }, (_, k) => `s${k}`);
    out.push(`all: ${list(`s${w.stages - 1}`, w.n)}`, ".PHONY: all", ".SECONDARY:", "s0/%.txt: | s0", "\techo $* > $@");
    for (let k = 1; k < w.stages; k++) out.push(`s${k}/%.txt: s${k - 1}/%.txt | s${k}`, "\tcp $< $@");
    out.push(`${dirs.join(" ")}:`, "\tmkdir -p $@");
  } else {
    out.push(`all: ${list("one", w.limited)} ${list("free", w.n - w.limited)}`, ".PHONY: all");
    out.push("one/%.txt: | one", `\tflock one.lock sh -c '${stamped(w, "$@")}'`);
    out.push("free/%.txt: | free", `\t${stamped(w, "$@")}`, "one free:", "\tmkdir -p $@");
  }
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------- snakemake
// Rules with wildcards and expand() in `rule all`; the limit is a resource
// the limited rule takes 1 of, given on the command line (--resources one=1).

function snakefile(w) {
  const rule = (name, { input, output, shell, resources }) =>
    [
      `rule ${name}:`,
      ...(input ? [`    input: ${input}`] : []),
      `    output: "${output}"`,
      ...(resources ? [`    resources: ${resources}`] : []),
      `    shell: "${shell}"`,
      "",
    ].join("\n");
  const expand = (dir, n) => `expand("${dir}/{i}.txt", i=range(${n}))`;
  const out = [];
  if (w.kind === "fan") {
    out.push("rule all:", '    input: "all.txt"', "");
    out.push(rule("touch", { output: "out/{i}.txt", shell: "touch {output}" }));
    out.push(rule("gather", { input: expand("out", w.n), output: "all.txt", shell: "ls out | wc -l > {output}" }));
  } else if (w.kind === "chain") {
    out.push("rule all:", `    input: ${expand(`s${w.stages - 1}`, w.n)}`, "");
    out.push(rule("s0", { output: "s0/{i}.txt", shell: "echo {wildcards.i} > {output}" }));
    for (let k = 1; k < w.stages; k++)
      out.push(rule(`s${k}`, { input: `"s${k - 1}/{i}.txt"`, output: `s${k}/{i}.txt`, shell: "cp {input} {output}" }));
  } else {
    out.push("rule all:", `    input: ${expand("one", w.limited)}, ${expand("free", w.n - w.limited)}`, "");
    out.push(rule("one", { output: "one/{i}.txt", resources: "one=1", shell: stamped(w, "{output}") }));
    out.push(rule("free", { output: "free/{i}.txt", shell: stamped(w, "{output}") }));
  }
  return out.join("\n");
}

// ---------------------------------------------------------------- ruffus
// Decorated task functions that run the same shell commands through
// subprocess, pipeline_run(multiprocess=PARALLEL); the limit is
// @jobs_limit(1, "one"). Output directories are made up front.

function ruffusScript(w) {
  const out = ["import os, subprocess", "from ruffus import *", "", "def sh(cmd):", "    subprocess.check_call(cmd, shell=True)", ""];
  const files = (dir, n) => `["${dir}/%d.txt" % i for i in range(${n})]`;
  if (w.kind === "fan") {
    out.push('os.makedirs("out", exist_ok=True)', "");
    out.push(`@originate(${files("out", w.n)})`, "def touch(output):", '    sh("touch " + output)', "");
    out.push('@merge(touch, "all.txt")', "def gather(inputs, output):", '    sh("ls out | wc -l > " + output)', "");
  } else if (w.kind === "chain") {
    out.push(`for k in range(${w.stages}):`, '    os.makedirs("s%d" % k, exist_ok=True)', "");
    out.push(`@originate(${files("s0", w.n)})`, "def s0(output):", '    sh("echo %s > %s" % (os.path.basename(output)[:-4], output))', "");
    for (let k = 1; k < w.stages; k++)
      out.push(
        `@transform(s${k - 1}, formatter(), "s${k}/{basename[0]}{ext[0]}")`,
        `def s${k}(input, output):`,
        '    sh("cp %s %s" % (input, output))',
        "",
      );
  } else {
    const job = stamped(w, "{o}");
    out.push('os.makedirs("one", exist_ok=True)', 'os.makedirs("free", exist_ok=True)', "");
    out.push(
      '@jobs_limit(1, "one")',
      `@originate(${files("one", w.limited)})`,
      "def one(output):",
      `    sh("${job}".replace("{o}", output))`,
      "",
    );
    out.push(`@originate(${files("free", w.n - w.limited)})`, "def free(output):", `    sh("${job}".replace("{o}", output))`, "");
  }
  out.push(`pipeline_run(multiprocess=${PARALLEL}, verbose=0)`);
  return out.join("\n") + "\n";
}

/**
 * A python3 that imports ruffus: the one on PATH, else Debian's (the package
 * installs into /usr/lib/python3/dist-packages, which a pyenv or venv python
 * on PATH does not see). Undefined when none does.
 */
let ruffusPy;
function ruffusPython() {
  if (ruffusPy === undefined)
    ruffusPy =
      ["python3", "/usr/bin/python3"].find((py) => spawnSync(py, ["-c", "import ruffus"], { stdio: "ignore" }).status === 0) ?? null;
  return ruffusPy ?? undefined;
}

// ---------------------------------------------------------------- tools

export const RUN_PEERS = ["ninja", "make", "snakemake", "ruffus"];

/** toolSpec()s for ensureTools: the peers, Ruffus (found through python3), and flock for make's limit. */
export const RUN_TOOLS = [
  toolSpec("ninja", "ninja-build"),
  toolSpec("make", "make"),
  toolSpec("snakemake", "snakemake"),
  toolSpec("ruffus", "python3-ruffus", {
    present: () => {
      ruffusPy = undefined; // look again after an install
      return ruffusPython() !== undefined;
    },
    version: () =>
      execFileSync(
        ruffusPython(),
        ["-c", "import ruffus, sys; print('ruffus', ruffus.__version__, '(python %d.%d)' % sys.version_info[:2])"],
        {
          encoding: "utf8",
        },
      ).trim(),
  }),
  toolSpec("flock", "util-linux"),
];

/** Writes `tool`'s input files for workload `w` into `dir` (which exists). */
export function writeInputs(tool, workload, dir) {
  const w = inDir(workload, dir);
  if (isWfc(tool)) {
    writeFileSync(
      join(dir, "workflow.yaml"),
      wfcWorkflow(
        w,
        WFC_SHELLS.find((v) => v.tool === tool),
      ),
    );
    if (w.kind === "fn") writeFileSync(join(dir, "lib.mjs"), "export function noop() {}\n");
  } else if (tool === "ninja") writeFileSync(join(dir, "build.ninja"), buildNinja(w));
  else if (tool === "make") writeFileSync(join(dir, "Makefile"), makefile(w));
  else if (tool === "snakemake") writeFileSync(join(dir, "Snakefile"), snakefile(w));
  else writeFileSync(join(dir, "pipeline.py"), ruffusScript(w));
}

/** The command that runs workload `w` in `dir` with `tool`, PARALLEL jobs at a time (wfc: see run.mjs). */
export function peerCommand(tool, w, dir) {
  if (tool === "ninja") return { cmd: "ninja", args: ["-C", dir, `-j${PARALLEL}`, "--quiet"] };
  if (tool === "make") return { cmd: "make", args: ["-C", dir, `-j${PARALLEL}`] };
  if (tool === "snakemake") {
    const res = w.kind === "limit" ? ["--resources", "one=1"] : [];
    return { cmd: "snakemake", args: ["--cores", String(PARALLEL), ...res, "-s", join(dir, "Snakefile"), "-d", dir, "--quiet"] };
  }
  return { cmd: ruffusPython(), args: [join(dir, "pipeline.py")] };
}

// ---------------------------------------------------------------- checks

const files = (dir) => (existsSync(dir) ? readdirSync(dir) : []);
const text = (path) => (existsSync(path) ? readFileSync(path, "utf8").trim() : undefined);

/** Every job's [start, end] in seconds, from the stamps its run's reader took; `limited` marks one/. */
export function intervals(w, dir) {
  const stamps = new Map();
  for (const line of (text(join(dir, STAMPS)) ?? "").split("\n")) {
    const m = /^(\S+) ([se]) (?:.*\/)?((?:one|free)\/\d+\.txt)$/.exec(line);
    if (m) stamps.set(`${m[2]} ${m[3]}`, Number(m[1]));
  }
  const spans = [];
  for (const [sub, n, limited] of [
    ["one", w.limited, true],
    ["free", w.n - w.limited, false],
  ]) {
    for (let i = 0; i < n; i++) {
      const file = `${sub}/${i}.txt`;
      const [start, end] = ["s", "e"].map((k) => stamps.get(`${k} ${file}`));
      const ok = existsSync(join(dir, file)) && Number.isFinite(start) && Number.isFinite(end);
      spans.push({ file, start, end, limited, ok });
    }
  }
  return spans;
}

/**
 * Checks a finished run of workload `w` in `dir` (not fn, which run.mjs
 * checks from wfc's events): undefined when every expected output is there
 * (and, for the limit, the limit and the parallelism were respected), else
 * what is wrong. Returns { fail } or { makespan } (limit).
 */
export function verify(w, dir) {
  if (w.kind === "fan") {
    const n = files(join(dir, "out")).filter((f) => /^\d+\.txt$/.test(f)).length;
    if (n !== w.n) return { fail: `${n} of ${w.n} files in out/` };
    const all = text(join(dir, "all.txt"));
    if (all !== String(w.n)) return { fail: `all.txt is ${all === undefined ? "missing" : JSON.stringify(all)}, expected ${w.n}` };
    return {};
  }
  if (w.kind === "chain") {
    for (let k = 0; k < w.stages; k++) {
      const n = files(join(dir, `s${k}`)).length;
      if (n !== w.n) return { fail: `${n} of ${w.n} files in s${k}/` };
    }
    for (let i = 0; i < w.n; i++) {
      const got = text(join(dir, `s${w.stages - 1}`, `${i}.txt`));
      if (got !== String(i)) return { fail: `s${w.stages - 1}/${i}.txt holds ${JSON.stringify(got)}, expected "${i}"` };
    }
    return {};
  }
  const spans = intervals(w, dir);
  const bad = spans.find((s) => !s.ok);
  if (bad) return { fail: `${bad.file} is missing or lacks its two stamps in ${STAMPS}` };
  const one = spans.filter((s) => s.limited).sort((a, b) => a.start - b.start);
  for (let i = 1; i < one.length; i++)
    if (one[i].start < one[i - 1].end) return { fail: `limit violated: ${one[i - 1].file} and ${one[i].file} overlapped` };
  const edges = spans.flatMap((s) => [
    [s.start, 1],
    [s.end, -1],
  ]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // an end before a start at the same instant
  let now = 0;
  for (const [, d] of edges) if ((now += d) > PARALLEL) return { fail: `more than ${PARALLEL} jobs ran at once` };
  return { makespan: Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start)) };
}
