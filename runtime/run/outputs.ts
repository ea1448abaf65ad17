import { existsSync, lstatSync, rmSync, type Stats } from "node:fs";
import { resolve } from "node:path";
import { outputPathProblem } from "../../contract/paths.js";

/**
 * What one declared output was before a job started. After a failure, wfc
 * removes what the job left half-written, and only that: a file the job
 * created or changed, a folder it created. Never a folder that was there
 * before (it may hold anything), never a file it left as it was, never a
 * path outside the workflow's folder.
 */
export type OutputBefore =
  /** Nothing was there: whatever is there now, the job made. */
  | { readonly kind: "absent" }
  /** A folder was there: it stays, with whatever is in it. */
  | { readonly kind: "folder" }
  /** A file (or a link, a fifo…): it stays only if it is still the same one, unchanged. */
  | { readonly kind: "entry"; readonly id: Identity };

/** Enough of a file's metadata to tell that it was replaced or written to. */
interface Identity {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly mode: number;
}

/** A job's outputs as they were before it ran: absolute path → state. */
export type OutputsBefore = ReadonlyMap<string, OutputBefore>;

/**
 * Records the state of a job's outputs (paths relative to `workdir`) before
 * its commands start. A path wfc must never remove (outside the folder, the
 * folder itself, `.wfc/`) is left out, so cleanup cannot reach it.
 * `absent(abs)` may say that a path cannot have existed (its folder was
 * created since the caller began), which spares looking.
 */
export function snapshotOutputs(workdir: string, paths: Iterable<string>, absent?: (abs: string) => boolean): OutputsBefore {
  const before = new Map<string, OutputBefore>();
  for (const path of paths) {
    if (outputPathProblem(path) !== undefined) continue;
    const abs = resolve(workdir, path);
    if (before.has(abs)) continue;
    before.set(abs, absent?.(abs) ? ABSENT : stateOf(lstatSync(abs, { throwIfNoEntry: false })));
  }
  return before;
}

/** What cleanup did with one output. */
export type Cleanup = { readonly path: string; readonly action: "removed" | "kept" };

/**
 * After a job failed or was cancelled: removes each output the job created
 * or changed since `before`, leaves the rest. Returns what it did, in order.
 */
export function removeWhatJobMade(before: OutputsBefore): Cleanup[] {
  const done: Cleanup[] = [];
  for (const [path, was] of before) {
    const now = lstatSync(path, { throwIfNoEntry: false });
    if (now === undefined) continue;
    if (madeByJob(was, now)) {
      rmSync(path, { recursive: now.isDirectory(), force: true });
      done.push({ path, action: "removed" });
    } else done.push({ path, action: "kept" });
  }
  return done;
}

/** Whether the file at `abs` was made or changed since `was` (undefined: not looked at, so new). */
export function writtenSince(was: OutputBefore | undefined, abs: string): boolean {
  const now = lstatSync(abs, { throwIfNoEntry: false });
  if (now === undefined) return false;
  return was === undefined || madeByJob(was, now);
}

/** The state of one path now, for a snapshot made piece by piece. */
export function stateNow(abs: string): OutputBefore {
  return stateOf(lstatSync(abs, { throwIfNoEntry: false }));
}

function madeByJob(was: OutputBefore, now: Stats): boolean {
  switch (was.kind) {
    case "absent":
      return true;
    case "folder":
      // A folder that was there stays; a file in its place is new.
      return !now.isDirectory();
    case "entry":
      return !sameIdentity(was.id, now);
  }
}

const ABSENT: OutputBefore = { kind: "absent" };

function stateOf(stats: Stats | undefined): OutputBefore {
  if (stats === undefined) return ABSENT;
  if (stats.isDirectory()) return { kind: "folder" };
  const { dev, ino, size, mtimeMs, ctimeMs, mode } = stats;
  return { kind: "entry", id: { dev, ino, size, mtimeMs, ctimeMs, mode } };
}

function sameIdentity(a: Identity, b: Stats): boolean {
  // ctime too: a job cannot set it back, as it can the mtime (`touch -d`, `cp -p`).
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.mode === b.mode;
}

/**
 * The declared outputs (paths relative to `workdir`) that are not there: one
 * stat each, no folder listing. An output that is a dangling link is missing.
 */
export function missingOutputs(workdir: string, paths: readonly string[]): string[] {
  const missing: string[] = [];
  for (const path of paths) if (!existsSync(resolve(workdir, path))) missing.push(path);
  return missing;
}

/**
 * Of the `missing` outputs, those still missing after waiting up to `waitMs`
 * for them: a shared file system may show a file written on a cluster node
 * some seconds late (Snakemake's `--latency-wait`). Looks again every
 * quarter second, only at what is missing; stops early when all are there
 * or `signal` aborts.
 */
export async function awaitOutputs(workdir: string, missing: string[], waitMs: number, signal: AbortSignal): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  while (missing.length > 0 && !signal.aborted && Date.now() < deadline) {
    await pause(Math.min(250, deadline - Date.now()), signal);
    missing = missingOutputs(workdir, missing);
  }
  return missing;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((r) => {
    const done = () => (clearTimeout(t), signal.removeEventListener("abort", done), r());
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
