/**
 * This machine's backend: local commands go to one JobRunner (persistent
 * pool workers, or a plain spawner), `fn` steps to a pool of worker threads
 * or child processes per executor. A fused job is split here: its commands
 * in a row go to the runner as one request (no round trip through Node
 * between them), each `fn` step is one call.
 */
import { dirname, resolve } from "node:path";
import { ProcessPool, SHELL_ARGV, SpawnRunner, type Command, type JobRunner } from "../executors/index.js";
import { FnPool } from "../fn/fn-pool.js";
import { measuring } from "../executors/measure.js";
import type { JobUsage } from "../state/usage.js";
import type { FnOutcome } from "../fn/fn-worker.js";
import type { StepCommand } from "../jobs/expand.js";
import { describeStep } from "../jobs/describe.js";
import { fnArgs } from "../jobs/step-script.js";
import type { Plan } from "../../contract/plan.js";
import { patternFolder } from "../../contract/expansion.js";
import { commandCause, timeoutText } from "../run/failure-cause.js";
import type { OomWatch } from "../run/oom.js";
import { appendLog } from "../run/logs.js";
import type { Backend, JobContext, JobOutcome, PreparedJob } from "./backend.js";
import type { RunEnvironments, Wrapped } from "../environments/environments.js";
import { EnvironmentError } from "../../contract/environment.js";

export interface LocalBackendOptions {
  readonly plan: Plan;
  /** Runs the commands; the caller closes it when it made it (see `ownsRunner`). */
  readonly runner: JobRunner;
  /** Close the runner with the backend (it was made for this run). */
  readonly ownsRunner: boolean;
  /** How many `fn` calls of an executor may run at once. */
  readonly fnWorkers: (executor: string) => number;
  /** Makes an output's folder (remembering which ones the run created: see runtime/run/folders.ts). */
  readonly ensureDir: (dir: string) => void;
  /** A command started as the leader of this process group, and the groups of a job that ended (`.wfc/running`). */
  readonly onGroup?: (pgid: number) => void;
  readonly onGroupsEnded?: (pgids: readonly number[]) => void;
  /** A job's containers are about to start, and (when their job ended) are gone: the next run removes those a crash left. */
  readonly onContainers?: (containers: readonly { readonly engine: string; readonly name: string }[]) => void;
  readonly onContainersEnded?: (names: readonly string[]) => void;
  /** The plan's own folder, where its `fn` modules are (the jobs may run elsewhere: `--directory`). */
  readonly codeDir: string;
  /** Tells a kill by the kernel's OOM killer from others. */
  readonly oom: OomWatch;
  /** Aborted on Ctrl-C: `fn` pools drop what waits and stop what runs. */
  readonly signal: AbortSignal;
  /** The run's software environments (issue 15): checked once each, commands wrapped to enter them. */
  readonly environments?: RunEnvironments;
}

export class LocalBackend implements Backend {
  readonly #o: LocalBackendOptions;
  readonly #fnPools = new Map<string, FnPool>();
  /** WFC_MEASURE=0: no usage (the pool's workers then send none either). */
  readonly #measure = measuring();
  /** The working directory before a thread pool needed the workflow's (see #fnPool). */
  #previousCwd: string | undefined;

  constructor(options: LocalBackendOptions) {
    this.#o = options;
  }

  /**
   * `fn` calls wait at their worker in batches, and a job in a lane may wait
   * behind the one before it (even a leader: its follower may reach the
   * runner first): they start when the worker says so.
   */
  startsLater(job: PreparedJob): boolean {
    return job.lane !== undefined || (job.task.steps.length > 0 && job.task.steps.every((s) => s.action.kind === "fn"));
  }

  prestart(jobs: number): void {
    if (this.#o.runner instanceof ProcessPool) this.#o.runner.prestart(jobs);
  }

  killAll(): void {
    void this.#o.runner.killAll(0);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#fnPools.values()].map((p) => p.close()));
    if (this.#o.ownsRunner) await this.#o.runner.close();
    if (this.#previousCwd !== undefined) process.chdir(this.#previousCwd);
  }

  async run(job: PreparedJob, ctx: JobContext): Promise<JobOutcome> {
    const { commands, task } = job;
    const timeout = task.timeout;
    // Each environment is checked before the first job that needs it starts; the others wait for that check.
    const unready = await this.#checkEnvironments(job);
    if (unready !== undefined) return unready;
    let started: number | undefined;
    /** What each command used, as far as measured (issue 16). */
    const usage: (JobUsage | undefined)[] = [];
    for (let i = 0; i < commands.length; i++) {
      const c = commands[i]!;
      this.#makeFolders(c, ctx.workdir);
      if (c.kind === "fn") {
        const outcome = await this.#call(c, task.executor, timeout, ctx.workdir);
        started ??= outcome.start;
        if (this.#measure) usage[i] = fnUsage(outcome);
        if (outcome.ok) continue;
        if (ctx.signal.aborted) return { kind: "cancelled", started, exitCode: null, step: i, usage };
        const reason = outcome.timedOut ? timeoutText(timeout ?? 0) : `threw ${outcome.error.split("\n")[0]}`;
        if (!outcome.timedOut) appendLog(job.log, `${outcome.error}\n`);
        return { kind: "failed", started, exitCode: null, step: i, command: describeStep(c), reason, usage };
      }
      // This command and the local ones right after it go to the runner as one job.
      const first = i;
      while (i + 1 < commands.length && commands[i + 1]!.kind !== "fn") this.#makeFolders(commands[++i]!, ctx.workdir);
      started ??= Date.now();
      const wrapped: Wrapped[] = [];
      try {
        for (const s of commands.slice(first, i + 1)) wrapped.push(this.#command(s, task.executor, ctx.workdir));
      } catch (error) {
        // A value the environment's command line cannot carry (contract/environment.ts): the step does not start.
        if (!(error instanceof EnvironmentError)) throw error;
        const at = first + wrapped.length;
        return {
          kind: "failed",
          started,
          exitCode: null,
          step: at,
          command: describeStep(commands[at]!),
          reason: error.message,
          final: true,
        };
      }
      const [head, ...then] = wrapped.map((w) => w.command);
      const containers = wrapped.flatMap((w) => (w.container === undefined ? [] : [w.container]));
      if (containers.length > 0) this.#o.onContainers?.(containers);
      const pgids: number[] = [];
      const result = await this.#o.runner.run(
        {
          id: c.stage,
          ...head!,
          then,
          cwd: ctx.workdir,
          log: job.log,
          ...(timeout !== null ? { timeoutMs: timeout * 1000 } : {}),
          // Only a job's first command group waits in its lane, and never starts unless the lane's job before it succeeded.
          ...(job.lane !== undefined && first === 0 ? { lane: job.lane.id, follows: job.lane.follows } : {}),
        },
        ctx.signal,
        {
          started: (_pid, at) => ctx.onStart(at),
          group: (pgid) => {
            pgids.push(pgid);
            this.#o.onGroup?.(pgid);
          },
        },
      );
      this.#o.onGroupsEnded?.(pgids);
      result.usage?.forEach((u, k) => (usage[first + k] = u));
      // A stopped container job: its engine's client may be gone, its container not (podman, docker).
      if (result.exitCode !== 0 && containers.length > 0) await this.#o.environments?.remove(containers);
      if (containers.length > 0) this.#o.onContainersEnded?.(containers.map((x) => x.name));
      if (result.notRun) return { kind: "not-run" };
      if (result.exitCode === 0) continue;
      if (result.cancelled || ctx.signal.aborted)
        return { kind: "cancelled", started, exitCode: result.exitCode, step: first + result.step, usage };
      const step = first + result.step;
      const reason = noBash(commands[step]!, result.error) ?? commandCause(result, timeout, this.#o.oom);
      return { kind: "failed", started, exitCode: result.exitCode, step, command: describeStep(commands[step]!), reason, usage };
    }
    return { kind: "done", started: started ?? Date.now(), usage };
  }

  /** A step's command for the runner: as it is, or entering its environment. */
  #command(c: StepCommand, executor: string, workdir: string): Wrapped {
    const environments = this.#o.environments;
    if (c.environment === undefined || environments === undefined) return { command: toCommand(c) };
    return environments.wrap(c, executor, workdir);
  }

  /**
   * The environments of a job's commands, each checked once per run: the
   * job that made a failing check fails with its one line; a job that
   * waited for it ends unavailable (not run).
   */
  async #checkEnvironments(job: PreparedJob): Promise<JobOutcome | undefined> {
    const environments = this.#o.environments;
    if (environments === undefined) return undefined;
    const owner = `${job.key.task}#${job.key.job}`;
    for (const [i, c] of job.commands.entries()) {
      if (c.environment === undefined || c.kind === "fn") continue;
      const { check, first } = await environments.check(c, job.task.executor, owner);
      if (check.ok) continue;
      if (!first) return { kind: "unavailable", reason: check.reason };
      return { kind: "failed", started: Date.now(), exitCode: null, step: i, command: describeStep(c), reason: check.reason, final: true };
    }
    return undefined;
  }

  #makeFolders(c: StepCommand, workdir: string): void {
    for (const o of [...c.outputs, ...c.logs]) {
      for (const path of o.paths) this.#o.ensureDir(dirname(resolve(workdir, path)));
      // A pattern output's files go in its literal folder (issue 14).
      if (o.pattern !== undefined) this.#o.ensureDir(resolve(workdir, patternFolder(o.pattern)));
    }
  }

  async #call(c: StepCommand, executor: string, timeout: number | null, workdir: string): Promise<FnOutcome> {
    try {
      const call = { workdir, module: resolve(this.#o.codeDir, c.fn!.module), export: c.fn!.export, args: fnArgs(c, this.#o.plan) };
      return await this.#fnPool(executor, workdir).run(call, timeout !== null ? timeout * 1000 : undefined);
    } catch (error) {
      return { ok: false, error: String((error as Error)?.stack ?? error), start: Date.now(), end: Date.now() };
    }
  }

  #fnPool(executor: string, workdir: string): FnPool {
    let pool = this.#fnPools.get(executor);
    if (pool !== undefined) return pool;
    const kind = this.#o.plan.executors[executor]!.type === "threads" ? "threads" : "processes";
    // A function sees its paths relative to the workflow's folder. A child
    // process changes into it for each call (fn-worker.ts); worker threads
    // cannot have a working directory of their own (Node shares the
    // process's), so while a thread pool runs the process's is the workflow's.
    if (kind === "threads" && this.#previousCwd === undefined && resolve(workdir) !== process.cwd()) {
      this.#previousCwd = process.cwd();
      process.chdir(workdir);
    }
    pool = new FnPool(kind, this.#o.fnWorkers(executor), this.#o.signal);
    this.#fnPools.set(executor, pool);
    return pool;
  }
}

/**
 * One runner for every local command: the scheduler already bounds each
 * executor, so the pool only needs a worker per job that may run at once.
 */
export function defaultRunner(
  plan: Plan,
  workers: (executor: string) => number | undefined,
  jobs: number | undefined,
  warn: (message: string) => void,
): JobRunner {
  const local = Object.entries(plan.executors).filter(([, e]) => e.type !== "slurm");
  const size = Math.max(
    1,
    Math.min(
      256,
      jobs ?? Infinity,
      local.reduce((n, [name]) => n + (workers(name) ?? 1), 0),
    ),
  );
  return ProcessPool.detect() !== null ? new ProcessPool({ size, onWarning: warn }) : new SpawnRunner({ size });
}

/** An `fn` call's usage: its wall time, and its CPU where its worker could attribute it (fn-worker.ts). */
function fnUsage(o: FnOutcome): JobUsage {
  const wall = { wallMs: Math.max(0, o.end - o.start) };
  return o.cpu === undefined ? { ...wall, via: "worker" } : { ...wall, userMs: o.cpu.userMs, sysMs: o.cpu.sysMs, via: "worker" };
}

function toCommand(c: StepCommand): Command {
  return c.kind === "argv"
    ? { kind: "argv", argv: c.argv!, env: c.env }
    : { kind: "shell", command: c.command!, shell: c.shell ?? "sh", env: c.env };
}

/** A shell command that needed bash where there is none: the runner's error, with the way out. */
function noBash(c: StepCommand, error: string | null): string | undefined {
  if (c.kind !== "shell" || c.shell !== "bash" || error === null || !error.startsWith(`cannot execute ${SHELL_ARGV.bash[0]}:`))
    return undefined;
  return (
    `${error}: stage \`${c.stage}\` runs its \`run\` string with bash in strict mode (\`shell: bash\`, the default), ` +
    "and no bash is on PATH; install bash, or set `shell: sh` on the stage (or under `defaults`) to run it with /bin/sh"
  );
}
