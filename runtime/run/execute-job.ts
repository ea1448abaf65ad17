/**
 * One job, from the scheduler's hand to its end: prepare (expand its
 * commands), decide (up to date? dry run? touch?), run its attempts with
 * backoff on its backend, and settle. `settle` is the one place a job's end
 * is told: the journal, the scheduler, the cleanup of what a failed job
 * made, the failure record and exactly one `job-end` event.
 */
import { rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Backend, JobOutcome, PreparedJob } from "../backends/backend.js";
import { describeStep } from "../jobs/describe.js";
import { UnsafePathError } from "../jobs/expand.js";
import type { JobRef } from "../scheduler/scheduler.js";
import { StateError, diskFull, stateProblem } from "../state/state-problem.js";
import type { RunContext } from "./context.js";
import { jobEndEvent, type JobEnd } from "./events.js";
import { checkedUnitsOf, decide, touch, unitsOf, type Checked, type Unit } from "./freshness.js";
import { decidedByRun, patternsOf, snapshotPatterns, patternCleanup, type Decided } from "./expansion.js";
import { expansionOf, type JobExpansion } from "./expand-job.js";
import { outputsWith, protect, protectedInTheWay } from "./lifetimes.js";
import { appendLog, logFileName, tail } from "./logs.js";
import type { JournalRecord } from "../state/journal.js";
import type { JobUsage } from "../state/usage.js";
import { sumUsage, unitEnd } from "./usage.js";
import { unreachable } from "../../contract/unreachable.js";
import { awaitOutputs, missingOutputs, removeWhatJobMade, snapshotOutputs } from "./outputs.js";
import type { PlanTask } from "../../contract/plan.js";

/** A job's place in a lane (see runtime/scheduler/lanes.ts). */
export interface Lane {
  readonly id: number;
  /** It was handed on behind a running job: it starts when that one ends, if that one succeeded. */
  readonly follows: boolean;
}

/** Runs one job the scheduler handed out; resolves when it is settled (or put back). */
export async function executeJob(run: RunContext, ref: JobRef, lane?: Lane): Promise<void> {
  try {
    await execute(run, ref, lane);
  } catch (error) {
    prepareFailed(run, ref, error);
  }
}

async function execute(run: RunContext, ref: JobRef, lane: Lane | undefined): Promise<void> {
  const { plan, config, scheduler } = run;
  const task = plan.tasks[ref.task]!;
  // A step in a container is out of date when its image is other contents now: its digest, looked up once per run.
  const environments = run.environments;
  if (environments !== undefined) await environments.lookUpDigests(task);
  const options = {
    force: config.force === true,
    wouldWrite: run.wouldWrite,
    workdir: run.workdir,
    missingOk: run.temps?.isTemp,
    mtimes: run.mtimes,
    digestNow: environments && ((stage: string) => environments.digestNow(task, stage)),
  };
  // Every step of every element, or what a partial run selected of them (select.ts); the journal vouches for most
  // commands of an up-to-date job, which then need not be built (fingerprint.ts).
  const checked = await checkedUnitsOf(run.expander, run.journal, run.fingerprints, ref.task, task, ref.first, ref.end, config.selection);
  if (decide(checked, run.journal, options).why === undefined && run.temps?.neededAgain(ref) === undefined)
    return settleUpToDate(run, ref, checked);
  // It runs: every command built.
  const units = await unitsOf(run.expander, ref.task, task, ref.first, ref.end, config.selection, run.fingerprints);
  const decision = decide(units, run.journal, options);
  // Up to date but for its gone temp outputs, which a job that must run reads: all of it runs again.
  const needed = decision.why === undefined ? run.temps?.neededAgain(ref) : undefined;
  const { run: toRun, why } = needed === undefined ? decision : { run: units, why: needed };
  if (why === undefined) return settleUpToDate(run, ref, units);
  const commands = toRun.map((u) => u.command);
  // Logs are not outputs: a failure keeps them, success does not require them.
  const outputsOf = (list: readonly Unit[]) => list.flatMap((u) => u.command.outputs.flatMap((o) => o.paths));
  const outputs = outputsOf(toRun);
  if (config.dryRun) {
    for (const path of outputs) run.wouldWrite.add(path);
    run.emit({ type: "would-run", task: task.id, job: ref.job, reason: why, commands: commands.map(describeStep) });
    run.tally.wouldRun++;
    scheduler.finish(ref, "skipped");
    return;
  }
  // From here on files change: checks after this look again.
  run.mtimes.forget();
  if (config.touch) {
    for (const path of outputs) touch(resolve(run.workdir, path));
    const now = Date.now();
    // A deciding step keeps what it decided last time (its files are touched, not listed).
    const kept = (u: Unit) => {
      const rows = run.journal.get(u.stage, u.element)?.decided;
      return rows === undefined ? {} : { decided: rows };
    };
    run.journal.append(
      ...toRun.map((u) => ({
        stage: u.stage,
        element: u.element,
        status: "touched" as const,
        hash: u.hash,
        start: now,
        end: now,
        ...kept(u),
        ...fpOf(u),
        ...runOf(run),
      })),
    );
    run.unitsEnded?.(toRun.map((u) => unitEnd(task.id, ref.job, u, "touched", undefined, now, now, undefined, 1)));
    const expansion = expansionOf(run, ref, units, new Map());
    if (!expansion.ok)
      return settle(run, ref, {
        end: { status: "failed", exitCode: null, reason: expansion.reason },
        command: "",
        stop: !config.keepGoing,
      });
    return settle(run, ref, { end: { status: "skipped", reason: "touched" }, expansion: expansion.value });
  }

  // A protected output from an earlier run is never overwritten: the user removes it to rebuild it.
  const guarded = outputsWith(task, commands, "protected");
  const inTheWay = guarded.length > 0 ? protectedInTheWay(run.workdir, guarded) : undefined;
  if (inTheWay !== undefined) {
    const reason = `output ${JSON.stringify(inTheWay)} is protected and would be overwritten (${why}): remove it yourself to rebuild it`;
    const end = { status: "failed", exitCode: null, reason } as const;
    return settle(run, ref, { end, command: "", stop: !config.keepGoing });
  }

  const log = join(run.stateDir, "logs", task.id, logFileName(run.expander.identity(ref.task, ref.first), ref.end - ref.first));
  try {
    run.folders.ensureLogDir(dirname(log));
  } catch (error) {
    throw new Error(stateProblem(error, dirname(log), run.stateDir));
  }
  // Workers append to the log; one from an earlier run of this job goes first.
  if (units.some((u) => run.journal.get(u.stage, u.element) !== undefined)) rmSync(log, { force: true });

  const backend = run.backendFor(ref.task);
  const key = { task: ref.task, job: ref.job };
  // Only a first attempt goes in the lane: a retry must not wait on (or be skipped for) its follower.
  const first: PreparedJob = { key, task, commands, log, attempt: 0, retriesLeft: task.retries > 0, lane };
  // A retry resumes at the command that failed: the ones before it succeeded and their outputs are there.
  const job = (attempt: number, from: number): PreparedJob =>
    attempt === 0 ? first : { key, task, commands: commands.slice(from), log, attempt, retriesLeft: attempt < task.retries };
  const clock = startClock(run, ref, backend.startsLater(first));
  // What the outputs were before the job, so a failure removes only what it made.
  // An output in a folder this run created was not there before the run: no need to look (a fan-out into a new folder costs no lstat a job).
  const before = snapshotOutputs(run.workdir, outputs, (path) => run.folders.created(dirname(path)));
  // A step that decides variables (issue 14): the files its patterns match now, so that only what it writes counts.
  const deciding = toRun.filter((u) => patternsOf(u).length > 0);
  const patternsBefore = deciding.length > 0 ? snapshotPatterns(run.workdir, deciding) : undefined;
  /** What each deciding unit that ran decided (looked at once its job exited 0). */
  const decided = new Map<Unit, Decided>();
  /** What they had decided before this run, to say which elements are gone. */
  const previously = new Map(deciding.map((u) => [u, run.journal.get(u.stage, u.element)?.decided]));
  const decidedFor = (u: Unit): Decided => {
    let d = decided.get(u);
    if (d === undefined) decided.set(u, (d = decidedByRun(run.workdir, u, patternsBefore ?? new Map())));
    return d;
  };
  /** What cleanup after a failure looks at: the declared outputs, and the files the patterns of `units` match now. */
  const beforeOf = (units: readonly Unit[]) =>
    patternsBefore === undefined ? before : new Map([...before, ...patternCleanup(run.workdir, units, patternsBefore)]);
  /**
   * Exit 0 is not enough: every declared output must be there (on SLURM, after the file system's latency),
   * else the attempt failed in the first step that did not write one (and is retried like any failure).
   * One stat an output; a job whose outputs are all there never waits.
   */
  const verify = async (o: JobOutcome): Promise<JobOutcome> => {
    if (o.kind !== "done") return o;
    let missing = missingOutputs(run.workdir, outputs);
    if (missing.length > 0) missing = await awaitOutputs(run.workdir, missing, latencyWait(run, task) * 1000, run.signal);
    if (missing.length === 0) {
      // A deciding step's files must tell its values: repeated lines, pattern outputs that disagree fail it.
      decided.clear();
      for (const [at, u] of toRun.entries()) {
        const d = patternsOf(u).length > 0 ? decidedFor(u) : undefined;
        if (d !== undefined && !d.ok)
          return { kind: "failed", started: o.started, exitCode: 0, step: at, command: describeStep(u.command), reason: d.reason };
      }
      return o;
    }
    if (run.signal.aborted) return { kind: "cancelled", started: o.started, exitCode: 0 };
    const gone = new Set(missing);
    const step = Math.max(
      0,
      toRun.findIndex((u) => outputsOf([u]).some((p) => gone.has(p))),
    );
    const reason = missingReason(missing, latencyWait(run, task));
    return { kind: "failed", started: o.started, exitCode: 0, step, command: describeStep(toRun[step]!.command), reason };
  };
  // A retry of a deciding step starts from what was there before the job: files the failed attempt wrote are no chunks.
  const beforeRetry = (from: number) => {
    if (patternsBefore !== undefined) removeWhatJobMade(patternCleanup(run.workdir, toRun.slice(from), patternsBefore));
  };
  const { outcome, measured } = await attempts(run, ref, backend, job, clock.onStart, verify, beforeRetry);
  if (outcome.kind === "not-run") {
    // The job before it in its lane failed, so it never started: it is ready again.
    scheduler.putBack(ref);
    return;
  }
  if (outcome.kind === "unavailable") {
    // Its environment failed the check another job made and reported: it never started, and counts as not run.
    scheduler.finish(ref, "failed");
    const job = { task: task.id, job: ref.job, elements: [ref.first, ref.end] as const };
    run.emit(jobEndEvent(job, { status: "cancelled", exitCode: null }, { start: clock.start, end: Date.now() }));
    return;
  }
  /** Each unit's command's index in the job (a batch may have thousands: no search per record). */
  const indexIn = new Map(toRun.map((u, i) => [u, i]));
  const usageOf = (u: Unit): JobUsage | undefined => measured[indexIn.get(u)!]?.usage;
  /** Which attempt ran a unit (from 1): a retry runs from the step that failed, so earlier steps keep theirs. */
  const attemptOf = (u: Unit): number => (measured[indexIn.get(u)!]?.attempt ?? 0) + 1;
  const unitOf = new Map(toRun.map((u) => [`${u.stage}\0${u.element}`, u]));
  clock.onStart(outcome.started);
  // The node's own clock says when a SLURM job's commands started (wfc may have seen it a poll later).
  if (backend.remoteClock) clock.start = Math.min(clock.start, outcome.started);
  const end = Date.now();
  run.stats.ran(ref, clock.start, end);
  run.stats.hold(ref.task, -1, end);
  const times = { start: clock.start, end };
  const jobUsage = sumUsage(
    measured.map((m) => m?.usage),
    end - clock.start,
  );
  const logs = commands.flatMap((c) => c.logs.flatMap((o) => o.paths.map((p) => resolve(run.workdir, p))));
  const records = (list: readonly Unit[], status: "done" | "failed", exitCode: number | null): JournalRecord[] =>
    list.map((u) => {
      const d = status === "done" && patternsOf(u).length > 0 ? decidedFor(u) : undefined;
      const rows = d?.ok === true ? { decided: d.rows } : {};
      const env = u.command.environment !== undefined ? run.environments?.record(task, u.stage) : undefined;
      const usage = usageOf(u);
      // Which attempt only where there can be several.
      const attempt = task.retries > 0 ? { attempt: attemptOf(u) } : {};
      return {
        stage: u.stage,
        element: u.element,
        status,
        hash: u.hash,
        ...times,
        exitCode,
        ...rows,
        ...fpOf(u),
        ...env,
        ...(usage !== undefined ? { usage } : {}),
        ...runOf(run),
        ...attempt,
      };
    });
  /** The journal's records of what ended, told to the trace too (`--trace`), with the unit Ctrl-C stopped. */
  const written = (list: readonly JournalRecord[], cancelled?: Unit): string | undefined => {
    const problem = journalProblem(run, list);
    if (run.unitsEnded !== undefined) {
      const ends = list.map((r, k) => {
        const u = unitOf.get(`${r.stage}\0${r.element}`) ?? toRun[k]!;
        return unitEnd(task.id, ref.job, u, r.status, r.exitCode ?? null, r.start, r.end, r.usage, attemptOf(u), log);
      });
      if (cancelled !== undefined)
        ends.push(
          unitEnd(task.id, ref.job, cancelled, "cancelled", null, times.start, times.end, usageOf(cancelled), attemptOf(cancelled), log),
        );
      run.unitsEnded(ends);
    }
    return problem;
  };
  /**
   * Unit `at` failed: each unit before it succeeded and is journaled done
   * (a fused job's steps count as their own jobs), the failing one failed;
   * only what the failing unit and those after it made is removed (they
   * made nothing if they never started). A state problem comes back in words.
   */
  const failAt = (at: number, exitCode: number | null): string | undefined => stopAt(at, { exitCode });
  /** Ctrl-C stopped unit `at` (the backend knows which): as a failure there, but nothing is journaled for it or after it. */
  const cancelAt = (at: number | undefined): void => {
    if (at === undefined || at <= 0) {
      removeWhatJobMade(beforeOf(toRun));
      written([], toRun[0]);
    } else stopAt(Math.min(at, toRun.length), undefined);
  };
  const stopAt = (at: number, failed: { readonly exitCode: number | null } | undefined): string | undefined => {
    const succeeded = toRun.slice(0, at);
    const rest = toRun.slice(at);
    const kept = new Set(outputsOf(succeeded).map((p) => resolve(run.workdir, p)));
    removeWhatJobMade(new Map([...beforeOf(rest)].filter(([path]) => !kept.has(path))));
    const whole = succeeded.filter((u) => missingOutputs(run.workdir, outputsOf([u])).length === 0);
    protectOutputs(whole);
    const stopped = failed === undefined ? [] : records(rest.slice(0, 1), "failed", failed.exitCode);
    return written([...records(whole, "done", 0), ...stopped], failed === undefined ? rest[0] : undefined);
  };
  /** The protected outputs of units that succeeded are made read-only. */
  const protectOutputs = (list: readonly Unit[]): void => {
    const paths =
      list === toRun
        ? guarded
        : outputsWith(
            task,
            list.map((u) => u.command),
            "protected",
          );
    const unprotected = paths.length > 0 ? protect(run.workdir, paths) : [];
    if (unprotected.length > 0)
      run.warn(`${task.id}#${ref.job}: could not make protected output ${unprotected.map((p) => JSON.stringify(p)).join(", ")} read-only`);
  };

  switch (outcome.kind) {
    case "done": {
      const unrecorded = written(records(toRun, "done", 0));
      protectOutputs(toRun);
      // Its outputs are whole, so they stay; but a run that cannot record what it did stops (the job runs again next time).
      if (unrecorded === undefined) {
        const expansion = expansionOf(run, ref, units, decided, previously);
        if (!expansion.ok) {
          const end = { status: "failed", exitCode: 0, reason: expansion.reason, log } as const;
          return settle(run, ref, { why, end, command: "", stop: !config.keepGoing }, times, jobUsage);
        }
        return settle(run, ref, { why, end: { status: "done", log }, expansion: expansion.value }, times, jobUsage);
      }
      const end = { status: "failed", exitCode: 0, reason: `it ran, but ${unrecorded}`, log } as const;
      return settle(run, ref, { why, end, command: "", stop: true }, times, jobUsage);
    }
    case "cancelled":
      // The steps before the one Ctrl-C stopped succeeded: they keep their outputs and are journaled, as after a failure.
      cancelAt(outcome.step);
      return settle(run, ref, { why, end: { status: "cancelled", exitCode: outcome.exitCode, log } }, times, jobUsage);
    case "failed": {
      if (run.signal.aborted) {
        cancelAt(outcome.step);
        return settle(run, ref, { why, end: { status: "cancelled", exitCode: outcome.exitCode, log } }, times, jobUsage);
      }
      // Looked at before the cleanup below frees what a job that filled the disk wrote.
      const full = diskFull([run.workdir, dirname(log)]);
      // A failed step leaves no half-written outputs behind; the steps before it keep theirs (and nothing else is removed).
      const at = Math.min(Math.max(0, outcome.step), toRun.length - 1);
      const unrecorded = failAt(at, outcome.exitCode);
      const reason = [outcome.reason, full, unrecorded && `and ${unrecorded}`].filter(Boolean).join("; ");
      const stop = !config.keepGoing || unrecorded !== undefined;
      return settle(
        run,
        ref,
        {
          why,
          end: { status: "failed", exitCode: outcome.exitCode, reason, log },
          command: outcome.command,
          stop,
          logs,
          unit: toRun[at],
        },
        times,
        jobUsage,
      );
    }
  }
}

/** Seconds to wait for a job's missing outputs: `--latency-wait`, else a few on SLURM (a shared file system), none locally. */
function latencyWait(run: RunContext, task: PlanTask): number {
  return run.config.latencyWait ?? (run.plan.executors[task.executor]?.type === "slurm" ? SLURM_LATENCY_WAIT : 0);
}

/** Snakemake's default `--latency-wait`. */
const SLURM_LATENCY_WAIT = 5;

/** Why a job that exited 0 failed: the outputs it did not write, every one named (the first 20, then a count). */
function missingReason(missing: readonly string[], waited: number): string {
  const shown = missing.slice(0, MISSING_SHOWN).map((p) => JSON.stringify(p));
  if (missing.length > MISSING_SHOWN) shown.push(`and ${missing.length - MISSING_SHOWN} more`);
  const after = waited > 0 ? ` (waited ${waited} s for the file system; raise it with --latency-wait)` : "";
  const what = missing.length === 1 ? "a declared output" : `${missing.length} declared outputs`;
  return `exit 0 but it did not write ${what}: ${shown.join(", ")}${after}`;
}

const MISSING_SHOWN = 20;

/**
 * Runs a job's attempts, with a backoff before each retry, until one
 * succeeds, is cancelled or none is left. A retry runs from the command that
 * failed on; a failure's `step` is an index into all the job's commands.
 */
async function attempts(
  run: RunContext,
  ref: JobRef,
  backend: Backend,
  job: (attempt: number, from: number) => PreparedJob,
  onStart: (at: number) => void,
  /** Looks at an attempt's outcome once it is in steps of the whole job: a `done` without its outputs is a failure. */
  verify: (outcome: JobOutcome) => Promise<JobOutcome>,
  /** Called before a retry that runs from command `from` on. */
  beforeRetry: (from: number) => void = () => {},
): Promise<{ outcome: JobOutcome; measured: Measured[] }> {
  const { task, commands } = job(0, 0);
  const retries = task.retries;
  let outcome: JobOutcome | undefined;
  let from = 0;
  /** Per command of the job, what its last run used and in which attempt (a retry runs from the command that failed). */
  const measured: Measured[] = [];
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) {
      // A retry runs outside its lane: nothing is handed on behind it (a follower would run beside it, past what the slot holds).
      run.scheduler.leaveLane(ref);
      await sleep(Math.min(30_000, 250 * 2 ** (attempt - 1)), run.signal);
      beforeRetry(from);
    }
    outcome = await backend.run(job(attempt, from), { workdir: run.workdir, signal: run.signal, onStart });
    if (outcome.kind === "done" || outcome.kind === "failed" || outcome.kind === "cancelled")
      outcome.usage?.forEach((usage, k) => (measured[from + k] = { usage, attempt }));
    if (outcome.kind === "failed") outcome = { ...outcome, step: Math.min(from + Math.max(0, outcome.step), commands.length - 1) };
    else if (outcome.kind === "cancelled" && outcome.step !== undefined) outcome = { ...outcome, step: from + outcome.step };
    outcome = await verify(outcome);
    if (outcome.kind !== "failed" || outcome.final === true || run.signal.aborted) break;
    from = outcome.step;
  }
  return { outcome: outcome ?? { kind: "cancelled", started: Date.now(), exitCode: null }, measured };
}

/** What a command of a job used (none: not measured), and the attempt (from 0) that ran it. */
interface Measured {
  readonly usage: JobUsage | undefined;
  readonly attempt: number;
}

/** A record's `run`: the run that writes it (none from a caller of run() that keeps no run records). */
function runOf(run: RunContext): { run?: string } {
  return run.runId === undefined ? {} : { run: run.runId };
}

/** When a job started: now, or (a SLURM element, a queued `fn` call, a lane's follower) when its backend says so. */
function startClock(run: RunContext, ref: JobRef, later: boolean) {
  const task = run.plan.tasks[ref.task]!;
  const clock = {
    start: Date.now(),
    running: false,
    onStart: (at: number) => {
      if (clock.running) return;
      clock.running = true;
      clock.start = at;
      run.stats.hold(ref.task, 1, at);
      run.emit({ type: "job-start", time: at, task: task.id, job: ref.job, elements: [ref.first, ref.end] });
    },
  };
  if (!later) clock.onStart(clock.start);
  return clock;
}

/**
 * How a job ended, for `settle`: its `job-end`, and for a failure the command
 * to blame, whether the run stops starting jobs and the job's declared logs
 * (absolute), shown when its own log is empty.
 */
type Settled =
  | {
      readonly end: Exclude<JobEnd, { status: "failed" }>;
      readonly why?: string;
      /** A job that decides dynamic elements (issue 14): they are added before it finishes. */
      readonly expansion?: JobExpansion;
    }
  | {
      readonly end: Extract<JobEnd, { status: "failed" }>;
      /** Why the job ran (see `decide`). */
      readonly why?: string;
      readonly command: string;
      readonly stop: boolean;
      readonly logs?: readonly string[];
      /** The step of the element that failed, when one did. */
      readonly unit?: Unit | undefined;
    };

/** The one place a job's end is told: the scheduler, the failure record, exactly one `job-end` event, fail-fast. */
function settle(run: RunContext, ref: JobRef, how: Settled, times?: { start: number; end: number }, usage?: JobUsage): void {
  const task = run.plan.tasks[ref.task]!;
  const now = Date.now();
  const { end } = how;
  // A job that ran changed files (and removing temp outputs after any job does): checks after this look again.
  if (!(end.status === "skipped" && end.reason === "up to date" && run.temps === undefined)) run.mtimes.forget();
  switch (end.status) {
    case "done":
    case "skipped":
      if ("expansion" in how && how.expansion !== undefined) how.expansion.apply();
      run.scheduler.finish(ref, end.status);
      // The temp outputs it read that nothing else still has to read go now.
      run.temps?.succeeded(ref, run.workdir, run.warn);
      break;
    case "cancelled":
      run.scheduler.finish(ref, "failed");
      run.tally.cancelled++;
      break;
    case "failed": {
      run.scheduler.finish(ref, "failed");
      const { command, logs = [], unit } = how as Extract<Settled, { command: string }>;
      const at = unit === undefined ? {} : { stage: unit.stage, element: unit.element };
      const failure = { task: task.id, job: ref.job, ...at, command, exitCode: end.exitCode, reason: end.reason };
      if (end.log === undefined) {
        run.failures.push({ ...failure, log: "", tail: "" });
      } else {
        // The tail is the job's own words; the reason comes on the failure line, and last in the log.
        const lines = tail(end.log);
        appendLog(end.log, `wfc: ${task.id}#${ref.job} failed: ${end.reason}\n`);
        // A command that sends its output to its declared log (`2> {log}`) leaves wfc's empty: show that log's words instead.
        const declared = lines === "" ? logs.map((path) => ({ path, words: tail(path) })).find((l) => l.words !== "") : undefined;
        run.failures.push({ ...failure, log: declared?.path ?? end.log, tail: declared?.words ?? lines });
      }
      break;
    }
    default:
      unreachable(end);
  }
  const job = { task: task.id, job: ref.job, elements: [ref.first, ref.end] as const };
  const event = jobEndEvent(job, end, times ?? { start: now, end: now }, usage);
  // A job that ran says why: which step (fused) of which element (a batch) was out of date, and why.
  run.emit(how.why === undefined ? event : { ...event, why: how.why });
  if ("stop" in how && how.stop) run.scheduler.stop();
}

/** A job that is up to date: what its deciding steps decided last time expands now (it may not be read, and then it fails). */
function settleUpToDate(run: RunContext, ref: JobRef, units: readonly Checked[]): void {
  vouchFor(run, units);
  const expansion = expansionOf(run, ref, units, new Map());
  if (expansion.ok) return settle(run, ref, { end: { status: "skipped", reason: "up to date" }, expansion: expansion.value });
  const end = { status: "failed", exitCode: null, reason: expansion.reason } as const;
  settle(run, ref, { end, command: "", stop: !run.config.keepGoing });
}

/**
 * Up-to-date units whose command was built because their record has
 * another fingerprint than their step now (the plan changed, wfc was
 * upgraded; their command did not) get their record again with the
 * fingerprint, so the next run need not build them (fingerprint.ts).
 */
function vouchFor(run: RunContext, units: readonly Checked[]): void {
  if (run.config.dryRun === true) return;
  const records: JournalRecord[] = [];
  for (const u of units) {
    if (u.fp === undefined || u.command === undefined) continue;
    const record = run.journal.get(u.stage, u.element);
    if (record !== undefined && record.fp !== u.fp && record.hash === u.hash) records.push({ ...record, fp: u.fp });
  }
  try {
    run.journal.append(...records);
  } catch {
    // Only a shortcut is lost: the next run builds these commands again.
  }
}

/** A record's fingerprint field: its unit's step's, when it has one. */
function fpOf(u: Checked): { fp?: string } {
  return u.fp === undefined ? {} : { fp: u.fp };
}

/**
 * A job that failed before it could run: its commands could not be prepared
 * (an unreadable glob, an output outside the folder, …), or Ctrl-C came
 * during its glob (then it was cancelled before it started).
 */
function prepareFailed(run: RunContext, ref: JobRef, error: unknown): void {
  const task = run.plan.tasks[ref.task]!;
  if (run.signal.aborted) {
    if (run.scheduler.isRunning(ref)) settle(run, ref, { end: { status: "cancelled", exitCode: null } });
    return;
  }
  const message = String((error as Error)?.message ?? error);
  const reason = error instanceof UnsafePathError ? `${message}, so the job was not started` : message;
  const stop = !run.config.keepGoing;
  if (run.scheduler.isRunning(ref)) {
    settle(run, ref, { end: { status: "failed", exitCode: null, reason }, command: "", stop });
    return;
  }
  run.failures.push({ task: task.id, job: ref.job, command: "", exitCode: null, reason, log: "", tail: "" });
  if (stop) run.scheduler.stop();
}

/** Appends to the journal; a state problem (disk full, …) comes back in words, else undefined. */
function journalProblem(run: RunContext, records: readonly JournalRecord[]): string | undefined {
  try {
    run.journal.append(...records);
    return undefined;
  } catch (error) {
    if (error instanceof StateError) return error.message;
    throw error;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((r) => {
    const t = setTimeout(r, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
  });
}
