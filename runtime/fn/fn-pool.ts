import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Tinypool } from "tinypool";
import type { FnCall } from "./fn-worker.js";

/** The worker entry, as built JavaScript (under vitest this module itself is TypeScript). */
function workerFile(): string {
  const here = fileURLToPath(new URL("./fn-worker.js", import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL("../../dist/runtime/fn/fn-worker.js", import.meta.url));
}

/**
 * `fn` stages run in a pool: worker threads for `threads` executors, child
 * processes for `processes` ones (tinypool does both behind one interface).
 */
export class FnPool {
  readonly #pool: Tinypool;

  constructor(kind: "threads" | "processes", size: number) {
    this.#pool = new Tinypool({
      filename: workerFile(),
      runtime: kind === "threads" ? "worker_threads" : "child_process",
      minThreads: 1,
      maxThreads: Math.max(1, size),
      isolateWorkers: false,
    });
  }

  run(call: FnCall, signal?: AbortSignal): Promise<unknown> {
    return this.#pool.run(call, signal ? { signal } : {});
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
