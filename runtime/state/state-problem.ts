import { readdirSync, statfsSync, statSync, type Dirent } from "node:fs";
import { dirname, join } from "node:path";

/**
 * A problem with wfc's state on disk (`.wfc/`, the journal, the logs),
 * worded for a user: the path, what is wrong and the fix, on one line.
 * The run loop turns it into a RunError (exit 2) before the run starts, or
 * into a job failure (exit 1) when it happens while jobs run.
 */
export class StateError extends Error {}

/** Below this many free bytes a file system counts as full: no job or journal gets far on it. */
const FULL_BELOW = 1024 * 1024;

/**
 * Free bytes (for an unprivileged writer) on the file system holding
 * `path`, or its nearest existing ancestor; undefined when it cannot be told.
 */
export function freeBytes(path: string): number | undefined {
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = statfsSync(p);
      return s.bavail * s.bsize;
    } catch {
      if (dirname(p) === p) return undefined;
    }
  }
}

/** `disk full: DIR has N bytes free` for the first of `dirs` whose file system is (nearly) full, else undefined. */
export function diskFull(dirs: readonly string[]): string | undefined {
  for (const dir of new Set(dirs)) {
    const free = freeBytes(dir);
    if (free !== undefined && free < FULL_BELOW) return `disk full: ${dir} has ${free} bytes free`;
  }
  return undefined;
}

/**
 * What went wrong writing or reading `path` (wfc's own state), as a
 * sentence with the fix: disk full, read-only, permission, a file where a
 * folder belongs or the other way round. Any other error keeps its message.
 */
export function stateProblem(error: unknown, path: string, stateDir: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOSPC":
      return `cannot write ${path}: disk full: ${dirname(path)} has ${freeBytes(dirname(path)) ?? 0} bytes free; free some space and run again`;
    case "EDQUOT":
      return `cannot write ${path}: disk quota exceeded; free some space and run again`;
    case "EROFS":
      return `cannot write ${path}: read-only file system; wfc keeps its state in ${stateDir}: run it where that folder can be written`;
    case "EACCES":
    case "EPERM":
      return `cannot write ${path}: permission denied; make ${dirname(path)} writable for this user`;
    case "ENOTDIR":
    case "EEXIST":
    case "EISDIR": {
      const layout = layoutProblem(stateDir);
      if (layout !== undefined) return layout;
      break;
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return `cannot use ${path}: ${message}`;
}

/** What kind of thing is at `path`: a file, a folder, something else, or nothing. */
function kind(path: string): "file" | "folder" | "other" | "none" {
  try {
    const s = statSync(path);
    return s.isDirectory() ? "folder" : s.isFile() ? "file" : "other";
  } catch (error) {
    // A file where a folder of the path belongs (`.wfc` a file: `.wfc/logs` is ENOTDIR) is found at that folder.
    return (error as NodeJS.ErrnoException).code === "ENOTDIR" ? "other" : "none";
  }
}

/**
 * `.wfc` must be a folder, its journal a file, its logs a folder of folders
 * (one per task of `tasks`): anything else there (left by a user, a
 * script, a bad copy) is named with the fix, before the run writes anything.
 */
export function layoutProblem(stateDir: string, tasks: readonly string[] = []): string | undefined {
  const state = kind(stateDir);
  if (state === "none") return undefined;
  if (state !== "folder") return `${stateDir} is not a folder: wfc keeps its state there (journal, logs, lock); move it away or remove it`;
  const journal = join(stateDir, "journal.ndjson");
  const j = kind(journal);
  if (j === "folder") return `${journal} is a folder, not a file: wfc records finished jobs there; move it away or remove it`;
  if (j === "other") return `${journal} is not a regular file: wfc records finished jobs there; move it away or remove it`;
  const logs = join(stateDir, "logs");
  const l = kind(logs);
  if (l === "none") return undefined;
  if (l !== "folder") return `${logs} is not a folder: wfc writes the jobs' logs there; move it away or remove it`;
  const ids = new Set(tasks);
  let entries: Dirent[] = [];
  try {
    entries = readdirSync(logs, { withFileTypes: true });
  } catch {
    // Unreadable: writing a log there fails later, with its own cause.
  }
  for (const entry of entries) {
    const path = join(logs, entry.name);
    if (ids.has(entry.name) && !entry.isDirectory() && kind(path) !== "folder") {
      return `${path} is not a folder: wfc writes the logs of task ${entry.name} there; move it away or remove it`;
    }
  }
  return undefined;
}
