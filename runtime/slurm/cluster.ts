/**
 * The SLURM commands wfc calls, each a plain child process (execa): no
 * library between wfc and the cluster, so what runs is what a user would
 * type. Every call has a timeout: a hung slurmctld must not hang a run.
 */
import { execFileSync } from "node:child_process";
import { execa } from "execa";

const TIMEOUT_MS = 60_000;

/**
 * The cluster's MaxArraySize from `scontrol show config`, when there is a
 * cluster to ask. A controller that does not answer within 2 s is taken as
 * none (scontrol itself would keep retrying for much longer).
 */
export function clusterMaxArraySize(): number | undefined {
  try {
    const text = execFileSync("scontrol", ["show", "config"], { encoding: "utf8", timeout: 2000, stdio: ["ignore", "pipe", "ignore"] });
    const m = /^MaxArraySize\s*=\s*(\d+)/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Submits a batch script; the job id, or why sbatch refused. */
export async function sbatch(
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<{ ok: true; id: string } | { ok: false; message: string }> {
  const r = await execa("sbatch", ["--parsable", ...args], { ...options, reject: false, timeout: TIMEOUT_MS, stdin: "ignore" });
  const id = /^(\d+)/.exec(r.stdout.trim())?.[1];
  if (r.exitCode === 0 && id !== undefined) return { ok: true, id };
  const said = `${r.stderr}`.trim() || `${r.stdout}`.trim();
  return { ok: false, message: `sbatch failed${r.exitCode !== undefined ? ` (exit ${r.exitCode})` : ""}: ${said || r.shortMessage}` };
}

/**
 * The state of every element of these arrays SLURM still knows, keyed
 * `ID_INDEX` (`squeue -r -t all`: one line per element, finished ones too
 * until slurmctld purges them after MinJobAge). Null when squeue failed as a
 * whole (slurmctld down): the caller tries again later. Elements of purged
 * arrays are simply absent.
 */
export async function queueStates(ids: readonly string[]): Promise<Map<string, string> | null> {
  const states = new Map<string, string>();
  if (ids.length === 0) return states;
  const r = await execa("squeue", ["-h", "-r", "-t", "all", "-o", "%i|%T", "-j", ids.join(",")], {
    reject: false,
    timeout: TIMEOUT_MS,
    stdin: "ignore",
  });
  if (r.exitCode !== 0) {
    // Every id purged: squeue says so and exits 1; that is an answer, not a failure.
    if (/invalid job id/i.test(`${r.stderr}`)) return states;
    return null;
  }
  for (const line of `${r.stdout}`.split("\n")) {
    const [id, state] = line.trim().split("|");
    if (id && state) states.set(id, state);
  }
  return states;
}

/** ExitCode=code:signal of one element, from `scontrol -o show job`; null if SLURM no longer knows it. */
export async function exitCodeOf(id: string): Promise<{ code: number; signal: number } | null> {
  const r = await execa("scontrol", ["-o", "show", "job", id], { reject: false, timeout: TIMEOUT_MS, stdin: "ignore" });
  const m = /\bExitCode=(\d+):(\d+)/.exec(`${r.stdout}`);
  return r.exitCode === 0 && m ? { code: Number(m[1]), signal: Number(m[2]) } : null;
}

/** Cancels jobs (whole arrays by id); failures are ignored: a job may have ended meanwhile. */
export async function scancel(ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await execa("scancel", [...ids], { reject: false, timeout: TIMEOUT_MS, stdin: "ignore" });
}

/**
 * Cancels the arrays a run that died left on the cluster, and waits until
 * SLURM says none of their elements runs any more (so no old copy of a job
 * writes beside the new one). The ids of those that still had elements
 * queued or running; when squeue cannot answer, every id is cancelled.
 */
export async function cancelLeftovers(ids: readonly string[], waitMs = 60_000): Promise<string[]> {
  const active = async (): Promise<string[] | null> => {
    const states = await queueStates(ids);
    if (states === null) return null;
    const live = new Set<string>();
    for (const [element, state] of states) if (!FINISHED_STATES.has(state)) live.add(element.split("_")[0]!);
    return ids.filter((id) => live.has(id));
  };
  const cancel = (await active()) ?? [...ids];
  if (cancel.length === 0) return [];
  await scancel(cancel);
  const giveUp = Date.now() + waitMs;
  for (let left = await active(); left !== null && left.length > 0 && Date.now() < giveUp; left = await active()) {
    await new Promise((r) => setTimeout(r, 250));
  }
  return cancel;
}

/** States after which an element runs no more (squeue's long names). */
export const FINISHED_STATES = new Set([
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "TIMEOUT",
  "OUT_OF_MEMORY",
  "NODE_FAIL",
  "PREEMPTED",
  "BOOT_FAIL",
  "DEADLINE",
  "REVOKED",
  "SPECIAL_EXIT",
]);
