import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { fixture, repoRoot } from "./helpers.js";

// Issue 11, point 6: jobs die with their runner, and a run never starts a
// job beside the copy a dead run left running.

interface Run {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout: string;
  stderr: string;
  readonly exit: Promise<number | null>;
}

function start(dir: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Run {
  const child = spawn(process.execPath, [join(repoRoot, "dist/cli/bin.js"), ...args], {
    cwd: dir,
    env: { ...env, WFC_CONFIG: "", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run: Run = {
    child,
    pid: child.pid!,
    stdout: "",
    stderr: "",
    exit: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
  };
  child.stdout!.on("data", (d: Buffer) => (run.stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (run.stderr += d.toString()));
  return run;
}

/** Every process as /proc shows it: pid, parent, command line. */
function processes(): { pid: number; ppid: number; args: string }[] {
  const out: { pid: number; ppid: number; args: string }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue; // exited, waiting to be reaped
      const args = readFileSync(`/proc/${name}/cmdline`, "latin1").split("\0").join(" ");
      out.push({ pid: Number(name), ppid: Number(fields[1]), args });
    } catch {
      // gone while we looked
    }
  }
  return out;
}

/** Live processes whose command line contains `marker`. */
function withMarker(marker: string): number[] {
  return processes()
    .filter((p) => p.args.includes(marker))
    .map((p) => p.pid);
}

/** Live `sleep` processes whose duration carries `marker`. */
function sleeps(marker: string): number[] {
  return processes()
    .filter((p) => p.args.startsWith("sleep ") && p.args.includes(marker))
    .map((p) => p.pid);
}

/** Polls until `ready()`; fails the test with `what` if that takes over 20 s (a hung wait, not a speed assertion). */
async function waitFor(what: string, ready: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Markers of this file's sleeps, killed after each test whatever happened (a failing test must not leave them). */
const markers: string[] = [];
afterEach(() => {
  for (const marker of markers.splice(0)) for (const pid of withMarker(marker)) process.kill(pid, "SIGKILL");
});

/**
 * A workflow of two jobs that each run two sleeps (one in the background)
 * for `seconds`, in a fresh folder; the sleeps' durations carry a unique
 * marker, so `ps` tells them from any other. A job first notes any sleep of
 * a 30-second run still alive (a copy left by a dead run) in `clash.N`.
 */
function sleepers(seconds: number, marker: string, dir?: string): string {
  const sleep = `sleep ${seconds}.${marker}`;
  // Only the second, short run checks: "^sleep 3[0]" matches the dead run's sleeps, not a shell's command line.
  const clash = `if pgrep -f '^sleep 3[0][.]${marker}' >/dev/null; then echo clash > clash.{i}; fi; `;
  const run = `${seconds === 30 ? "" : clash}${sleep} & ${sleep}; wait`;
  const wf = `wfc: 1\nstages:\n  slow:\n    foreach: { i: [1, 2] }\n    outputs: "out/{i}.txt"\n    run: "${run}; echo done > {outputs}"\n`;
  if (dir === undefined) return fixture({ "wf.yaml": wf });
  writeFileSync(join(dir, "wf.yaml"), wf);
  return dir;
}

function newMarker(): string {
  const marker = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
  markers.push(marker);
  return marker;
}

/** Starts the 30-second workflow and waits until both jobs' sleeps run. */
async function startSleepers(dir: string, marker: string, env?: NodeJS.ProcessEnv): Promise<Run> {
  const run = start(dir, ["run", "wf.yaml", "--jobs", "2", "--json"], env);
  await waitFor("four sleeps", () => sleeps(marker).length >= 4 || run.child.exitCode !== null);
  expect(sleeps(marker)).toHaveLength(4);
  return run;
}

/** The second run, with short sleeps: it must not start a job while the dead run's copy still runs. */
async function rerun(dir: string, marker: string, env?: NodeJS.ProcessEnv) {
  sleepers(0, marker, dir);
  const second = start(dir, ["run", "wf.yaml", "--jobs", "2"], env);
  const code = await second.exit;
  expect(readdirSync(dir).filter((f) => f.startsWith("clash"))).toEqual([]);
  expect(readFileSync(join(dir, "out/1.txt"), "utf8")).toBe("done\n");
  return { code, stderr: second.stderr };
}

/** Where wfc runs jobs itself, without python3 or perl: a PATH with the jobs' programs but no interpreter for the pool. */
function withoutInterpreters(dir: string): NodeJS.ProcessEnv {
  const bin = join(dir, "bin");
  mkdirSync(bin);
  // bash runs the jobs' commands (shell: bash, the default).
  for (const program of ["sleep", "pgrep", "bash"]) symlinkSync(`/usr/bin/${program}`, join(bin, program));
  return { ...process.env, PATH: bin };
}

describe.each([
  ["pool workers", (): NodeJS.ProcessEnv => process.env],
  ["jobs spawned by Node (no python3 or perl)", withoutInterpreters],
])("kill -9 of wfc, %s", (_, environment) => {
  test("the jobs die with wfc; the next run takes over the lock and runs them once", async () => {
    const marker = newMarker();
    const dir = sleepers(30, marker);
    const env = environment(dir);
    const run = await startSleepers(dir, marker, env);
    run.child.kill("SIGKILL");
    await run.exit;
    await waitFor("the jobs to die with wfc", () => withMarker(marker).length === 0);
    const { code, stderr } = await rerun(dir, marker, env);
    expect(stderr).toContain(`wfc: wfc run ${run.pid} ended without releasing its lock (its process is gone); taking it over\n`);
    expect(code).toBe(0);
  });

  test("with its child processes killed too, the next run finds the jobs left running, stops them and says so", async () => {
    const marker = newMarker();
    const dir = sleepers(30, marker);
    const env = environment(dir);
    const run = await startSleepers(dir, marker, env);
    // Jobs are recorded once they have run a moment (RECORD_AFTER_MS).
    const recorded = () =>
      readFileSync(join(dir, ".wfc/running"), "utf8")
        .split("\n")
        .filter((l) => l.startsWith("+ ")).length;
    await waitFor("both jobs to be recorded", () => recorded() === 2);
    // Pool workers, or the watchdog shell of jobs spawned by Node.
    const children = processes().filter((p) => p.ppid === run.pid);
    // wfc is stopped first, so neither it nor a worker sees the other go and stops the jobs in between.
    process.kill(run.pid, "SIGSTOP");
    for (const p of [...children.map((c) => c.pid), run.pid]) process.kill(p, "SIGKILL");
    await run.exit;
    const left = sleeps(marker);
    expect(left).toHaveLength(4); // orphans now: nothing of wfc is left to stop them
    const { code, stderr } = await rerun(dir, marker, env);
    expect(stderr).toContain(`wfc: stopped 2 job process groups left running by wfc run ${run.pid}, which died\n`);
    expect(code).toBe(0);
    expect(left.filter((pid) => withMarker(marker).includes(pid))).toEqual([]);
  });
});

describe("kill -9 of wfc", () => {
  test.each([
    ["waits", "setInterval(() => {}, 1000); return new Promise(() => {});"],
    ["is stuck in a synchronous loop", "for (;;) {}"],
  ])("an fn stage's worker process exits with wfc, also when its function %s", async (_, body) => {
    const dir = fixture({
      "fx.mjs": `import { writeFileSync } from "node:fs";\nexport function work() { writeFileSync("fn.pid", String(process.pid)); ${body} }\n`,
      "wf.yaml": {
        wfc: 1,
        executors: { p: { type: "processes" } },
        stages: { a: { outputs: "out.txt", fn: "fx.mjs#work", executor: "p" } },
      },
    });
    const run = start(dir, ["run", "wf.yaml"]);
    await waitFor("the fn to start", () => existsSync(join(dir, "fn.pid")));
    const fnPid = Number(readFileSync(join(dir, "fn.pid"), "utf8"));
    try {
      run.child.kill("SIGKILL");
      await run.exit;
      await waitFor("the fn's process to exit", () => !processes().some((p) => p.pid === fnPid));
    } finally {
      if (processes().some((p) => p.pid === fnPid)) process.kill(fnPid, "SIGKILL");
    }
  });
});

describe("signals other than Ctrl-C stop a run as Ctrl-C does", () => {
  test.each([
    ["SIGHUP", 129],
    ["SIGTERM", 143],
  ] as const)("%s: jobs killed, unfinished outputs removed, lock released, exit %i", async (signal, exitCode) => {
    const marker = newMarker();
    const dir = sleepers(30, marker);
    const run = await startSleepers(dir, marker);
    run.child.kill(signal);
    expect(await run.exit).toBe(exitCode);
    expect(withMarker(marker)).toEqual([]);
    expect([1, 2].map((i) => existsSync(join(dir, `out/${i}.txt`)))).toEqual([false, false]);
    expect(existsSync(join(dir, ".wfc", "lock"))).toBe(false);
    expect(run.stdout).toContain('"status":"interrupted"');
  });
});

test("a second Ctrl-C during the kill grace SIGKILLs every job at once, then wfc exits", async () => {
  const marker = newMarker();
  // Jobs that ignore SIGTERM (their sleep does; the shell notes it got one in term.N).
  const job = `trap 'touch term.{i}' TERM; (trap '' TERM; exec sleep 30.${marker}) & wait; wait`;
  const dir = fixture({
    "wf.yaml": `wfc: 1\nstages:\n  stubborn:\n    foreach: { i: [1, 2] }\n    outputs: "out/{i}.txt"\n    run: "${job}"\n`,
  });
  const run = start(dir, ["run", "wf.yaml", "--jobs", "2", "--json"]);
  await waitFor("two sleeps", () => sleeps(marker).length >= 2);
  run.child.kill("SIGINT");
  await waitFor("both jobs to get SIGTERM", () => existsSync(join(dir, "term.1")) && existsSync(join(dir, "term.2")));
  expect(sleeps(marker)).toHaveLength(2);
  run.child.kill("SIGINT");
  expect(await run.exit).toBe(130);
  expect(withMarker(marker)).toEqual([]);
  expect(existsSync(join(dir, ".wfc", "lock"))).toBe(false);
  expect(existsSync(join(dir, ".wfc", "running"))).toBe(false);
});
