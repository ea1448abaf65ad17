/**
 * One worker process of a ProcessPool (see process-pool.ts): the child
 * running workers/worker.py or worker.pl, its replies split into lines, the
 * tail of its stderr for the message should it die, and the launches
 * written to it. What the replies mean for the jobs is WorkerLauncher's
 * (worker-launcher.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { epochMs, type LaunchSpec } from "./job.js";
import type { JobUsage } from "../state/usage.js";
import type { LaunchHandle, LaunchHandlers } from "./launcher.js";
import { parseReply, type Reply } from "./pool-protocol.js";
import { workerArgs, type WorkerProgram } from "./worker-program.js";

/** A worker that has not said `R` by then is killed (and counts as a start failure): not the interpreter we expect. */
const START_TIMEOUT_MS = 30_000;
/** Bytes of a worker's stderr kept for the message when it dies. */
const STDERR_TAIL = 2000;

/** One launch; it moves to a fresh worker if its worker dies before reading it. */
export interface Assignment {
  readonly spec: LaunchSpec;
  readonly handlers: LaunchHandlers;
  worker: Worker | null;
  /** Its launch on the next program's launcher, once this one fell back (see WorkerLauncher.#fallBack). */
  moved?: LaunchHandle;
  seq: number;
  pid: number;
  /** The command running (or about to): an index into spec.commands. */
  step: number;
  /** When that command started (the worker's clock), and what each reaped command used. */
  stepStart: number;
  usage: (JobUsage | undefined)[];
}

export class Worker {
  readonly child: ChildProcess;
  readonly stdin: Writable;
  readonly closed: Promise<void>;
  ready = false;
  /** Given up on by the pool (killed, no longer counted); its end is not news. */
  abandoned = false;
  /** The job it runs, then the one written to it to run next (a `K` request), if any. */
  jobs: Assignment[] = [];
  seq = 0;
  /** Folders of the logs it was given: where it may have left a spool. */
  readonly folders = new Set<string>();
  stderr = "";
  #partial = "";
  #referenced = true;
  #startTimer: NodeJS.Timeout;

  constructor(
    program: WorkerProgram,
    graceMs: number,
    onReply: (w: Worker, r: Reply | null, line: string) => void,
    onClose: (w: Worker, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {
    this.child = spawn(program.interpreter, workerArgs(program, graceMs), { stdio: ["pipe", "pipe", "pipe"], detached: true });
    const { stdin, stdout, stderr } = this.child as ChildProcess & { stdin: Writable; stdout: Readable; stderr: Readable };
    this.stdin = stdin;
    // EPIPE when the worker has died: its 'close' event handles that.
    stdin.on("error", () => {});
    stdout.setEncoding("latin1");
    stdout.on("data", (chunk: string) => {
      const lines = (this.#partial + chunk).split("\n");
      this.#partial = lines.pop()!;
      for (const line of lines) onReply(this, parseReply(line), line);
    });
    stderr.setEncoding("utf8");
    stderr.on("data", (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL)));
    this.child.on("error", (err) => (this.stderr += `${err.message}\n`));
    this.#startTimer = setTimeout(() => {
      this.stderr += `no "R" line within ${START_TIMEOUT_MS} ms\n`;
      this.child.kill("SIGKILL");
    }, START_TIMEOUT_MS);
    this.#startTimer.unref();
    // 'close' comes after the last stdout data, so a final `E` line is never lost.
    this.closed = new Promise((resolve) =>
      this.child.on("close", (code, signal) => {
        clearTimeout(this.#startTimer);
        onClose(this, code, signal);
        resolve();
      }),
    );
  }

  /** The job the worker is on: its replies are about this one. */
  get job(): Assignment | null {
    return this.jobs[0] ?? null;
  }

  markReady(): void {
    this.ready = true;
    clearTimeout(this.#startTimer);
  }

  /** An idle worker must not keep Node's event loop alive. */
  setRef(ref: boolean): void {
    if (ref === this.#referenced) return;
    this.#referenced = ref;
    const streams = [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as (null | { ref(): void; unref(): void })[];
    for (const s of streams) {
      if (ref) s?.ref();
      else s?.unref();
    }
  }
}

/** The empty spool files a worker that died may have left beside its jobs' logs. */
export function removeSpools(worker: Worker): void {
  const pid = worker.child.pid;
  if (pid === undefined) return;
  for (const folder of worker.folders) rmSync(join(folder, `.wfc-spool-${pid}`), { force: true });
}

/** Jobs written to a worker after the one it was on, which it will never run. */
export function notRun(jobs: readonly Assignment[]): void {
  for (const job of jobs) job.handlers.ended({ exitCode: null, signal: null, endedAt: epochMs(), error: null, step: 0, notRun: true });
}

/** Whether the worker exited within `ms`. */
export async function exitsWithin(worker: Worker, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const exited = await Promise.race([worker.closed.then(() => true), timeout]);
  clearTimeout(timer);
  return exited;
}
