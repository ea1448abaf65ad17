/**
 * `wfc run` with stages on a `slurm` executor, on the local cluster from
 * .ci/slurm/up.sh (skipped without one, a failure on CI): mixed local and
 * SLURM stages, retries as one array of the failed indices, a failure's
 * report, a stage cap as `%k`, and Ctrl-C cancelling what was submitted.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, expect, test } from "vitest";
import { fixture, repoRoot, wfc } from "../e2e/helpers.js";
import { describeSlurm, maxOverlap } from "./cluster.js";

/** Generous: a loaded cluster queues (SLURM schedules about once a second here). */
const TIMEOUT = 150_000;

const temporary: string[] = [];
const submitted: string[] = [];
afterAll(async () => {
  if (submitted.length > 0) await execa("scancel", submitted, { reject: false, timeout: 30_000 });
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

type Event = { type: string; task?: string; job?: number; status?: string; jobs?: number; jobId?: string; sbatch?: string[] };

const events = (stdout: string): Event[] =>
  stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Event);

/** `wfc run --json` in `dir`; the events, and every array id it submitted noted for cleanup. */
async function runIn(dir: string, ...args: string[]) {
  const r = await wfc(["run", "wf.yaml", "--json", ...args], { cwd: dir });
  const list = events(r.stdout);
  for (const e of list) if (e.type === "slurm-submit") submitted.push(e.jobId!);
  return { ...r, events: list, submits: list.filter((e) => e.type === "slurm-submit") };
}

/** A folder name that breaks naive quoting: every run here happens inside one. */
const AWKWARD = "it's a $(dir) ü";

/**
 * `wfc run --json` in `dir` as a child process, for tests that act while it
 * runs: its events so far, a wait for a condition on them, the array it
 * submitted (noted for cleanup), and its exit code.
 */
function startRun(dir: string) {
  const child = spawn(process.execPath, [join(repoRoot, "dist/cli/bin.js"), "run", "wf.yaml", "--json"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WFC_CONFIG: "" },
  });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  const list = () => events(stdout);
  return {
    child,
    exited,
    events: list,
    async until(ok: (events: Event[]) => boolean): Promise<void> {
      while (!ok(list())) await new Promise((r) => setTimeout(r, 50));
    },
    submitted(): string | undefined {
      const id = list().find((e) => e.type === "slurm-submit")?.jobId;
      if (id !== undefined && !submitted.includes(id)) submitted.push(id);
      return id;
    },
  };
}

const workflow = (files: Record<string, unknown>) => {
  const d = fixture(Object.fromEntries(Object.entries(files).map(([name, content]) => [`${AWKWARD}/${name}`, content])));
  temporary.push(d);
  return join(d, AWKWARD);
};

describeSlurm("wfc run on a slurm executor (.ci/slurm/up.sh)", () => {
  test.concurrent(
    "a mixed plan: local → SLURM (shell and fn) → local, arrays of what is ready; a re-run submits nothing",
    async () => {
      const dir = workflow({
        "wf.yaml": `wfc: 1
name: mixed
executors:
  cluster: { type: slurm }
stages:
  make:
    foreach: { i: { range: [0, 5] } }
    outputs: "a/{i}.txt"
    run: "echo {i} > {outputs}"
  remote:
    foreach: { i: { range: [0, 5] } }
    inputs: "a/{i}.txt"
    outputs: "b/{i}.txt"
    executor: cluster
    fuse: false
    run: "cat {inputs} > {outputs}; echo \\"it's $((i * 2))\\" >> {outputs}"
    env: { i: "{i}" }
  shout:
    foreach: { i: { range: [0, 5] } }
    inputs: "b/{i}.txt"
    outputs: "c/{i}.txt"
    executor: cluster
    fuse: false
    fn: ./tasks/shout.mjs#shout
  gather:
    inputs: "c/*.txt"
    outputs: "all.txt"
    run: "cat {inputs} > {outputs}"
`,
        "tasks/shout.mjs": `import { readFileSync, writeFileSync } from "node:fs";
export function shout({ inputs, outputs, vars }) {
  writeFileSync(outputs, readFileSync(inputs, "utf8").toUpperCase() + "element " + vars.i + "\\n");
}
`,
      });
      const r = await runIn(dir);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      // `remote` becomes ready at once: one array. `shout`'s elements become
      // ready as `remote`'s end, and go in arrays of those ready together.
      expect(r.submits[0]).toMatchObject({ task: "remote", jobs: 5 });
      expect(r.submits[0]!.sbatch).toContain("--array=0-4");
      const shouts = r.submits.filter((e) => e.task === "shout");
      expect(shouts.reduce((n, e) => n + e.jobs!, 0)).toBe(5);
      expect(r.submits).toHaveLength(1 + shouts.length);
      const expected = [0, 1, 2, 3, 4].map((i) => `${i}\nIT'S ${i * 2}\nelement ${i}\n`).join("");
      expect(readFileSync(join(dir, "all.txt"), "utf8")).toBe(expected);
      // Every SLURM job reported its start before its end, and ended done.
      for (const task of ["remote", "shout"]) {
        const ends = r.events.filter((e) => e.type === "job-end" && e.task === task);
        expect(ends.map((e) => e.status)).toEqual(["done", "done", "done", "done", "done"]);
        expect(r.events.filter((e) => e.type === "job-start" && e.task === task)).toHaveLength(5);
      }
      // A clean submission leaves nothing in .wfc/slurm: the journal and the job logs say it all.
      expect(readdirSync(join(dir, ".wfc/slurm"))).toEqual([]);
      expect(readFileSync(join(dir, ".wfc/logs/remote/i=0.log"), "utf8")).toBe("");
      const again = await runIn(dir);
      expect(again.exitCode).toBe(0);
      expect(again.submits).toEqual([]);
      expect(again.events.filter((e) => e.type === "job-end").every((e) => e.status === "skipped")).toBe(true);
    },
    TIMEOUT,
  );

  test.concurrent(
    "elements that fail a second apart are retried together, as one array of just their indices",
    async () => {
      const dir = workflow({
        "wf.yaml": `wfc: 1
name: flaky
executors:
  cluster: { type: slurm }
stages:
  flaky:
    foreach: { i: { range: [0, 4] } }
    outputs: "out/{i}.txt"
    executor: cluster
    retries: 1
    run: "if [ {i} = 1 ] || [ {i} = 3 ]; then if [ ! -e tried.{i} ]; then touch tried.{i}; [ {i} = 3 ] && sleep 1.5; exit 3; fi; fi; echo {i} > {outputs}"
`,
      });
      const r = await runIn(dir);
      expect(r.exitCode).toBe(0);
      expect(r.submits.map((e) => e.jobs)).toEqual([4, 2]);
      expect(r.submits[1]!.sbatch).toContain("--array=1,3");
      expect([0, 1, 2, 3].map((i) => readFileSync(join(dir, `out/${i}.txt`), "utf8"))).toEqual(["0\n", "1\n", "2\n", "3\n"]);
    },
    TIMEOUT,
  );

  test.concurrent(
    "an element that exits 0 without its output fails after the latency wait, its declared log kept (made in a new folder on the node)",
    async () => {
      const dir = workflow({
        "wf.yaml": `wfc: 1
name: no-output
executors:
  cluster: { type: slurm }
stages:
  step:
    foreach: { i: { range: [0, 2] } }
    outputs: "s/{i}.txt"
    log: "logs/{i}.log"
    executor: cluster
    run: "echo checking {i} > {log}; if [ {i} = 1 ]; then exit 0; fi; echo {i} > {outputs}"
`,
      });
      const r = await wfc(["run", "wf.yaml", "--keep-going", "--latency-wait", "1"], { cwd: dir });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(
        'failed: step#1 (exit 0 but it did not write a declared output: "s/1.txt" (waited 1 s for the file system; raise it with --latency-wait))',
      );
      expect(r.stderr).toMatch(/^failed: 1 done, 0 up to date, 1 failed, 0 not run in /m);
      expect(readFileSync(join(dir, "logs/1.log"), "utf8")).toBe("checking 1\n");
      expect(readFileSync(join(dir, "s/0.txt"), "utf8")).toBe("0\n");
    },
    TIMEOUT,
  );

  test.concurrent(
    "a failing element: exit 1 with its command, exit code and log tail; its dependents never run",
    async () => {
      const dir = workflow({
        "wf.yaml": `wfc: 1
name: broken
executors:
  cluster: { type: slurm }
stages:
  step:
    foreach: { i: { range: [0, 3] } }
    outputs: "s/{i}.txt"
    executor: cluster
    run: "if [ {i} = 2 ]; then echo element two broke >&2; exit 7; fi; echo {i} > {outputs}"
  after:
    inputs: "s/*.txt"
    outputs: "all.txt"
    run: "cat {inputs} > {outputs}"
`,
      });
      const r = await wfc(["run", "wf.yaml", "--keep-going"], { cwd: dir });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain("failed: step#2 (exit 7)");
      expect(r.stderr).toContain("  command: if [ 2 = 2 ]; then echo element two broke >&2; exit 7; fi; echo 2 > s/2.txt");
      expect(r.stderr).toContain("  | element two broke");
      // The failed submission's folder stays for a look.
      expect(readdirSync(join(dir, ".wfc/slurm"))).toHaveLength(1);
      expect(r.stderr).toMatch(/^failed: 2 done, 0 up to date, 1 failed, 1 not run in /m);
      expect(existsSync(join(dir, "all.txt"))).toBe(false);
      expect(existsSync(join(dir, "s/2.txt"))).toBe(false);
    },
    TIMEOUT,
  );

  test.concurrent(
    "a stage's cap becomes the array's %k, which the cluster holds (from the jobs' own timestamps)",
    async () => {
      const dir = workflow({
        "wf.yaml": `wfc: 1
name: capped
executors:
  cluster: { type: slurm }
stages:
  capped:
    foreach: { i: { range: [0, 5] } }
    outputs: "t/{i}.txt"
    executor: cluster
    limit: 2
    run: "date +%s.%N > {outputs}; sleep 1; date +%s.%N >> {outputs}"
`,
      });
      const r = await runIn(dir);
      expect(r.exitCode).toBe(0);
      expect(r.submits).toHaveLength(1);
      expect(r.submits[0]!.sbatch).toContain("--array=0-4%2");
      const intervals = readdirSync(join(dir, "t")).map((f) => {
        const [start, end] = readFileSync(join(dir, "t", f), "utf8")
          .trim()
          .split("\n")
          .map(Number);
        return { start: start!, end: end! };
      });
      expect(intervals).toHaveLength(5);
      expect(maxOverlap(intervals)).toBeLessThanOrEqual(2);
    },
    TIMEOUT,
  );

  test.concurrent(
    "an element SLURM ends without a result (scancel from outside) fails with SLURM's state, not a hang",
    async () => {
      const dir = workflow({
        "wf.yaml": `wfc: 1
name: cancelled-outside
executors:
  cluster: { type: slurm }
stages:
  wait:
    outputs: "w.txt"
    executor: cluster
    run: "sleep 120; touch w.txt"
`,
      });
      const run = startRun(dir);
      await run.until((list) => list.some((e) => e.type === "job-start"));
      const id = run.submitted()!;
      await execa("scancel", [`${id}_0`]);
      expect(await run.exited).toBe(1);
      const end = run.events().find((e) => e.type === "job-end")!;
      expect(end.status).toBe("failed");
      const log = readFileSync(join(dir, ".wfc/logs/wait/_.log"), "utf8");
      expect(log).toContain(`wfc: SLURM job ${id}_0 ended CANCELLED`);
    },
    TIMEOUT,
  );

  test(
    "Ctrl-C cancels every submitted array: exit 130, nothing left on the cluster, no outputs, nothing journaled",
    async () => {
      const dir = workflow({
        "wf.yaml": `wfc: 1
name: interrupted
executors:
  cluster: { type: slurm }
stages:
  long:
    foreach: { i: { range: [0, 3] } }
    outputs: "l/{i}.txt"
    executor: cluster
    run: "echo started > {outputs}; sleep 120"
`,
      });
      const run = startRun(dir);
      // Wait until every element runs on the cluster (events, not a fixed delay).
      await run.until((list) => list.filter((e) => e.type === "job-start").length === 3);
      const id = run.submitted();
      run.child.kill("SIGINT");
      expect(await run.exited).toBe(130);
      expect(id).toBeDefined();
      const left = await execa("squeue", ["-h", "-r", "-t", "PENDING,RUNNING,COMPLETING", "-j", id!, "-o", "%i %T"], { reject: false });
      expect(String(left.stdout).trim()).toBe("");
      expect(readdirSync(join(dir, "l"))).toEqual([]);
      const journal = join(dir, ".wfc", "journal.ndjson");
      const lines = existsSync(journal) ? readFileSync(journal, "utf8").trim().split("\n").filter(Boolean) : [];
      expect(lines.filter((l) => l.includes('"done"'))).toEqual([]);
    },
    TIMEOUT,
  );

  // Issue 13 point 8: a Ctrl-C during start-up (the SLURM side loading, the first arrays gathered) was lost.
  test("SIGINT at any moment of start-up: exit 130, no job of the run left in squeue, no outputs, the lock released", async () => {
    const name = `startup${process.pid}${Math.floor(Math.random() * 1e6)}`;
    const dir = workflow({
      "wf.yaml": `wfc: 1
name: ${name}
executors:
  cluster: { type: slurm }
stages:
  long:
    foreach: { i: { range: [0, 3] } }
    outputs: "l/{i}.txt"
    executor: cluster
    run: "echo started > {outputs}; sleep 120"
`,
    });
    const queued = async () =>
      String(
        (await execa("squeue", ["-h", "-r", "-t", "PENDING,RUNNING,COMPLETING", "-n", `${name}.long`, "-o", "%i %T"], { reject: false }))
          .stdout,
      ).trim();
    try {
      // Past the first submission too, however long start-up takes on a loaded machine.
      let submittedOnce = false;
      for (let delay = 0; delay <= 1500 || (!submittedOnce && delay <= 10_000); delay += 100) {
        const at = `SIGINT after ${delay} ms`;
        rmSync(join(dir, ".wfc"), { recursive: true, force: true });
        const child = spawn(process.execPath, [join(repoRoot, "dist/cli/bin.js"), "run", "wf.yaml", "--json"], {
          cwd: dir,
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, WFC_CONFIG: "" },
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (out += d.toString()));
        const exited = new Promise<number | string | null>((r) => child.on("exit", (code, signal) => r(code ?? signal)));
        await new Promise((r) => setTimeout(r, delay));
        child.kill("SIGINT");
        // Bounded: a run that did not hear the signal is killed (and its arrays cancelled below), and fails here.
        const hung = setTimeout(() => child.kill("SIGKILL"), 60_000);
        const code = await exited;
        clearTimeout(hung);
        submittedOnce ||= out.includes('"slurm-submit"');
        // Before Node ran wfc's handler, SIGINT ends it as it ends any program (a shell says 130 too); nothing had started.
        expect(code, `${at}\n${out}`).toSatisfy((c) => c === 130 || c === "SIGINT");
        expect(await queued(), at).toBe("");
        expect(existsSync(join(dir, "l")) ? readdirSync(join(dir, "l")) : [], at).toEqual([]);
        expect(existsSync(join(dir, ".wfc", "lock")), at).toBe(false);
      }
      expect(submittedOnce).toBe(true);
    } finally {
      await execa("scancel", ["-n", `${name}.long`], { reject: false, timeout: 30_000 });
    }
  }, 600_000);

  test(
    "kill -9 of wfc leaves its arrays running; the next run cancels them first, says so, and runs each job once",
    async () => {
      const dir = workflow({
        "wf.yaml": `wfc: 1
name: orphaned
params: { seconds: 120 }
executors:
  cluster: { type: slurm }
stages:
  long:
    foreach: { i: { range: [0, 3] } }
    outputs: "l/{i}.txt"
    executor: cluster
    run: "sleep {params.seconds}; echo done > {outputs}"
`,
      });
      const run = startRun(dir);
      await run.until((list) => list.filter((e) => e.type === "job-start").length === 3);
      const id = run.submitted();
      run.child.kill("SIGKILL");
      await run.exited;
      const active = async () =>
        String((await execa("squeue", ["-h", "-r", "-t", "PENDING,RUNNING,COMPLETING", "-j", id!, "-o", "%i"], { reject: false })).stdout)
          .split("\n")
          .filter(Boolean);
      // Nothing of wfc is left to cancel them: they run on the cluster.
      expect(await active()).toHaveLength(3);
      const again = await runIn(dir, "--param", "seconds=0");
      expect(again.stderr).toContain(`wfc: cancelled 1 SLURM job array (${id}) left running by wfc run ${run.child.pid}, which died`);
      expect(again.exitCode).toBe(0);
      expect(await active()).toEqual([]);
      expect(readdirSync(join(dir, "l")).sort()).toEqual(["0.txt", "1.txt", "2.txt"]);
    },
    TIMEOUT,
  );

  test.concurrent(
    "{cpus} is what the job asked for (--cpus-per-task), the stage's or its executor's, whatever this machine has",
    async () => {
      const dir = workflow({
        "wf.yaml": `wfc: 1
name: cpus
executors:
  cluster: { type: slurm, cpus: 2 }
stages:
  wide:
    cpus: 3
    outputs: "wide.txt"
    executor: cluster
    run: "echo {cpus} $SLURM_CPUS_PER_TASK > {outputs}"
  narrow:
    outputs: "narrow.txt"
    executor: cluster
    env: { N: "{cpus}" }
    run: "echo $N $SLURM_CPUS_PER_TASK > {outputs}"
`,
      });
      const r = await runIn(dir);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(readFileSync(join(dir, "wide.txt"), "utf8")).toBe("3 3\n");
      expect(readFileSync(join(dir, "narrow.txt"), "utf8")).toBe("2 2\n");
    },
    TIMEOUT,
  );

  test.concurrent(
    "a gather on SLURM gets exactly its producers' paths of this run; a leftover of an earlier run is named in a warning and kept",
    async () => {
      const dir = workflow({
        "wf.yaml": `wfc: 1
name: gather
executors:
  cluster: { type: slurm }
stages:
  make:
    foreach: { s: [a, b] }
    outputs: "out/{s}.txt"
    executor: cluster
    run: "echo {s} > {outputs}"
  merge:
    inputs: "out/*.txt"
    outputs: "merged.txt"
    executor: cluster
    run: "cat {inputs} > {outputs}"
`,
        // What an earlier run with samples a, b and c left.
        "out/c.txt": "c\n",
      });
      const r = await runIn(dir);
      expect(r.exitCode).toBe(0);
      expect(readFileSync(join(dir, "merged.txt"), "utf8")).toBe("a\nb\n");
      const stale = r.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; paths?: string[] })
        .filter((e) => e.type === "stale-inputs");
      expect(stale.map((e) => e.paths)).toEqual([["out/c.txt"]]);
      expect(readFileSync(join(dir, "out/c.txt"), "utf8")).toBe("c\n");
    },
    TIMEOUT,
  );

  test.concurrent(
    "what each step used comes back from the array script: peak RSS, CPU, wall, per step of a fused job, in the journal, job-end and --trace",
    async () => {
      const dir = workflow({
        "wf.yaml": `wfc: 1
name: measured
executors:
  cluster: { type: slurm }
stages:
  hold:
    foreach: { n: [1, 2] }
    outputs: "hold/{n}.txt"
    executor: cluster
    run: "perl -e 'my $x = \\"a\\" x (200*1024*1024); sleep 1'; echo {n} > {outputs}"
  burn:
    foreach: { n: [1, 2] }
    inputs: "hold/{n}.txt"
    outputs: "burn/{n}.txt"
    executor: cluster
    run: "perl -e 'my $t = times; my $i = 0; while (times - $t < 0.5) {{ $i++ }}'; cp {inputs} {outputs}"
  broken:
    outputs: "never.txt"
    executor: cluster
    run: "exit 3"
`,
      });
      const r = await runIn(dir, "-k", "--trace", "trace.tsv");
      expect(r.exitCode, r.stderr).toBe(1);
      type Usage = { wallMs: number; userMs?: number; sysMs?: number; maxRssKb?: number; via: string };
      const records = readFileSync(join(dir, ".wfc/journal.ndjson"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { stage: string; element: string; status: string; usage?: Usage; run?: string });
      // hold and burn are fused (one job, two steps): each step's record has its own figures.
      const hold = records.filter((x) => x.stage === "hold");
      const burn = records.filter((x) => x.stage === "burn");
      expect(hold.map((x) => x.status)).toEqual(["done", "done"]);
      for (const x of hold) {
        expect(x.usage).toMatchObject({ via: "script" });
        expect(x.usage!.maxRssKb).toBeGreaterThanOrEqual(200 * 1024);
        expect(x.usage!.wallMs).toBeGreaterThanOrEqual(1000);
      }
      for (const x of burn) {
        expect(x.usage!.userMs).toBeGreaterThanOrEqual(400);
        expect(x.usage!.maxRssKb).toBeLessThan(200 * 1024);
      }
      expect(records.find((x) => x.stage === "broken")).toMatchObject({ status: "failed", usage: { via: "script" } });
      expect(new Set(records.map((x) => x.run)).size).toBe(1);
      const ends = r.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; status?: string; usage?: Usage })
        .filter((e) => e.type === "job-end" && e.status === "done");
      expect(ends).toHaveLength(2);
      // The job's: CPU summed over its steps, the largest peak RSS.
      for (const e of ends) {
        expect(e.usage!.maxRssKb).toBeGreaterThanOrEqual(200 * 1024);
        expect(e.usage!.userMs).toBeGreaterThanOrEqual(400);
      }
      const [header, ...rows] = readFileSync(join(dir, "trace.tsv"), "utf8").trimEnd().split("\n");
      expect(header!.split("\t")[13]).toBe("peak_rss_kb");
      const cells = rows.map((l) => l.split("\t"));
      expect(cells.map((c) => `${c[1]} ${c[5]}`).sort()).toEqual(["broken failed", "burn done", "burn done", "hold done", "hold done"]);
      for (const c of cells.filter((c) => c[1] === "hold")) expect(Number(c[13])).toBeGreaterThanOrEqual(200 * 1024);
    },
    TIMEOUT,
  );
});
