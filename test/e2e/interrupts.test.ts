import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { fixture, jsonEvents, repoRoot, wfc } from "./helpers.js";

// Issue 13, points 8 and 9: Ctrl-C at any moment of a run stops it (start-up
// included), and the summary it prints puts every job in one bucket.

/** Live processes (not zombies) whose command line contains `marker`. */
function withMarker(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      if (readFileSync(`/proc/${name}/cmdline`, "latin1").split("\0").join(" ").includes(marker)) pids.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return pids;
}

const markers: string[] = [];
afterEach(() => {
  for (const marker of markers.splice(0)) for (const pid of withMarker(marker)) process.kill(pid, "SIGKILL");
});

function newMarker(): string {
  const marker = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
  markers.push(marker);
  return marker;
}

interface Started {
  stdout: string;
  stderr: string;
  readonly kill: (signal: NodeJS.Signals) => void;
  /** The exit code, or the signal that ended it; rejects if it has not ended 20 s after `deadlineFrom()` (a hung run, not a speed check). */
  readonly exit: () => Promise<number | NodeJS.Signals>;
}

function start(dir: string, args: readonly string[]): Started {
  const child = spawn(process.execPath, [join(repoRoot, "dist/cli/bin.js"), ...args], {
    cwd: dir,
    env: { ...process.env, WFC_CONFIG: "", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const ended = new Promise<number | NodeJS.Signals>((r) => child.on("exit", (code, signal) => r(code ?? signal!)));
  const run: Started = {
    stdout: "",
    stderr: "",
    kill: (signal) => child.kill(signal),
    exit: async () => {
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(new Error(`wfc did not stop after the signal\nstdout: ${run.stdout}\nstderr: ${run.stderr}`));
        }, 20_000);
      });
      try {
        return await Promise.race([ended, hung]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
  child.stdout.on("data", (d: Buffer) => (run.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (run.stderr += d.toString()));
  return run;
}

async function waitFor(what: string, ready: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two jobs of 30-second sleeps (one in the background), marked so `/proc` tells them from any other. */
function slowJobs(marker: string): string {
  const s = `sleep 30.${marker}`;
  return fixture({
    "wf.yaml": `wfc: 1\nstages:\n  slow:\n    foreach: { i: [1, 2] }\n    outputs: "out/{i}.txt"\n    run: "echo partial > {outputs}; ${s} & ${s}; wait"\n`,
  });
}

// Start-up (compiling, the lock, the leftovers, the backends) takes a few
// hundred ms: SIGINT at steps through it and past it, where the jobs run.
test("SIGINT at any moment of start-up: exit 130, nothing left running, no output, the lock released", async () => {
  for (let delay = 0; delay <= 1000; delay += 50) {
    const marker = newMarker();
    const dir = slowJobs(marker);
    const run = start(dir, ["run", "wf.yaml", "--jobs", "2", "--json"]);
    await sleep(delay);
    run.kill("SIGINT");
    const code = await run.exit();
    const at = `SIGINT after ${delay} ms`;
    // Before Node ran wfc's handler, SIGINT ends it as it ends any program (a shell says 130 too); nothing had started.
    if (code === "SIGINT") expect(run.stdout, at).toBe("");
    else expect(code, `${at}\n${run.stderr}`).toBe(130);
    expect(withMarker(marker), at).toEqual([]);
    expect(existsSync(join(dir, "out", "1.txt")) || existsSync(join(dir, "out", "2.txt")), at).toBe(false);
    expect(existsSync(join(dir, ".wfc", "lock")), at).toBe(false);
    expect(existsSync(join(dir, ".wfc", "running")), at).toBe(false);
    // Every line of --json is a whole event; the last says interrupted, and its counts add up.
    const events = run.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; summary?: Record<string, number | string> });
    const end = events.at(-1);
    if (events.length > 0) {
      expect(end?.type, at).toBe("run-end");
      const s = end!.summary!;
      expect(s.status, at).toBe("interrupted");
      expect(Number(s.done) + Number(s.skipped) + Number(s.failed) + Number(s.cancelled) + Number(s.notRun), at).toBe(2);
    }
    // Nothing was recorded as done: the next run runs both jobs.
    const journal = join(dir, ".wfc", "journal.ndjson");
    expect(existsSync(journal) ? readFileSync(journal, "utf8") : "", at).not.toContain('"status":"done"');
  }
}, 240_000);

test("Ctrl-C's summary adds up: done, cancelled and not run jobs each counted once; a cancelled job is no progress", async () => {
  const marker = newMarker();
  const s = `sleep 30.${marker}`;
  const dir = fixture({
    "wf.yaml": `wfc: 1
stages:
  quick:
    foreach: { i: [1, 2] }
    outputs: "q/{i}.txt"
    run: "echo {i} > {outputs}"
  slow:
    foreach: { i: [1, 2] }
    outputs: "s/{i}.txt"
    run: "${s} & ${s}; wait; echo {i} > {outputs}"
  all:
    inputs: [s/1.txt, s/2.txt]
    outputs: all.txt
    run: "cat {inputs} > {outputs}"
`,
  });
  const run = start(dir, ["run", "wf.yaml", "--jobs", "4"]);
  await waitFor(
    "the quick jobs done and the slow ones running",
    () => (run.stdout.match(/ done /g) ?? []).length === 2 && withMarker(marker).length >= 4,
  );
  run.kill("SIGINT");
  expect(await run.exit()).toBe(130);
  expect(run.stderr).toMatch(/^interrupted: 2 done, 0 up to date, 0 failed, 2 cancelled, 1 not run in /m);
  // The plain lines count finished jobs only: the cancelled ones do not advance it.
  const cancelled = run.stdout.split("\n").filter((l) => l.includes("cancelled"));
  expect(cancelled.map((l) => l.replace(/ \d+\.\d+ s$/, ""))).toEqual(["[2/5] cancelled slow#0", "[2/5] cancelled slow#1"]);
});

test("--dry-run says how many jobs would run and how many are up to date", async () => {
  const dir = fixture({
    "wf.yaml": `wfc: 1
stages:
  make:
    foreach: { i: [1, 2, 3] }
    outputs: "m/{i}.txt"
    run: "echo {i} > {outputs}"
  all:
    inputs: [m/1.txt, m/2.txt, m/3.txt]
    outputs: all.txt
    run: "cat {inputs} > {outputs}"
`,
  });
  const fresh = await wfc(["run", "wf.yaml", "--dry-run"], { cwd: dir });
  expect(fresh.exitCode).toBe(0);
  expect(fresh.stderr).toMatch(/^ok: would run 4, 0 up to date in /m);
  expect(await wfc(["run", "wf.yaml"], { cwd: dir })).toMatchObject({ exitCode: 0 });
  expect((await wfc(["run", "wf.yaml", "--dry-run"], { cwd: dir })).stderr).toMatch(/^ok: would run 0, 4 up to date in /m);
  rmSync(join(dir, "m", "3.txt"));
  const again = await wfc(["run", "wf.yaml", "--dry-run"], { cwd: dir });
  expect(again.stdout.match(/^would run \S+/gm)).toEqual(["would run make#2:", "would run all#0:"]);
  expect(again.stderr).toMatch(/^ok: would run 2, 2 up to date in /m);
});

test("Ctrl-C in the second step of a fused job keeps the first step's output and record: the re-run resumes at the second", async () => {
  const marker = newMarker();
  const dir = fixture({
    "wf.yaml": `wfc: 1
stages:
  first:
    foreach: { i: [1] }
    outputs: "a/{i}.txt"
    run: "echo ran >> first.count; echo {i} > {outputs}"
  second:
    foreach: { i: [1] }
    inputs: "a/{i}.txt"
    outputs: "b/{i}.txt"
    run: "test -e go || sleep 30.${marker}; cat {inputs} > {outputs}"
`,
  });
  const run = start(dir, ["run", "wf.yaml", "--json"]);
  await waitFor("the second step running", () => withMarker(marker).length >= 1);
  run.kill("SIGINT");
  expect(await run.exit()).toBe(130);
  expect(run.stdout).toContain('"task":"first+second"');
  expect(readFileSync(join(dir, "a/1.txt"), "utf8")).toBe("1\n");
  expect(existsSync(join(dir, "b/1.txt"))).toBe(false);

  writeFileSync(join(dir, "go"), "");
  const again = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
  expect(again.exitCode, again.stderr).toBe(0);
  const end = jsonEvents(again.stdout).find((e) => e.type === "job-end")!;
  expect(end.why).toBe("step `second`: it has not run");
  expect(readFileSync(join(dir, "first.count"), "utf8")).toBe("ran\n");
  expect(readFileSync(join(dir, "b/1.txt"), "utf8")).toBe("1\n");
});
