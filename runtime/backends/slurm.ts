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
import type { StepCommand } from "../jobs/expand.js";
import type { RunEnvironments } from "../environments/environments.js";
import { environmentLine, jobEnvironment, type JobEnvironment } from "../environments/job-script.js";
import { EnvironmentError } from "../../contract/environment.js";

export class SlurmBackend implements Backend {
  /** The node's clock says when a job's commands started; wfc may have seen it a poll later. */
  readonly remoteClock = true;
  readonly #executor: SlurmExecutor;
  readonly #plan: Plan;
  /** The plan's own folder, where its `fn` modules are (the jobs may run elsewhere: `--directory`). */
  readonly #codeDir: string;

  /** The run's software environments (issue 15): this machine's checks, where the jobs run. */
  readonly #environments: RunEnvironments | undefined;

  constructor(executor: SlurmExecutor, plan: Plan, codeDir: string, environments?: RunEnvironments) {
    this.#executor = executor;
    this.#plan = plan;
    this.#codeDir = codeDir;
    this.#environments = environments;
  }

  /** An element starts when the cluster runs it, not when it is submitted. */
  startsLater(): boolean {
    return true;
  }

  async run(job: PreparedJob, ctx: JobContext): Promise<JobOutcome> {
    // Each environment is checked on this machine before the first job that needs it is submitted, where this machine can tell.
    const unready = await this.#checkEnvironments(job);
    if (unready !== undefined) return unready;
    const scripts: string[] = [];
    try {
      for (const [k, c] of job.commands.entries())
        scripts.push(stepScript(c, this.#plan, this.#codeDir, this.#where(c, job.task.executor, k)));
    } catch (error) {
      // A value the environment's command line cannot carry (contract/environment.ts): the job is not submitted.
      if (!(error instanceof EnvironmentError)) throw error;
      const step = scripts.length;
      return {
        kind: "failed",
        started: Date.now(),
        exitCode: null,
        step,
        command: describeStep(job.commands[step]!),
        reason: error.message,
      };
    }
    const attempt = { retry: job.attempt > 0, retriesLeft: job.retriesLeft };
    const o = await this.#executor.run(job.key, scripts, job.log, ctx.onStart, attempt);
    const started = o.started ?? Date.now();
    const usage = o.usage ?? [];
    if (o.ok) return { kind: "done", started, usage };
    if (o.cancelled || ctx.signal.aborted) return { kind: "cancelled", started, exitCode: o.exitCode, usage };
    // No exit code but a reason (sbatch refused the array, SLURM ended it): the reason is what to look at.
    const command = o.reason !== null && o.exitCode === null ? o.reason : describeStep(job.commands[o.step] ?? job.commands[0]!);
    // A step whose environment the node lacks said so in one line (environments/job-script.ts): that is the reason.
    const said = job.commands[o.step]?.environment !== undefined ? environmentLine(job.log) : undefined;
    const reason = said ?? o.reason ?? (o.exitCode !== null ? `exit ${o.exitCode}` : "failed");
    return { kind: "failed", started, exitCode: o.exitCode, step: o.step, command, reason, usage };
  }

  /** Where a step in an environment runs: the workflow's folder, with the executor's engine. */
  #where(c: StepCommand, executor: string, k: number): { where: JobEnvironment; k: number } | undefined {
    if (c.environment === undefined || this.#environments === undefined) return undefined;
    const { workdir, stateDir } = this.#environments;
    return { where: jobEnvironment(this.#plan, executor, workdir, stateDir), k };
  }

  /**
   * This machine's checks (runtime/environments/checks.ts), once per
   * environment, as for a local job: the first job that needs a missing
   * image or module fails with its one line, the others are not submitted.
   * Skipped where this machine lacks the engine, the `module` command or
   * the conda frontend (a login node without them): the job checks on its node.
   */
  async #checkEnvironments(job: PreparedJob): Promise<JobOutcome | undefined> {
    const environments = this.#environments;
    if (environments === undefined) return undefined;
    const owner = `${job.key.task}#${job.key.job}`;
    for (const [i, c] of job.commands.entries()) {
      if (c.environment === undefined || c.kind === "fn" || !environments.checkableHere(c, job.task.executor)) continue;
      const { check, first } = await environments.check(c, job.task.executor, owner);
      if (check.ok) continue;
      if (!first) return { kind: "unavailable", reason: check.reason };
      return { kind: "failed", started: Date.now(), exitCode: null, step: i, command: describeStep(c), reason: check.reason };
    }
    return undefined;
  }

  cancelAll(): Promise<void> {
    return this.#executor.cancelAll();
  }

  async close(): Promise<void> {
    this.#executor.close();
  }
}
