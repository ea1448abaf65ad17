/**
 * A SlurmClient for tests: a cluster of one machine whose queue the test
 * scripts. Array elements are real child processes (the submitted batch
 * script under bash, with SLURM_ARRAY_TASK_ID, SLURM_ARRAY_JOB_ID and
 * SLURM_JOB_ID set, its output in the `--output` file, as slurmstepd would),
 * so the executor's element script, status lines and logs are the real
 * ones; what SLURM itself decides (when an element starts, that it times
 * out, runs out of memory, loses its node, is purged, that squeue fails) is
 * what the test says. `--dependency` and the `%k` throttle are recorded, not
 * obeyed: the tests here drive the executor's state machine, and the
 * real-cluster suites check SLURM's own behaviour.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, writeFileSync } from "node:fs";
import type { SbatchResult, SlurmClient } from "../../runtime/slurm/client.js";
import { expandIndices, type ExitCode } from "../../runtime/slurm/parse.js";

/** What SLURM does with one element, once it is let go (see `hold`). */
export type Behaviour =
  /** Runs the batch script; COMPLETED or FAILED by its exit. */
  | { readonly kind: "run" }
  /**
   * SLURM ends it without running the script to its end (TIMEOUT,
   * OUT_OF_MEMORY, NODE_FAIL, …): listed RUNNING until squeue has shown that
   * once, then `state` with `exit`. `said` goes to its `--output`, as
   * slurmstepd's own message would.
   */
  | { readonly kind: "end"; readonly state: string; readonly exit: ExitCode; readonly said?: string }
  /** Listed RUNNING until squeue has shown that once, then forgotten (purged) without ever writing a result. */
  | { readonly kind: "purge" };

export interface ElementPlan {
  readonly behaviour: Behaviour;
  /** PENDING until the test calls `release`. */
  readonly hold?: boolean;
}

/** One element as the fake's queue holds it. */
interface FakeElement {
  readonly array: Submission;
  readonly index: number;
  readonly plan: ElementPlan;
  state: string;
  exit: ExitCode;
  /** Purged: squeue and scontrol no longer know it. */
  gone: boolean;
  /** squeue has listed it RUNNING (for behaviours that end once that was seen). */
  shownRunning: boolean;
  child: ChildProcess | null;
}

export interface Submission {
  readonly id: string;
  readonly args: readonly string[];
  /** The `--array` indices, in order. */
  readonly indices: readonly number[];
  readonly cwd: string;
  readonly env: Record<string, string>;
}

export class FakeSlurmClient implements SlurmClient {
  readonly submissions: Submission[] = [];
  /** Every scancel's ids, in order. */
  readonly cancels: string[][] = [];
  /** How many times the queue was asked (answered or not): the executor's own clock. */
  queueCalls = 0;
  #nextId = 1000;
  #queueDown = 0;
  readonly #elements = new Map<string, FakeElement>();
  readonly #waiters = new Set<() => void>();
  /** What each element does; every element runs its script unless the test says otherwise. */
  readonly #planOf: (element: { submission: number; index: number }) => ElementPlan;
  /** When set, the next sbatch fails with this message. */
  refuseNext: string | null = null;

  constructor(planOf: (element: { submission: number; index: number }) => ElementPlan = () => ({ behaviour: { kind: "run" } })) {
    this.#planOf = planOf;
  }

  sbatch(args: readonly string[], options: { cwd: string; env: Record<string, string> }): Promise<SbatchResult> {
    if (this.refuseNext !== null) {
      const message = this.refuseNext;
      this.refuseNext = null;
      return this.#answer({ ok: false, message });
    }
    const array = /^--array=(.*)$/.exec(args.find((a) => a.startsWith("--array=")) ?? "")?.[1];
    if (array === undefined) throw new Error(`fake sbatch: no --array in ${args.join(" ")}`);
    const id = String(this.#nextId++);
    const submission: Submission = { id, args: [...args], indices: expandIndices(array), cwd: options.cwd, env: options.env };
    const number = this.submissions.push(submission) - 1;
    for (const index of submission.indices) {
      const plan = this.#planOf({ submission: number, index });
      const e: FakeElement = {
        array: submission,
        index,
        plan,
        state: "PENDING",
        exit: { code: 0, signal: 0 },
        gone: false,
        shownRunning: false,
        child: null,
      };
      this.#elements.set(`${id}_${index}`, e);
      if (!plan.hold) this.#start(e);
    }
    return this.#answer({ ok: true, id });
  }

  queueStates(ids: readonly string[]): Promise<Map<string, string> | null> {
    this.queueCalls++;
    if (this.#queueDown > 0) {
      this.#queueDown--;
      return this.#answer(null);
    }
    const states = new Map<string, string>();
    for (const [key, e] of this.#elements) {
      if (e.gone || !ids.includes(e.array.id)) continue;
      states.set(key, e.state);
      if (e.state === "RUNNING") e.shownRunning = true;
    }
    // Behaviours that end "after SLURM was seen running them" move on now, for the next poll.
    for (const e of this.#elements.values()) if (e.shownRunning && e.child === null && e.state === "RUNNING") this.#settle(e);
    return this.#answer(states);
  }

  exitCodeOf(id: string): Promise<ExitCode | null> {
    const e = this.#elements.get(id);
    return this.#answer(e === undefined || e.gone ? null : e.exit);
  }

  scancel(ids: readonly string[]): Promise<void> {
    this.cancels.push([...ids]);
    for (const e of this.#elements.values()) {
      if (!ids.includes(e.array.id) && !ids.includes(`${e.array.id}_${e.index}`)) continue;
      if (e.child !== null) killGroup(e.child);
      else if (e.state === "PENDING" || e.state === "RUNNING") this.#finish(e, "CANCELLED", { code: 0, signal: 0 });
    }
    return this.#answer(undefined);
  }

  /** The next `n` queue reads fail (slurmctld down). */
  queueDown(n: number): void {
    this.#queueDown = n;
  }

  /** Lets a held element start. */
  release(submission: number, index: number): void {
    const e = this.#elements.get(`${this.submissions[submission]!.id}_${index}`);
    if (e === undefined || e.state !== "PENDING") throw new Error(`fake: element ${submission}/${index} is not pending`);
    this.#start(e);
  }

  /** The state SLURM gives an element now (undefined once purged). */
  stateOf(submission: number, index: number): string | undefined {
    const e = this.#elements.get(`${this.submissions[submission]?.id}_${index}`);
    return e === undefined || e.gone ? undefined : e.state;
  }

  /** Resolves once `ok()` holds, checked after every call the executor makes and every change of an element. */
  until(ok: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!ok()) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Kills every element still running (a test's clean-up). */
  stopAll(): void {
    for (const e of this.#elements.values()) if (e.child !== null) killGroup(e.child);
  }

  #start(e: FakeElement): void {
    e.state = "RUNNING";
    if (e.plan.behaviour.kind !== "run") return this.#notify();
    const script = e.array.args.at(-1)!;
    const output = /^--output=(.*)$/.exec(e.array.args.find((a) => a.startsWith("--output=")) ?? "")?.[1];
    const fd = output === undefined ? "ignore" : openSync(output.replaceAll("%a", String(e.index)).replaceAll("%A", e.array.id), "a");
    const child = spawn("bash", [script], {
      cwd: e.array.cwd,
      env: {
        ...process.env,
        ...e.array.env,
        SLURM_ARRAY_TASK_ID: String(e.index),
        SLURM_ARRAY_JOB_ID: e.array.id,
        SLURM_JOB_ID: String(this.#nextId++),
      },
      stdio: ["ignore", fd, fd],
      // Its own process group, killed whole, as slurmstepd kills an element's cgroup.
      detached: true,
    });
    if (typeof fd === "number") closeSync(fd);
    e.child = child;
    child.on("exit", (code, signal) => {
      e.child = null;
      if (signal !== null) this.#finish(e, "CANCELLED", { code: 0, signal: signal === "SIGKILL" ? 9 : 15 });
      else this.#finish(e, code === 0 ? "COMPLETED" : "FAILED", { code: code ?? 0, signal: 0 });
    });
    this.#notify();
  }

  /** A behaviour other than "run", after squeue showed it running. */
  #settle(e: FakeElement): void {
    const b = e.plan.behaviour;
    switch (b.kind) {
      case "run":
        return;
      case "end": {
        const output = /^--output=(.*)$/.exec(e.array.args.find((a) => a.startsWith("--output=")) ?? "")?.[1];
        if (output !== undefined && b.said !== undefined)
          writeFileSync(output.replaceAll("%a", String(e.index)), `${b.said}\n`, { flag: "a" });
        return this.#finish(e, b.state, b.exit);
      }
      case "purge":
        e.gone = true;
        return this.#notify();
    }
  }

  #finish(e: FakeElement, state: string, exit: ExitCode): void {
    e.state = state;
    e.exit = exit;
    this.#notify();
  }

  /** Answers asynchronously, as a command would, and lets waiters look after the call. */
  #answer<T>(value: T): Promise<T> {
    return new Promise((resolve) =>
      setImmediate(() => {
        resolve(value);
        this.#notify();
      }),
    );
  }

  #notify(): void {
    for (const check of [...this.#waiters]) check();
  }
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, "SIGTERM");
  } catch {
    // Ended meanwhile.
  }
}
