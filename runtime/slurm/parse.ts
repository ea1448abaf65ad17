/**
 * What wfc reads from SLURM's commands, as pure functions of their text, so
 * every odd answer a cluster gives can be tested without one. The commands
 * themselves run in client.ts.
 */

/** One element's ExitCode (`code:signal`); a killed element has code 0 and the signal. */
export interface ExitCode {
  readonly code: number;
  readonly signal: number;
}

/** What one command printed, and how it exited (undefined: it did not exit by itself, e.g. a timeout). */
export interface CommandOutput {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** The job id from `sbatch --parsable` (`ID` or `ID;CLUSTER`); undefined if there is none. */
export function parseSbatchId(stdout: string): string | undefined {
  return /^(\d+)/.exec(stdout.trim())?.[1];
}

/**
 * Element states from `squeue -h -r -t all -o %i|%T`, keyed `ID_INDEX`.
 * Null when squeue failed as a whole (slurmctld down): ask again later.
 * `invalid job id` means every id asked about was purged: an empty answer,
 * not a failure. With `-r` each element has its own line; a pending range
 * (`123_[4-9,12%2]`, printed without `-r`) is still read element by element,
 * so its elements never look purged.
 */
export function parseSqueue(out: CommandOutput): Map<string, string> | null {
  const states = new Map<string, string>();
  if (out.exitCode !== 0) return isInvalidJobId(out.stderr) ? states : null;
  for (const line of out.stdout.split("\n")) {
    const [id, state] = line.trim().split("|");
    if (!id || !state) continue;
    const range = /^(\d+)_\[([^\]]*)\]$/.exec(id);
    if (range === null) states.set(id, state);
    else for (const index of expandIndices(range[2]!)) states.set(`${range[1]}_${index}`, state);
  }
  return states;
}

/** Whether SLURM said it no longer knows a job (`Invalid job id specified`). */
export function isInvalidJobId(stderr: string): boolean {
  return /invalid job id/i.test(stderr);
}

/**
 * Array indices of a squeue range body, `4-9,12,15-17:2%3`: ranges, steps and the
 * throttle suffix. Anything unreadable yields no index (the element then looks
 * as it would without the line).
 */
export function expandIndices(body: string): number[] {
  const indices: number[] = [];
  for (const part of body.replace(/%\d+$/, "").split(",")) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (m === null) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Math.max(1, Number(m[3]));
    for (let i = from; i <= to; i += step) indices.push(i);
  }
  return indices;
}

/** ExitCode of one element from `scontrol -o show job ID`; null if SLURM no longer knows it (or did not say). */
export function parseExitCode(out: CommandOutput): ExitCode | null {
  const m = /\bExitCode=(\d+):(\d+)/.exec(out.stdout);
  return out.exitCode === 0 && m ? { code: Number(m[1]), signal: Number(m[2]) } : null;
}

/**
 * Where an element stands, from its squeue state (long names): waiting
 * (pending, suspended, requeued, configuring, …: anything not named below),
 * running, or ended (it runs no more, whether or not it wrote its result).
 */
export type ElementPhase = "waiting" | "running" | "ended";

export function elementPhase(state: string): ElementPhase {
  if (state === "RUNNING" || state === "COMPLETING") return "running";
  if (FINISHED_STATES.has(state)) return "ended";
  return "waiting";
}

/** States after which an element runs no more (squeue's long names). */
export const FINISHED_STATES: ReadonlySet<string> = new Set([
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
