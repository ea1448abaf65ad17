/**
 * A job's results, end to end with the built CLI and real jobs: exit 0 is
 * not success unless every declared output is there (after a latency wait
 * on slow shared file systems), and declared logs survive a failure and are
 * shown.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "./helpers.js";

interface JobEndEvent {
  type: string;
  task: string;
  status: string;
  reason?: string;
}

function jobEnds(stdout: string): JobEndEvent[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JobEndEvent)
    .filter((e) => e.type === "job-end");
}

describe("a job that exits 0 without writing a declared output fails", () => {
  const workflow = `wfc: 1
stages:
  make:
    foreach: { v: [a, b] }
    outputs: ["out/{v}.txt", "out/{v}.idx"]
    run: "echo partial > out/{v}.txt; test {v} = a && touch out/{v}.idx; exit 0"
`;

  test("exit 1, the missing path named in the summary and the job-end event, its partial output removed", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["run", "wf.yaml", "--keep-going"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('failed: make#1 (exit 0 but it did not write a declared output: "out/b.idx")');
    expect(r.stderr).toMatch(/^failed: 1 done, 0 up to date, 1 failed, 0 not run in /m);
    // What the failed job made is gone, like any failed job's; the job that wrote both keeps them.
    expect(existsSync(join(dir, "out/b.txt"))).toBe(false);
    expect(readFileSync(join(dir, "out/a.txt"), "utf8")).toBe("partial\n");
    expect(existsSync(join(dir, "out/a.idx"))).toBe(true);

    const json = await wfc(["run", "wf.yaml", "--keep-going", "--json"], { cwd: dir });
    expect(json.exitCode).toBe(1);
    // a is up to date; b failed again (it was journaled failed, so it runs again).
    expect(jobEnds(json.stdout).map((e) => [e.status, e.reason])).toEqual([
      ["skipped", "up to date"],
      ["failed", 'exit 0 but it did not write a declared output: "out/b.idx"'],
    ]);
  });

  test("an `fn` job that returns without writing its output fails too", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  f:
    outputs: out.txt
    fn: "noop.mjs#run"
`,
      "noop.mjs": "export function run() {}\n",
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('failed: f#0 (exit 0 but it did not write a declared output: "out.txt")');
  });
});

describe("a job that exits 0 without its outputs is retried like any failure", () => {
  // The first attempt forgets its output; a retry (counted in tries.txt) writes it.
  const workflow = (retries: number, writes: string) => `wfc: 1
stages:
  make:
    outputs: out.txt
    retries: ${retries}
    run: "echo try >> tries.txt; ${writes}"
`;

  test("a retry that writes it succeeds", async () => {
    const dir = fixture({ "wf.yaml": workflow(1, "test $(wc -l < tries.txt) -lt 2 || echo ok > {outputs}") });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "tries.txt"), "utf8")).toBe("try\ntry\n");
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("ok\n");
  });

  test("when no attempt writes it, the job fails after the last, with the missing path", async () => {
    const dir = fixture({ "wf.yaml": workflow(2, "true") });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(readFileSync(join(dir, "tries.txt"), "utf8")).toBe("try\ntry\ntry\n");
    expect(r.stderr).toContain('failed: make#0 (exit 0 but it did not write a declared output: "out.txt")');
  });
});

describe("--latency-wait", () => {
  // The output appears half a second after the job's command has exited, as on a slow shared file system.
  const workflow = `wfc: 1
stages:
  late:
    outputs: out.txt
    run: "(sleep 0.5; echo late > out.txt) > /dev/null 2>&1 &"
`;

  test("an output that appears after the job ended passes with a wait", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["run", "wf.yaml", "--latency-wait", "10"], { cwd: dir });
    expect(r.stderr).toMatch(/^ok: 1 done/m);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("late\n");
  });

  test("and fails without one (the default locally)", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('failed: late#0 (exit 0 but it did not write a declared output: "out.txt")');
  });

  test("a wait that runs out says how long it waited", async () => {
    const dir = fixture({ "wf.yaml": 'wfc: 1\nstages:\n  none:\n    outputs: never.txt\n    run: "true"\n' });
    const r = await wfc(["run", "wf.yaml", "--latency-wait", "0.3"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'failed: none#0 (exit 0 but it did not write a declared output: "never.txt" (waited 0.3 s for the file system; raise it with --latency-wait))',
    );
  });

  test("a wait that is not a number of seconds is a usage error", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["run", "wf.yaml", "--latency-wait", "soon"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("expected seconds, from 0 to 3600.");
  });
});

describe("declared logs", () => {
  test("a failed job's log is kept (its output is removed) and its tail shown when wfc's own log is empty", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  align:
    foreach: { sample: [A] }
    outputs: "out/{sample}.bam"
    log: "logs/align/{sample}.log"
    run: "(echo partial > {outputs}; echo 'reading {sample}'; echo 'truncated input' >&2; exit 3) > {log} 2>&1"
`,
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(existsSync(join(dir, "out/A.bam"))).toBe(false);
    expect(readFileSync(join(dir, "logs/align/A.log"), "utf8")).toBe("reading A\ntruncated input\n");
    expect(r.stderr).toContain("failed: align#0 (exit 3)");
    expect(r.stderr).toContain(`  log: ${join(dir, "logs/align/A.log")}\n  | reading A\n  | truncated input\n`);
  });

  test("an `fn` stage gets its log's path as `log`, and a failure keeps what it wrote there", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  f:
    foreach: { v: [a] }
    outputs: "out/{v}.txt"
    log: "logs/{v}.log"
    fn: "f.mjs#run"
`,
      "f.mjs": `import { writeFileSync } from "node:fs";
export function run({ outputs, log }) {
  writeFileSync(outputs, "half");
  writeFileSync(log, "checked the input\\n");
  throw new Error("bad input");
}
`,
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("failed: f#0 (threw Error: bad input)");
    expect(existsSync(join(dir, "out/a.txt"))).toBe(false);
    expect(readFileSync(join(dir, "logs/a.log"), "utf8")).toBe("checked the input\n");
  });

  test("a log need not exist after success, and no stage depends on it", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  quiet:
    outputs: out.txt
    log: { run: quiet.log }
    run: "echo done > {outputs}"
`,
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.stderr).toMatch(/^ok: 1 done/m);
    expect(r.exitCode).toBe(0);
    expect(existsSync(join(dir, "quiet.log"))).toBe(false);
  });

  test("wfc's own log of a failed job keeps the job's stdout and stderr and is shown", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1\nstages:\n  s:\n    outputs: o.txt\n    run: "echo to-stdout; echo to-stderr >&2; exit 2"\n`,
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const own = join(dir, ".wfc/logs/s/_.log");
    expect(r.stderr).toContain(`  log: ${own}\n  | to-stdout\n  | to-stderr\n`);
    expect(readFileSync(own, "utf8")).toBe("to-stdout\nto-stderr\nwfc: s#0 failed: exit 2\n");
  });

  test("a log must tell the elements apart and be named by `{log}` only where one is declared", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  a:
    foreach: { v: [x, y] }
    outputs: "out/{v}"
    log: "logs/a.log"
    run: "touch {outputs} 2> {log}"
  b:
    outputs: b.txt
    run: "touch {outputs} 2> {log}"
`,
    });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("error WFC207: log `logs/a.log` of stage `a` does not use foreach variable `{v}`");
    expect(r.stderr).toContain("error WFC205: `{log}` is used, but stage `b` declares no log");
  });
});
