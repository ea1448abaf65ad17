/**
 * `.wfc/runs/`: one RunRecord (./usage.ts) per run of `wfc run`, written
 * when it starts (`end: null`) and again when it ends, each time whole
 * (a temporary file renamed over it), so a reader never sees half of one.
 * The newest RUNS_KEPT stay; only files named like a run record are ever
 * removed (wfc never destroys what it did not create).
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunRecord } from "./usage.js";

/** How many run records `.wfc/runs/` keeps. */
export const RUNS_KEPT = 20;

/** A run record's file name: its id (`20261203T223600.123Z-4242`), `.json`. */
const RUN_FILE = /^\d{8}T\d{6}\.\d{3}Z-\d+\.json$/;

/** A sortable, unique id: the start in UTC to the millisecond, and wfc's pid (two runs in one folder hold its lock in turn). */
export function newRunId(start: number, pid: number = process.pid): string {
  return `${new Date(start).toISOString().replace(/[-:]/g, "")}-${pid}`;
}

/** `.wfc/runs/<id>.json`. */
export function runRecordPath(stateDir: string, id: string): string {
  return join(stateDir, "runs", `${id}.json`);
}

/** Writes the record whole (temp file + rename); throws what the file system said. */
export function writeRunRecord(stateDir: string, record: RunRecord): void {
  const folder = join(stateDir, "runs");
  mkdirSync(folder, { recursive: true });
  const path = runRecordPath(stateDir, record.id);
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(record, null, 2) + "\n");
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Removes the oldest run records beyond RUNS_KEPT (never `keep`, the run's own); other files are left alone. */
export function pruneRunRecords(stateDir: string, keep: string): void {
  let names: string[];
  try {
    names = readdirSync(join(stateDir, "runs"));
  } catch {
    return;
  }
  const runs = names.filter((n) => RUN_FILE.test(n)).sort();
  for (const name of runs.slice(0, Math.max(0, runs.length - RUNS_KEPT))) {
    if (name !== `${keep}.json`) rmSync(join(stateDir, "runs", name), { force: true });
  }
}
