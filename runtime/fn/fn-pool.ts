import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Tinypool } from "tinypool";
import type { FnCall, FnOutcome } from "./fn-worker.js";
import { MAX_POOL_WORKERS } from "../limits.js";

/** The worker entry, as built JavaScript (under vitest this module itself is TypeScript). */
function workerFile(): string {
  const here = fileURLToPath(new URL("./fn-worker.js", import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL("../../dist/runtime/fn/fn-worker.js", import.meta.url));
}

interface Pending {
  readonly call: FnCall;
  readonly resolve: (outcome: FnOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * `fn` stages run in a pool: worker threads for `threads` executors, child
 * processes for `processes` ones (tinypool does both behind one interface).
 *
 * Calls made in one turn of the event loop travel together: the pool sends
 * each worker a batch and gets every outcome back in one message, so a
 * no-op call costs a share of a round trip rather than a whole one. Every
 * call still settles on its own, with its own start and end time.
 */
export class FnPool {
  readonly #pool: Tinypool;
  readonly #size: number;
  #queue: Pending[] = [];
  #signal: AbortSignal | undefined;
  #flushing = false;

  constructor(kind: "threads" | "processes", size: number, signal?: AbortSignal) {
    this.#size = Math.min(Math.max(1, size), MAX_POOL_WORKERS);
    this.#signal = signal;
    this.#pool = new Tinypool({
      filename: workerFile(),
      runtime: kind === "threads" ? "worker_threads" : "child_process",
      minThreads: 1,
      maxThreads: this.#size,
      // The next batch waits at the worker, not in this thread, while one runs.
      concurrentTasksPerWorker: 2,
      isolateWorkers: false,
    });
  }

  /** Runs one call; resolves with its outcome (a thrown error is an `ok: false` outcome), rejects when aborted. */
  run(call: FnCall): Promise<FnOutcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ call, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(() => this.#flush());
      }
    });
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
    (this.#pool.run(calls, this.#signal ? { signal: this.#signal } : {}) as Promise<FnOutcome[]>).then(
      (outcomes) => batch.forEach((p, i) => p.resolve(outcomes[i]!)),
      (error: unknown) => batch.forEach((p) => p.reject(error)),
    );
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
