/**
 * The `slurm` executor of `wfc run`: jobs of a task mapped to a SLURM
 * executor are submitted as job arrays and followed until they end.
 *
 * wfc's scheduler still decides when a job is ready (so mixed plans work:
 * a SLURM stage can read a local stage's outputs and the other way round);
 * every job that becomes ready within one short window is submitted with its
 * task's other ready jobs as one array (`--array=3,5,7-9`), chunked at the
 * cluster's MaxArraySize like the export. A stage whose inputs all exist
 * goes as one array; one fed element by element by another SLURM stage goes
 * in a few waves, as its inputs appear. (`wfc export slurm` chains such
 * stages inside SLURM with aftercorr instead; `wfc run` keeps the decision,
 * so that a local stage can sit between them.) A stage's cap becomes the array's
 * `%k` and a named limit that only SLURM stages share a `--licenses`, as in
 * the export; a capped task's next array waits (`afterany`) for the one
 * before, so the cap holds across them.
 *
 * Each element runs a small bash script from the workflow's folder (which
 * must be on a file system the nodes share, as for every SLURM workflow
 * manager): it appends its commands' output to wfc's own per-job log and,
 * when its commands are done, writes a status line (start, end, exit code,
 * failing step). wfc follows the arrays with `squeue -r -t all`; an element
 * is over when its status line exists, or when SLURM says it ended without
 * one (cancelled, timed out, out of memory, node failure: the exit code then
 * comes from `scontrol -o show job`), or when it has left SLURM's memory
 * (purged after MinJobAge) without one. Failed elements that have retries
 * left come back through the run loop and, failing together, are submitted
 * again together as one array of just their indices.
 */
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Plan } from "../../contract/plan.js";
import type { JobKey } from "../backends/backend.js";
import { realSlurmClient, type SlurmClient } from "./client.js";
import { slurmJobName, type SlurmLayout, type SlurmShape } from "../../contract/slurm-layout.js";
import { elementPhase } from "./parse.js";
import { RetryGate } from "./retry-gate.js";
import {
  cancelledOutcome,
  endElement,
  endWithoutStatusLine,
  type Element,
  type SlurmOutcome,
  type Submitted,
  type Waiting,
} from "./arrays.js";
import { indexList, readStarted, readStatus, watchSubmission, writeSubmission } from "./submission.js";

export type { SlurmOutcome } from "./arrays.js";

export interface SlurmExecutorOptions {
  readonly plan: Plan;
  readonly layout: SlurmLayout;
  /** The workflow's folder: where jobs run. */
  readonly workdir: string;
  /** `.wfc/` of the run: submissions go to `slurm/` in it. */
  readonly stateDir: string;
  /** Added to sbatch's environment (which jobs inherit): `WFC`, the wfc that `fn` steps call. */
  readonly env: Record<string, string>;
  /** Told when an element starts running on the cluster, and when an array is submitted. */
  readonly onSubmit?: (info: { task: string; id: string; jobs: number; sbatch: readonly string[] }) => void;
  /** The cluster's commands; the real ones unless a test drives a fake. */
  readonly client?: SlurmClient;
}

/**
 * Submission window: jobs of a task that become ready within it go in one
 * array. Short next to SLURM's own scheduling cadence (a second or more),
 * long enough that elements made ready one by one (a producer's elements
 * ending) mostly travel together.
 */
const GATHER_MS = 300;
/** Polling: quick at first, then slower while nothing changes (slurmctld serves everyone). */
const POLL_MIN_MS = 500;
const POLL_MAX_MS = 3000;
/** Polls an element may go without a status line after SLURM says it ended (shared file systems lag). */
const GRACE_POLLS = 2;
/** After scancel, how long to wait for the cluster to confirm the elements ended. */
const CANCEL_WAIT_MS = 20_000;

/** Which attempt of a job this is: retries go back to the cluster together. */
export interface Attempt {
  /** A retry: held until its task has nothing on the cluster and no other retry is still to come. */
  readonly retry: boolean;
  /** Whether the run loop retries this attempt if it fails. */
  readonly retriesLeft: boolean;
}

export class SlurmExecutor {
  readonly #options: SlurmExecutorOptions;
  readonly #client: SlurmClient;
  readonly #shapes: ReadonlyMap<string, SlurmShape>;
  /** Tasks with a stage cap: their arrays run one after another, so the cap holds across them. */
  readonly #capped = new Set<number>();
  #waiting: Waiting[] = [];
  readonly #retries = new RetryGate<Waiting>();
  #gather: NodeJS.Timeout | undefined;
  readonly #active = new Map<string, Submitted>();
  /** Per task: the last array submitted, for capped tasks' `afterany`. */
  readonly #lastOf = new Map<number, Submitted>();
  #poll: NodeJS.Timeout | undefined;
  #pollMs = POLL_MIN_MS;
  #polling: Promise<void> | null = null;
  #submissions = 0;
  #cancelled = false;

  constructor(options: SlurmExecutorOptions) {
    this.#options = options;
    this.#client = options.client ?? realSlurmClient;
    // The layout gives each task's throttle, licenses and #SBATCH options, a dynamic task's too (its arrays come as it expands).
    this.#shapes = options.layout.shapes;
    const caps = new Set(options.plan.groups.filter((g) => g.kind === "cap").map((g) => g.id));
    options.plan.tasks.forEach((task, t) => {
      if (task.groups.some((g) => caps.has(g.group))) this.#capped.add(t);
    });
  }

  /** Runs one job on the cluster; resolves when it ended, however it ended. */
  run(
    ref: JobKey,
    scripts: readonly string[],
    log: string,
    onStart: (at: number) => void,
    attempt: Attempt = { retry: false, retriesLeft: false },
  ): Promise<SlurmOutcome> {
    return new Promise((done) => {
      if (this.#cancelled) return done(cancelledOutcome());
      const task = ref.task;
      const resolve = (outcome: SlurmOutcome) => {
        if (!outcome.ok && !outcome.cancelled && attempt.retriesLeft) this.#retries.expect(task);
        done(outcome);
      };
      const waiting: Waiting = { ref, scripts, log, onStart, resolve };
      if (!attempt.retry) {
        this.#waiting.push(waiting);
        this.#gather ??= setTimeout(() => void this.#submitWaiting(), GATHER_MS);
        return;
      }
      this.#retries.hold(task, waiting);
      this.#releaseHeld(task);
    });
  }

  /** A task's held retries go to the cluster once none of its elements is on it and no other retry is still to come. */
  #releaseHeld(task: number): void {
    const mine = this.#retries.release(task, this.#busy(task));
    if (mine.length === 0) return;
    this.#waiting.push(...mine);
    this.#gather ??= setTimeout(() => void this.#submitWaiting(), GATHER_MS);
  }

  /** Whether any element of the task is still submitted and not ended. */
  #busy(task: number): boolean {
    for (const a of this.#active.values()) if (a.task === task && a.elements.size > 0) return true;
    return false;
  }

  /** Ctrl-C: nothing more is submitted, every submitted array is cancelled, and this waits (boundedly) until SLURM confirms. */
  async cancelAll(): Promise<void> {
    this.#cancelled = true;
    clearTimeout(this.#gather);
    this.#gather = undefined;
    for (const w of [...this.#waiting.splice(0), ...this.#retries.drain()]) w.resolve(cancelledOutcome());
    const ids = [...this.#active.keys()];
    await this.#client.scancel(ids);
    const deadline = Date.now() + CANCEL_WAIT_MS;
    while (this.#active.size > 0 && Date.now() < deadline) {
      await this.#pollOnce();
      if (this.#active.size > 0) await sleep(POLL_MIN_MS);
    }
    for (const array of [...this.#active.values()]) {
      for (const e of array.elements.values()) e.resolve(cancelledOutcome());
      this.#retire(array);
    }
    clearTimeout(this.#poll);
  }

  /** Stops following (nothing is left to follow when the run loop ends). */
  close(): void {
    clearTimeout(this.#gather);
    clearTimeout(this.#poll);
    for (const array of [...this.#active.values()]) this.#retire(array);
  }

  async #submitWaiting(): Promise<void> {
    this.#gather = undefined;
    const waiting = this.#waiting.splice(0);
    // One array per task and MaxArraySize chunk, as the export splits them.
    const groups = new Map<string, { task: number; chunk: number; jobs: Waiting[] }>();
    for (const w of waiting) {
      const chunk = Math.floor(w.ref.job / this.#options.layout.maxArraySize);
      const key = `${w.ref.task}.${chunk}`;
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = { task: w.ref.task, chunk, jobs: [] }));
      group.jobs.push(w);
    }
    for (const { task, chunk, jobs } of groups.values()) {
      if (this.#cancelled) for (const w of jobs) w.resolve(cancelledOutcome());
      else await this.#submit(jobs, task, chunk);
    }
  }

  async #submit(group: readonly Waiting[], t: number, chunk: number): Promise<void> {
    const { plan, layout, workdir, stateDir, env } = this.#options;
    const taskId = plan.tasks[t]!.id;
    const first = chunk * layout.maxArraySize;
    const shape = this.#shapes.get(taskId);
    const dir = join(stateDir, "slurm", `${taskId}.${chunk}.${++this.#submissions}`);
    const byIndex = new Map(group.map((w) => [w.ref.job - first, w]));
    writeSubmission(dir, workdir, byIndex);
    const indices = indexList([...byIndex.keys()]);
    const previous = this.#lastOf.get(t);
    const capped = this.#capped.has(t);
    const args = [
      `--job-name=${slurmJobName(plan, taskId)}`,
      `--array=${indices}${shape?.throttle != null ? `%${shape.throttle}` : ""}`,
      `--output=${join(dir, "out", "%a.out")}`,
      ...(shape && shape.licenses.length > 0 ? [`--licenses=${shape.licenses.join(",")}`] : []),
      ...(capped && previous !== undefined && this.#active.has(previous.id) ? [`--dependency=afterany:${previous.id}`] : []),
      ...(shape?.options ?? []),
      join(dir, "job.sh"),
    ];
    const result = await this.#client.sbatch(args, { cwd: workdir, env });
    if (!result.ok) {
      for (const w of group) w.resolve({ ok: false, exitCode: null, step: 0, cancelled: false, started: null, reason: result.message });
      return;
    }
    const elements = new Map<number, Element>();
    for (const [index, w] of byIndex) elements.set(index, { ...w, index, started: false, overdue: 0, lastState: null });
    const array: Submitted = { id: result.id, task: t, dir, elements, seen: false, watchers: [], failed: false };
    this.#watch(array);
    this.#active.set(result.id, array);
    this.#lastOf.set(t, array);
    this.#options.onSubmit?.({ task: taskId, id: result.id, jobs: group.length, sbatch: args });
    if (this.#cancelled) await this.#client.scancel([result.id]);
    this.#pollMs = POLL_MIN_MS;
    this.#schedulePoll();
  }

  /** Start and end seen the moment an element writes them, where the file system tells (see watchSubmission). */
  #watch(array: Submitted): void {
    array.watchers = watchSubmission(array.dir, (sub, index) => {
      const e = array.elements.get(index);
      if (e === undefined) return;
      if (sub === "started" && !e.started) {
        e.started = true;
        e.onStart(readStarted(join(array.dir, "started", String(index))) ?? Date.now());
      }
      const status = sub === "status" ? readStatus(join(array.dir, "status", String(index))) : null;
      if (status !== null) {
        endElement(array, e, status);
        if (array.elements.size === 0) this.#retire(array);
      }
    });
  }

  #retire(array: Submitted): void {
    this.#active.delete(array.id);
    for (const w of array.watchers) w.close();
    // Everything it ran is in the journal and the job logs: a clean submission leaves nothing behind.
    if (!array.failed && !this.#cancelled && array.elements.size === 0) rmSync(array.dir, { recursive: true, force: true });
    this.#releaseHeld(array.task);
  }

  #schedulePoll(): void {
    if (this.#poll !== undefined || this.#active.size === 0) return;
    this.#poll = setTimeout(() => {
      this.#poll = undefined;
      void this.#pollOnce().then(() => this.#schedulePoll());
    }, this.#pollMs);
  }

  #pollOnce(): Promise<void> {
    this.#polling ??= this.#check().finally(() => (this.#polling = null));
    return this.#polling;
  }

  async #check(): Promise<void> {
    const states = await this.#client.queueStates([...this.#active.keys()]);
    if (states === null) return; // slurmctld did not answer: ask again later
    let changed = false;
    for (const array of [...this.#active.values()]) {
      // One listing per array and poll, not a failed read per unfinished element.
      const written = new Set(readdirSync(join(array.dir, "status")));
      for (const e of [...array.elements.values()]) {
        const state = states.get(`${array.id}_${e.index}`) ?? null;
        if (state !== null) array.seen = true;
        const status = written.has(String(e.index)) ? readStatus(join(array.dir, "status", String(e.index))) : null;
        if (status !== null) {
          endElement(array, e, status);
          changed = true;
          continue;
        }
        if (state !== e.lastState) changed = true;
        e.lastState = state;
        const phase = state === null ? null : elementPhase(state);
        if (phase === "running" && !e.started) {
          e.started = true;
          e.onStart(readStarted(join(array.dir, "started", String(e.index))) ?? Date.now());
        }
        // Ended (or forgotten) without writing its status: the job script never finished.
        const gone = state === null && array.seen;
        if (phase === "ended" || gone) {
          if (++e.overdue > GRACE_POLLS) {
            await endWithoutStatusLine(array, e, state, this.#client, this.#cancelled);
            changed = true;
          }
        }
      }
      if (array.elements.size === 0) this.#retire(array);
    }
    this.#pollMs = changed ? POLL_MIN_MS : Math.min(POLL_MAX_MS, Math.round(this.#pollMs * 1.5));
  }
}
