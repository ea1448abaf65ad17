/**
 * `run()`, the library API of `wfc run`, and a run's lifecycle: take the
 * lock and read the journal, stop what a dead run left, open the backends,
 * run the loop (loop.ts; one job: execute-job.ts), then close everything
 * and sum up. Nothing here runs a job or decides about one.
 */
import { existsSync } from "node:fs";
import { arch, availableParallelism, hostname, platform, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Backend } from "../backends/backend.js";
import { LocalBackend, defaultRunner } from "../backends/local.js";
import { unsafeCommand } from "../jobs/command-check.js";
import { Expander } from "../jobs/expand.js";
import { staleInputsEvent } from "./events.js";
import { commandCpus } from "../../contract/cpus.js";
import { loadPlan, planProblem } from "../load-plan.js";
import type { Plan } from "../../contract/plan.js";
import { Scheduler } from "../scheduler/scheduler.js";
import { executorWorkers } from "../../contract/workers.js";
import { packageRoot, packageVersion } from "../../contract/package-root.js";
import { newRunId, pruneRunRecords, runRecordPath, writeRunRecord } from "../state/runs.js";
import type { RunRecord } from "../state/usage.js";
import type { SlurmLayout } from "../../contract/slurm-layout.js";
import { RunningJobs } from "../state/running-jobs.js";
import { RunEnvironments } from "../environments/environments.js";
import type { RunContext } from "./context.js";
import type { RunEvent, RunFailure, RunSummary } from "./events.js";
import { Folders } from "./folders.js";
import { TempOutputs } from "./lifetimes.js";
import { runLoop } from "./loop.js";
import { OomWatch } from "./oom.js";
import type { RunConfig, RunOptions } from "./options.js";
import { StepFingerprints } from "./fingerprint.js";
import { Mtimes } from "./mtimes.js";
import { RunError } from "./run-error.js";
import { RunElements } from "../scheduler/elements.js";
import { RunSelection } from "./run-selection.js";
import { selectedIn, selectionProblem, type Selection } from "./select.js";
import { missingSources, missingSourcesMessage } from "./sources.js";
import { lockState, readJournal, stopLeftovers } from "./state.js";
import { MemoRecorder, dropMemo, memoApplies, memoKey, replayEvents, replayable } from "./memo.js";
import { RunStats } from "./stats.js";

export type { JobEnd, RunEvent, RunFailure, RunSummary } from "./events.js";
export type { RunConfig, RunOptions } from "./options.js";
export { RunError } from "./run-error.js";

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

/**
 * Ctrl-C is heard from the first moment: the caller's signal is followed
 * before anything slow (the lock, leftovers, the SLURM side), so an interrupt
 * at any point of start-up ends the run with nothing started.
 */
async function runPlan(plan: Plan, options: RunOptions): Promise<RunSummary> {
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) abort.abort();
  try {
    return await lifecycle(plan, options, abort);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * `checkAfter`: this is the check after a run that ran jobs (a dry run
 * under that run's lock: it takes none), made only to leave a memo with this key.
 */
async function lifecycle(
  plan: Plan,
  { config: given = {}, ...options }: RunOptions,
  abort: AbortController,
  checkAfter?: { readonly key: string },
): Promise<RunSummary> {
  const runStart = Date.now();
  const emitEvent = options.onEvent ?? (() => {});
  const workdir = options.workdir !== undefined ? resolve(options.workdir) : resolve(options.planDir ?? ".", plan.workdir);
  const stateDir = join(workdir, ".wfc");
  // A plan object never went through loadPlan: no command may place a value where quoting cannot hold.
  const unsafe = unsafeCommand(plan);
  if (unsafe !== undefined) throw new RunError(`the plan cannot run: ${unsafe}`);
  const misfit = given.selection && selectionProblem(plan, given.selection);
  if (misfit) throw new RunError(misfit);
  // A partial run's dynamic tasks are selected per block; their elements get it as they come (run-selection.ts).
  // Made after a replay could spare them otherwise (memo.ts): every task's elements cost a no-op run 40 ms at 50,000 jobs.
  const selection =
    given.selection?.dynamic === undefined && given.selection?.expected === undefined
      ? undefined
      : new RunSelection(plan, given.selection, new RunElements(plan));
  const config: RunConfig = selection === undefined ? given : { ...given, selection };
  // Every source file must be there before any job runs (a dry run says so too); --touch runs nothing that reads them.
  // Each file's mtime is looked at once by the checks (mtimes.ts); whether a source is there, too.
  const mtimes = new Mtimes(workdir);
  if (!config.touch) {
    const missing = missingSources(plan, workdir, sourceSteps(config.selection), (path) => mtimes.get(path) !== undefined);
    if (missing.length > 0) throw new RunError(missingSourcesMessage(missing));
  }
  const lock = lockState(stateDir, plan, config.dryRun === true);
  const printWarning = options.onWarning ?? ((message: string) => process.stderr.write(`wfc: ${message}\n`));
  if (lock.ok && lock.tookOver !== undefined) printWarning(lock.tookOver);
  // `fn` modules are the workflow's: next to it, or (a plan moved away from it) where the jobs run.
  const planWorkdir = resolve(options.planDir ?? ".", plan.workdir);
  const codeDir = existsSync(resolve(options.planDir ?? ".", plan.source.file)) ? planWorkdir : workdir;
  const cores = config.cores ?? availableParallelism();
  const jobs = config.jobs ?? plan.jobs ?? undefined;
  // A no-op re-run whose checks would read what the last one read reports what it reported (memo.ts).
  const memo =
    checkAfter !== undefined
      ? { key: checkAfter.key, recorder: new MemoRecorder(plan) }
      : memoApplies(plan, config, options)
        ? { key: memoKey(plan, { workdir, codeDir, cores, jobs, config }), recorder: new MemoRecorder(plan) }
        : undefined;
  if (memo !== undefined && checkAfter === undefined) {
    const replay = await replayable(workdir, stateDir, memo.key, mtimes, abort.signal).catch(() => undefined);
    if (replay !== undefined) {
      emitEvent({ type: "run-start", time: Date.now(), tasks: plan.tasks.length, jobs: jobsToRun(plan, config) });
      // A replayed run is a run: `wfc report` shows it as the newest (nothing ran), as it would the run that checked.
      const record = startRecord(plan, stateDir, runStart, options, printWarning);
      for (const event of replayEvents(plan, replay.events, Date.now)) emitEvent(event);
      if (record !== undefined) endRecord(stateDir, record, "ok", printWarning);
      lock.release();
      const summary: RunSummary = { ...replay.summary, wallMs: Date.now() - runStart };
      emitEvent({ type: "run-end", time: Date.now(), summary });
      return summary;
    }
  }
  if (!config.dryRun) dropMemo(stateDir);
  const elements = selection?.elements ?? new RunElements(plan);
  const journal = readJournal(stateDir, lock, config.dryRun === true);
  const emit = (event: RunEvent) => {
    memo?.recorder.event(event);
    emitEvent(event);
  };
  const warn = (message: string) => {
    memo?.recorder.warned();
    printWarning(message);
  };
  let runningJobs: RunningJobs | undefined;
  if (!config.dryRun) {
    try {
      // A run that died may have left jobs running: stop them before starting any of them again.
      // What they wrote before they were stopped is looked at again.
      if (await stopLeftovers(stateDir, warn)) mtimes.forget();
      runningJobs = new RunningJobs(stateDir);
    } catch (error) {
      journal.close();
      lock.release();
      throw error;
    }
  }
  // The run's record (issue 16), for `wfc report`: a dry run runs nothing and keeps none.
  const record = config.dryRun ? undefined : startRecord(plan, stateDir, runStart, options, warn);
  const onSlurm = options.backend === undefined && plan.tasks.some((t) => plan.executors[t.executor]?.type === "slurm");
  // The SLURM side (execa and its ~150 modules) is loaded only for a plan that uses it: a local run starts faster.
  // Not after Ctrl-C: the loop will start nothing, so nothing can go to the cluster.
  const slurmSide = onSlurm && !config.dryRun && !abort.signal.aborted ? await loadSlurm() : undefined;
  const clusterMax = slurmSide?.clusterMaxArraySize();
  const layout = slurmSide?.slurmLayout(plan, clusterMax === undefined ? {} : { maxArraySize: clusterMax });
  const scheduler = new Scheduler(plan, {
    cores,
    ...(jobs !== undefined ? { jobs } : {}),
    slurmLicenses: layout?.usesLicenses ?? false,
    ...(config.selection ? { only: config.selection.steps } : {}),
    elements,
    ...(selection
      ? { onExpand: (task: number, block: number, first: number, end: number) => selection.grow(task, block, first, end) }
      : {}),
  });
  const folders = new Folders();
  // Software environments (issue 15), only for a plan whose steps have one.
  const environments = plan.tasks.some((t) => t.steps.some((s) => s.environment !== undefined))
    ? new RunEnvironments(plan, workdir, stateDir)
    : undefined;
  const open = { plan, workdir, codeDir, stateDir, jobs, cores, signal: abort.signal, warn, folders, runningJobs, environments };
  const backends = options.backend ?? openLocal(open, options, config);
  const slurm = slurmSide && layout && openSlurm(open, slurmSide, layout, (s) => emit(s));
  const all: Backend[] = [...(options.backend ? [] : [backends]), ...(slurm ? [slurm] : [])];
  const backendFor = (task: number): Backend =>
    options.backend ?? (slurm !== undefined && plan.executors[plan.tasks[task]!.executor]!.type === "slurm" ? slurm : backends);

  const onKill = () => {
    abort.abort();
    for (const b of all) b.killAll?.();
  };
  options.kill?.addEventListener("abort", onKill, { once: true });
  // Ctrl-C: cancel everything submitted to SLURM; its jobs then end as cancelled.
  // One that came during start-up still shuts the backends (nothing may be submitted after it).
  const cancelAll = () => all.forEach((b) => void b.cancelAll?.());
  if (abort.signal.aborted) cancelAll();
  else abort.signal.addEventListener("abort", cancelAll, { once: true });
  emit({ type: "run-start", time: Date.now(), tasks: plan.tasks.length, jobs: jobsToRun(plan, config) });

  const failures: RunFailure[] = [];
  const stats = new RunStats(plan);
  let run: RunContext = {
    plan,
    config,
    workdir,
    stateDir,
    scheduler,
    journal,
    expander: new Expander(plan, workdir, {
      elements: scheduler.elements,
      signal: options.signal,
      onStale: (stale) => emit(staleInputsEvent(stale)),
      walk: (pattern, signal) => mtimes.glob(pattern, signal),
      cpus: (task) =>
        commandCpus(
          task,
          plan.executors[task.executor]!.type === "slurm" ? { slurm: plan.executors[task.executor]!.slurm ?? {} } : { cores },
        ),
    }),
    fingerprints: new StepFingerprints(plan),
    folders,
    stats,
    emit,
    failures,
    tally: { cancelled: 0, wouldRun: 0 },
    wouldWrite: new Set(),
    mtimes,
    signal: abort.signal,
    backendFor,
    temps: undefined,
    warn,
    environments,
    runId: record?.id,
    unitsEnded: options.onUnitEnd,
  };
  try {
    try {
      // A plan with temp outputs looks at every job first: which temp outputs may stay gone (lifetimes.ts).
      if (!abort.signal.aborted) run = { ...run, temps: await TempOutputs.prepare(run) };
      await runLoop(run);
    } finally {
      options.kill?.removeEventListener("abort", onKill);
      await Promise.all(all.map((b) => b.close()));
      folders.tidy();
      runningJobs?.close();
      journal.close();
      if (record !== undefined) endRecord(stateDir, record, abort.signal.aborted ? "interrupted" : undefined, warn);
    }
    const summary = summarize(run, runStart);
    if (record !== undefined && summary.status !== "interrupted") endRecord(stateDir, record, summary.status, warn);
    // Still under the lock, the journal closed: what the next run compares with is final.
    const recorded = memo?.recorder.finish(stateDir, memo.key, mtimes, summary) === true;
    // A run that ran jobs for a while checks once more, as the next run would, so that the next no-op is quick too
    // (memo.ts). Not after a short run: its checks are quick anyway, and the user waits for its summary.
    if (memo !== undefined && checkAfter === undefined && !recorded && checkAfterRun(summary, options.checkAfterMs ?? CHECK_AFTER_MS)) {
      const quiet = { ...options, onEvent: undefined, onWarning: () => {} };
      // Only a memo is at stake: a check that fails leaves none, and the run's own outcome stands.
      await lifecycle(plan, { ...quiet, config: { ...given, dryRun: true } }, abort, { key: memo.key }).catch(() => undefined);
    }
    return summary;
  } finally {
    lock.release();
  }
}

/**
 * Writes the run's record as it starts (`end: null`). A folder where it
 * cannot be written costs the report, not the run: a warning says so.
 */
function startRecord(
  plan: Plan,
  stateDir: string,
  start: number,
  options: RunOptions,
  warn: (message: string) => void,
): RunRecord | undefined {
  const record: RunRecord = {
    id: newRunId(start),
    wfc: packageVersion(),
    start,
    end: null,
    outcome: null,
    argv: options.invocation?.argv ?? [],
    cwd: options.invocation?.cwd ?? process.cwd(),
    workflow: options.invocation?.workflow ?? "",
    params: plan.params,
    host: {
      hostname: hostname(),
      platform: `${platform()} ${arch()}`,
      cpus: availableParallelism(),
      memoryBytes: totalmem(),
      node: process.version,
    },
    plan,
  };
  try {
    writeRunRecord(stateDir, record);
    pruneRunRecords(stateDir, record.id);
    return record;
  } catch (error) {
    warn(`cannot write the run's record in ${join(stateDir, "runs")} (wfc report needs it): ${(error as Error).message}`);
    return undefined;
  }
}

/** Writes the run's record again with its end (before the summary when interrupted: the caller may exit right after). */
function endRecord(stateDir: string, record: RunRecord, outcome: RunRecord["outcome"] | undefined, warn: (message: string) => void): void {
  if (outcome === undefined) return;
  try {
    writeRunRecord(stateDir, { ...record, end: Date.now(), outcome });
  } catch (error) {
    warn(`cannot write the run's record ${runRecordPath(stateDir, record.id)}: ${(error as Error).message}`);
  }
}

/** A run after which the check for a memo is worth its time: it ran jobs, all well, for longer than the check takes. */
function checkAfterRun(summary: RunSummary, afterMs: number): boolean {
  const clean = summary.status === "ok" && summary.failed === 0 && summary.notRun === 0 && summary.cancelled === 0;
  return clean && summary.done > 0 && summary.wallMs >= afterMs;
}

/**
 * The shortest run that checks again after it ran jobs: a no-op check of
 * 50,000 jobs takes 2-3 s here, so a run of 5 s or more pays at most about
 * half of its time again, and a long one (where a quick no-op matters) a sliver.
 */
const CHECK_AFTER_MS = 5000;

/** What every backend is opened with. */
interface Opening {
  readonly plan: Plan;
  readonly workdir: string;
  /** The plan's own folder (its `workdir`), where its `fn` modules are, wherever the jobs run. */
  readonly codeDir: string;
  readonly stateDir: string;
  readonly jobs: number | undefined;
  readonly cores: number;
  readonly signal: AbortSignal;
  readonly warn: (message: string) => void;
  readonly folders: Folders;
  readonly runningJobs: RunningJobs | undefined;
  readonly environments: RunEnvironments | undefined;
}

function openLocal(o: Opening, options: RunOptions, config: RunConfig): LocalBackend {
  const { plan, jobs, cores } = o;
  const workers = (name: string) => executorWorkers(plan.executors[name]!, jobs, cores);
  const local = new LocalBackend({
    plan,
    runner: options.runner ?? defaultRunner(plan, workers, jobs, o.warn),
    ownsRunner: options.runner === undefined,
    // `--jobs` bounds the calls that really run at once (see FN_CALLS_PER_WORKER).
    fnWorkers: (executor) => Math.min(workers(executor) ?? 1, jobs ?? Infinity),
    ensureDir: (dir) => o.folders.ensure(dir),
    ...(o.runningJobs !== undefined
      ? {
          onGroup: (pgid: number) => o.runningJobs!.add(pgid),
          onGroupsEnded: (pgids: readonly number[]) => o.runningJobs!.remove(pgids),
          onContainers: (list: readonly { engine: string; name: string }[]) =>
            list.forEach((c) => o.runningJobs!.addContainer(c.engine, c.name)),
          onContainersEnded: (names: readonly string[]) => o.runningJobs!.removeContainers(names),
        }
      : {}),
    codeDir: o.codeDir,
    oom: new OomWatch(),
    signal: o.signal,
    ...(o.environments !== undefined ? { environments: o.environments } : {}),
  });
  // Pool workers start while the run sets up, not when the first jobs wait for them.
  if (!config.dryRun && !config.touch && !o.signal.aborted) local.prestart(localCommandJobs(plan));
  return local;
}

type SlurmSide = Awaited<ReturnType<typeof loadSlurm>>;

function openSlurm(
  o: Opening,
  side: SlurmSide,
  layout: SlurmLayout,
  emit: (event: { type: "slurm-submit"; time: number; task: string; jobId: string; jobs: number; sbatch: readonly string[] }) => void,
): Backend {
  const executor = new side.SlurmExecutor({
    plan: o.plan,
    layout,
    workdir: o.workdir,
    stateDir: o.stateDir,
    // `fn` steps on a node call this wfc (the workflow's folder is shared with the nodes).
    env: { WFC: join(packageRoot(), "dist", "cli", "bin.js") },
    onSubmit: (s) => {
      // Recorded before anything else: a wfc killed from here on leaves an array the next run must cancel.
      o.runningJobs?.addSlurm(s.id);
      emit({ type: "slurm-submit", time: Date.now(), task: s.task, jobId: s.id, jobs: s.jobs, sbatch: s.sbatch });
    },
  });
  return new side.SlurmBackend(executor, o.plan, o.codeDir, o.environments);
}

async function loadSlurm() {
  const [{ clusterMaxArraySize }, { SlurmExecutor }, { slurmLayout }, { SlurmBackend }] = await Promise.all([
    import("../slurm/cluster.js"),
    import("../slurm/executor.js"),
    import("../../contract/slurm-layout.js"),
    import("../backends/slurm.js"),
  ]);
  return { clusterMaxArraySize, SlurmExecutor, slurmLayout, SlurmBackend };
}

/** The run's summary from what its jobs did. */
function summarize(run: RunContext, runStart: number): RunSummary {
  const { plan, scheduler, failures, signal, tally } = run;
  // A dynamic task's jobs count as far as they became known (and a partial run selects them).
  const known = (i: number) => selectedIn(run.config.selection, i, 0, scheduler.jobsOf(i));
  const total = jobsToRun(plan, run.config) + plan.tasks.reduce((n, t, i) => n + (t.jobs === null ? known(i) : 0), 0);
  const { done, skipped } = scheduler.counts;
  const ended = Date.now();
  // Every job in exactly one bucket, so they add up to the total: the scheduler
  // counts a cancelled job as failed, and a dry run's job that would run as skipped.
  const { cancelled, wouldRun } = tally;
  const notRun = Math.max(0, total - done - skipped - failures.length - cancelled);
  // A run is ok only if every job ran or was up to date: jobs left waiting with
  // nothing failed or interrupted wait for each other (a plan that was not
  // checked, e.g. given to run() as an object), and that is no success.
  const unknown = plan.tasks.flatMap((t, i) => {
    const dyn = scheduler.elements.dynamic(i);
    return dyn === undefined || dyn.unexpanded === 0
      ? []
      : [{ task: t.id, from: dyn.dynamic.from.task, known: known(i), blocks: dyn.unexpanded }];
  });
  // A target naming elements by decided values that their producer did not decide was not made: never a success.
  const missed = run.config.selection instanceof RunSelection ? run.config.selection.missed : [];
  const stalled = !signal.aborted && failures.length === 0 && !run.config.dryRun && (notRun > 0 || unknown.length > 0);
  const summary: RunSummary = {
    status: signal.aborted ? "interrupted" : failures.length > 0 || stalled || missed.length > 0 ? "failed" : "ok",
    done,
    skipped: skipped - wouldRun,
    failed: failures.length,
    cancelled,
    notRun,
    ...(run.config.dryRun ? { wouldRun } : {}),
    ...(stalled && notRun > 0
      ? { reason: `${notRun} job${notRun === 1 ? "" : "s"} never became ready: they wait for each other (a dependency cycle in the plan?)` }
      : stalled
        ? { reason: `${unknown.map((u) => u.task).join(", ")} never learned all of ${unknown.length === 1 ? "its" : "their"} elements` }
        : {}),
    ...(missed.length > 0 && !signal.aborted ? { reason: missed.join("; ") } : {}),
    wallMs: ended - runStart,
    failures,
    criticalPath: run.stats.criticalPath((job) => scheduler.releasedBy(job)),
    busiestLimit: run.stats.busiestLimit(runStart, ended),
    ...(unknown.length > 0 ? { unknown } : {}),
  };
  run.emit({ type: "run-end", time: Date.now(), summary });
  return summary;
}

/** The jobs a run may run: the plan's, or those of a partial run (targets, `--until`). */
function jobsToRun(plan: Plan, config: RunConfig): number {
  return plan.tasks.reduce((n, t, i) => n + (config.selection?.jobs[i] ?? t.jobs ?? 0), 0);
}

/**
 * What of each task a partial run runs, for the check of source files: a
 * dynamic task's blocks, each as far as it or an element of it runs.
 */
function sourceSteps(selection: Selection | undefined): (ArrayLike<number> | undefined)[] | undefined {
  if (selection === undefined) return undefined;
  return selection.steps.map((s, t) => {
    const choice = selection.dynamic?.[t];
    if (choice === undefined) return s;
    const blocks = Uint16Array.from(choice.steps);
    for (const c of choice.elements) blocks[c.block] = Math.max(blocks[c.block]!, c.steps);
    return blocks;
  });
}

/** Jobs of the plan that run commands on this machine (at most: some may be up to date). */
function localCommandJobs(plan: Plan): number {
  return plan.tasks
    .filter((t) => plan.executors[t.executor]!.type !== "slurm" && t.steps.some((s) => s.action.kind !== "fn"))
    .reduce((n, t) => n + (t.jobs ?? 0), 0);
}
