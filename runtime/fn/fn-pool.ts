import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MessageChannel } from "node:worker_threads";
import { Tinypool } from "tinypool";
import type { FnBatch, FnCall, FnOutcome, FnReport } from "./fn-worker.js";
import { MAX_POOL_WORKERS } from "../../contract/limits.js";

/** The worker entry, as built JavaScript (under vitest this module itself is TypeScript). */
function workerFile(): string {
  const here = fileURLToPath(new URL("./fn-worker.js", import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL("../../dist/runtime/fn/fn-worker.js", import.meta.url));
}

interface Pending {
  readonly call: FnCall;
  /** Kill the call's worker when the call runs longer than this. */
  readonly timeoutMs: number | undefined;
  readonly resolve: (outcome: FnOutcome) => void;
  readonly reject: (error: unknown) => void;
  settled: boolean;
}

/**
 * `fn` stages run in a pool: worker threads for `threads` executors, child
 * processes for `processes` ones (tinypool does both behind one interface).
 *
 * Calls made in one turn of the event loop travel together: the pool sends
 * each worker a batch and gets every outcome back in one message, so a
 * no-op call costs a share of a round trip rather than a whole one. Every
 * call still settles on its own, with its own start and end time.
 *
 * Timeouts: a batch holding a call with a timeout is reported call by call
 * (FnBatch.reported), and each such call is timed from when its worker says
 * it started. One that runs too long (an endless loop, a promise that never
 * settles) fails with "timed out after N s", and its worker is terminated
 * through the batch's own abort signal (tinypool then replaces it as calls
 * come). The calls before it in the batch have settled already; the ones
 * after it never started, so they go back to the queue as if just made.
 * A batch with a signal runs alone on its worker (tinypool gives an
 * abortable task a worker of its own), so no other batch is touched.
 */
export class FnPool {
  readonly #pool: Tinypool;
  readonly #size: number;
  readonly #threads: boolean;
  #queue: Pending[] = [];
  #signal: AbortSignal | undefined;
  #flushing = false;

  constructor(kind: "threads" | "processes", size: number, signal?: AbortSignal) {
    this.#size = Math.min(Math.max(1, size), MAX_POOL_WORKERS);
    this.#signal = signal;
    this.#threads = kind === "threads";
    this.#pool = new Tinypool({
      filename: workerFile(),
      runtime: this.#threads ? "worker_threads" : "child_process",
      minThreads: 1,
      maxThreads: this.#size,
      // The next batch waits at the worker, not in this thread, while one runs.
      concurrentTasksPerWorker: 2,
      isolateWorkers: false,
    });
  }

  /**
   * Runs one call; resolves with its outcome (a thrown error, or running past
   * `timeoutMs`, is an `ok: false` outcome), rejects when aborted.
   */
  run(call: FnCall, timeoutMs?: number): Promise<FnOutcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ call, timeoutMs, resolve, reject, settled: false });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushing = false;
    const queue = this.#queue;
    this.#queue = [];
    // Spread over every worker, in batches small enough that none waits long behind another.
    const size = Math.max(1, Math.min(64, Math.ceil(queue.length / this.#size)));
    for (let i = 0; i < queue.length; i += size) this.#send(queue.slice(i, i + size));
  }

  #send(batch: readonly Pending[]): void {
    const calls = batch.map((p) => p.call);
    if (!batch.some((p) => p.timeoutMs !== undefined)) {
      const task: FnBatch = { calls, reported: false };
      (this.#pool.run(task, this.#signal ? { signal: this.#signal } : {}) as Promise<FnOutcome[]>).then(
        (outcomes) => batch.forEach((p, i) => settle(p, outcomes[i]!)),
        (error: unknown) => batch.forEach((p) => fail(p, error)),
      );
      return;
    }
    this.#sendTimed(batch, calls);
  }

  /** A batch with timeouts: reported call by call, with an abort signal of its own to kill its worker. */
  #sendTimed(batch: readonly Pending[], calls: readonly FnCall[]): void {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    this.#signal?.addEventListener("abort", onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    let over = false;
    const onReport = (message: FnReport) => {
      const p = batch[message.call];
      if (over || p === undefined || p.settled) return;
      if (message.wfcFn === "ended") {
        clearTimeout(timer);
        settle(p, message.outcome);
        return;
      }
      if (p.timeoutMs === undefined) return;
      const start = message.at;
      timer = setTimeout(() => {
        timedOut = true;
        settle(p, { ok: false, error: `timed out after ${p.timeoutMs! / 1000} s`, start, end: Date.now(), timedOut: true });
        controller.abort();
      }, p.timeoutMs);
    };
    let task: FnBatch;
    let options: Parameters<Tinypool["run"]>[1];
    let close = () => {};
    if (this.#threads) {
      const { port1, port2 } = new MessageChannel();
      port1.on("message", onReport);
      close = () => port1.close();
      task = { calls, reported: true, port: port2 };
      options = { signal: controller.signal, transferList: [port2] };
    } else {
      task = { calls, reported: true };
      // A child process's own messages (process.send) come to the channel of the task it runs.
      options = { signal: controller.signal, channel: { postMessage: (m: unknown) => isReport(m) && onReport(m) } };
    }
    const done = () => {
      over = true;
      clearTimeout(timer);
      close();
      this.#signal?.removeEventListener("abort", onAbort);
    };
    (this.#pool.run(task, options) as Promise<FnOutcome[]>).then(
      (outcomes) => {
        done();
        batch.forEach((p, i) => settle(p, outcomes[i]!));
      },
      (error: unknown) => {
        done();
        if (timedOut && !this.#signal?.aborted) {
          // The calls after the one that timed out never started: they go again, on a new worker.
          const rest = batch.filter((p) => !p.settled);
          if (rest.length === 0) return;
          this.#queue.push(...rest);
          this.#schedule();
          return;
        }
        batch.forEach((p) => fail(p, error));
      },
    );
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}

function settle(p: Pending, outcome: FnOutcome): void {
  if (p.settled) return;
  p.settled = true;
  p.resolve(outcome);
}

function fail(p: Pending, error: unknown): void {
  if (p.settled) return;
  p.settled = true;
  p.reject(error);
}

function isReport(m: unknown): m is FnReport {
  return typeof m === "object" && m !== null && "wfcFn" in m;
}
