/**
 * The SLURM backend: a job is one element of a job array (see
 * runtime/slurm/executor.ts for the batching of a task's ready jobs into
 * arrays and the following of them). Each step goes as a self-contained
 * script; a retry (attempt > 0) is held until its task's other retries
 * are due, so they go back to the cluster together.
 */
import { describeStep } from "../jobs/describe.js";
import { stepScript } from "../jobs/step-script.js";
import type { Plan } from "../../contract/plan.js";
import type { SlurmExecutor } from "../slurm/executor.js";
import type { Backend, JobContext, JobOutcome, PreparedJob } from "./backend.js";

export class SlurmBackend implements Backend {
  /** The node's clock says when a job's commands started; wfc may have seen it a poll later. */
  readonly remoteClock = true;
  readonly #executor: SlurmExecutor;
  readonly #plan: Plan;
  /** The plan's own folder, where its `fn` modules are (the jobs may run elsewhere: `--directory`). */
  readonly #codeDir: string;

  constructor(executor: SlurmExecutor, plan: Plan, codeDir: string) {
    this.#executor = executor;
    this.#plan = plan;
    this.#codeDir = codeDir;
  }

  /** An element starts when the cluster runs it, not when it is submitted. */
  startsLater(): boolean {
    return true;
  }

  async run(job: PreparedJob, ctx: JobContext): Promise<JobOutcome> {
    // Until the array scripts enter software environments (issue 15), a step with one must not run outside it.
    const inEnvironment = job.commands.findIndex((c) => c.environment !== undefined);
    if (inEnvironment >= 0) {
      const c = job.commands[inEnvironment]!;
      const reason = `stage \`${c.stage}\` has a software environment (container, modules or conda), which the slurm executor does not enter yet: run it on a local executor`;
      return { kind: "failed", started: Date.now(), exitCode: null, step: inEnvironment, command: describeStep(c), reason };
    }
    const scripts = job.commands.map((c) => stepScript(c, this.#plan, this.#codeDir));
    const attempt = { retry: job.attempt > 0, retriesLeft: job.retriesLeft };
    const o = await this.#executor.run(job.key, scripts, job.log, ctx.onStart, attempt);
    const started = o.started ?? Date.now();
    if (o.ok) return { kind: "done", started };
    if (o.cancelled || ctx.signal.aborted) return { kind: "cancelled", started, exitCode: o.exitCode };
    // No exit code but a reason (sbatch refused the array, SLURM ended it): the reason is what to look at.
    const command = o.reason !== null && o.exitCode === null ? o.reason : describeStep(job.commands[o.step] ?? job.commands[0]!);
    const reason = o.reason ?? (o.exitCode !== null ? `exit ${o.exitCode}` : "failed");
    return { kind: "failed", started, exitCode: o.exitCode, step: o.step, command, reason };
  }

  cancelAll(): Promise<void> {
    return this.#executor.cancelAll();
  }

  async close(): Promise<void> {
    this.#executor.close();
  }
}
