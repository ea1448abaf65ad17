// Helpers shared by bench/run.mjs, bench/slurm.mjs and bench/compile.mjs:
// number formats, the markdown table, the load-average footer, and reading
// the command line.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Seconds: milliseconds under 1 s, two decimals under 100 s, whole seconds above. */
export const fmtS = (s) => (s < 1 ? `${(s * 1000).toFixed(0)} ms` : s < 100 ? `${s.toFixed(2)} s` : `${s.toFixed(0)} s`);

/** A count, rounded, with thousands separators: 100,000. */
export const fmtN = (n) => Math.round(n).toLocaleString("en");

/** A ratio to two significant digits (whole above 10): 0.12×, 1.5×, 23×. */
export const fmtRatio = (x) => `${x < 10 ? x.toPrecision(2) : x.toFixed(0)}×`;

/**
 * Prints a markdown table: every column as wide as its widest cell, the first
 * `left` columns left-aligned, the rest right-aligned.
 */
export function printTable(header, rows, left) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => "| " + cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  console.log(line(header));
  console.log("|" + widths.map((wd, i) => (i < left ? ":" + "-".repeat(wd + 1) : "-".repeat(wd + 1) + ":")).join("|") + "|");
  for (const row of rows) console.log(line(row));
}

/** Prints the closing line: the 1-minute load average at the start (`load0`) and now, and the CPUs. */
export function printLoad(load0) {
  console.log(
    `\nload average (1 min) at start ${load0.toFixed(1)}, at end ${os.loadavg()[0].toFixed(1)}, on ${os.availableParallelism()} CPUs`,
  );
}

const argv = process.argv.slice(2);

/** Whether `--name` is on the command line. */
export const flag = (name) => argv.includes(`--${name}`);

/** The value of `--name=VALUE` on the command line, or undefined. */
export const option = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

/**
 * A new folder for a benchmark's run directories, under `--dir` (default:
 * the OS temp folder), and the file system it is on (ext2/ext3 is how stat
 * names ext4 too), for the figures' context.
 */
export function runsFolder(name) {
  const out = join(resolve(option("dir") ?? tmpdir()), `wfc-bench-${name}-${process.pid}`);
  mkdirSync(out, { recursive: true });
  let fsType = "unknown";
  try {
    fsType = execFileSync("stat", ["-f", "-c", "%T", out], { encoding: "utf8" }).trim();
  } catch {
    // No stat -f: the figures just do not say.
  }
  return { out, fsType };
}
