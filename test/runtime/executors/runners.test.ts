// The JobRunner contract, checked with real processes against every runner
// this machine has: ProcessPool with each worker program, and SpawnRunner.
// No assertion is about durations; waits only order the test after an event.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { JobResult, JobRunner, JobSpec } from "../../../runtime/executors/index.js";
import { RUNNERS, SKIPPED_LEGS, alive, liveGroupMembers, maxOverlap, onCi, shellQuote, tempDir, waitForText } from "./helpers.js";

// A leg skipped for want of its interpreter would let CI pass without testing
// that runner: on CI it fails instead, saying which and why (.ci/run sets CI).
test.runIf(onCi())("on CI, every runner leg runs: python and perl pools, and SpawnRunner", () => {
  if (SKIPPED_LEGS.length > 0) throw new Error(`runner legs skipped on CI: ${SKIPPED_LEGS.join("; ")}; CI must install what they need`);
});

/** Values that break naive quoting, splitting or encoding. */
const NASTY = [
  "",
  " ",
  "two words",
  "  leading and trailing  ",
  "it's",
  '"double"',
  "'\\''",
  "$(echo pwned)",
  "`echo pwned`",
  "$HOME ${HOME} $1 $@ $$",
  "a;b|c&d>e<f",
  "*.txt ? [a-z]",
  "back\\slash\\n",
  "new\nline",
  "\n",
  "tab\there",
  "ünïcødé ✓ 日本語 😀",
  "-n",
  "--",
  "%s %d %%",
  "=",
  "\u0001\u007f",
];

describe.each(RUNNERS)("$name", ({ make }) => {
  let dir: string;
  let cleanup: () => void;
  let runner: JobRunner;
  let n = 0;

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    runner = make(2);
  });
  afterEach(async () => {
    await runner.killAll(100);
    await runner.close();
    cleanup();
  });

  const log = () => join(dir, `job-${++n}.log`);
  const shell = (command: string, more: Partial<JobSpec> = {}): JobSpec => ({
    id: `s${n}`,
    kind: "shell",
    command,
    cwd: dir,
    log: log(),
    ...more,
  });
  const argv = (args: string[], more: Partial<JobSpec> = {}): JobSpec => ({
    id: `a${n}`,
    kind: "argv",
    argv: args,
    cwd: dir,
    log: log(),
    ...more,
  });

  test("exit codes", async () => {
    const results = await Promise.all([
      runner.run(shell("exit 0")),
      runner.run(shell("exit 3")),
      runner.run(argv(["/bin/sh", "-c", "exit 255"])),
      runner.run(argv(["false"])),
      runner.run(shell("no-such-command-wfc > /dev/null")),
      // No shell syntax: executed directly, so the runner itself says it is missing.
      runner.run(shell("no-such-command-wfc 'an argument'")),
    ]);
    expect(results.map((r) => [r.exitCode, r.signal, r.error])).toEqual([
      [0, null, null],
      [3, null, null],
      [255, null, null],
      [1, null, null],
      [127, null, null], // sh's own "not found"
      [null, null, expect.stringMatching(/^cannot execute no-such-command-wfc: no such file or directory/i)],
    ]);
    for (const r of results.slice(0, -1)) {
      expect(r.pid).toBeGreaterThan(1);
      expect(r.startedAt).toBeLessThanOrEqual(r.endedAt);
      expect([r.timedOut, r.cancelled]).toEqual([false, false]);
    }
  });

  test("a signal is reported as a signal, and exit 143 as an exit code", async () => {
    const results = await Promise.all([
      runner.run(shell("kill -TERM $$")),
      runner.run(shell("kill -KILL $$")),
      runner.run(shell("exit 143")),
      runner.run(argv(["/bin/sh", "-c", "kill -INT $$"])),
    ]);
    expect(results.map((r) => [r.exitCode, r.signal])).toEqual([
      [null, "SIGTERM"],
      [null, "SIGKILL"],
      [143, null],
      [null, "SIGINT"],
    ]);
  });

  test("stdout and stderr are appended to the log; stdin is empty", async () => {
    const job = shell("printf 'out1\\n'; printf 'err1\\n' >&2; cat; printf 'out2\\n'");
    await runner.run(job);
    await runner.run(job);
    expect(readFileSync(job.log, "utf8")).toBe("out1\nerr1\nout2\n".repeat(2));
  });

  test("the log's folder and name may contain anything but NUL", async () => {
    const folder = join(dir, "l o g's $(x)\nü");
    mkdirSync(folder);
    const r = await runner.run(shell("echo hello", { log: join(folder, "a b\n.log") }));
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(folder, "a b\n.log"), "utf8")).toBe("hello\n");
  });

  test("cwd, and env added to the inherited environment", async () => {
    const cwd = join(dir, "work dir ü $(x)");
    mkdirSync(cwd);
    const job = shell('pwd -P; printf "%s|%s|%s\\n" "$WFC_A" "$HOME" "${PATH:+has-path}"', {
      cwd,
      env: { WFC_A: "a value", HOME: "/replaced/home" },
    });
    expect((await runner.run(job)).exitCode).toBe(0);
    expect(readFileSync(job.log, "utf8")).toBe(`${cwd}\na value|/replaced/home|has-path\n`);
  });

  test("an env PATH is used to find an argv program", async () => {
    const bin = join(dir, "bin dir");
    mkdirSync(bin);
    writeFileSync(join(bin, "wfc-hello"), "#!/bin/sh\necho hello from PATH\n", { mode: 0o755 });
    const job = argv(["wfc-hello"], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect((await runner.run(job)).exitCode).toBe(0);
    expect(readFileSync(job.log, "utf8")).toBe("hello from PATH\n");
  });

  test("a relative argv program is found from the job's cwd", async () => {
    const cwd = join(dir, "scripts");
    mkdirSync(cwd);
    writeFileSync(join(cwd, "run me.sh"), "#!/bin/sh\necho relative\n", { mode: 0o755 });
    const job = argv(["./run me.sh"], { cwd });
    expect((await runner.run(job)).exitCode).toBe(0);
    expect(readFileSync(job.log, "utf8")).toBe("relative\n");
  });

  test("argv values reach the program byte for byte, without a shell", async () => {
    const results = await Promise.all(
      NASTY.map((value, i) => runner.run(argv(["/bin/sh", "-c", 'printf "%s" "$1" > "$2"', "sh", value, join(dir, `argv-${i}`)]))),
    );
    expect(results.map((r) => r.exitCode)).toEqual(NASTY.map(() => 0));
    NASTY.forEach((value, i) => expect(readFileSync(join(dir, `argv-${i}`))).toEqual(Buffer.from(value)));
    // Nothing was expanded: no `pwned` output went anywhere.
    expect(existsSync(join(dir, "pwned"))).toBe(false);
  });

  test("empty arguments are kept, in order", async () => {
    const job = argv(["/bin/sh", "-c", 'printf "[%s]" "$@"', "sh", "", "a", "", "b c", ""]);
    await runner.run(job);
    expect(readFileSync(job.log, "utf8")).toBe("[][a][][b c][]");
  });

  test("a shell command reaches sh -c unchanged (quoted values round-trip)", async () => {
    const results = await Promise.all(
      NASTY.map((value, i) => runner.run(shell(`printf '%s' ${shellQuote(value)} > ${shellQuote(`shell-${i}`)}`))),
    );
    expect(results.map((r) => r.exitCode)).toEqual(NASTY.map(() => 0));
    NASTY.forEach((value, i) => expect(readFileSync(join(dir, `shell-${i}`))).toEqual(Buffer.from(value)));
  });

  test("env values round-trip", async () => {
    const results = await Promise.all(
      NASTY.map((value, i) => runner.run(shell(`printf '%s' "$WFC_VALUE" > env-${i}`, { env: { WFC_VALUE: value } }))),
    );
    expect(results.map((r) => r.exitCode)).toEqual(NASTY.map(() => 0));
    NASTY.forEach((value, i) => expect(readFileSync(join(dir, `env-${i}`))).toEqual(Buffer.from(value)));
  });

  test("jobs that cannot start end with an error, not an exit code", async () => {
    const missingJob = argv(["wfc-no-such-program"]);
    const [missing, noCwd, noLog] = await Promise.all([
      runner.run(missingJob),
      runner.run(argv(["/bin/true"], { cwd: join(dir, "missing") })),
      runner.run(argv(["/bin/true"], { log: join(dir, "missing", "x.log") })),
    ]);
    expect([missing.exitCode, missing.error]).toEqual([null, expect.stringMatching(/^cannot execute wfc-no-such-program: no such file/i)]);
    expect([noCwd.exitCode, noCwd.error]).toEqual([null, expect.stringMatching(/^cannot change directory to .*missing: no such file/i)]);
    expect([noLog.exitCode, noLog.error]).toEqual([null, expect.stringMatching(/^cannot open log .*x\.log: .*no such file/i)]);
    expect(readFileSync(missingJob.log, "utf8")).toBe(`wfc: ${missing.error}\n`);
  });

  test("malformed jobs are refused synchronously", () => {
    expect(() => runner.run(argv(["/bin/echo", "a\0b"]))).toThrow(/argv\[1\] contains a NUL/);
    expect(() => runner.run(argv(["/bin/true"], { env: { "A=B": "x" } }))).toThrow(/environment variable name "A=B"/);
    expect(() => runner.run(argv([]))).toThrow(/argv must be a non-empty array/);
    expect(() => runner.run(shell("true", { timeoutMs: 0 }))).toThrow(/timeoutMs must be a positive number/);
  });

  test("jobs start with default signal dispositions: SIGPIPE ends `yes | head`", async () => {
    const job = shell("yes | head -n 2");
    expect((await runner.run(job)).exitCode).toBe(0);
    expect(readFileSync(job.log, "utf8")).toBe("y\ny\n");
  });

  test("each job leads its own process group", async () => {
    const job = shell("ps -o pgid= -p $$");
    const r = await runner.run(job);
    expect(Number(readFileSync(job.log, "utf8").trim())).toBe(r.pid);
  });

  test("a timeout kills the job's whole process group", async () => {
    const r = await runner.run(shell("sleep 30 & echo $! > bg.pid; sleep 30", { timeoutMs: 300 }));
    expect([r.timedOut, r.cancelled, r.exitCode, r.signal]).toEqual([true, false, null, "SIGTERM"]);
    expect(liveGroupMembers(r.pid)).toEqual([]);
    expect(alive(Number(readFileSync(join(dir, "bg.pid"), "utf8")))).toBe(false);
  });

  test("aborting kills a running job's whole process group", async () => {
    const controller = new AbortController();
    const job = shell("sleep 30 & sleep 30 & echo started; wait");
    const result = runner.run(job, controller.signal, { started: () => {} });
    await waitForText(job.log, "started");
    controller.abort();
    const r = await result;
    expect([r.cancelled, r.timedOut, r.signal]).toEqual([true, false, "SIGTERM"]);
    expect(liveGroupMembers(r.pid)).toEqual([]);
  });

  test("a job's `then` commands run in order into one log, each after the one before exited 0", async () => {
    const job = shell("echo one", {
      then: [
        { kind: "argv", argv: ["sh", "-c", 'echo "two $X"'], env: { X: "x" } },
        { kind: "shell", command: "echo three; exit 4" },
        { kind: "shell", command: "echo never" },
      ],
    });
    const r = await runner.run(job);
    expect([r.exitCode, r.step, r.error]).toEqual([4, 2, null]);
    expect(readFileSync(job.log, "utf8")).toBe("one\ntwo x\nthree\n");
    const ok = shell("true", { then: [{ kind: "shell", command: "touch made" }] });
    expect(await runner.run(ok)).toMatchObject({ exitCode: 0, step: 1, error: null });
    expect(existsSync(join(dir, "made"))).toBe(true);
  });

  test("a `then` command that cannot start ends the job with its step and an error", async () => {
    const r = await runner.run(
      shell("true", {
        then: [
          { kind: "argv", argv: ["wfc-no-such-program"] },
          { kind: "shell", command: "touch no" },
        ],
      }),
    );
    expect([r.exitCode, r.step, r.error]).toEqual([null, 1, expect.stringMatching(/^cannot execute wfc-no-such-program/)]);
    expect(existsSync(join(dir, "no"))).toBe(false);
  });

  test("aborting a job in its second command kills that command's group and runs nothing after it", async () => {
    const controller = new AbortController();
    const job = shell("true", {
      then: [
        { kind: "shell", command: "sleep 30 & echo $! > bg.pid; echo started; wait" },
        { kind: "shell", command: "touch after" },
      ],
    });
    const result = runner.run(job, controller.signal);
    await waitForText(job.log, "started");
    controller.abort();
    const r = await result;
    expect([r.cancelled, r.step, r.signal]).toEqual([true, 1, "SIGTERM"]);
    expect(alive(Number(readFileSync(join(dir, "bg.pid"), "utf8")))).toBe(false);
    expect(existsSync(join(dir, "after"))).toBe(false);
  });

  test("an already aborted job never starts", async () => {
    const controller = new AbortController();
    controller.abort();
    const r = await runner.run(shell("touch ran"), controller.signal);
    expect([r.cancelled, r.pid, r.exitCode, r.error]).toEqual([true, 0, null, null]);
    expect(existsSync(join(dir, "ran"))).toBe(false);
  });

  test("aborting a queued job settles it at once and it never starts", async () => {
    const single = make(1);
    try {
      const blocker = shell("echo running; sleep 30");
      const first = single.run(blocker);
      await waitForText(blocker.log, "running");
      const controller = new AbortController();
      const queued = single.run(shell("touch ran"), controller.signal);
      controller.abort();
      const r = await queued; // settles while the blocker still runs
      expect([r.cancelled, r.pid]).toEqual([true, 0]);
      await single.killAll(100);
      expect((await first).cancelled).toBe(true);
      expect(existsSync(join(dir, "ran"))).toBe(false);
    } finally {
      await single.close();
    }
  });

  test("killAll escalates to SIGKILL for jobs that ignore SIGTERM", async () => {
    const jobs = [0, 1].map((i) => shell(`trap '' TERM; echo ready; sleep 30; echo survived > survived-${i}`));
    const results = jobs.map((job) => runner.run(job));
    await Promise.all(jobs.map((job) => waitForText(job.log, "ready")));
    await runner.killAll(200);
    const settled = await Promise.all(results);
    expect(settled.map((r) => [r.cancelled, r.signal])).toEqual([
      [true, "SIGKILL"],
      [true, "SIGKILL"],
    ]);
    for (const r of settled) expect(liveGroupMembers(r.pid)).toEqual([]);
  });

  test("killAll also cancels queued jobs, and the runner keeps working", async () => {
    const running = [0, 1].map((i) => shell(`echo up; sleep 30 # ${i}`));
    const results = running.map((job) => runner.run(job));
    const queued = [runner.run(shell("touch ran-1")), runner.run(shell("touch ran-2"))];
    await Promise.all(running.map((job) => waitForText(job.log, "up")));
    await runner.killAll(200);
    expect((await Promise.all(queued)).map((r) => [r.cancelled, r.pid])).toEqual([
      [true, 0],
      [true, 0],
    ]);
    expect((await Promise.all(results)).map((r) => r.cancelled)).toEqual([true, true]);
    expect(existsSync(join(dir, "ran-1")) || existsSync(join(dir, "ran-2"))).toBe(false);
    expect((await runner.run(shell("exit 7"))).exitCode).toBe(7);
  });

  test("never more jobs at once than size, by the jobs' own timestamps", async () => {
    const three = make(3);
    try {
      const results: JobResult[] = await Promise.all(
        Array.from({ length: 24 }, (_, i) => three.run(shell(`i=0; while [ $i -lt ${(i % 5) * 20} ]; do i=$((i+1)); done`))),
      );
      expect(results.every((r) => r.exitCode === 0)).toBe(true);
      expect(maxOverlap(results)).toBeLessThanOrEqual(3);
    } finally {
      await three.close();
    }
  });

  test("a job waits for a free slot: the third of two starts only after one ends", async () => {
    const started: string[] = [];
    const hold = (name: string) => shell(`while [ ! -e release-${name} ]; do sleep 0.01; done`, { id: name });
    const runs = ["a", "b", "c"].map((name) => runner.run(hold(name), undefined, { started: () => started.push(name) }));
    const release = (name: string) => writeFileSync(join(dir, `release-${name}`), "");
    // a and b take both slots; c cannot start until one of them ends, which needs a release.
    for (let i = 0; i < 1000 && started.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(started.toSorted()).toEqual(["a", "b"]);
    release("c");
    release("a");
    const [a, , c] = [await runs[0]!, null, await runs[2]!];
    expect(started.toSorted()).toEqual(["a", "b", "c"]);
    expect(c.startedAt).toBeGreaterThanOrEqual(a.endedAt);
    release("b");
    await runs[1];
  });

  test("a job that succeeds without a word leaves no log; one that prints or fails keeps it; nothing else is left", async () => {
    const own = make(2);
    const jobs = [shell("true"), shell("echo said"), shell("exit 3"), shell("true", { then: [{ kind: "shell", command: "echo later" }] })];
    const results = await Promise.all(jobs.map((job) => own.run(job)));
    await own.close();
    expect(results.map((r) => r.exitCode)).toEqual([0, 0, 3, 0]);
    expect(jobs.map((job) => existsSync(job.log))).toEqual([false, true, true, true]);
    expect(readFileSync(jobs[1]!.log, "utf8")).toBe("said\n");
    expect(readFileSync(jobs[2]!.log, "utf8")).toBe("");
    expect(readFileSync(jobs[3]!.log, "utf8")).toBe("later\n");
    // No scratch file of the runner's own is left beside the logs.
    expect(readdirSync(dir).toSorted()).toEqual(
      jobs
        .slice(1)
        .map((job) => basename(job.log))
        .toSorted(),
    );
  });

  test("what a job leaves running in the background writes to that job's log, never to the next one's", async () => {
    const own = make(1);
    const first = shell("(sleep 0.3; echo late) &");
    const second = shell("true");
    expect((await own.run(first)).exitCode).toBe(0);
    expect((await own.run(second)).exitCode).toBe(0);
    await waitForText(first.log, "late\n");
    expect(existsSync(second.log)).toBe(false);
    await own.close();
  });

  test("a log that exists already is appended to (a retry's second attempt)", async () => {
    const job = shell("echo second");
    writeFileSync(job.log, "first\n");
    expect((await runner.run(job)).exitCode).toBe(0);
    expect((await runner.run({ ...job, command: "true" })).exitCode).toBe(0);
    expect(readFileSync(job.log, "utf8")).toBe("first\nsecond\n");
  });

  test("a lane's jobs run one after another, each only if the one before succeeded; the rest never start", async () => {
    const stamp = (name: string, then = "") =>
      shell(`date +%s%N > ${name}.start; sleep 0.05; date +%s%N > ${name}.end${then}`, { lane: 1 });
    const [a, b, c, d] = [stamp("a"), stamp("b", "; exit 5"), stamp("c"), stamp("d")];
    const results = await Promise.all([a, b, c, d].map((job) => runner.run(job)));
    expect(results.map((r) => [r.exitCode, r.notRun])).toEqual([
      [0, false],
      [5, false],
      [null, true],
      [null, true],
    ]);
    const at = (file: string) => Number(readFileSync(join(dir, file), "utf8"));
    expect(at("b.start")).toBeGreaterThanOrEqual(at("a.end"));
    expect([existsSync(join(dir, "c.start")), existsSync(join(dir, "d.start"))]).toEqual([false, false]);
    expect([results[2]!.pid, results[3]!.pid]).toEqual([0, 0]);
    // The lane is free again: its next job runs.
    expect((await runner.run(stamp("e"))).exitCode).toBe(0);
  });

  test("a job that `follows` never starts after the lane's job before it failed, even one that ended before it came", async () => {
    const failed = await runner.run(shell("exit 3", { lane: 5 }));
    expect(failed.exitCode).toBe(3);
    // Handed on behind it, but prepared too late to wait behind it: it still never starts.
    const late = await runner.run(shell("touch ran-late", { lane: 5, follows: true }));
    expect([late.notRun, late.pid, existsSync(join(dir, "ran-late"))]).toEqual([true, 0, false]);
    // Without `follows`, a job coming after the lane's job ended starts as any job; so does a retry.
    expect((await runner.run(shell("touch ran-after", { lane: 5 }))).exitCode).toBe(0);
    expect(existsSync(join(dir, "ran-after"))).toBe(true);
    // Behind one that succeeded, it runs.
    expect((await runner.run(shell("true", { lane: 6 }))).exitCode).toBe(0);
    expect((await runner.run(shell("touch ran-next", { lane: 6, follows: true }))).exitCode).toBe(0);
    expect(existsSync(join(dir, "ran-next"))).toBe(true);
  });

  test("a lane holds one slot: with size 1, a lane of three and a job outside it never overlap", async () => {
    const single = make(1);
    try {
      const hold = (lane?: number) => shell("i=0; while [ $i -lt 200 ]; do i=$((i+1)); done", lane === undefined ? {} : { lane });
      const results = await Promise.all([hold(7), hold(), hold(7), hold(7)].map((job) => single.run(job)));
      expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0, 0]);
      expect(maxOverlap(results)).toBe(1);
      // The lane keeps its slot: the job outside it runs after all three.
      expect(results[1]!.startedAt).toBeGreaterThanOrEqual(results[3]!.endedAt);
    } finally {
      await single.close();
    }
  });

  test("a lane whose first job fails gives back its one slot once: the jobs after it still run one at a time", async () => {
    const single = make(1);
    try {
      const hold = (lane?: number, then = "") => shell(`sleep 0.1${then}`, lane === undefined ? {} : { lane });
      const results = await Promise.all([hold(7, "; exit 4"), hold(7), hold(), hold()].map((job) => single.run(job)));
      expect(results.map((r) => [r.exitCode, r.notRun])).toEqual([
        [4, false],
        [null, true],
        [0, false],
        [0, false],
      ]);
      expect(maxOverlap(results.filter((r) => !r.notRun))).toBe(1);
    } finally {
      await single.close();
    }
  });

  test("killAll with a lane's next job waiting: it never starts", async () => {
    const first = shell("echo up; sleep 30", { lane: 3 });
    const next = shell("touch ran-next", { lane: 3 });
    const results = [runner.run(first), runner.run(next)];
    await waitForText(first.log, "up");
    await runner.killAll(100);
    const [r1, r2] = await Promise.all(results);
    expect(r1!.cancelled).toBe(true);
    expect([r2!.pid, r2!.exitCode, r2!.cancelled || r2!.notRun]).toEqual([0, null, true]);
    expect(existsSync(join(dir, "ran-next"))).toBe(false);
  });

  test("close() waits for running jobs and then refuses new ones", async () => {
    const result = runner.run(shell("sleep 0.2; echo done"));
    await runner.close();
    expect((await result).exitCode).toBe(0);
    expect(() => runner.run(shell("true"))).toThrow(/closed/);
  });
});
