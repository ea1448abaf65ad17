import { createHash, randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { identify, liveness, pidAlive, procStat, type ProcessIdentity } from "./process-identity.js";

export type LockResult =
  | {
      readonly ok: true;
      readonly release: () => void;
      /** Set when a lock left by a run that is gone was taken over: one line saying whose. */
      readonly tookOver?: string;
    }
  | { readonly ok: false; readonly message: string };

/** What `.wfc/lock` holds: the run's process, and a nonce that makes every lock's content unique. */
interface LockContent extends ProcessIdentity {
  readonly nonce: string;
}

/** How long a run waits for another one that is taking over a stale lock this very moment (a few syscalls). */
const TAKEOVER_WAIT_MS = 2000;

/**
 * `.wfc/lock`: one run per directory.
 *
 * Taken atomically: the content is written to a file of its own, then
 * hard-linked as `lock` (link(2) fails if the name exists), so a lock never
 * exists empty or half-written. A lock whose run is gone (a crash, kill -9,
 * a restart) or whose pid now belongs to another program (pid reuse: the
 * lock records the process's start time) is stale and is taken over, also
 * atomically: the taker first creates a marker named after the stale
 * content, exclusively, so of several runs that found the same stale lock
 * only one replaces it (by rename(2), so the name never disappears), and the
 * others then find the new, live lock.
 *
 * The lock is released when the run ends, and in any case when the process
 * exits (an `exit` handler), so even a run cut short by process.exit() does
 * not leave it behind.
 */
export function acquireLock(stateDir: string): LockResult {
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, "lock");
  const mine: LockContent = { ...identify(process.pid), nonce: randomBytes(12).toString("hex") };
  const text = `${JSON.stringify(mine)}\n`;
  const temp = join(stateDir, `lock.${mine.pid}.${mine.nonce}`);
  writeFileSync(temp, text);
  try {
    const deadline = performance.now() + TAKEOVER_WAIT_MS;
    while (performance.now() < deadline) {
      try {
        linkSync(temp, path);
        return held(path, text, undefined);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const found = readOr(path);
      if (found === null) continue; // released meanwhile: try again
      const verdict = judge(found, stateDir);
      if (verdict.held) return { ok: false, message: verdict.message };
      switch (takeOver(path, found, temp)) {
        case "taken":
          return held(path, text, verdict.message);
        case "busy":
          pause(5); // another run is taking it over right now
          break;
        case "changed":
          break;
        case "dead-taker":
          return {
            ok: false,
            message: `a run that was taking over the stale lock ${path} died while doing so; remove ${markerPath(path, found)} and try again`,
          };
      }
    }
    return { ok: false, message: `cannot take the lock ${path}: other runs keep taking it over; try again` };
  } finally {
    rmSync(temp, { force: true });
  }
}

function held(path: string, text: string, tookOver: string | undefined): LockResult {
  const release = () => {
    process.off("exit", release);
    // Only our own lock: after a takeover by mistake, never someone else's.
    if (readOr(path) === text) rmSync(path, { force: true });
  };
  process.on("exit", release);
  return tookOver === undefined ? { ok: true, release } : { ok: true, release, tookOver };
}

type Verdict = { readonly held: true; readonly message: string } | { readonly held: false; readonly message: string };

/** Whether the lock's run still holds it, and what to tell the user either way. */
function judge(content: string, stateDir: string): Verdict {
  const busy = (pid: number) => ({
    held: true as const,
    message: `another wfc run (pid ${pid}) is using ${stateDir}; wait for it to finish, or stop it`,
  });
  const recorded = parseLock(content);
  if (recorded === null) {
    // An earlier wfc wrote only the pid; one that is alive must still look like wfc (node).
    const pid = Number(content.trim());
    if (!(Number.isInteger(pid) && pid > 0))
      return { held: false, message: `the lock ${join(stateDir, "lock")} was unreadable; taking it over` };
    if (!pidAlive(pid)) return { held: false, message: `wfc run ${pid} ended without releasing its lock (killed?); taking it over` };
    const program = commandOf(pid);
    if (program !== null && !/node|wfc/.test(program)) {
      return { held: false, message: `the lock names pid ${pid}, which is now another program (${program}); taking it over` };
    }
    return busy(pid);
  }
  const now = liveness(recorded);
  switch (now.kind) {
    case "alive":
      return busy(recorded.pid);
    case "elsewhere":
      return {
        held: true,
        message: `a wfc run on ${now.host} (pid ${recorded.pid}) holds ${join(stateDir, "lock")}; if it is gone, remove that file`,
      };
    case "gone":
      return { held: false, message: `wfc run ${recorded.pid} ended without releasing its lock (${now.why}); taking it over` };
    case "reused":
      return {
        held: false,
        message: `the lock names pid ${recorded.pid}, which is now another program${now.program === null ? "" : ` (${now.program})`}; taking it over`,
      };
  }
}

function parseLock(content: string): LockContent | null {
  try {
    const v = JSON.parse(content) as Partial<LockContent>;
    if (typeof v.pid !== "number" || typeof v.nonce !== "string" || typeof v.host !== "string") return null;
    return { pid: v.pid, start: v.start ?? null, boot: v.boot ?? null, host: v.host, nonce: v.nonce };
  } catch {
    return null;
  }
}

/** The marker that makes one run the only one to take over this stale content. */
function markerPath(path: string, stale: string): string {
  return `${path}.takeover-${createHash("sha256").update(stale).digest("hex").slice(0, 16)}`;
}

/**
 * Replaces the stale lock `stale` with ours, unless another run got there
 * first: only the run that created the marker may replace that content, and
 * it checks the lock still has it (nobody else may replace it meanwhile).
 */
function takeOver(path: string, stale: string, temp: string): "taken" | "busy" | "changed" | "dead-taker" {
  const marker = markerPath(path, stale);
  const me = JSON.stringify(identify(process.pid));
  try {
    writeFileSync(marker, me, { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const taker = readOr(marker);
    if (taker === null) return "changed";
    let takerAlive = true;
    try {
      const kind = liveness(JSON.parse(taker) as ProcessIdentity).kind;
      takerAlive = kind === "alive" || kind === "elsewhere";
    } catch {
      // half-written by a live taker: it is busy
    }
    if (!takerAlive && readOr(path) === stale) return "dead-taker";
    return "busy";
  }
  try {
    if (readOr(path) !== stale) return "changed";
    // Our content replaces the lock in one step: the name never disappears.
    renameSync(temp, path);
    return "taken";
  } finally {
    rmSync(marker, { force: true });
  }
}

function readOr(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** The command line of a live process (Linux), or null when it cannot be read. */
function commandOf(pid: number): string | null {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).slice(0, 2).join(" ");
    return cmdline === "" ? (procStat(pid)?.comm ?? null) : cmdline;
  } catch {
    return null;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function pause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
