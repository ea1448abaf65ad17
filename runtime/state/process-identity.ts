import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/**
 * Who a process is, beyond its pid (which the kernel reuses): its start time
 * in clock ticks since boot and the boot's id, read from /proc on Linux.
 * Elsewhere both are null and a pid is all there is to go by.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly start: string | null;
  readonly boot: string | null;
  readonly host: string;
}

/** Fields of /proc/PID/stat after the command name, which may contain anything (so split after the last ")"). */
export interface ProcStat {
  readonly state: string;
  readonly pgrp: number;
  readonly session: number;
  /** Field 22: the start time in clock ticks since boot; with the pid, unique within a boot. */
  readonly start: string;
  readonly comm: string;
}

export function parseStat(stat: string): ProcStat | null {
  const close = stat.lastIndexOf(")");
  if (close < 0) return null;
  const fields = stat.slice(close + 2).split(" ");
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const start = fields[19];
  if (start === undefined) return null;
  return {
    state: fields[0]!,
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    start,
    comm: stat.slice(stat.indexOf("(") + 1, close),
  };
}

/** The process's /proc/PID/stat, or null when it is gone (or this is not Linux). */
export function procStat(pid: number): ProcStat | null {
  if (process.platform !== "linux") return null;
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return null;
  }
}

let bootId: string | null | undefined;
/** This boot's id (Linux): a pid and start time from before a reboot name nothing now. */
export function currentBoot(): string | null {
  if (bootId === undefined) {
    try {
      bootId = readFileSync("/proc/sys/kernel/random/boot_id", "latin1").trim();
    } catch {
      bootId = null;
    }
  }
  return bootId;
}

export function identify(pid: number): ProcessIdentity {
  return { pid, start: procStat(pid)?.start ?? null, boot: currentBoot(), host: hostname() };
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** What a recorded process is now, on this host. */
export type Liveness =
  | { readonly kind: "alive" }
  | { readonly kind: "gone"; readonly why: string }
  /** The pid runs something else now (pid reuse); `program` is its command name, when known. */
  | { readonly kind: "reused"; readonly program: string | null }
  /** Recorded on another host (a shared file system): nothing here can tell. */
  | { readonly kind: "elsewhere"; readonly host: string };

export function liveness(recorded: ProcessIdentity): Liveness {
  if (recorded.host !== hostname()) return { kind: "elsewhere", host: recorded.host };
  if (recorded.boot !== null && currentBoot() !== null && recorded.boot !== currentBoot()) {
    return { kind: "gone", why: "the machine has restarted since" };
  }
  if (!pidAlive(recorded.pid)) return { kind: "gone", why: "its process is gone" };
  const now = procStat(recorded.pid);
  if (recorded.start !== null && now !== null && now.start !== recorded.start) return { kind: "reused", program: now.comm };
  return { kind: "alive" };
}
