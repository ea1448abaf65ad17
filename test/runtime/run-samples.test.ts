import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { copySample, repoRoot, ruffusLines, wfc } from "../e2e/helpers.js";

/** The most intervals open at once. */
function peak(intervals: readonly [number, number][]): number {
  const points = intervals.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]);
  points.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let max = 0;
  for (const [, d] of points) max = Math.max(max, (now += d!));
  return max;
}

type Event = {
  type: string;
  task?: string;
  job?: number;
  time?: number;
  start?: number;
  status?: string;
  summary?: { done: number; failed: number; notRun: number };
};
const events = (stdout: string): Event[] =>
  stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Event);

describe("wfc run on the seed samples", () => {
  test("Ruffus: at most 3 ftp_download_limit jobs and 5 stage2 jobs at once, from the jobs' own timestamps", async () => {
    const dir = copySample("ruffus-jobs-limit");
    const r = await wfc(["run", "workflow.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = ruffusLines(dir);
    const spans = (pred: (stage: string) => boolean) =>
      lines.filter(([stage]) => pred(stage!)).map(([, , s, e]) => [Number(s), Number(e)] as [number, number]);
    expect(lines).toHaveLength(30);
    expect(peak(spans((s) => s.startsWith("stage1_")))).toBeLessThanOrEqual(3);
    expect(peak(spans((s) => s === "stage2"))).toBeLessThanOrEqual(5);
    expect(peak(spans(() => true))).toBeLessThanOrEqual(10);
  });

  test("QIIME: a serial run and a parallel run give byte-identical outputs", async () => {
    const serial = copySample("qiime-search");
    const parallel = copySample("qiime-search");
    expect((await wfc(["run", "workflow.yaml", "--jobs", "1"], { cwd: serial })).exitCode).toBe(0);
    // From another folder: jobs and fn stages still see paths relative to the workflow.
    expect((await wfc(["run", join(parallel, "workflow.toml")], { cwd: tmpdir() })).exitCode).toBe(0);
    for (const file of ["results/hits-table.html", "results/summary.tsv", "work/hits.tsv"]) {
      expect(readFileSync(join(parallel, file)), file).toEqual(readFileSync(join(serial, file)));
    }
  });

  test("Scipion: createOutputStep starts after every processStep ended", async () => {
    const dir = copySample("scipion-steps");
    const r = await wfc(["run", "workflow.yaml", "--json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const ends = events(r.stdout).filter((e) => e.type === "job-end" && e.task === "processStep");
    const start = events(r.stdout).find((e) => e.type === "job-start" && e.task === "createOutputStep")!;
    expect(ends).toHaveLength(6);
    expect(Math.max(...ends.map((e) => e.time!))).toBeLessThanOrEqual(start.time!);
  });

  test("a second run skips everything; a newer input re-runs only what depends on it", async () => {
    const dir = copySample("qiime-search");
    expect((await wfc(["run", "workflow.yaml"], { cwd: dir })).exitCode).toBe(0);
    const again = await wfc(["run", "workflow.yaml"], { cwd: dir });
    // One split, a search per chunk it wrote (6), merge, summarize.
    expect(again.stderr).toMatch(/^ok: 0 done, 9 up to date, 0 failed, 0 not run in /m);
    const dry = await wfc(["run", "workflow.yaml", "--dry-run", "--force"], { cwd: dir });
    expect(dry.stdout).toContain("would run split#0: --force");
  });
});

describe("wfc run failures", () => {
  const failing = (extra = "") => `wfc: 1
stages:
  a:
    foreach: { i: [1, 2, 3] }
    outputs: "a/{i}.txt"
    run: "if [ {i} = 2 ]; then echo broken >&2; exit 3; fi; echo {i} > {outputs}"
  b:
    foreach: { i: [1, 2, 3] }
    inputs: "a/{i}.txt"
    outputs: "b/{i}.txt"
    fuse: false
    run: "cat {inputs} > {outputs}"${extra}
`;

  test("fail fast: exit 1 with the failing command, its exit code and the tail of its log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wfc-fail-"));
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dir, "wf.yaml"), failing());
    const r = await wfc(["run", "wf.yaml", "--jobs", "1"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("failed: a#1 (exit 3)");
    expect(r.stderr).toContain("  | broken");
    expect(r.stderr).toMatch(/^failed: \d+ done, 0 up to date, 1 failed, \d+ not run in /m);
  });

  test("fail fast with one worker: nothing starts after the failure, not even the job already handed to the worker", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wfc-fast-"));
    const { writeFileSync, existsSync } = await import("node:fs");
    writeFileSync(
      join(dir, "wf.yaml"),
      'wfc: 1\nstages:\n  a:\n    foreach: { i: { range: [0, 6] } }\n    outputs: "a/{i}.txt"\n    run: "if [ {i} = 2 ]; then exit 3; fi; touch {outputs}"\n',
    );
    const r = await wfc(["run", "wf.yaml", "--jobs", "1", "--json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const all = events(r.stdout);
    const failed = all.find((e) => e.type === "job-end" && e.status === "failed")!;
    expect(failed.job).toBe(2);
    expect(all.filter((e) => e.type === "job-start").map((e) => e.job)).toEqual([0, 1, 2]);
    expect([0, 1, 2, 3, 4, 5].map((i) => existsSync(join(dir, `a/${i}.txt`)))).toEqual([true, true, false, false, false, false]);
    expect(all.find((e) => e.type === "run-end")!.summary).toMatchObject({ done: 2, failed: 1, notRun: 3 });
    // Jobs that succeeded without printing anything leave no log; the failure keeps one.
    expect(readdirSync(join(dir, ".wfc", "logs", "a"))).toEqual(["i=2.log"]);
  });

  test("a stage whose jobs all succeeded without a word leaves no log folder; one that printed keeps its logs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wfc-quiet-"));
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      join(dir, "wf.yaml"),
      'wfc: 1\nstages:\n  quiet:\n    foreach: { i: { range: [0, 3] } }\n    outputs: "q/{i}.txt"\n    run: "touch {outputs}"\n' +
        '  chatty:\n    foreach: { i: { range: [0, 2] } }\n    outputs: "c/{i}.txt"\n    run: "echo hello {i}; touch {outputs}"\n',
    );
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(readdirSync(join(dir, ".wfc", "logs"))).toEqual(["chatty"]);
    expect(readdirSync(join(dir, ".wfc", "logs", "chatty")).toSorted()).toEqual(["i=0.log", "i=1.log"]);
  });

  test("a fused job stops at its failing step, names that step's command, and keeps the outputs of the steps before it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wfc-fused-"));
    const { writeFileSync, existsSync } = await import("node:fs");
    writeFileSync(
      join(dir, "wf.yaml"),
      `wfc: 1
stages:
  a:
    foreach: { i: [1, 2] }
    outputs: "a/{i}.txt"
    run: "touch {outputs}"
  b:
    foreach: { i: [1, 2] }
    inputs: "a/{i}.txt"
    outputs: "b/{i}.txt"
    run: "if [ {i} = 2 ]; then echo b broke >&2; exit 5; fi; cp {inputs} {outputs}"
  c:
    foreach: { i: [1, 2] }
    inputs: "b/{i}.txt"
    outputs: "c/{i}.txt"
    run: "cp {inputs} {outputs}"
`,
    );
    const r = await wfc(["run", "wf.yaml", "--jobs", "1", "--keep-going"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("(exit 5)");
    expect(r.stderr).toContain("if [ 2 = 2 ]; then echo b broke >&2; exit 5; fi; cp a/2.txt b/2.txt");
    expect(r.stderr).toContain("  | b broke");
    expect(["a/1.txt", "b/1.txt", "c/1.txt"].every((f) => existsSync(join(dir, f)))).toBe(true);
    // Issue 13 point 3: step a succeeded for i=2, so its output stays; only the failing step's is removed.
    expect(["a/2.txt", "b/2.txt", "c/2.txt"].map((f) => existsSync(join(dir, f)))).toEqual([true, false, false]);
  });

  test("--keep-going runs everything not downstream of the failure", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wfc-keep-"));
    const { writeFileSync, existsSync } = await import("node:fs");
    writeFileSync(join(dir, "wf.yaml"), failing());
    const r = await wfc(["run", "wf.yaml", "--keep-going"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^failed: 4 done, 0 up to date, 1 failed, 1 not run in /m);
    expect([1, 2, 3].map((i) => existsSync(join(dir, `b/${i}.txt`)))).toEqual([true, false, true]);
  });

  test("a second run in the same folder while one runs is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wfc-lock-"));
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dir, "wf.yaml"), 'wfc: 1\nstages:\n  a:\n    outputs: done.txt\n    run: "sleep 3; touch done.txt"\n');
    const first = wfc(["run", "wf.yaml"], { cwd: dir });
    // Wait until the first run holds the lock (not a fixed delay: machines are noisy).
    const { existsSync } = await import("node:fs");
    while (!existsSync(join(dir, ".wfc", "lock"))) await new Promise((r) => setTimeout(r, 20));
    const second = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toMatch(/^wfc: error: another wfc run \(pid \d+\) is using .*\.wfc; wait for it to finish, or stop it$/);
    expect((await first).exitCode).toBe(0);
  });
});

describe("wfc run on a terminal", () => {
  // `script` (util-linux, in every Debian) gives the run a pseudo-terminal, as a user's shell would.
  const hasScript = spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;
  test.skipIf(!hasScript)("a live display per stage instead of per-job lines, ending with every bar full", async () => {
    const dir = copySample("ruffus-jobs-limit");
    const r = await execa("script", ["-qec", `${process.execPath} ${join(repoRoot, "dist/cli/bin.js")} run workflow.yaml`, "/dev/null"], {
      cwd: dir,
      env: { NO_COLOR: "1", WFC_CONFIG: "", TERM: "xterm" },
      reject: false,
    });
    expect(r.exitCode).toBe(0);
    const screen = stripVTControlCharacters(String(r.stdout)).replace(/\r/g, "");
    expect(screen).not.toMatch(/\[\d+\/30\] done/);
    const last = screen.slice(screen.lastIndexOf("30/30 jobs"));
    expect(
      last
        .split("\n")
        .slice(0, 5)
        .map((l) => l.replace(/\s+[█░]+\s+/, " ").trim()),
    ).toEqual([
      "30/30 jobs  0 running  elapsed " + /elapsed (\S+)/.exec(last)![1],
      "make_files 10/10",
      "stage1_big 5/5",
      "stage1_small 5/5",
      "stage2 10/10",
    ]);
    expect(screen).toMatch(/\nok: 30 done, 0 up to date, 0 failed, 0 not run in /);
  });
});
