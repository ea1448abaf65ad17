import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmdirSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { FnPool } from "../fn/fn-pool.js";
import type { FnOutcome } from "../fn/fn-worker.js";
import { unsafeCommand } from "../jobs/command-check.js";
import { Expander, UnsafePathError, type StepCommand } from "../jobs/expand.js";
import { fnArgs, stepScript } from "../jobs/step-script.js";
import { loadPlan, planProblem } from "../load-plan.js";
import type { Plan } from "../../contract/plan.js";
import { Scheduler, type JobRef } from "../scheduler/scheduler.js";
import { executorWorkers } from "../../contract/workers.js";
import { Journal } from "../state/journal.js";
import { StateError, diskFull, layoutProblem, stateProblem } from "../state/state-problem.js";
import { commandCause, timeoutText } from "./failure-cause.js";
import { OomWatch } from "./oom.js";
import { RunStats, type LimitUse, type PathStep } from "./stats.js";
import { removeWhatJobMade, snapshotOutputs } from "./outputs.js";
import { acquireLock } from "../state/lock.js";
import { findLeftovers, forgetLeftovers, RunningJobs, stopGroups } from "../state/running-jobs.js";
import { packageRoot } from "../../contract/package-root.js";
import type { Attempt } from "../slurm/executor.js";
import { ProcessPool, SpawnRunner, type Command, type JobRunner } from "../executors/index.js";

/** What a run reports as it goes (`--json` prints these as NDJSON; see schema/events.schema.json). */
export type RunEvent =
  | { readonly type: "run-start"; readonly time: number; readonly tasks: number; readonly jobs: number }
  | {
      readonly type: "job-start";
      readonly time: number;
      readonly task: string;
      readonly job: number;
      readonly elements: readonly [number, number];
    }
  | {
      readonly type: "job-end";
      readonly time: number;
      readonly task: string;
      readonly job: number;
      readonly elements: readonly [number, number];
      readonly status: "done" | "failed" | "skipped" | "cancelled";
      readonly start: number;
      readonly exitCode: number | null;
      readonly reason?: string;
      readonly log?: string;
    }
  | {
      readonly type: "would-run";
      readonly task: string;
      readonly job: number;
      readonly reason: string;
      readonly commands: readonly string[];
    }
  | {
      /** Jobs of a task went to SLURM as one job array. */
      readonly type: "slurm-submit";
      readonly time: number;
      readonly task: string;
      readonly jobId: string;
      readonly jobs: number;
      /** sbatch's arguments, the array script last. */
      readonly sbatch: readonly string[];
    }
  | { readonly type: "run-end"; readonly time: number; readonly summary: RunSummary };

export interface RunFailure {
  readonly task: string;
  readonly job: number;
  readonly command: string;
  readonly exitCode: number | null;
  /** Why it failed, in words: `exit 3`, `timed out after 2 s`, `killed by SIGSEGV`, `threw Error: …`, with `disk full: …` when its disk is. */
  readonly reason: string;
  readonly log: string;
  readonly tail: string;
}

export interface RunSummary {
  readonly status: "ok" | "failed" | "interrupted";
  readonly done: number;
  readonly skipped: number;
  readonly failed: number;
  /** Jobs that never ran: downstream of a failure, or not started after fail-fast or Ctrl-C. */
  readonly notRun: number;
  /** Why the run did not complete every job when no failed job says it (jobs that never became ready). */
  readonly reason?: string;
  readonly wallMs: number;
  readonly failures: readonly RunFailure[];
  /** The chain of jobs, each released by the end of the one before, that ends with the last job to finish. */
  readonly criticalPath: readonly PathStep[];
  /** The concurrency group (named limit or stage cap) that was full the longest; null when no job held one. */
  readonly busiestLimit: LimitUse | null;
}

/** How to run: what `wfc run`'s flags set. */
export interface RunConfig {
  /** At most this many jobs at once (`--jobs`); default: the plan's `jobs`, else no workflow-wide cap. */
  readonly jobs?: number;
  /** Run everything not downstream of a failure (`--keep-going`); default: stop starting jobs at the first. */
  readonly keepGoing?: boolean;
  /** Run every job, up to date or not (`--force`). */
  readonly force?: boolean;
  /** Run nothing; report what would run and why (`--dry-run`). */
  readonly dryRun?: boolean;
  /** Mark out-of-date jobs up to date without running them (`--touch`). */
  readonly touch?: boolean;
  /** This machine's cores (default: os.availableParallelism()). */
  readonly cores?: number;
}

export interface RunOptions {
  /** The folder the plan's `workdir` is relative to: plan.json's (default: the current directory, or the plan file's folder). */
  readonly planDir?: string;
  /** Aborting it stops the run as Ctrl-C does: running jobs are killed, the summary says `interrupted`. */
  readonly signal?: AbortSignal;
  /** Aborting it stops the run too, and SIGKILLs every running job's process group at once (a second Ctrl-C). */
  readonly kill?: AbortSignal;
  readonly config?: RunConfig;
  /** Every event of the run, as `--json` prints them (schema/events.schema.json). */
  readonly onEvent?: (event: RunEvent) => void;
  /** Runs commands; default: a pool of persistent worker processes (a plain spawner where none can start). */
  readonly runner?: JobRunner;
  /** What the user should know besides events, one line each: a stale lock taken over, a dead run's jobs stopped (default: stderr). */
  readonly onWarning?: (message: string) => void;
}

/**
 * Runs a plan on this machine: the scheduler says what may start, jobs run
 * their steps per element (a fused chain; a batch serially), the journal
 * records every finished job, and up-to-date jobs are skipped.
 *
 * `plan` is a plan object or the path of a plan.json (checked as `wfc run`
 * checks it). The promise resolves with the summary however the jobs went:
 * a failed job is in `summary.failures`, not an exception. It rejects with
 * a RunError only when the run cannot start (an unreadable or invalid plan,
 * another run holding the lock, a `.wfc/` it cannot use: a file where its
 * folder belongs, a full or read-only disk).
 */
export async function run(plan: Plan | string, options: RunOptions = {}): Promise<RunSummary> {
  if (typeof plan === "string") {
    const loaded = await loadPlan(plan);
    if (!loaded.ok) throw new RunError(loaded.message);
    return runPlan(loaded.plan, { ...options, planDir: options.planDir ?? dirname(resolve(plan)) });
  }
  const problem = planProblem(plan);
  if (problem !== undefined) throw new RunError(`the plan is not valid: ${problem}; recompile it with \`wfc compile\``);
  return runPlan(plan, options);
}

async function runPlan(plan: Plan, { config = {}, ...options }: RunOptions): Promise<RunSummary> {
  const runStart = Date.now();
  const emit = options.onEvent ?? (() => {});
  const workdir = resolve(options.planDir ?? ".", plan.workdir);
  const stateDir = join(workdir, ".wfc");
  // A plan object never went through loadPlan: no command may place a value where quoting cannot hold.
  const unsafe = unsafeCommand(plan);
  if (unsafe !== undefined) throw new RunError(`the plan cannot run: ${unsafe}`);
  const { lock, journal } = openState(stateDir, plan, config.dryRun === true);
  const oom = new OomWatch();
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`wfc: ${message}\n`));
  if (lock.ok && lock.tookOver !== undefined) warn(lock.tookOver);
  let runningJobs: RunningJobs | undefined;
  if (!config.dryRun) {
    try {
      // A run that died may have left jobs running: stop them before starting any of them again.
      await stopLeftovers(stateDir, warn);
      runningJobs = new RunningJobs(stateDir);
    } catch (error) {
      journal.close();
      lock.release();
      throw error;
    }
  }
  const cores = config.cores ?? availableParallelism();
  const jobs = config.jobs ?? plan.jobs ?? undefined;
  const onSlurm = plan.tasks.some((t) => plan.executors[t.executor]?.type === "slurm");
  // The SLURM side (execa and its ~150 modules) is loaded only for a plan that uses it: a local run starts faster.
  const slurmSide = onSlurm && !config.dryRun ? await loadSlurm() : undefined;
  const clusterMax = slurmSide?.clusterMaxArraySize();
  const layout = slurmSide?.slurmLayout(plan, clusterMax === undefined ? {} : { maxArraySize: clusterMax });
  const scheduler = new Scheduler(plan, { cores, ...(jobs !== undefined ? { jobs } : {}), slurmLicenses: layout?.usesLicenses ?? false });
  const workers = (name: string) => executorWorkers(plan.executors[name]!, jobs, cores);
  const expander = new Expander(plan, workdir, options.signal);
  const runner = options.runner ?? defaultRunner(plan, workers, jobs, warn);
  // Pool workers start while the run sets up, not when the first jobs wait for them.
  if (runner instanceof ProcessPool && !config.dryRun && !config.touch) runner.prestart(localCommandJobs(plan));
  const fnPools = new Map<string, FnPool>();
  const fnPool = (executor: string) => {
    let pool = fnPools.get(executor);
    if (!pool) {
      const e = plan.executors[executor]!;
      // `--jobs` bounds the calls that really run at once (see FN_CALLS_PER_WORKER).
      pool = new FnPool(e.type === "threads" ? "threads" : "processes", Math.min(workers(executor) ?? 1, jobs ?? Infinity), abort.signal);
      fnPools.set(executor, pool);
    }
    return pool;
  };
  const slurm =
    slurmSide &&
    layout &&
    new slurmSide.SlurmExecutor({
      plan,
      layout,
      workdir,
      stateDir,
      // `fn` steps on a node call this wfc (the workflow's folder is shared with the nodes).
      env: { WFC: join(packageRoot(), "dist", "cli", "bin.js") },
      onSubmit: (s) => {
        // Recorded before anything else: a wfc killed from here on leaves an array the next run must cancel.
        runningJobs?.addSlurm(s.id);
        emit({ type: "slurm-submit", time: Date.now(), task: s.task, jobId: s.id, jobs: s.jobs, sbatch: s.sbatch });
      },
    });
  // Folders made sure of in this run: a fan-out of 100,000 writes into a handful of them.
  const made = new Set<string>();
  /** Of those, the ones this run created: what is in them was made by this run's jobs. */
  const created = new Set<string>();
  const ensureDir = (dir: string) => {
    if (made.has(dir)) return;
    if (mkdirSync(dir, { recursive: true }) !== undefined) created.add(dir);
    made.add(dir);
  };
  /** Log folders this run wrote to: one left empty (every job succeeded silently) is removed at the end. */
  const logDirs = new Set<string>();
  const failures: RunFailure[] = [];
  const stats = new RunStats(plan);
  const wouldWrite = new Set<string>();
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const onKill = () => {
    abort.abort();
    void runner.killAll(0);
  };
  options.kill?.addEventListener("abort", onKill, { once: true });
  emit({ type: "run-start", time: Date.now(), tasks: plan.tasks.length, jobs: plan.tasks.reduce((n, t) => n + t.jobs, 0) });

  const running = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  // A job the scheduler hands on to a follower (Scheduler.follow) shares its
  // lane with it, so the runner starts the follower the moment it ends.
  let lanes = 0;
  /** Running jobs of tasks whose jobs can be followed, not followed yet. */
  const leaders = new Set<Started>();
  const startJob = (ref: JobRef, lane?: number): Started => {
    const job: Started = { ref, lane: lane ?? ++lanes, follower: null, ended: false };
    if (lane === undefined && scheduler.followable(ref.task)) leaders.add(job);
    const p = runJob(ref, job.lane, lane !== undefined)
      .catch((error: unknown) => {
        const task = plan.tasks[ref.task]!;
        // Ctrl-C during its glob: the job was cancelled before it started.
        if (abort.signal.aborted) {
          if (!scheduler.isRunning(ref)) return;
          scheduler.finish(ref, "failed");
          const now = Date.now();
          const elements = [ref.first, ref.end] as const;
          emit({ type: "job-end", time: now, task: task.id, job: ref.job, elements, status: "cancelled", start: now, exitCode: null });
          return;
        }
        // A job that cannot even be prepared (an unreadable glob, an output outside the folder, …) fails like one that ran.
        const message = String((error as Error)?.message ?? error);
        const reason = error instanceof UnsafePathError ? `${message}, so the job was not started` : message;
        failures.push({ task: task.id, job: ref.job, command: "", exitCode: null, reason, log: "", tail: "" });
        if (scheduler.isRunning(ref)) {
          scheduler.finish(ref, "failed");
          const now = Date.now();
          const elements = [ref.first, ref.end] as const;
          emit({ type: "job-end", time: now, task: task.id, job: ref.job, elements, status: "failed", start: now, exitCode: null, reason });
        }
        if (!config.keepGoing) scheduler.stop();
      })
      .then(() => {
        job.ended = true;
        leaders.delete(job);
        // Its follower holds the slot now, and may be followed in turn.
        if (job.follower !== null && !job.follower.ended) leaders.add(job.follower);
        running.delete(p);
        wake?.();
      });
    running.add(p);
    return job;
  };

  const runJob = async (ref: JobRef, lane: number, follows: boolean): Promise<void> => {
    const task = plan.tasks[ref.task]!;
    const commands: StepCommand[] = [];
    for (let e = ref.first; e < ref.end; e++) for (const step of task.steps) commands.push(await expander.step(ref.task, step, e));
    const hash = createHash("sha256")
      .update(JSON.stringify(commands.map(describe)))
      .digest("hex");
    const elements = [ref.first, ref.end] as const;
    // In a dry run nothing is rebuilt, so what would be must count as changed downstream.
    const rebuilt = commands.flatMap((c) => c.inputs.flatMap((i) => i.paths)).find((p) => wouldWrite.has(p));
    const why = config.force
      ? "--force"
      : rebuilt !== undefined
        ? `input ${rebuilt} would be rebuilt`
        : outOfDate(journal, task.id, ref.job, hash, commands, workdir);
    const skipped = (reason: string) => {
      scheduler.finish(ref, "skipped");
      const now = Date.now();
      emit({ type: "job-end", time: now, task: task.id, job: ref.job, elements, status: "skipped", start: now, exitCode: null, reason });
    };
    const outputs = commands.flatMap((c) => c.outputs.flatMap((o) => o.paths));
    if (why === undefined) return skipped("up to date");
    if (config.dryRun) {
      for (const path of outputs) wouldWrite.add(path);
      emit({ type: "would-run", task: task.id, job: ref.job, reason: why, commands: commands.map(describe) });
      scheduler.finish(ref, "skipped");
      return;
    }
    if (config.touch) {
      for (const path of outputs) touch(resolve(workdir, path));
      journal.append({ task: task.id, job: ref.job, status: "touched", hash, start: Date.now(), end: Date.now() });
      return skipped("touched");
    }
    const log = join(stateDir, "logs", task.id, `${ref.job}.log`);
    try {
      ensureDir(dirname(log));
    } catch (error) {
      throw new Error(stateProblem(error, dirname(log), stateDir));
    }
    logDirs.add(dirname(log));
    // Workers append to the log; one from an earlier run of this job goes first.
    if (journal.get(task.id, ref.job) !== undefined) rmSync(log, { force: true });
    // `fn` calls wait at their worker in batches: such a job starts when its worker says it did.
    const queued = scheduler.queued(ref.task);
    const onCluster = slurm !== undefined && plan.executors[task.executor]!.type === "slurm";
    let start = Date.now();
    const started = () => {
      stats.hold(ref.task, 1, start);
      emit({ type: "job-start", time: start, task: task.id, job: ref.job, elements });
    };
    // A SLURM job starts when the cluster runs it, not when it is submitted; a follower, when the job before it ended.
    let running = !queued && !onCluster && !follows;
    if (running) started();
    const onStart = (at: number) => {
      if (running) return;
      running = true;
      start = at;
      started();
    };
    // What the outputs were before the job, so a failure removes only what it made.
    // An output in a folder this run created was not there before the run: no need to look (a fan-out into a new folder costs no lstat a job).
    const before = snapshotOutputs(workdir, outputs, (path) => created.has(dirname(path)));
    let outcome: Awaited<ReturnType<typeof runCommands>> | undefined;
    for (let attempt = 0; attempt <= task.retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(30_000, 250 * 2 ** (attempt - 1)), abort.signal);
      if (onCluster) {
        outcome = await runOnCluster(ref, commands, log, onStart, { retry: attempt > 0, retriesLeft: attempt < task.retries });
      } else {
        // Only a first attempt goes in the lane: a retry must not wait on (or be skipped for) its follower.
        outcome = await runCommands(commands, task.executor, task.timeout, log, attempt === 0 ? lane : undefined, onStart);
        if (outcome.notRun) {
          // The job before it in its lane failed, so it never started: it is ready again.
          scheduler.putBack(ref);
          return;
        }
      }
      onStart(outcome.started);
      // The node's own clock says when a SLURM job's commands started (wfc may have seen it a poll later).
      if (onCluster) start = Math.min(start, outcome.started);
      if (outcome.ok || outcome.cancelled || abort.signal.aborted) break;
    }
    outcome ??= { ok: false, exitCode: null, command: "", cancelled: true, started: start, reason: "cancelled" };
    const end = Date.now();
    stats.ran(ref, start, end);
    stats.hold(ref.task, -1, end);
    const failed = (reason: string, exitCode: number | null, command: string) => {
      // The tail is the job's own words; the reason comes on the failure line, and last in the log.
      const lines = tail(log);
      appendLog(log, `wfc: ${task.id}#${ref.job} failed: ${reason}\n`);
      failures.push({ task: task.id, job: ref.job, command, exitCode, reason, log, tail: lines });
      emit({ type: "job-end", time: end, task: task.id, job: ref.job, elements, status: "failed", start, exitCode, reason, log });
    };
    if (outcome.ok) {
      const unrecorded = record({ task: task.id, job: ref.job, status: "done", hash, start, end, exitCode: 0 });
      if (unrecorded === undefined) {
        scheduler.finish(ref, "done");
        emit({ type: "job-end", time: end, task: task.id, job: ref.job, elements, status: "done", start, exitCode: 0, log });
        return;
      }
      // Its outputs are whole, so they stay; but a run that cannot record what it did stops (the job runs again next time).
      scheduler.finish(ref, "failed");
      failed(`it ran, but ${unrecorded}`, 0, "");
      scheduler.stop();
      return;
    }
    // Looked at before the cleanup below frees what a job that filled the disk wrote.
    const full = outcome.cancelled || abort.signal.aborted ? undefined : diskFull([workdir, dirname(log)]);
    // A job that did not finish leaves no half-written outputs behind (and removes nothing else).
    removeWhatJobMade(before);
    scheduler.finish(ref, "failed");
    if (outcome.cancelled || abort.signal.aborted) {
      emit({
        type: "job-end",
        time: end,
        task: task.id,
        job: ref.job,
        elements,
        status: "cancelled",
        start,
        exitCode: outcome.exitCode,
        log,
      });
      return;
    }
    const unrecorded = record({ task: task.id, job: ref.job, status: "failed", hash, start, end, exitCode: outcome.exitCode });
    const reason = [outcome.reason, full, unrecorded && `and ${unrecorded}`].filter(Boolean).join("; ");
    failed(reason, outcome.exitCode, outcome.command);
    if (!config.keepGoing || unrecorded !== undefined) scheduler.stop();
  };

  /** Appends to the journal; a state problem (disk full, …) comes back in words, else undefined. */
  const record = (r: Parameters<Journal["append"]>[0]): string | undefined => {
    try {
      journal.append(r);
      return undefined;
    } catch (error) {
      if (error instanceof StateError) return error.message;
      throw error;
    }
  };

  const runCommands = async (
    commands: readonly StepCommand[],
    executor: string,
    timeout: number | null,
    log: string,
    lane: number | undefined,
    onStart: (at: number) => void,
  ): Promise<Ran> => {
    let started: number | undefined;
    for (let i = 0; i < commands.length; i++) {
      const c = commands[i]!;
      for (const o of c.outputs) for (const path of o.paths) ensureDir(dirname(resolve(workdir, path)));
      if (c.kind === "fn") {
        let outcome: FnOutcome;
        try {
          const call = { workdir, module: c.fn!.module, export: c.fn!.export, args: fnArgs(c, plan) };
          outcome = await fnPool(executor).run(call, timeout !== null ? timeout * 1000 : undefined);
        } catch (error) {
          outcome = { ok: false, error: String((error as Error)?.stack ?? error), start: Date.now(), end: Date.now() };
        }
        started ??= outcome.start;
        if (outcome.ok) continue;
        const reason = outcome.timedOut ? timeoutText(timeout ?? 0) : `threw ${outcome.error.split("\n")[0]}`;
        if (!outcome.timedOut) appendLog(log, `${outcome.error}\n`);
        return { ok: false, exitCode: null, command: describe(c), cancelled: abort.signal.aborted, started, reason };
      }
      // This command and the local ones right after it go to the runner as one job.
      const group = [c];
      while (i + 1 < commands.length && commands[i + 1]!.kind !== "fn") group.push(commands[++i]!);
      for (const g of group.slice(1)) for (const o of g.outputs) for (const path of o.paths) ensureDir(dirname(resolve(workdir, path)));
      started ??= Date.now();
      const [first, ...then] = group.map(toCommand);
      const pgids: number[] = [];
      const result = await runner.run(
        {
          id: c.stage,
          ...first!,
          then,
          cwd: workdir,
          log,
          ...(timeout !== null ? { timeoutMs: timeout * 1000 } : {}),
          ...(lane !== undefined ? { lane } : {}),
        },
        abort.signal,
        {
          started: (_pid, at) => onStart(at),
          group: (pgid) => {
            pgids.push(pgid);
            runningJobs?.add(pgid);
          },
        },
      );
      runningJobs?.remove(pgids);
      if (result.notRun)
        return { ok: false, exitCode: null, command: "", cancelled: false, started: result.startedAt, notRun: true, reason: "not run" };
      if (result.exitCode !== 0) {
        const command = describe(group[result.step]!);
        return {
          ok: false,
          exitCode: result.exitCode,
          command,
          cancelled: result.cancelled,
          started,
          reason: commandCause(result, timeout, oom),
        };
      }
    }
    return { ok: true, exitCode: 0, command: "", cancelled: false, started: started ?? Date.now(), reason: "" };
  };

  const runOnCluster = async (
    ref: JobRef,
    commands: readonly StepCommand[],
    log: string,
    onStart: (at: number) => void,
    attempt: Attempt,
  ) => {
    const scripts = commands.map((c) => stepScript(c, plan));
    const o = await slurm!.run(ref, scripts, log, onStart, attempt);
    const command = o.ok ? "" : o.reason !== null && o.exitCode === null ? o.reason : describe(commands[o.step] ?? commands[0]!);
    const reason = o.reason ?? (o.exitCode !== null ? `exit ${o.exitCode}` : "failed");
    return { ok: o.ok, exitCode: o.exitCode, command, cancelled: o.cancelled, started: o.started ?? Date.now(), reason };
  };

  abort.signal.addEventListener("abort", () => wake?.(), { once: true });
  // Ctrl-C: cancel everything submitted to SLURM; its jobs then end as cancelled.
  if (slurm) abort.signal.addEventListener("abort", () => void slurm.cancelAll(), { once: true });
  // Jobs, `fn` stages included (worker threads share the process's working
  // directory), see paths relative to the workflow's folder.
  const previousCwd = process.cwd();
  process.chdir(workdir);
  try {
    for (;;) {
      if (abort.signal.aborted) scheduler.stop();
      for (const ref of scheduler.take()) startJob(ref);
      for (const leader of leaders) {
        const next = scheduler.follow(leader.ref);
        if (next === undefined) continue;
        leaders.delete(leader);
        leader.follower = startJob(next, leader.lane);
      }
      // Nothing running and nothing could start: the run is over.
      if (running.size === 0) break;
      await new Promise<void>((r) => (wake = r));
    }
    await Promise.all(running);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    options.kill?.removeEventListener("abort", onKill);
    await Promise.all([...fnPools.values()].map((p) => p.close()));
    slurm?.close();
    if (!options.runner) await runner.close();
    for (const dir of logDirs) removeIfEmpty(dir);
    runningJobs?.close();
    journal.close();
    lock.release();
    process.chdir(previousCwd);
  }
  const total = plan.tasks.reduce((n, t) => n + t.jobs, 0);
  const { done, failed, skipped } = scheduler.counts;
  const ended = Date.now();
  const notRun = total - done - skipped - failed;
  // A run is ok only if every job ran or was up to date: jobs left waiting with
  // nothing failed or interrupted wait for each other (a plan that was not
  // checked, e.g. given to run() as an object), and that is no success.
  const stalled = !abort.signal.aborted && failures.length === 0 && notRun > 0;
  const summary: RunSummary = {
    status: abort.signal.aborted ? "interrupted" : failures.length > 0 || stalled ? "failed" : "ok",
    done,
    skipped,
    failed: failures.length,
    notRun,
    ...(stalled
      ? { reason: `${notRun} job${notRun === 1 ? "" : "s"} never became ready: they wait for each other (a dependency cycle in the plan?)` }
      : {}),
    wallMs: ended - runStart,
    failures,
    criticalPath: stats.criticalPath((job) => scheduler.releasedBy(job)),
    busiestLimit: stats.busiestLimit(runStart, ended),
  };
  emit({ type: "run-end", time: Date.now(), summary });
  return summary;
}

/** Stops the jobs a run that died left running (see RunningJobs), and says so. */
async function stopLeftovers(stateDir: string, warn: (message: string) => void): Promise<void> {
  const left = findLeftovers(stateDir);
  if (left === null) return;
  const groups = (n: number) => `${n} job process group${n === 1 ? "" : "s"}`;
  if (left.groups.length > 0) {
    await stopGroups(left.groups, 2000);
    warn(`stopped ${groups(left.groups.length)} left running by wfc run ${left.run}, which died`);
  }
  if (left.slurm.length > 0) {
    const { cancelLeftovers } = await import("../slurm/cluster.js");
    const cancelled = await cancelLeftovers(left.slurm);
    if (cancelled.length > 0)
      warn(
        `cancelled ${cancelled.length} SLURM job array${cancelled.length === 1 ? "" : "s"} (${cancelled.join(", ")}) left running by wfc run ${left.run}, which died`,
      );
  }
  if (left.unchecked.length > 0) {
    warn(
      `wfc run ${left.run} died and may have left ${groups(left.unchecked.length)} running (${left.unchecked.join(", ")}); this system cannot tell whose they are, so they were not stopped`,
    );
  }
  forgetLeftovers(stateDir);
}

async function loadSlurm() {
  const [{ clusterMaxArraySize }, { SlurmExecutor }, { slurmLayout }] = await Promise.all([
    import("../slurm/cluster.js"),
    import("../slurm/executor.js"),
    import("../../contract/slurm-layout.js"),
  ]);
  return { clusterMaxArraySize, SlurmExecutor, slurmLayout };
}

/**
 * One runner for every local command: the scheduler already bounds each
 * executor, so the pool only needs a worker per job that may run at once.
 */
function defaultRunner(
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

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or gone: either way nothing to do
  }
}

/** Jobs of the plan that run commands on this machine (at most: some may be up to date). */
function localCommandJobs(plan: Plan): number {
  return plan.tasks
    .filter((t) => plan.executors[t.executor]!.type !== "slurm" && t.steps.some((s) => s.action.kind !== "fn"))
    .reduce((n, t) => n + t.jobs, 0);
}

/** How a job's commands went (runCommands, runOnCluster). */
interface Ran {
  readonly ok: boolean;
  readonly exitCode: number | null;
  readonly command: string;
  readonly cancelled: boolean;
  readonly started: number;
  /** Why it failed (commandCause); empty when it did not. */
  readonly reason: string;
  readonly notRun?: boolean;
}

/**
 * Takes the lock and reads the journal, or says in one line (a RunError:
 * exit 2, nothing run) what about `.wfc/` is in the way and the fix: a file
 * where a folder belongs, a full or read-only disk, no permission.
 */
function openState(stateDir: string, plan: Plan, dryRun: boolean) {
  const tasks = plan.tasks.map((t) => t.id);
  const problem = layoutProblem(stateDir, tasks);
  if (problem !== undefined) throw new RunError(problem);
  let lock: ReturnType<typeof acquireLock>;
  try {
    // Made on its own first: a recursive mkdir reports a read-only disk as ENOENT.
    if (!existsSync(stateDir)) mkdirSync(stateDir);
    lock = dryRun ? { ok: true as const, release: () => {} } : acquireLock(stateDir);
  } catch (error) {
    throw new RunError(stateProblem(error, (error as NodeJS.ErrnoException).path ?? join(stateDir, "lock"), stateDir));
  }
  if (!lock.ok) throw new RunError(lock.message);
  try {
    return { lock, journal: new Journal(stateDir) };
  } catch (error) {
    lock.release();
    throw error instanceof StateError ? new RunError(error.message) : error;
  }
}

/** Appends a line to a job's log; a log that cannot be written (a full disk) loses the line, not the run. */
function appendLog(log: string, text: string): void {
  try {
    writeFileSync(log, text, { flag: "a" });
  } catch {
    // The summary and the job-end event still say it.
  }
}

/** A job the run loop started, and the one that follows it in its lane (see Scheduler.follow). */
interface Started {
  readonly ref: JobRef;
  readonly lane: number;
  follower: Started | null;
  ended: boolean;
}

/** A user-facing reason the run cannot start (a lock held by another run). */
export class RunError extends Error {}

function toCommand(c: StepCommand): Command {
  return c.kind === "argv" ? { kind: "argv", argv: c.argv!, env: c.env } : { kind: "shell", command: c.command!, env: c.env };
}

function describe(c: StepCommand): string {
  if (c.kind === "shell") return c.command!;
  if (c.kind === "argv") return c.argv!.map((a) => (/^[\w./:=@%+,-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
  return `fn ${c.fn!.module}#${c.fn!.export} ${JSON.stringify({ inputs: c.inputs, outputs: c.outputs, vars: c.vars })}`;
}

/** Why a job must run, or undefined when it is up to date. */
function outOfDate(
  journal: Journal,
  task: string,
  job: number,
  hash: string,
  commands: readonly StepCommand[],
  workdir: string,
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

function touch(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const now = new Date();
  if (existsSync(path)) utimesSync(path, now, now);
  else writeFileSync(path, "");
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, "utf8")
      .split("\n")
      .slice(-lines - 1)
      .join("\n")
      .trimEnd();
  } catch {
    return "";
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((r) => {
    const t = setTimeout(r, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
  });
}
