import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ProcessPool, SpawnRunner, type JobRunner, type WorkerProgram } from "../../../runtime/executors/index.js";

type Make = (size: number, killGraceMs?: number) => JobRunner;

/** What ProcessPool legs run: the interpreter detect() picks for python (given explicitly, so the leg never falls back to perl). */
const python = ProcessPool.detect()?.kind === "python" ? ProcessPool.detect() : null;

/**
 * The runner legs of the contract tests: ProcessPool with each worker
 * program, and SpawnRunner; `missing` says why a leg cannot run here (null: it can).
 */
const LEGS: readonly { readonly name: string; readonly program?: WorkerProgram; readonly missing: string | null; readonly make: Make }[] = [
  {
    name: "ProcessPool (python)",
    ...(python ? { program: python } : {}),
    missing: python ? null : "no python3 on PATH",
    make: (size, killGraceMs = 300) => new ProcessPool({ size, killGraceMs, ...(python ? { worker: python } : {}) }),
  },
  {
    name: "ProcessPool (perl)",
    program: { kind: "perl", interpreter: "perl" },
    missing: hasPerl() ? null : "no perl on PATH that runs `perl -e 'exit 0'`",
    make: (size, killGraceMs = 300) => new ProcessPool({ size, killGraceMs, worker: { kind: "perl", interpreter: "perl" } }),
  },
  { name: "SpawnRunner", missing: null, make: (size, killGraceMs = 300) => new SpawnRunner({ size, killGraceMs }) },
];

/** Every runner behind the JobRunner interface that can run on this machine. */
export const RUNNERS: readonly { readonly name: string; readonly program?: WorkerProgram; readonly make: Make }[] = LEGS.filter(
  (leg) => leg.missing === null,
);

/** The legs this machine cannot run, each with why: on CI, a failure (see runners.test.ts). */
export const SKIPPED_LEGS: readonly string[] = LEGS.filter((leg) => leg.missing !== null).map((leg) => `${leg.name}: ${leg.missing}`);

/** Whether we run on CI: `CI` set to anything but "", "0" or "false" (as test/slurm/cluster.ts reads it). */
export function onCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && !["", "0", "false"].includes(ci.toLowerCase());
}

function hasPerl(): boolean {
  try {
    execFileSync("perl", ["-e", "exit 0"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A fresh directory (real path, so `pwd -P` compares equal), removed by the returned cleanup. */
export function tempDir(prefix = "wfc-exec-"): { dir: string; cleanup: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Processes of the group that are still running (zombies have exited; init reaps them when it likes). */
export function liveGroupMembers(pgid: number): number[] {
  const out = execFileSync("ps", ["-A", "-o", "pid=,pgid=,stat="], { encoding: "utf8" });
  return out
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, group, stat]) => pid !== undefined && Number(group) === pgid && stat !== undefined && !stat.startsWith("Z"))
    .map(([pid]) => Number(pid));
}

/** Whether a process is running (not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).trim();
    return stat !== "" && !stat.startsWith("Z");
  } catch {
    return false; // ps exits 1 when there is no such process
  }
}

/**
 * Waits until `path` exists and contains `text`, polling. This orders the
 * test after something a job did; it asserts nothing about time (the cap only
 * turns a broken job into a failure instead of a hung test).
 */
export async function waitForText(path: string, text: string, capMs = 20_000): Promise<void> {
  const giveUp = Date.now() + capMs;
  while (!(existsSync(path) && readFileSync(path, "utf8").includes(text))) {
    if (Date.now() > giveUp) throw new Error(`${path} never contained ${JSON.stringify(text)}`);
    await sleep(10);
  }
}

/** POSIX shell single quoting, as the compiler does for template values. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The largest number of [start, end) intervals that overlap at one instant. */
export function maxOverlap(intervals: readonly { readonly startedAt: number; readonly endedAt: number }[]): number {
  // Ends sort before starts at the same instant: a job that ends when another starts does not overlap it.
  const events = intervals.flatMap((r) => [
    [r.startedAt, 1],
    [r.endedAt, -1],
  ]) as [number, number][];
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, delta] of events) max = Math.max(max, (now += delta));
  return max;
}
