/**
 * `wfc export slurm` on the local cluster from .ci/slurm/up.sh (skipped without
 * one, a failure on CI): exports submitted with their own submit.sh, checked from
 * the outputs and the jobs' own timestamps. SLURM schedules with about 1 s
 * granularity: the workflows here are a few elements each.
 */
import { execSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, test } from "vitest";
import { copySample, fixture, ruffusLines, wfc } from "../e2e/helpers.js";
import { describeSlurm, maxOverlap, waitForJobs, type Interval, type JobStates } from "./cluster.js";
import { contents, filesUnder, jobsTsv, submissionOrder, wfcBin } from "./export-helpers.js";
import { copyExportSample } from "./static-qiime.js";

/** Generous: vitest's default is 60 s, and a loaded cluster queues. */
const TIMEOUT = 120_000;

/** Every job id an export submitted, for `scancel` when a test ends early. */
const submitted: string[] = [];
const temporary: string[] = [];
afterAll(async () => {
  if (submitted.length > 0) await execa("scancel", submitted, { reject: false, timeout: 30_000 });
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

interface Submission {
  /** Array name → job id, from jobs.tsv. */
  readonly ids: ReadonlyMap<string, string>;
  /** Every element's final state. */
  readonly states: JobStates;
  readonly stderr: string;
}

/**
 * `wfc export slurm workflow -o DIR`, then `bash DIR/submit.sh` with `$WFC` set to
 * the built CLI (SLURM passes the environment on to the jobs, so `fn` steps find
 * it), from another folder; waits until every element of every array is final.
 */
async function exportAndSubmit(workdir: string, workflow: string, extra: readonly string[] = [], waitMs = 90_000): Promise<Submission> {
  const dir = join(workdir, "slurm");
  const exported = await wfc(["export", "slurm", workflow, "-o", "slurm", ...extra], { cwd: workdir });
  if (exported.exitCode !== 0) throw new Error(`export exited ${exported.exitCode}: ${exported.stderr}`);
  const submit = await execa("bash", [join(dir, "submit.sh")], { cwd: tmpdir(), env: { WFC: wfcBin }, reject: false, timeout: 60_000 });
  const rows = existsSync(join(dir, "jobs.tsv")) ? jobsTsv(dir) : [];
  submitted.push(...rows.map(([, id]) => id));
  if (submit.exitCode !== 0) throw new Error(`submit.sh exited ${submit.exitCode}: ${String(submit.stderr)}`);
  if (rows.map(([name]) => name).join(" ") !== (await submissionOrder(dir)).join(" "))
    throw new Error(`jobs.tsv lists ${rows.map(([name]) => name).join(" ")}, not every array of the export`);
  for (const [, id] of rows) if (!/^\d+$/.test(id)) throw new Error(`jobs.tsv holds a job id that is not a number: ${id}`);
  const ids = new Map(rows);
  const states = await waitForJobs([...ids.values()], waitMs);
  return { ids, states, stderr: String(submit.stderr) };
}

/** `name_i=STATE` for every element, sorted, for one readable failure message. */
function shown(s: Submission): string {
  const names = new Map([...s.ids].map(([name, id]) => [id, name]));
  return [...s.states]
    .map(([element, { state }]) => {
      const [id, i] = element.split("_");
      return `${names.get(id!) ?? id}[${i ?? "-"}]=${state}`;
    })
    .sort()
    .join(" ");
}

/** Every element's state, by `ARRAY[i]`. */
function byElement(s: Submission): Map<string, string> {
  const names = new Map([...s.ids].map(([name, id]) => [id, name]));
  return new Map([...s.states].map(([element, { state }]) => [`${names.get(element.split("_")[0]!)}[${element.split("_")[1]}]`, state]));
}

/** A fresh copy of a sample, removed after the run; a second copy run locally with `wfc run`. */
function copies(sample: string): { slurm: string; local: string } {
  const slurm = copyExportSample(sample);
  const local = copyExportSample(sample);
  temporary.push(slurm, local);
  return { slurm, local };
}

async function runLocally(dir: string, extra: readonly string[] = []): Promise<void> {
  const r = await wfc(["run", "workflow.yaml", ...extra], { cwd: dir });
  if (r.exitCode !== 0) throw new Error(`wfc run exited ${r.exitCode}: ${r.stderr}`);
}

/** The "start end" (date +%s.%N) a job of the timing fixtures wrote to its output. */
function interval(path: string): Interval {
  const [start, end] = readFileSync(path, "utf8").trim().split(" ").map(Number);
  return { start: start!, end: end! };
}

/* The ruffus sample, submitted once and checked twice: outputs, then limits. */
const RUFFUS_PARAMS = ["--param", "sleep=1"];
let ruffusRun: Promise<{ slurm: string; local: string; submission: Submission }> | undefined;
function ruffusOnSlurm() {
  ruffusRun ??= (async () => {
    const { slurm, local } = copies("ruffus-jobs-limit");
    // 1 s jobs, so that jobs held back by a limit would otherwise overlap.
    const [submission] = await Promise.all([exportAndSubmit(slurm, "workflow.yaml", RUFFUS_PARAMS), runLocally(local, RUFFUS_PARAMS)]);
    return { slurm, local, submission };
  })();
  return ruffusRun;
}

/** Two stages, one-to-one (not fused, so two arrays chained with aftercorr), writing their own times. */
function timedPair(name: string, n: number, aRun: string): string {
  return `wfc: 1
name: ${name}
stages:
  a:
    foreach: { i: { range: [0, ${n}] } }
    outputs: "a/{i}.txt"
    run: 'start=$(date +%s.%N); ${aRun}; echo "$start $(date +%s.%N)" > {outputs}'
  b:
    foreach: { i: { range: [0, ${n}] } }
    inputs: "a/{i}.txt"
    outputs: "b/{i}.txt"
    fuse: false
    run: 'start=$(date +%s.%N); cat {inputs} > /dev/null; echo "$start $(date +%s.%N)" > {outputs}'
`;
}

const allCompleted = (s: Submission) => [...s.states.values()].every((x) => x.state === "COMPLETED");

describeSlurm("wfc export slurm, submitted to the cluster (.ci/slurm/up.sh)", () => {
  // Concurrently: each test is a few small arrays, and the node advertises 8 CPUs.
  test.concurrent(
    "qiime-search: every array COMPLETED, outputs byte-identical to a local wfc run (fn stage through $WFC)",
    async ({ expect }) => {
      const { slurm, local } = copies("qiime-search");
      const [s] = await Promise.all([exportAndSubmit(slurm, "workflow.yaml"), runLocally(local)]);
      expect(allCompleted(s), shown(s)).toBe(true);
      expect([...s.ids.keys()]).toEqual(["split.0", "search.0", "merge.0", "summarize.0"]);
      expect(s.states.size).toBe(14);
      expect(s.stderr).toBe("qiime-search: 4 sbatch calls, ids in jobs.tsv");
      const files = filesUnder(local, [".wfc", "slurm"]);
      expect(files).toEqual(expect.arrayContaining(["results/hits-table.html", "results/summary.tsv", "work/hits.tsv"]));
      expect(filesUnder(slurm, [".wfc", "slurm"])).toEqual(files);
      expect(contents(slurm, files)).toEqual(contents(local, files));
      // SLURM wrote one log per element, where the export said it would.
      expect(readdirSync(join(slurm, "slurm", "logs"))).toHaveLength(14);
    },
    TIMEOUT,
  );

  test.concurrent(
    "scipion-steps: every array COMPLETED, outputs byte-identical to a local wfc run (both stages are fn)",
    async ({ expect }) => {
      const { slurm, local } = copies("scipion-steps");
      const [s] = await Promise.all([exportAndSubmit(slurm, "workflow.yaml"), runLocally(local)]);
      expect(allCompleted(s), shown(s)).toBe(true);
      expect(s.states.size).toBe(7);
      const files = filesUnder(local, [".wfc", "slurm"]);
      expect(files).toEqual(expect.arrayContaining(["results/output.txt", ...[1, 2, 3, 4, 5, 6].map((i) => `work/step-mic00${i}.txt`)]));
      expect(filesUnder(slurm, [".wfc", "slurm"])).toEqual(files);
      expect(contents(slurm, files)).toEqual(contents(local, files));
    },
    TIMEOUT,
  );

  test.concurrent(
    "ruffus-jobs-limit: every array COMPLETED, the same files as a local wfc run, equal but for the jobs' timestamps",
    async ({ expect }) => {
      const { slurm, local, submission: s } = await ruffusOnSlurm();
      expect(allCompleted(s), shown(s)).toBe(true);
      expect(s.states.size).toBe(30);
      const files = filesUnder(local, [".wfc", "slurm"]);
      expect(files.filter((f) => f.startsWith("work/"))).toHaveLength(30);
      expect(filesUnder(slurm, [".wfc", "slurm"])).toEqual(files);
      // Each work file: the chain of its item, one `stage item start end` line per stage.
      const untimed = (dir: string) =>
        Object.fromEntries(
          Object.entries(contents(dir, files)).map(([f, text]) => [f, text.replace(/^([^\t\n]*\t[^\t\n]*)\t\d+\t\d+$/gm, "$1\t-\t-")]),
        );
      expect(untimed(slurm)).toEqual(untimed(local));
      const text = (f: string) => readFileSync(join(slurm, f), "utf8");
      expect(text("work/7.stage3")).toMatch(/^make_files\t7\t\d+\t\d+\nstage1_big\t7\t\d+\t\d+\nstage2\t7\t\d+\t\d+\n$/);
      // Along each chain, a job started after the one it reads ended.
      for (const f of files.filter((x) => x.endsWith(".stage3"))) {
        const times = text(f)
          .trim()
          .split("\n")
          .map((l) => l.split("\t").slice(2).map(Number) as [number, number]);
        for (let k = 1; k < times.length; k++) expect(times[k]![0], f).toBeGreaterThanOrEqual(times[k - 1]![1]);
      }
    },
    TIMEOUT,
  );

  test.concurrent(
    "ruffus-jobs-limit: at most 3 ftp_download_limit jobs (both stage1 stages) and 5 stage2 jobs at once, from the jobs' own timestamps",
    async ({ expect }) => {
      const { slurm, submission: s } = await ruffusOnSlurm();
      expect(allCompleted(s), shown(s)).toBe(true);
      const lines = ruffusLines(slurm);
      expect(lines).toHaveLength(30);
      const spans = (pred: (stage: string) => boolean) =>
        lines.filter(([stage]) => pred(stage!)).map(([, , start, end]) => ({ start: Number(start), end: Number(end) }));
      const stage1 = spans((x) => x.startsWith("stage1_"));
      const stage2 = spans((x) => x === "stage2");
      expect(stage1).toHaveLength(10);
      expect(stage2).toHaveLength(10);
      expect(maxOverlap(stage1), "ftp_download_limit jobs at once").toBeLessThanOrEqual(3);
      expect(maxOverlap(stage2), "stage2 jobs at once").toBeLessThanOrEqual(5);
    },
    TIMEOUT,
  );

  test.concurrent(
    "aftercorr is element-wise: element 1 of b ends before the slow element 0 of a does",
    async ({ expect }) => {
      const dir = fixture({ "wf.yaml": timedPair("corr", 3, "if [ {i} = 0 ]; then sleep 4; fi") });
      temporary.push(dir);
      const dry = await wfc(["export", "slurm", "wf.yaml", "--dry-run"], { cwd: dir });
      expect(dry.stdout).toContain("  b.0  3 jobs  aftercorr:a.0");
      const s = await exportAndSubmit(dir, "wf.yaml", [], 60_000);
      expect(allCompleted(s), shown(s)).toBe(true);
      const [a0, a1, b0, b1] = ["a/0.txt", "a/1.txt", "b/0.txt", "b/1.txt"].map((f) => interval(join(dir, f)));
      expect(b1!.start, "b_1 started before a_1 ended").toBeGreaterThanOrEqual(a1!.end);
      expect(b1!.end, "b_1 waited for the slow a_0").toBeLessThan(a0!.end);
      expect(b0!.start, "b_0 started before a_0 ended").toBeGreaterThanOrEqual(a0!.end);
    },
    TIMEOUT,
  );

  test.concurrent(
    "a failed element cancels its aftercorr partner (not left PENDING); the other elements complete, and submit.sh succeeded",
    async ({ expect }) => {
      const dir = fixture({ "wf.yaml": timedPair("failing", 4, "if [ {i} = 2 ]; then exit 1; fi") });
      temporary.push(dir);
      // exportAndSubmit throws unless submit.sh exits 0, and waits at most 60 s for every element to end.
      const s = await exportAndSubmit(dir, "wf.yaml", [], 60_000);
      expect(Object.fromEntries(byElement(s))).toEqual({
        "a.0[0]": "COMPLETED",
        "a.0[1]": "COMPLETED",
        "a.0[2]": "FAILED",
        "a.0[3]": "COMPLETED",
        "b.0[0]": "COMPLETED",
        "b.0[1]": "COMPLETED",
        "b.0[2]": "CANCELLED",
        "b.0[3]": "COMPLETED",
      });
      expect(s.states.get(`${s.ids.get("b.0")}_2`)?.reason).toBe("DependencyNeverSatisfied");
      expect([0, 1, 2, 3].map((i) => existsSync(join(dir, `b/${i}.txt`)))).toEqual([true, true, false, true]);
    },
    TIMEOUT,
  );

  test.concurrent("without --max-array-size, the export takes MaxArraySize from scontrol", async ({ expect }) => {
    const config = execSync("scontrol show config", { encoding: "utf8" });
    const max = /^MaxArraySize\s*=\s*(\d+)/m.exec(config)![1];
    const dir = mkdtempSync(join(tmpdir(), "wfc-max-"));
    temporary.push(dir);
    const r = await wfc(["export", "slurm", join(copySample("scipion-steps"), "workflow.yaml"), "--dry-run"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(`scipion-steps: would submit 2 job arrays in 2 sbatch calls (MaxArraySize ${max})`);
  });

  test.concurrent(
    "an element that exits 0 without a declared output FAILED, the missing path in its SLURM log; {cpus} is what it asked for",
    async ({ expect }) => {
      const dir = fixture({
        "wf.yaml": `wfc: 1
name: outputs
stages:
  make:
    foreach: { v: [a, "b c"] }
    cpus: 2
    outputs: { txt: "out/{v}.txt", idx: "out/{v}.idx" }
    run: 'echo {cpus} $SLURM_CPUS_PER_TASK > {outputs.txt}; if [ {v} = a ]; then touch {outputs.idx}; fi'
`,
      });
      temporary.push(dir);
      const s = await exportAndSubmit(dir, "wf.yaml", ["--latency-wait", "1"], 60_000);
      expect(Object.fromEntries(byElement(s))).toEqual({ "make.0[0]": "COMPLETED", "make.0[1]": "FAILED" });
      const id = s.ids.get("make.0")!;
      const log = readdirSync(join(dir, "slurm/logs")).find((f) => f.endsWith(`_${id}_1.out`))!;
      expect(readFileSync(join(dir, "slurm/logs", log), "utf8")).toContain(
        "wfc: exit 0 but it did not write 1 declared output(s) (after waiting 1 s): out/b\\ c.idx\n",
      );
      expect(readFileSync(join(dir, "out/a.txt"), "utf8")).toBe("2 2\n");
      expect(readFileSync(join(dir, "out/b c.txt"), "utf8")).toBe("2 2\n");
    },
    TIMEOUT,
  );

  test.concurrent(
    "each exported job's script measures its steps: usage/NAME_INDEX has a line per step, peak RSS and CPU included",
    async ({ expect }) => {
      const dir = fixture({
        "wf.yaml": `wfc: 1
name: measured
stages:
  hold:
    foreach: { n: [1, 2] }
    outputs: "hold/{n}.txt"
    run: "perl -e 'my $x = \\"a\\" x (200*1024*1024); sleep 1'; echo {n} > {outputs}"
`,
      });
      temporary.push(dir);
      const s = await exportAndSubmit(dir, "wf.yaml");
      expect(Object.fromEntries(byElement(s))).toEqual({ "hold.0[0]": "COMPLETED", "hold.0[1]": "COMPLETED" });
      for (const index of [0, 1]) {
        const lines = readFileSync(join(dir, "slurm/usage", `hold.0_${index}`), "utf8")
          .trimEnd()
          .split("\n");
        expect(lines).toHaveLength(1);
        const [start, end, user, sys, rss] = lines[0]!.split(" ").map(Number);
        expect(end! - start!).toBeGreaterThanOrEqual(1);
        expect(user! + sys!).toBeGreaterThan(0);
        expect(rss).toBeGreaterThanOrEqual(200 * 1024);
      }
    },
    TIMEOUT,
  );
});
