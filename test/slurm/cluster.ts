/**
 * Helpers for tests that run real jobs on a SLURM cluster: the single-node cluster
 * that `.ci/slurm/up.sh` (`sudo npm run slurm:up`) starts on this machine.
 *
 * Without a cluster the tests are skipped with the reason in the suite's name,
 * except on CI (env `CI` set), where .ci/slurm/up.sh must have run and a missing
 * cluster is a failure.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { execa } from "execa";
import { describe, test } from "vitest";

export type SlurmStatus = { readonly ok: true; readonly node: string } | { readonly ok: false; readonly reason: string };

/** The ClusterName .ci/slurm/up.sh writes; the tests submit jobs to no other cluster. */
export const TEST_CLUSTER = "wfc";

const START_HINT = "`sudo npm run slurm:up` (.ci/slurm/up.sh) installs and starts one";

/** Node states in which the node runs jobs (sinfo's %T, in lower case). */
const USABLE_NODE = /^(idle|mixed|allocated|completing)$/;

/** Whether we run on CI: `CI` set to anything but "", "0" or "false". */
export function onCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && !["", "0", "false"].includes(ci.toLowerCase());
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir || ".", command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

interface Answer {
  /** Exited 0 within the timeout. */
  readonly ok: boolean;
  readonly stdout: string;
  /** Why not ok, for a skip reason. */
  readonly detail: string;
}

/** Runs a SLURM client command synchronously (at test collection), killed after `timeoutMs`. */
function query(command: string, args: string[], timeoutMs: number): Answer {
  const r = spawnSync(command, args, { encoding: "utf8", timeout: timeoutMs });
  const stdout = r.stdout ?? "";
  const said = (r.stderr ?? "").trim().split("\n").at(-1) || stdout.trim().split("\n")[0] || "no output";
  const cmd = `\`${[command, ...args].join(" ")}\``;
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT") {
    return { ok: false, stdout, detail: `${cmd} did not answer within ${timeoutMs / 1000} s (${said})` };
  }
  if (r.error) return { ok: false, stdout, detail: `${cmd} failed: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, stdout, detail: `${cmd} exited ${r.status ?? r.signal}: ${said}` };
  return { ok: true, stdout, detail: "" };
}

let status: SlurmStatus | undefined;

/**
 * Whether the SLURM tests can run here (checked once): `sbatch` is on PATH, the
 * controller answers, `sinfo` lists a node that can run jobs, and the cluster is
 * wfc's test cluster (not, say, the production cluster of an HPC login node).
 */
export function slurmAvailable(timeoutMs = 5_000): SlurmStatus {
  status ??= check(timeoutMs);
  return status;
}

function check(timeoutMs: number): SlurmStatus {
  if (!onPath("sbatch")) return { ok: false, reason: `no SLURM: \`sbatch\` is not on PATH; ${START_HINT}` };
  // `scontrol ping` says DOWN at once when no controller runs, where sinfo retries for ~9 s
  const ping = query("scontrol", ["ping"], timeoutMs);
  if (!ping.ok || !/is UP/.test(ping.stdout)) return { ok: false, reason: `SLURM is not running: ${ping.detail}; ${START_HINT}` };
  const nodes = query("sinfo", ["-h", "-N", "-o", "%N %T"], timeoutMs);
  if (!nodes.ok) return { ok: false, reason: `SLURM does not answer: ${nodes.detail}; ${START_HINT}` };
  const usable = nodes.stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find(([, state]) => state !== undefined && USABLE_NODE.test(state));
  if (!usable) {
    const listed = nodes.stdout.trim().replace(/\s*\n\s*/g, ", ") || "no nodes";
    return { ok: false, reason: `SLURM has no node that can run jobs (${listed}); ${START_HINT}` };
  }
  const config = query("scontrol", ["show", "config"], timeoutMs);
  const cluster = /^ClusterName\s*=\s*(\S+)/m.exec(config.stdout)?.[1];
  if (cluster !== TEST_CLUSTER) {
    return {
      ok: false,
      reason: `SLURM's cluster is ${cluster ? `'${cluster}'` : `unknown (${config.detail})`}, not wfc's test cluster '${TEST_CLUSTER}' from .ci/slurm/up.sh; the tests submit jobs only there`,
    };
  }
  return { ok: true, node: usable[0]! };
}

/**
 * `describe` for tests that need the cluster. Without one: skipped, with the reason
 * in the suite's name (and on stderr); on CI, a single failing test with the reason.
 */
export function describeSlurm(name: string, body: () => void): void {
  const s = slurmAvailable();
  if (s.ok) {
    describe(name, body);
  } else if (onCi()) {
    describe(name, () => {
      test("needs a SLURM cluster", () => {
        throw new Error(`${s.reason} (CI is set: run .ci/slurm/up.sh as root before the tests)`);
      });
    });
  } else {
    console.warn(`${name}: skipped: ${s.reason}`);
    describe.skip(`${name} (skipped: ${s.reason})`, body);
  }
}

/* ------------------------------------------------------------ submitting jobs */

/** Job states after which a job or array element never changes again. */
const FINAL = new Set(["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY"]);

export interface JobState {
  /** squeue's %T: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, ... */
  readonly state: string;
  /** squeue's %r: None, Dependency, DependencyNeverSatisfied, Licenses, JobArrayTaskLimit, ... */
  readonly reason: string;
}

/** Job or array element id (`42`, `43_0`) -> its state. */
export type JobStates = ReadonlyMap<string, JobState>;

/** A job's own record of when its script ran, in seconds since the epoch. */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

/**
 * The job script every test submits. Arguments: OUTDIR, SLEEPS, EXITS, where SLEEPS and
 * EXITS are space-separated lists indexed by the array task id (the first entry, or 0,
 * when the list is shorter). It writes "start end" (date +%s.%N) to OUTDIR/<task id>.interval.
 */
const JOB_SCRIPT = `#!/bin/bash
i=\${SLURM_ARRAY_TASK_ID:-0}
sleeps=($2) exits=($3)
start=$(date +%s.%N)
sleep "\${sleeps[i]:-\${sleeps[0]:-0}}"
echo "$start $(date +%s.%N)" > "$1/$i.interval"
exit "\${exits[i]:-0}"
`;

/**
 * One test's jobs: a scratch folder for their output, the jobs it submitted
 * (cancelled by `cleanup`, in case a test fails while they still wait).
 */
export class Jobs {
  readonly dir = mkdtempSync(join(tmpdir(), "wfc-slurm-test-"));
  private readonly script = join(this.dir, "job.sh");
  private readonly submitted: string[] = [];
  private runs = 0;

  constructor() {
    writeFileSync(this.script, JOB_SCRIPT, { mode: 0o755 });
  }

  /**
   * `sbatch --parsable` our job script with extra sbatch options; each element sleeps
   * `sleeps[i]` seconds and exits `exits[i]`. Returns the job id and the folder its
   * elements write their intervals to.
   */
  async submit(options: string[], sleeps: number[] = [0], exits: number[] = [0]): Promise<{ id: string; out: string }> {
    const out = join(this.dir, `run${this.runs++}`);
    mkdirSync(out);
    const r = await execa(
      "sbatch",
      ["--parsable", "-D", this.dir, "-o", join(out, "slurm-%A_%a.out"), ...options, this.script, out, sleeps.join(" "), exits.join(" ")],
      { timeout: 30_000 },
    );
    // --parsable prints "id" or, on a multi-cluster setup, "id;cluster"
    const id = r.stdout.trim().split(";")[0]!;
    this.submitted.push(id);
    return { id, out };
  }

  /** The intervals the elements wrote, by task id (a job that is not an array is task 0). */
  intervals(out: string): Map<number, Interval> {
    const found = new Map<number, Interval>();
    for (const file of readdirSync(out).filter((f) => f.endsWith(".interval"))) {
      const [start, end] = readFileSync(join(out, file), "utf8").trim().split(" ").map(Number);
      found.set(Number(file.slice(0, -".interval".length)), { start: start!, end: end! });
    }
    return found;
  }

  /** Cancels what is still queued and removes the scratch folder. */
  async cleanup(): Promise<void> {
    if (this.submitted.length > 0) await execa("scancel", this.submitted, { reject: false, timeout: 30_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The current state of every element of the given jobs, finished ones included. */
export async function jobStates(ids: readonly string[]): Promise<JobStates> {
  const r = await execa("squeue", ["-h", "-r", "-t", "all", "-j", ids.join(","), "-o", "%i|%T|%r"], { timeout: 30_000 });
  const states = new Map<string, JobState>();
  for (const line of r.stdout.split("\n").filter(Boolean)) {
    const [id, state, reason] = line.split("|");
    states.set(id!, { state: state!, reason: reason ?? "" });
  }
  return states;
}

const show = (states: JobStates) => [...states].map(([id, s]) => `${id}=${s.state}/${s.reason}`).join(" ");

/**
 * Polls squeue until every element of the given jobs is in a final state; throws with
 * their states when that takes longer than `timeoutMs`.
 */
export async function waitForJobs(ids: readonly string[], timeoutMs = 20_000): Promise<JobStates> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await jobStates(ids);
    if (states.size > 0 && [...states.values()].every((s) => FINAL.has(s.state))) return states;
    if (Date.now() > deadline) {
      const stuck = [...states.values()].some((s) => s.state === "PENDING" && s.reason === "DependencyNeverSatisfied");
      const hint = stuck
        ? " (DependencyNeverSatisfied jobs pend forever unless slurm.conf has DependencyParameters=kill_invalid_depend)"
        : "";
      throw new Error(`jobs ${ids.join(",")} not finished after ${timeoutMs / 1000} s: ${show(states)}${hint}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The largest number of intervals that overlap at one moment. */
export function maxOverlap(intervals: Iterable<Interval>): number {
  // an end sorts before a start at the same instant: touching is not overlapping
  const events = [...intervals].flatMap((i) => [
    [i.start, 1],
    [i.end, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let running = 0;
  let max = 0;
  for (const [, delta] of events) max = Math.max(max, (running += delta!));
  return max;
}
