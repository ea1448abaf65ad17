/**
 * What of a job runs, and why: its commands (each element's steps, in
 * order), the hash the journal records for it, and why it must run (or
 * undefined: up to date). A whole run runs every step of every element; a
 * partial one (select.ts) a prefix of the steps of the selected elements,
 * and `--forcerun` runs the forced steps of a job that is otherwise up to date.
 */
import { createHash } from "node:crypto";
import type { PlanTask } from "../../contract/plan.js";
import { describeStep } from "../jobs/describe.js";
import type { StepCommand } from "../jobs/expand.js";
import type { JobRef } from "../scheduler/scheduler.js";
import type { RunContext } from "./context.js";
import { whyRun } from "./freshness.js";
import { jobUnits, type JobUnit } from "./select.js";

export interface JobWork {
  /** What runs. */
  readonly commands: StepCommand[];
  /** What the journal records once it ran: the hash of the commands it is then up to date with. */
  readonly hash: string;
  /** Why it runs; undefined when it is up to date. */
  readonly why: string | undefined;
}

export async function jobWork(run: RunContext, ref: JobRef, task: PlanTask): Promise<JobWork> {
  const units = jobUnits(run.config.selection, ref.task, ref.first, ref.end, task.steps.length);
  const expand = async (list: readonly JobUnit[]) => {
    const out: StepCommand[] = [];
    for (const u of list) out.push(await run.expander.step(ref.task, task.steps[u.step]!, u.element));
    return out;
  };
  const selected = units.filter((u) => u.selected);
  const commands = await expand(selected);
  const hash = hashOf(commands);
  const freshness = (list: readonly StepCommand[], h: string) =>
    whyRun({ task: task.id, job: ref.job, hash: h, commands: list, workdir: run.workdir }, run.journal, {
      force: run.config.force === true,
      wouldWrite: run.wouldWrite,
    });
  let why = freshness(commands, hash);
  let recorded = hash;
  if (why !== undefined && selected.length < units.length && run.config.force !== true) {
    // Part of a job a whole run made up to date (the journal holds the whole job's hash) is up to date.
    const whole = await expand(units).catch(() => undefined);
    const wholeHash = whole && hashOf(whole);
    if (whole && wholeHash && freshness(whole, wholeHash) === undefined) {
      why = undefined;
      recorded = wholeHash;
    }
  }
  const forcedUnits = selected.flatMap((u, i) => (u.forced ? [i] : []));
  if (why !== undefined || forcedUnits.length === 0) return { commands, hash: recorded, why };
  // Up to date but forced: only the forced steps run; the rest stays as it is, so the job stays up to date.
  return { commands: forcedUnits.map((i) => commands[i]!), hash: recorded, why: "--forcerun" };
}

function hashOf(commands: readonly StepCommand[]): string {
  return createHash("sha256")
    .update(JSON.stringify(commands.map(describeStep)))
    .digest("hex");
}
