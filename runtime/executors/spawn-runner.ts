/**
 * SpawnRunner: one `child_process.spawn` per job, behind the same interface as
 * ProcessPool. It is the fallback where perl is missing and the baseline the
 * pool is measured against (bench/spawn.mjs). Each job is spawned `detached`,
 * so it leads its own process group (and session) and the shared
 * BoundedRunner can kill the whole group on timeout or cancel.
 *
 * Plain node:child_process rather than execa: execa's kill and
 * forceKillAfterDelay act on the child's pid, not its process group, and its
 * per-spawn work (stream setup, result object) is a cost this runner exists to measure.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, existsSync, openSync, statSync, unlinkSync } from "node:fs";
import type { Writable } from "node:stream";
import { getSystemErrorMap } from "node:util";
import { BoundedRunner, type BoundedRunnerOptions } from "./bounded-runner.js";
import { epochMs, type LaunchCommand, type LaunchSpec } from "./job.js";
import type { LaunchEnd, LaunchHandle, LaunchHandlers, Launcher } from "./launcher.js";
import { measuring } from "./measure.js";
import { signalGroup } from "./process-group.js";
import type { JobUsage } from "../state/usage.js";

export class SpawnRunner extends BoundedRunner {
  constructor(options: BoundedRunnerOptions) {
    super(new SpawnLauncher(Math.ceil((options.killGraceMs ?? 2000) / 1000)), options);
  }
}

/**
 * Jobs spawned by Node have no worker to notice Node's death, so one small
 * shell per runner does: Node writes `+PGID` when a job's command starts and
 * `-PGID` when its job ended, and at end of file (Node gone: kill -9, a
 * crash) the shell sends the groups still listed SIGTERM, then SIGKILL after
 * the grace. A clean close leaves the list empty. Pure POSIX sh builtins,
 * so it costs no fork per job; detached, so a terminal's signals reach Node
 * (which stops the jobs itself) and not it.
 */
const WATCHDOG = `
groups=' '
while IFS= read -r line; do
  case $line in
    +*) groups="$groups\${line#+} " ;;
    -*) g=\${line#-}; case $groups in *" $g "*) groups="\${groups%% $g *} \${groups#* $g }" ;; esac ;;
  esac
done
[ -z "\${groups# }" ] && exit 0
for g in $groups; do kill -s TERM -- "-$g" 2>/dev/null; done
sleep "$1"
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
`;

class Watchdog {
  readonly #child: ChildProcess;
  readonly #stdin: Writable;

  constructor(graceSeconds: number) {
    this.#child = spawn("/bin/sh", ["-c", WATCHDOG, "wfc-watchdog", String(graceSeconds)], {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true,
    });
    this.#stdin = this.#child.stdin!;
    this.#stdin.on("error", () => {}); // it died: the jobs are then only in .wfc/running
    this.#child.on("error", () => {});
    // It must not keep Node alive; it ends when Node closes its stdin (or dies).
    this.#child.unref();
    (this.#stdin as Writable & { unref?(): void }).unref?.();
  }

  started(pgid: number): void {
    this.#stdin.write(`+${pgid}\n`);
  }

  ended(pgids: readonly number[]): void {
    if (pgids.length > 0) this.#stdin.write(pgids.map((g) => `-${g}\n`).join(""));
  }

  close(): void {
    this.#stdin.end();
  }
}

/** Spawns each job from Node; also where ProcessPool falls back to when no interpreter can run its workers. */
export class SpawnLauncher implements Launcher {
  #watchdog: Watchdog | null = null;

  constructor(readonly graceSeconds: number) {}

  launch(spec: LaunchSpec, handlers: LaunchHandlers): LaunchHandle {
    const watchdog = (this.#watchdog ??= new Watchdog(this.graceSeconds));
    let ended = false;
    let child: ChildProcess | null = null;
    let current = 0;
    /** Node cannot get a child's rusage: each command's wall time is all it measures. */
    const usage: (JobUsage | undefined)[] = [];
    const measure = measuring();
    /** Its commands' process groups: one still there at the end may yet write to the log. */
    const groups: number[] = [];
    const end = (exitCode: number | null, signal: string | null, error: string | null, step: number) => {
      if (ended) return;
      ended = true;
      watchdog.ended(groups);
      handlers.ended({ exitCode, signal, endedAt: epochMs(), error, step, ...(measure ? { usage } : {}) });
    };
    // Each command is spawned when the one before exited 0.
    const next = (step: number): void => {
      if (ended) return;
      current = step;
      child = spawnOne(spec, spec.commands[step]!, {
        started: (pid, at) => {
          groups.push(pid);
          watchdog.started(pid);
          handlers.started(pid, at);
        },
        ended: (e) => {
          if (e.wallMs !== null) usage[step] = { wallMs: e.wallMs, via: "worker" };
          if (e.exitCode === 0 && step + 1 < spec.commands.length) return next(step + 1);
          // As with the pool's workers: a job that succeeded without a word, and left nothing running, leaves no log.
          if (e.exitCode === 0 && !groups.some((g) => signalGroup(g, 0))) removeIfEmpty(spec.log);
          end(e.exitCode, e.signal, e.error, step);
        },
      });
    };
    next(0);
    return {
      abandon: (reason) => {
        // Its 'exit' may still come, late; `end` ignores it then. Meanwhile it must not keep Node alive.
        child?.unref();
        end(null, null, reason, current);
      },
    };
  }

  async close(): Promise<void> {
    this.#watchdog?.close();
  }
}

function removeIfEmpty(path: string): void {
  try {
    if (statSync(path).size === 0) unlinkSync(path);
  } catch {
    // gone already: nothing to remove
  }
}

/** Spawns one command; reports like a launcher (asynchronously), `ended` without a step. Null if it could not spawn at all. */
function spawnOne(
  spec: LaunchSpec,
  command: LaunchCommand,
  handlers: {
    started(pid: number, at: number): void;
    /** `wallMs`: from just before spawn to its exit; null when it never ran. */
    ended(e: Omit<LaunchEnd, "step" | "endedAt"> & { readonly wallMs: number | null }): void;
  },
): ChildProcess | null {
  let ended = false;
  let startedAt: number | null = null;
  const end = (exitCode: number | null, signal: string | null, error: string | null) => {
    if (ended) return;
    ended = true;
    const wallMs = startedAt === null || error !== null ? null : Math.round((epochMs() - startedAt) * 1000) / 1000;
    handlers.ended({ exitCode, signal, error, wallMs });
  };
  const fail = (error: string) => process.nextTick(() => end(null, null, error));
  let fd: number;
  try {
    fd = openSync(spec.log, "a");
  } catch (err) {
    fail(`cannot open log ${spec.log}: ${(err as Error).message}`);
    return null;
  }
  const [file, ...args] = command.argv as [string, ...string[]];
  startedAt = epochMs();
  const spawnedAt = startedAt;
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      cwd: spec.cwd,
      env: command.env.length === 0 ? process.env : { ...process.env, ...Object.fromEntries(command.env) },
      stdio: ["ignore", fd, fd],
      detached: true,
    });
  } catch (err) {
    // Most spawn failures arrive as 'error' events; a few (e.g. E2BIG on some platforms) are thrown.
    fail(`cannot execute ${file}: ${(err as Error).message}`);
    return null;
  } finally {
    closeSync(fd);
  }
  child.once("error", (err: NodeJS.ErrnoException) => {
    // libuv reports a missing cwd as ENOENT of the program: say which it was.
    const what = err.code === "ENOENT" && !existsSync(spec.cwd) ? `cannot change directory to ${spec.cwd}` : `cannot execute ${file}`;
    const text = typeof err.errno === "number" ? getSystemErrorMap().get(err.errno)?.[1] : undefined;
    const message = `${what}: ${text ?? err.message} (${err.code})`;
    try {
      appendFileSync(spec.log, `wfc: ${message}\n`); // as the pool's workers do
    } catch {
      // the result carries the message anyway
    }
    fail(message);
  });
  child.once("exit", (exitCode, signal) => end(exitCode, signal, null));
  if (child.pid !== undefined) {
    const pid = child.pid;
    process.nextTick(() => handlers.started(pid, spawnedAt));
  }
  return child;
}
