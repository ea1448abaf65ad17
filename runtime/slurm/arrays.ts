/**
 * The arrays `wfc run` has on the cluster: the jobs waiting to go, the
 * elements submitted, and how an element ends (its status line, or
 * SLURM's word when it wrote none).
 */
import { existsSync, readFileSync, writeFileSync, type FSWatcher } from "node:fs";
import { join } from "node:path";
import type { JobKey } from "../backends/backend.js";
import type { SlurmClient } from "./client.js";
import { endedWithoutStatus, readStarted, readStepsDone, type Status } from "./submission.js";
import { readStepUsage } from "./measure-script.js";
import type { JobUsage } from "../state/usage.js";

/** How one job (one array element) ended. Times are epoch milliseconds. */
export interface SlurmOutcome {
  readonly ok: boolean;
  readonly exitCode: number | null;
  /** The step (index into the job's scripts) that failed, when one did. */
  readonly step: number;
  readonly cancelled: boolean;
  /** When its commands started, by the node's clock; null when it never told (it never ran, or was killed first). */
  readonly started: number | null;
  /** Why it failed when the exit code does not say (sbatch refused it, SLURM's own state). */
  readonly reason: string | null;
  /** What each step that ended used, as its script measured it (issue 16). */
  readonly usage?: readonly JobUsage[];
}

export interface Waiting {
  readonly ref: JobKey;
  readonly scripts: readonly string[];
  readonly log: string;
  readonly onStart: (at: number) => void;
  readonly resolve: (outcome: SlurmOutcome) => void;
}

export interface Element extends Waiting {
  readonly index: number;
  started: boolean;
  /** Polls since SLURM first said it ended (or stopped listing it) without a status line. */
  overdue: number;
  lastState: string | null;
}

export interface Submitted {
  readonly id: string;
  readonly task: number;
  readonly dir: string;
  readonly elements: Map<number, Element>;
  seen: boolean;
  watchers: FSWatcher[];
  /** An element failed: the submission's folder stays for a look (SLURM's own output is in out/). */
  failed: boolean;
}

export function cancelledOutcome(): SlurmOutcome {
  return { ok: false, exitCode: null, step: 0, cancelled: true, started: null, reason: null };
}

/** An element wrote its status line: it ended as it says. */
export function endElement(array: Submitted, e: Element, status: Status): void {
  array.elements.delete(e.index);
  if (status.code !== 0) array.failed = true;
  if (!e.started) e.onStart(status.start);
  e.resolve({
    ok: status.code === 0,
    exitCode: status.code,
    step: status.step,
    cancelled: false,
    started: status.start,
    reason: null,
    usage: readStepUsage(join(array.dir, "usage", String(e.index))),
  });
}

/**
 * An element SLURM says ended (or forgot) without a status line: its
 * script never finished (cancelled, timed out, out of memory, node
 * failure). Its exit code comes from SLURM, and SLURM's own words go to
 * the job's log, where a failure's tail is read.
 */
export async function endWithoutStatusLine(
  array: Submitted,
  e: Element,
  state: string | null,
  client: SlurmClient,
  cancelling: boolean,
): Promise<void> {
  array.elements.delete(e.index);
  array.failed = true;
  const id = `${array.id}_${e.index}`;
  const exit = state === null ? null : await client.exitCodeOf(id);
  const out = join(array.dir, "out", `${e.index}.out`);
  // SLURM's own words (e.g. "CANCELLED ... DUE TO TIME LIMIT") go to the job's log, where a failure's tail is read.
  const said = existsSync(out) ? readFileSync(out, "utf8").trim() : "";
  const reason = endedWithoutStatus(id, state, exit);
  writeFileSync(e.log, `${said ? `${said}\n` : ""}wfc: ${reason}\n`, { flag: "a" });
  const cancelled = cancelling && (state === "CANCELLED" || state === null);
  e.resolve({
    ok: false,
    exitCode: exit && exit.signal === 0 && exit.code !== 0 ? exit.code : null,
    // The steps before the one it was stopped in succeeded (a fused job keeps them).
    step: Math.min(readStepsDone(join(array.dir, "steps", String(e.index))), e.scripts.length - 1),
    cancelled,
    started: readStarted(join(array.dir, "started", String(e.index))),
    reason,
    usage: readStepUsage(join(array.dir, "usage", String(e.index))),
  });
}
