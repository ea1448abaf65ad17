import { readdirSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/** `"SIGTERM"` for 15; `"SIG42"` for a number this platform has no name for. */
export function signalName(n: number): string {
  return SIGNAL_NAMES.get(n) ?? `SIG${n}`;
}

/** Sends `signal` to every process in the group; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  if (!(pgid > 1)) throw new Error(`refusing to signal process group ${pgid}`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    // ESRCH: nobody left. EPERM: only processes we may not signal (e.g. a setuid
    // program) or, on macOS, only zombies: either way nothing more we can do.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ESRCH" || code === "EPERM") return false;
    throw err;
  }
}

/**
 * Whether any process of the group is still running. A zombie does not count:
 * it has exited and waits for a parent (often init, for orphans) to reap it,
 * which the runner cannot hurry. Linux reads /proc; elsewhere a zombie counts.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== "linux") return true;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "latin1");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may contain anything, so split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") return true;
  }
  return false;
}

/** Polling interval while waiting for a signalled group to empty. */
const POLL_MS = 20;
/** After SIGKILL, how long to wait for the group to disappear (a process in uninterruptible sleep may take a while). */
export const KILL_WAIT_MS = 5000;

/**
 * Terminates a process group: SIGTERM, then SIGKILL once `graceMs` has passed
 * with the leader not yet reaped or any process of the group still running.
 * Resolves when the leader has been reaped and no process of the group runs
 * any more, or `killWaitMs` after the SIGKILL, so that a process stuck in the
 * kernel cannot hang the caller (who then checks `leaderExited()` itself).
 *
 * `leaderExited` tells whether the group's leader (the job's own process) has
 * been reaped; until then the group is certainly alive and /proc is not scanned.
 */
export async function terminateGroup(pgid: number, graceMs: number, leaderExited: () => boolean, killWaitMs = KILL_WAIT_MS): Promise<void> {
  const done = () => leaderExited() && !groupAlive(pgid);
  signalGroup(pgid, "SIGTERM");
  const deadline = performance.now() + graceMs;
  for (let left = graceMs; !done(); left = deadline - performance.now()) {
    if (left <= 0) {
      signalGroup(pgid, "SIGKILL");
      const giveUp = performance.now() + killWaitMs;
      while (!done() && performance.now() < giveUp) await sleep(POLL_MS / 2);
      return;
    }
    await sleep(Math.min(POLL_MS, left));
  }
}
