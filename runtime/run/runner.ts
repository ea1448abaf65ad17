import { spawn } from "node:child_process";
import { openSync, closeSync } from "node:fs";

/** One command to run: an argv without a shell, or a shell string for `sh -c`. */
export interface CommandJob {
  readonly id: string;
  readonly kind: "argv" | "shell";
  readonly argv?: readonly string[];
  readonly command?: string;
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** stdout and stderr are appended here. */
  readonly log: string;
  readonly timeoutMs?: number;
}

export interface CommandResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly timedOut: boolean;
  readonly cancelled: boolean;
}

/** Runs commands; the persistent process pool and the plain spawner both fit. */
export interface CommandRunner {
  run(job: CommandJob, signal?: AbortSignal): Promise<CommandResult>;
  close(): Promise<void> | void;
}

/**
 * Spawns each command as the leader of its own process group, so a timeout
 * or Ctrl-C can kill everything it started (SIGTERM, then SIGKILL after a
 * grace period).
 */
export class SpawnCommandRunner implements CommandRunner {
  constructor(private readonly graceMs = 2000) {}

  run(job: CommandJob, signal?: AbortSignal): Promise<CommandResult> {
    return new Promise((resolvePromise) => {
      const fd = openSync(job.log, "a");
      const [file, ...args] = job.kind === "shell" ? ["/bin/sh", "-c", job.command ?? ""] : (job.argv ?? []);
      const startedAt = Date.now();
      let timedOut = false;
      let cancelled = false;
      const child = spawn(file ?? "", args, {
        cwd: job.cwd,
        env: { ...process.env, ...job.env },
        stdio: ["ignore", fd, fd],
        detached: true,
      });
      const killGroup = (sig: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, sig);
        } catch {
          // already gone
        }
      };
      let escalate: NodeJS.Timeout | undefined;
      const stop = () => {
        killGroup("SIGTERM");
        escalate = setTimeout(() => killGroup("SIGKILL"), this.graceMs);
      };
      const timer = job.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), stop()), job.timeoutMs);
      const onAbort = () => ((cancelled = true), stop());
      signal?.addEventListener("abort", onAbort, { once: true });
      let settled = false;
      const finish = (exitCode: number | null, sig: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        // The group may outlive its leader: make sure nothing of it remains.
        killGroup("SIGKILL");
        clearTimeout(escalate);
        closeSync(fd);
        resolvePromise({ exitCode, signal: sig, startedAt, endedAt: Date.now(), timedOut, cancelled });
      };
      child.on("error", () => finish(127, null));
      child.on("exit", (code, sig) => finish(code, sig));
    });
  }

  close(): void {}
}
