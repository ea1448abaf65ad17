/**
 * The SLURM commands wfc calls, behind one interface: the executor and the
 * clean-up of a dead run's arrays speak only to a `SlurmClient`, so their
 * state machines run the same against the real cluster and against the fake
 * in test/slurm/fake-client.ts. The real client runs each command as a plain
 * child process (execa): no library between wfc and the cluster, so what
 * runs is what a user would type. Every call has a timeout: a hung
 * slurmctld must not hang a run. What the commands print is read in parse.ts.
 */
import { execa } from "execa";
import { parseExitCode, parseSbatchId, parseSqueue, type ExitCode } from "./parse.js";

export type SbatchResult = { readonly ok: true; readonly id: string } | { readonly ok: false; readonly message: string };

export interface SlurmClient {
  /** Submits a batch script (`sbatch --parsable ARGS`): the job id, or why sbatch refused. */
  sbatch(args: readonly string[], options: { cwd: string; env: Record<string, string> }): Promise<SbatchResult>;
  /**
   * The state of every element of these arrays SLURM still knows, keyed
   * `ID_INDEX` (finished ones too, until slurmctld purges them after
   * MinJobAge). Null when the queue could not be read (slurmctld down): the
   * caller tries again later. Elements of purged arrays are simply absent.
   */
  queueStates(ids: readonly string[]): Promise<Map<string, string> | null>;
  /** ExitCode of one element (`ID_INDEX`); null if SLURM no longer knows it. */
  exitCodeOf(id: string): Promise<ExitCode | null>;
  /** Cancels jobs (whole arrays by id); failures are ignored: a job may have ended meanwhile. */
  scancel(ids: readonly string[]): Promise<void>;
}

const TIMEOUT_MS = 60_000;

/** The client of the cluster this machine submits to: sbatch, squeue, scontrol and scancel on PATH. */
export const realSlurmClient: SlurmClient = {
  async sbatch(args, options) {
    const r = await execa("sbatch", ["--parsable", ...args], { ...options, reject: false, timeout: TIMEOUT_MS, stdin: "ignore" });
    const id = parseSbatchId(`${r.stdout}`);
    if (r.exitCode === 0 && id !== undefined) return { ok: true, id };
    const said = `${r.stderr}`.trim() || `${r.stdout}`.trim();
    return { ok: false, message: `sbatch failed${r.exitCode !== undefined ? ` (exit ${r.exitCode})` : ""}: ${said || r.shortMessage}` };
  },

  async queueStates(ids) {
    if (ids.length === 0) return new Map();
    const r = await execa("squeue", ["-h", "-r", "-t", "all", "-o", "%i|%T", "-j", ids.join(",")], {
      reject: false,
      timeout: TIMEOUT_MS,
      stdin: "ignore",
    });
    return parseSqueue({ exitCode: r.exitCode, stdout: `${r.stdout}`, stderr: `${r.stderr}` });
  },

  async exitCodeOf(id) {
    const r = await execa("scontrol", ["-o", "show", "job", id], { reject: false, timeout: TIMEOUT_MS, stdin: "ignore" });
    return parseExitCode({ exitCode: r.exitCode, stdout: `${r.stdout}`, stderr: `${r.stderr}` });
  },

  async scancel(ids) {
    if (ids.length === 0) return;
    await execa("scancel", [...ids], { reject: false, timeout: TIMEOUT_MS, stdin: "ignore" });
  },
};
