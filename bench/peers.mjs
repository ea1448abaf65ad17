// Helpers for bench/compile.mjs: the benchmark shapes written as a wfc
// workflow, a Makefile, a build.ninja and a Snakefile (same jobs, same
// dependencies), and detecting or installing the peer tools (also used by
// bench/run.mjs).
import { execFileSync, spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The shapes. `kind`:
 *   fan   — stage `a` writes a/{i}.txt for i < n; stage `b` reads a/{i}.txt, writes b/{i}.txt
 *   chain — `stages` stages of one element each; stage k reads c/{k-1}.txt, writes c/{k}.txt
 *   grid  — `stages` stages over n elements, one-to-one: stage k reads s{k-1}/{i}.txt, writes s{k}/{i}.txt
 */
export const SHAPES = [
  { key: "fan-20k", label: "2 stages × 20,000", kind: "fan", n: 20_000, stages: 2 },
  { key: "fan-1m", label: "2 stages × 1,000,000", kind: "fan", n: 1_000_000, stages: 2 },
  { key: "fan-10m", label: "2 stages × 10,000,000", kind: "fan", n: 10_000_000, stages: 2 },
  { key: "chain-1000", label: "1,000-stage chain", kind: "chain", n: 1, stages: 1000 },
  { key: "grid-200x10", label: "200 × 10 chain", kind: "grid", n: 200, stages: 10 },
];

/** Jobs a peer schedules (one graph node per stage × element). */
export const jobsOf = (shape) => shape.n * shape.stages;

// ---------------------------------------------------------------- wfc

export function wfcWorkflow(shape) {
  const lines = ["wfc: 1", `name: ${shape.key}`, "stages:"];
  if (shape.kind === "fan") {
    lines.push(
      "  a:",
      `    foreach: { i: { range: [0, ${shape.n}] } }`,
      '    outputs: "a/{i}.txt"',
      '    run: "touch {outputs}"',
      "  b:",
      `    foreach: { i: { range: [0, ${shape.n}] } }`,
      '    inputs: "a/{i}.txt"',
      '    outputs: "b/{i}.txt"',
      '    run: "touch {outputs}"',
    );
  } else if (shape.kind === "chain") {
    for (let k = 0; k < shape.stages; k++) {
      lines.push(`  s${k}:`);
      if (k > 0) lines.push(`    inputs: "c/${k - 1}.txt"`);
      lines.push(`    outputs: "c/${k}.txt"`, '    run: "touch {outputs}"');
    }
  } else {
    for (let k = 0; k < shape.stages; k++) {
      lines.push(`  s${k}:`, `    foreach: { i: { range: [0, ${shape.n}] } }`);
      if (k > 0) lines.push(`    inputs: "s${k - 1}/{i}.txt"`);
      lines.push(`    outputs: "s${k}/{i}.txt"`, '    run: "touch {outputs}"');
    }
  }
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------- make
// The form a user writes: pattern rules for the fan-outs (one rule per
// stage, the element list from `seq`), explicit rules for the chain (each
// stage is its own rule there, as in the wfc file and the Snakefile).

function makefile(shape) {
  const recipe = "\tmkdir -p $(@D) && touch $@";
  const out = [];
  if (shape.kind === "fan") {
    out.push(
      `IDS := $(shell seq 0 ${shape.n - 1})`,
      "all: $(patsubst %,b/%.txt,$(IDS))",
      ".PHONY: all",
      "a/%.txt:",
      recipe,
      "b/%.txt: a/%.txt",
      recipe,
    );
  } else if (shape.kind === "chain") {
    out.push(`all: c/${shape.stages - 1}.txt`, ".PHONY: all");
    for (let k = 0; k < shape.stages; k++) out.push(k === 0 ? "c/0.txt:" : `c/${k}.txt: c/${k - 1}.txt`, recipe);
  } else {
    out.push(`IDS := $(shell seq 0 ${shape.n - 1})`, `all: $(patsubst %,s${shape.stages - 1}/%.txt,$(IDS))`, ".PHONY: all");
    for (let k = 0; k < shape.stages; k++) out.push(k === 0 ? "s0/%.txt:" : `s${k}/%.txt: s${k - 1}/%.txt`, recipe);
  }
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------- ninja
// Ninja has no patterns: one explicit build statement per job (what
// generators such as CMake and Meson emit). No `default`: ninja then builds
// every output no other statement reads, i.e. the last stage.

/** Writes build.ninja into `dir`, streaming (it is ~60 MB at 1,000,000 elements). */
async function writeBuildNinja(shape, dir) {
  const stream = createWriteStream(join(dir, "build.ninja"));
  let buf = "rule touch\n  command = touch $out\n\n";
  const emit = async (s) => {
    buf += s;
    if (buf.length > 1 << 20) {
      if (!stream.write(buf)) await new Promise((r) => stream.once("drain", r));
      buf = "";
    }
  };
  if (shape.kind === "fan") {
    for (let i = 0; i < shape.n; i++) await emit(`build a/${i}.txt: touch\nbuild b/${i}.txt: touch a/${i}.txt\n`);
  } else if (shape.kind === "chain") {
    for (let k = 0; k < shape.stages; k++) await emit(k === 0 ? "build c/0.txt: touch\n" : `build c/${k}.txt: touch c/${k - 1}.txt\n`);
  } else {
    for (let k = 0; k < shape.stages; k++)
      for (let i = 0; i < shape.n; i++)
        await emit(k === 0 ? `build s0/${i}.txt: touch\n` : `build s${k}/${i}.txt: touch s${k - 1}/${i}.txt\n`);
  }
  stream.end(buf);
  await new Promise((resolve, reject) => stream.on("finish", resolve).on("error", reject));
}

// ---------------------------------------------------------------- snakemake
// Rules with wildcards and `expand` in `rule all`; the chain's stages are
// separate rules without wildcards.

function snakefile(shape) {
  const rule = (name, input, output) =>
    [`rule ${name}:`, ...(input ? [`    input: "${input}"`] : []), `    output: "${output}"`, '    shell: "touch {output}"', ""].join("\n");
  const out = [];
  if (shape.kind === "fan") {
    out.push("rule all:", `    input: expand("b/{i}.txt", i=range(${shape.n}))`, "");
    out.push(rule("a", null, "a/{i}.txt"), rule("b", "a/{i}.txt", "b/{i}.txt"));
  } else if (shape.kind === "chain") {
    out.push("rule all:", `    input: "c/${shape.stages - 1}.txt"`, "");
    for (let k = 0; k < shape.stages; k++) out.push(rule(`s${k}`, k === 0 ? null : `c/${k - 1}.txt`, `c/${k}.txt`));
  } else {
    out.push("rule all:", `    input: expand("s${shape.stages - 1}/{i}.txt", i=range(${shape.n}))`, "");
    for (let k = 0; k < shape.stages; k++) out.push(rule(`s${k}`, k === 0 ? null : `s${k - 1}/{i}.txt`, `s${k}/{i}.txt`));
  }
  return out.join("\n");
}

/** Writes the peer's input file(s) for `shape` into `dir` (created). */
export async function writePeerFiles(tool, shape, dir) {
  mkdirSync(dir, { recursive: true });
  if (tool === "make") writeFileSync(join(dir, "Makefile"), makefile(shape));
  else if (tool === "ninja") await writeBuildNinja(shape, dir);
  else writeFileSync(join(dir, "Snakefile"), snakefile(shape));
}

/** Dry-run command lines: none of them executes a job. Output goes to /dev/null. */
export function dryRun(tool, dir) {
  if (tool === "make") return { cmd: "make", args: ["-n", "-f", join(dir, "Makefile")], cwd: dir };
  if (tool === "ninja") return { cmd: "ninja", args: ["-n", "-C", dir], cwd: dir };
  return { cmd: "snakemake", args: ["-n", "--cores", "1", "-s", join(dir, "Snakefile"), "-d", dir, "--quiet"], cwd: dir };
}

// ---------------------------------------------------------------- tools

export const PEERS = ["make", "ninja", "snakemake"];

export const have = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

function version(tool) {
  try {
    const text = execFileSync(tool, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return text.split("\n")[0].trim();
  } catch {
    return "?";
  }
}

/**
 * A tool ensureTools can find and install: `name`, its Debian package `pkg`,
 * and optionally `present()` (default: the command is on PATH) and
 * `version()` (default: the first line of `name --version`).
 */
export const toolSpec = (name, pkg, more = {}) => ({ name, pkg, present: () => have(name), version: () => version(name), ...more });
const PEER_SPECS = [toolSpec("make", "make"), toolSpec("ninja", "ninja-build"), toolSpec("snakemake", "snakemake")];
const TIME = toolSpec("time", "time", { present: () => have("/usr/bin/time") });

/**
 * Finds the tools (by default make, ninja, snakemake) and, unless `time` is
 * false, /usr/bin/time; installs the missing ones with apt-get when running
 * as root (unless `install` is false), otherwise says how. `tools` is a list
 * of toolSpec()s. Returns { tools: Map(name → version), time: boolean }.
 */
export function ensureTools({ install = true, log = console.error, tools = PEER_SPECS, time = true } = {}) {
  const wanted = time ? [...tools, TIME] : tools;
  const missing = () => wanted.filter((t) => !t.present());
  let absent = missing();
  if (absent.length > 0) {
    const pkgs = [...new Set(absent.map((t) => t.pkg))];
    const root = typeof process.getuid === "function" && process.getuid() === 0;
    if (install && root && have("apt-get")) {
      log(`missing: ${absent.map((t) => t.name).join(", ")}; installing with apt-get (this may take a few minutes)`);
      log("  $ apt-get update -qq");
      spawnSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"] });
      log(`  $ apt-get install -y -qq ${pkgs.join(" ")}`);
      spawnSync("apt-get", ["install", "-y", "-qq", ...pkgs], {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
      absent = missing();
    }
    for (const t of absent) {
      log(
        t === TIME
          ? "no /usr/bin/time: measuring wfc's peak RSS in-process instead (install: apt-get install time)"
          : `no \`${t.name}\`: skipping it (install: sudo apt-get install ${t.pkg})`,
      );
    }
  }
  const found = new Map(tools.filter((t) => !absent.includes(t)).map((t) => [t.name, t.version()]));
  return { tools: found, time: time && !absent.includes(TIME) };
}
