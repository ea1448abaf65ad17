import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { fixture, repoRoot, wfc } from "./helpers.js";

// Issue 11, point 7: one run per folder, however many start at once.

/** Runs a Node program (ESM) to its end; its stdout. */
function node(source: string, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], { cwd, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", () => resolve(out));
  });
}

const lockModule = JSON.stringify(join(repoRoot, "dist/runtime/state/lock.js"));

test("processes taking and releasing the lock in a tight loop never hold it two at once", async () => {
  const dir = fixture({});
  // Each holder creates `holder` exclusively while it holds the lock: EEXIST means two holders.
  const source = `
    import { acquireLock } from ${lockModule};
    import { writeFileSync, rmSync } from "node:fs";
    let held = 0, clashes = 0, errors = 0;
    for (let i = 0; i < 400; i++) {
      let lock;
      try { lock = acquireLock(".wfc"); } catch (e) { errors++; continue; }
      if (!lock.ok) continue;
      held++;
      try { writeFileSync("holder", String(process.pid), { flag: "wx" }); rmSync("holder"); } catch { clashes++; }
      lock.release();
    }
    console.log(JSON.stringify({ held, clashes, errors }));`;
  const results = (await Promise.all(Array.from({ length: 4 }, () => node(source, dir)))).map(
    (out) => JSON.parse(out) as { held: number; clashes: number; errors: number },
  );
  expect(results.map((r) => [r.clashes, r.errors])).toEqual([
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
  ]);
  expect(results.reduce((n, r) => n + r.held, 0)).toBeGreaterThan(0);
});

/** A pid that was just used and is free now (its process exited and was reaped). */
function deadPid(): number {
  return spawnSync("true").pid!;
}

function bootId(): string {
  return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
}

test("of several runs that find the same stale lock, exactly one takes it over", async () => {
  for (let round = 0; round < 6; round++) {
    const dir = fixture({});
    mkdirSync(join(dir, ".wfc"));
    const stale = { pid: deadPid(), start: "1", boot: bootId(), host: hostname(), nonce: `stale${round}` };
    writeFileSync(join(dir, ".wfc", "lock"), `${JSON.stringify(stale)}\n`);
    // Each holder keeps the lock until every contender has tried (the file `go` appears).
    const source = `
      import { acquireLock } from ${lockModule};
      import { existsSync } from "node:fs";
      const lock = acquireLock(".wfc");
      console.log(lock.ok ? "held" : "refused");
      if (lock.ok) { while (!existsSync("go")) await new Promise((r) => setTimeout(r, 10)); lock.release(); }`;
    const said: string[] = [];
    const runs = Array.from({ length: 6 }, () => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", source], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
      child.stdout.on("data", (d: Buffer) => said.push(...d.toString().trim().split("\n")));
      return new Promise((resolve) => child.on("close", resolve));
    });
    // Every contender has said whether it got the lock (holders keep it meanwhile).
    while (said.length < 6) await new Promise((r) => setTimeout(r, 20));
    writeFileSync(join(dir, "go"), "");
    await Promise.all(runs);
    expect(said.filter((s) => s === "held")).toHaveLength(1);
  }
});

test("many `wfc run`s started at once over several rounds: each job runs exactly once", async () => {
  for (let round = 0; round < 4; round++) {
    const dir = fixture({
      "wf.yaml": { wfc: 1, stages: { once: { outputs: "out.txt", run: "echo ran >> count.txt; echo x > out.txt" } } },
    });
    const results = await Promise.all(Array.from({ length: 6 }, () => wfc(["run", "wf.yaml"], { cwd: dir })));
    expect(readFileSync(join(dir, "count.txt"), "utf8")).toBe("ran\n");
    for (const r of results) {
      // Each either ran it, found it up to date, or was turned away by the one running it.
      if (r.exitCode === 2) expect(r.stderr).toMatch(/^wfc: error: another wfc run \(pid \d+\) is using /);
      else expect(r.exitCode).toBe(0);
    }
  }
});

const sleepers: number[] = [];
afterEach(() => {
  for (const pid of sleepers.splice(0)) process.kill(pid, "SIGKILL");
});

/** A live process that is not wfc, holding a pid a lock may name. */
function otherProgram(): number {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  sleepers.push(child.pid!);
  return child.pid!;
}

test("a lock naming a live pid that is now another program (pid reuse) is taken over with a message", async () => {
  const pid = otherProgram();
  const dir = fixture({ "wf.yaml": { wfc: 1, stages: { a: { outputs: "out.txt", run: "echo x > out.txt" } } } });
  mkdirSync(join(dir, ".wfc"));
  // As the wfc that held it wrote it: its pid, and its start time, which the sleep's is not.
  const lock = { pid, start: "1", boot: bootId(), host: hostname(), nonce: "n" };
  writeFileSync(join(dir, ".wfc", "lock"), `${JSON.stringify(lock)}\n`);
  const r = await wfc(["run", "wf.yaml"], { cwd: dir });
  expect(r.stderr).toContain(`wfc: the lock names pid ${pid}, which is now another program (sleep); taking it over\n`);
  expect(r.exitCode).toBe(0);
});

test("a lock of an earlier wfc (a pid alone) naming a live non-wfc program is taken over too", async () => {
  const pid = otherProgram();
  const dir = fixture({ "wf.yaml": { wfc: 1, stages: { a: { outputs: "out.txt", run: "echo x > out.txt" } } } });
  mkdirSync(join(dir, ".wfc"));
  writeFileSync(join(dir, ".wfc", "lock"), `${pid}\n`);
  const r = await wfc(["run", "wf.yaml"], { cwd: dir });
  expect(r.stderr).toContain(`wfc: the lock names pid ${pid}, which is now another program (sleep 30); taking it over\n`);
  expect(r.exitCode).toBe(0);
});

test("a lock held by a live run still turns a second run away", async () => {
  const dir = fixture({ "wf.yaml": { wfc: 1, stages: { a: { outputs: "out.txt", run: "echo x > out.txt" } } } });
  const source = `
    import { acquireLock } from ${lockModule};
    const lock = acquireLock(".wfc");
    console.log(lock.ok ? "held" : lock.message);
    setTimeout(() => lock.release(), 60_000);`;
  const holder = spawn(process.execPath, ["--input-type=module", "-e", source], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.stderr).toBe(
      `wfc: error: another wfc run (pid ${holder.pid}) is using ${join(dir, ".wfc")}; wait for it to finish, or stop it`,
    );
    expect(r.exitCode).toBe(2);
  } finally {
    holder.kill("SIGKILL");
  }
});
