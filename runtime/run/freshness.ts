/**
 * Whether a job must run, and why, in the words `--dry-run` and the
 * `job-end` events use; and what `--touch` does instead of running it.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describeStep } from "../jobs/describe.js";
import type { StepCommand } from "../jobs/expand.js";
import type { Journal } from "../state/journal.js";

export interface FreshnessInput {
  readonly task: string;
  readonly job: number;
  /** The hash of the job's commands as they are now. */
  readonly hash: string;
  readonly commands: readonly StepCommand[];
  readonly workdir: string;
}

/** What a job's journal record holds of its commands: a changed command makes it out of date. */
export function jobHash(commands: readonly StepCommand[]): string {
  return createHash("sha256")
    .update(JSON.stringify(commands.map(describeStep)))
    .digest("hex");
}

/**
 * Why a job must run, or undefined when it is up to date: `--force`, an input
 * a dry run would rebuild, no record of it, a failure last time, a changed
 * command, a missing output, an input newer than its outputs.
 */
export function whyRun(
  job: FreshnessInput,
  journal: Journal,
  options: {
    readonly force: boolean;
    readonly wouldWrite: ReadonlySet<string>;
    /** A missing output it need not rebuild (a `temp` output nothing must read again, see lifetimes.ts). */
    readonly missingOk?: ((path: string) => boolean) | undefined;
  },
): string | undefined {
  if (options.force) return "--force";
  // In a dry run nothing is rebuilt, so what would be must count as changed downstream.
  const rebuilt = job.commands.flatMap((c) => c.inputs.flatMap((i) => i.paths)).find((p) => options.wouldWrite.has(p));
  if (rebuilt !== undefined) return `input ${rebuilt} would be rebuilt`;
  return outOfDate(job, journal, options.missingOk);
}

function outOfDate(
  { task, job, hash, commands, workdir }: FreshnessInput,
  journal: Journal,
  missingOk: ((path: string) => boolean) | undefined,
): string | undefined {
  const record = journal.get(task, job);
  if (record === undefined || (record.status !== "done" && record.status !== "touched"))
    return record?.status === "failed" ? "it failed last time" : "it has not run";
  if (record.hash !== hash) return "its command changed";
  let oldestOutput = Infinity;
  for (const c of commands) {
    for (const o of c.outputs) {
      for (const path of o.paths) {
        const m = mtime(resolve(workdir, path));
        if (m === undefined && missingOk?.(path) === true) continue;
        if (m === undefined) return `output ${path} is missing`;
        oldestOutput = Math.min(oldestOutput, m);
      }
    }
  }
  for (const c of commands) {
    for (const i of c.inputs) {
      for (const path of i.paths) {
        const m = mtime(resolve(workdir, path));
        if (m !== undefined && m > oldestOutput) return `input ${path} is newer than its outputs`;
      }
    }
  }
  return undefined;
}

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** `--touch`: an output gets the current time, or is created empty. */
export function touch(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const now = new Date();
  if (existsSync(path)) utimesSync(path, now, now);
  else writeFileSync(path, "");
}
