// The shared runner core with a launcher that starts real processes but can be
// made to misbehave, for the paths real launchers reach only on a sick machine.
import { spawn } from "node:child_process";
import { expect, test } from "vitest";
import { BoundedRunner, type LaunchHandlers, type Launcher } from "../../../runtime/executors/bounded-runner.js";
import type { LaunchSpec } from "../../../runtime/executors/job.js";
import { liveGroupMembers } from "./helpers.js";

/** Starts each job as a detached process but never reports its exit: like a worker stuck in waitpid. */
class StuckLauncher implements Launcher {
  abandoned: string[] = [];

  launch(spec: LaunchSpec, handlers: LaunchHandlers) {
    const [file, ...args] = spec.commands[0]!.argv as [string, ...string[]];
    const child = spawn(file, args, { detached: true, stdio: "ignore" });
    child.unref();
    process.nextTick(() => handlers.started(child.pid!, Date.now()));
    return {
      abandon: (reason: string) => {
        this.abandoned.push(reason);
        handlers.ended({ exitCode: null, signal: null, endedAt: Date.now(), error: reason, step: 0 });
      },
    };
  }

  async close(): Promise<void> {}
}

test("a job whose end never comes after SIGKILL is abandoned, so killAll cannot hang", async () => {
  const launcher = new StuckLauncher();
  const runner = new BoundedRunner(launcher, { size: 1, killGraceMs: 50, killWaitMs: 100 });
  let pid = 0;
  const result = runner.run({ id: "stuck", kind: "argv", argv: ["sleep", "30"], cwd: "/", log: "/dev/null" }, undefined, {
    started: (p) => (pid = p),
  });
  while (pid === 0) await new Promise((r) => setTimeout(r, 5));
  await runner.killAll(50);
  const r = await result;
  expect([r.cancelled, r.exitCode, r.pid]).toEqual([true, null, pid]);
  expect(r.error).toBe(`process ${pid} did not exit after SIGKILL (uninterruptible sleep?); the runner stopped waiting for it`);
  expect(launcher.abandoned).toHaveLength(1);
  expect(liveGroupMembers(pid)).toEqual([]);
  // The slot was freed: the next job gets one.
  let next = 0;
  const second = runner.run({ id: "next", kind: "argv", argv: ["sleep", "30"], cwd: "/", log: "/dev/null" }, undefined, {
    started: (p) => (next = p),
  });
  while (next === 0) await new Promise((r) => setTimeout(r, 5));
  await runner.killAll(50);
  expect((await second).cancelled).toBe(true);
});

test("size must be a positive integer", () => {
  expect(() => new BoundedRunner(new StuckLauncher(), { size: 0 })).toThrow("size must be an integer ≥ 1, not 0");
  expect(() => new BoundedRunner(new StuckLauncher(), { size: 1.5 })).toThrow("size must be an integer ≥ 1, not 1.5");
});

/** Never reports a start: like a worker stuck in chdir on a dead NFS mount before it could fork. */
class NeverStarts implements Launcher {
  launch(_spec: LaunchSpec, handlers: LaunchHandlers) {
    return { abandon: (reason: string) => handlers.ended({ exitCode: null, signal: null, endedAt: Date.now(), error: reason, step: 0 }) };
  }

  async close(): Promise<void> {}
}

test("a cancelled job whose launcher never reports a start is abandoned too", async () => {
  const runner = new BoundedRunner(new NeverStarts(), { size: 1, killGraceMs: 50, killWaitMs: 50 });
  const controller = new AbortController();
  const result = runner.run({ id: "never", kind: "argv", argv: ["true"], cwd: "/", log: "/dev/null" }, controller.signal);
  controller.abort();
  const r = await result;
  expect([r.cancelled, r.pid, r.error]).toEqual([true, 0, "the job did not start within 100 ms of being stopped"]);
});
