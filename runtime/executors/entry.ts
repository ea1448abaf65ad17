import type { JobEvents, JobResult, LaunchSpec } from "./job.js";
import type { LaunchEnd, LaunchHandle } from "./launcher.js";

export type Stop = "timeout" | "cancel";

/** One job from `run()` to its result. */
export class Entry {
  state: "queued" | "running" | "done" = "queued";
  /** It occupies one of the `size` slots (a followed job takes its lane's slot when the job before it ends). */
  ownsSlot = false;
  /** Its lane's next job, once that one is queued behind it. */
  next: Entry | null = null;
  /** The lane's job before it when it came (see BoundedRunner's #lanes). */
  before: Entry | undefined = undefined;
  pid = 0;
  startedAt: number | null = null;
  timer: NodeJS.Timeout | undefined;
  stop: Stop | null = null;
  stopGraceMs = 0;
  /** Stop requested before the pid was known: how long to wait for it. */
  startWait: NodeJS.Timeout | undefined;
  handle: LaunchHandle | null = null;
  /** Set while the process group is being killed; the result waits for it. */
  termination: Promise<unknown> | null = null;
  end: LaunchEnd | null = null;
  readonly done: Promise<JobResult>;
  resolve!: (result: JobResult) => void;

  constructor(
    readonly spec: LaunchSpec,
    readonly timeoutMs: number | undefined,
    readonly signal: AbortSignal | undefined,
    readonly events: JobEvents | undefined,
    readonly lane: number | undefined,
  ) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }
}

/** Whether an entry ran and succeeded: exit 0, no error, not stopped; what lets its lane's next job start. */
export function succeeded(entry: Entry): boolean {
  return entry.end !== null && entry.end.exitCode === 0 && entry.end.error === null && entry.stop === null;
}

/** How a job that never started ends: it was in a lane behind a job that did not succeed. */
export function notRunEnd(endedAt: number): LaunchEnd {
  return { exitCode: null, signal: null, endedAt, error: null, step: 0, notRun: true };
}
