import { closeSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { groupAlive, signalGroup } from "../executors/process-group.js";
import { identify, parseStat, procStat, type ProcStat } from "./process-identity.js";

/**
 * `.wfc/running`: the process groups of the jobs this run has running, so
 * that after a crash (kill -9, a power cut of the terminal, the OOM killer)
 * the next run can find what is left of them and stop it before it starts
 * the same jobs again: two writers of one output are the worst outcome.
 *
 * An append-only log, one line per change (cheap: a job is written only
 * once it has run for RECORD_AFTER_MS, in one write(2) with the others, no
 * new file per job; a write(2) survives a kill -9): a header
 * naming the run, then `+ PGID START SID` for a job's command that started
 * and `- PGID` when its job ended, `s ID` for a SLURM job array submitted,
 * `c+ ENGINE NAME` and `c- NAME` for a container a job started and the end
 * of its job (a container runs under its engine, not in the job's process
 * group: stopping the group leaves it running). START and SID are the group leader's start time and session
 * (/proc/PID/stat), so a pgid reused since by an unrelated program is not
 * mistaken for ours. A run that ends normally removes the file; a file found
 * at the start of a run was left by one that died.
 */
/**
 * How long a job runs before it is recorded. One killed with wfc sooner is
 * still stopped by its worker (or SpawnRunner's watchdog); the record is for
 * when those die too, and the jobs worth finding then are the long ones.
 */
const RECORD_AFTER_MS = 100;

export class RunningJobs {
  readonly #fd: number;
  readonly #path: string;
  /** Groups started and not ended, not written yet, with when they started (performance.now()). */
  readonly #added = new Map<number, number>();
  /** Groups ended since the last write whose `+` line is written. */
  readonly #removed: number[] = [];
  readonly #written = new Set<number>();
  #flushing: NodeJS.Timeout | undefined;

  constructor(stateDir: string) {
    this.#path = join(stateDir, "running");
    this.#fd = openSync(this.#path, "w");
    const me = identify(process.pid);
    writeSync(this.#fd, `run ${me.pid} ${me.start ?? "-"}\n`);
  }

  /** A job's command started as the leader of process group `pgid`. */
  add(pgid: number): void {
    this.#added.set(pgid, performance.now());
    this.#schedule();
  }

  /**
   * A job array went to SLURM: it runs on the cluster, not under this
   * process, so nothing stops it when wfc dies but the next run. Written
   * at once (a submission is rare and slow anyway).
   */
  addSlurm(id: string): void {
    writeSync(this.#fd, `s ${id}\n`);
  }

  /**
   * A job's container (podman, docker) is about to start: written at once,
   * since its engine keeps it running when wfc dies, and only the next run
   * can then remove it. Engine and name are wfc's own words (an engine's
   * name, `wfc-<run>-<n>`).
   */
  addContainer(engine: string, name: string): void {
    writeSync(this.#fd, `c+ ${engine} ${name}\n`);
  }

  /** Those containers' jobs ended (they were removed with them). */
  removeContainers(names: readonly string[]): void {
    if (names.length > 0) writeSync(this.#fd, names.map((n) => `c- ${n}\n`).join(""));
  }

  /** The job that ran in these groups has ended. */
  remove(pgids: readonly number[]): void {
    for (const g of pgids) {
      if (this.#added.delete(g)) continue;
      if (this.#written.delete(g)) this.#removed.push(g);
    }
    if (this.#removed.length > 0) this.#schedule();
  }

  #schedule(): void {
    this.#flushing ??= setTimeout(() => this.flush(), RECORD_AFTER_MS).unref();
  }

  /**
   * Writes what changed, in one write(2): after it, a kill -9 of wfc loses
   * nothing. A group is written once it has run for RECORD_AFTER_MS, so the
   * many short jobs of a fan-out cost neither a read of /proc nor a write.
   */
  flush(): void {
    clearTimeout(this.#flushing);
    this.#flushing = undefined;
    let text = this.#removed.map((g) => `- ${g}\n`).join("");
    this.#removed.length = 0;
    const due = performance.now() - RECORD_AFTER_MS;
    for (const [g, at] of this.#added) {
      if (at > due) continue;
      this.#added.delete(g);
      const stat = procStat(g);
      // Its leader is gone already (reaped by its worker): nothing of it to record, or to find later.
      if (stat === null && process.platform === "linux") continue;
      text += `+ ${g} ${stat?.start ?? "-"} ${stat?.session ?? "-"}\n`;
      this.#written.add(g);
    }
    if (text !== "") writeSync(this.#fd, text);
    if (this.#added.size > 0) this.#schedule();
  }

  /** The run ended: nothing of it is left to stop. */
  close(): void {
    clearTimeout(this.#flushing);
    closeSync(this.#fd);
    rmSync(this.#path, { force: true });
  }
}

interface Recorded {
  readonly pgid: number;
  readonly start: string | null;
  readonly session: number | null;
}

/** What a dead run's record said, and which of its groups still run. */
export interface Leftovers {
  /** The pid of the run that wrote the record. */
  readonly run: number;
  /** Groups of its jobs still running here and recognised as its own. */
  readonly groups: readonly number[];
  /** Groups that may still run but cannot be checked here (no /proc): listed, not touched. */
  readonly unchecked: readonly number[];
  /** SLURM job arrays it submitted, finished or not (the cluster knows which). */
  readonly slurm: readonly string[];
  /** Containers its jobs started whose jobs had not ended: they may still run under their engine. */
  readonly containers: readonly { readonly engine: string; readonly name: string }[];
}

/** What a `c+` line may hold: an engine's name and a name wfc gives a container. */
const CONTAINER_LINE = /^c\+ (podman|docker) (wfc-[a-z0-9]+-\d+)$/;

/** The groups a run that died left running, from its `.wfc/running`; null when there is no record. */
export function findLeftovers(stateDir: string): Leftovers | null {
  let text: string;
  try {
    text = readFileSync(join(stateDir, "running"), "latin1");
  } catch {
    return null;
  }
  const lines = text.split("\n");
  const run = Number(/^run (\d+)/.exec(lines[0] ?? "")?.[1] ?? 0);
  const open = new Map<number, Recorded>();
  const slurm: string[] = [];
  const containers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const container = CONTAINER_LINE.exec(line);
    if (container !== null) containers.set(container[2]!, container[1]!);
    if (line.startsWith("c- ")) containers.delete(line.slice(3));
    const [sign, g, start, session] = line.split(" ");
    if (sign === "s" && /^\d+$/.test(g ?? "")) slurm.push(g!);
    const pgid = Number(g);
    if (!(Number.isInteger(pgid) && pgid > 1)) continue; // a torn last line
    if (sign === "+")
      open.set(pgid, { pgid, start: start && start !== "-" ? start : null, session: session && session !== "-" ? Number(session) : null });
    else if (sign === "-") open.delete(pgid);
  }
  const left = [...containers].map(([name, engine]) => ({ engine, name }));
  if (open.size === 0) return { run, groups: [], unchecked: [], slurm, containers: left };
  if (process.platform !== "linux") {
    return { run, groups: [], unchecked: [...open.keys()].filter((g) => signalGroup(g, 0)).sort((a, b) => a - b), slurm, containers: left };
  }
  const procs = scanProc();
  const groups: number[] = [];
  for (const r of open.values()) {
    const leader = procs.get(r.pgid);
    // The pid was reused: whatever group it leads now is someone else's.
    if (leader !== undefined && r.start !== null && leader.start !== r.start) continue;
    const members = [...procs.values()].filter(
      (p) => p.pgrp === r.pgid && p.state !== "Z" && p.state !== "X" && (r.session === null || p.session === r.session),
    );
    if (members.length > 0) groups.push(r.pgid);
  }
  return { run, groups: groups.sort((a, b) => a - b), unchecked: [], slurm, containers: left };
}

/** Stops the groups: SIGTERM, then SIGKILL to those still running after `graceMs`; resolves when they are gone (or stuck in the kernel). */
export async function stopGroups(groups: readonly number[], graceMs: number, killWaitMs = 5000): Promise<void> {
  for (const g of groups) signalGroup(g, "SIGTERM");
  const alive = () => groups.filter((g) => groupAlive(g));
  const graceEnd = performance.now() + graceMs;
  while (alive().length > 0 && performance.now() < graceEnd) await sleep(20);
  const left = alive();
  for (const g of left) signalGroup(g, "SIGKILL");
  const giveUp = performance.now() + killWaitMs;
  while (alive().length > 0 && performance.now() < giveUp) await sleep(20);
}

/** The record is dealt with: the next run has nothing to look for. */
export function forgetLeftovers(stateDir: string): void {
  rmSync(join(stateDir, "running"), { force: true });
}

function scanProc(): Map<number, ProcStat> {
  const procs = new Map<number, ProcStat>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseStat(readFileSync(`/proc/${name}/stat`, "latin1"));
      if (stat !== null) procs.set(Number(name), stat);
    } catch {
      // exited while we looked
    }
  }
  return procs;
}
