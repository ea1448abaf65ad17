/**
 * `wfc export slurm` without a cluster: the shape it would submit, the files it
 * writes, values that must reach the jobs byte for byte (the array scripts are run
 * here with bash, as SLURM would run them), shellcheck on the generated scripts,
 * and how it treats the folder it writes to. These tests always run; the ones that
 * submit to a real cluster are in export-cluster.test.ts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, test, expect } from "vitest";
import { copySample, fixture, repoRoot, wfc } from "../e2e/helpers.js";
import { onCi } from "./cluster.js";
import {
  arraySize,
  contents,
  directives,
  filesUnder,
  runArraysWithoutSlurm,
  submissionOrder,
  submitDryRun,
  wfcBin,
  withoutScontrol,
} from "./export-helpers.js";
import { copyExportSample, copyStaticQiime } from "./static-qiime.js";

const SAMPLES = ["qiime-search", "ruffus-jobs-limit", "scipion-steps"] as const;

/** `wfc export slurm ARGS...` from `cwd`, hermetic (no config, no scontrol). */
const exportSlurm = (args: readonly string[], cwd: string) => wfc(["export", "slurm", ...args], { cwd, env: withoutScontrol });

/** A fresh copy of a sample exported to `<copy>/slurm`; fails the test if the export does. */
async function exported(sample: string, extra: readonly string[] = []): Promise<{ copy: string; dir: string }> {
  const copy = copyExportSample(sample);
  const r = await exportSlurm(["workflow.yaml", "-o", "slurm", ...extra], copy);
  if (r.exitCode !== 0) throw new Error(`export of ${sample} exited ${r.exitCode}: ${r.stderr}`);
  return { copy, dir: join(copy, "slurm") };
}

/** A fan-out of 10 (`a`), a capped one-to-one consumer (`b`, limit 2) and a gather (`c`). */
const FAN_OUT = `wfc: 1
name: fan
stages:
  a:
    foreach: { i: { range: [0, 10] } }
    outputs: "a/{i}.txt"
    run: "echo {i} > {outputs}"
  b:
    foreach: { i: { range: [0, 10] } }
    inputs: "a/{i}.txt"
    outputs: "b/{i}.txt"
    limit: 2
    run: "cat {inputs} > {outputs}"
  c:
    inputs: "b/*.txt"
    outputs: c.txt
    run: "cat {inputs} > {outputs}"
`;

describe("wfc export slurm --dry-run: the shape, exactly", () => {
  test.concurrent(
    "ruffus-jobs-limit: a license per named limit, %5 for the stage's own cap, afterok for the gathers",
    async ({ expect }) => {
      const r = await exportSlurm(["workflow.yaml", "--dry-run"], copySample("ruffus-jobs-limit"));
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(
        [
          "ruffus-jobs-limit: would submit 4 job arrays in 4 sbatch calls (MaxArraySize 1001)",
          "  make_files.0    10 jobs",
          "  stage1_big.0    5 jobs   licenses ftp_download_limit:1  afterok:make_files.0",
          "  stage1_small.0  5 jobs   licenses ftp_download_limit:1  afterok:make_files.0",
          "  stage2.0        10 jobs  %5  afterok:stage1_big.0  afterok:stage1_small.0",
          "the cluster's slurm.conf must have: Licenses=ftp_download_limit:3",
          "note: the workflow-wide cap of 10 jobs at once is not applied on SLURM (only named limits and stage caps are)",
        ].join("\n"),
      );
    },
  );

  test.concurrent("ruffus-jobs-limit: what submit.sh submits and what the array scripts ask SLURM for", async ({ expect }) => {
    const { dir } = await exported("ruffus-jobs-limit");
    const r = await submitDryRun(dir);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        "sbatch --parsable arrays/make_files.0.sh",
        "sbatch --parsable --dependency=afterok:<make_files.0> --kill-on-invalid-dep=yes arrays/stage1_big.0.sh",
        "sbatch --parsable --dependency=afterok:<make_files.0> --kill-on-invalid-dep=yes arrays/stage1_small.0.sh",
        "sbatch --parsable --dependency=afterok:<stage1_big.0>,afterok:<stage1_small.0> --kill-on-invalid-dep=yes arrays/stage2.0.sh",
        "ruffus-jobs-limit: 4 sbatch calls (dry run, nothing submitted)",
      ].join("\n"),
    );
    expect(directives(dir, "make_files.0")).toEqual([
      "--job-name=ruffus-jobs-limit.make_files",
      "--array=0-9",
      "--output=logs/%x_%A_%a.out",
    ]);
    for (const big of ["stage1_big.0", "stage1_small.0"])
      expect(directives(dir, big)).toEqual([
        `--job-name=ruffus-jobs-limit.${big.slice(0, -2)}`,
        "--array=0-4",
        "--output=logs/%x_%A_%a.out",
        "--licenses=ftp_download_limit:1",
      ]);
    expect(directives(dir, "stage2.0")).toEqual(["--job-name=ruffus-jobs-limit.stage2", "--array=0-9%5", "--output=logs/%x_%A_%a.out"]);
    expect(readFileSync(join(dir, "submit.sh"), "utf8")).toContain(
      "\n# The cluster's slurm.conf must have: Licenses=ftp_download_limit:3\n",
    );
  });

  test.concurrent(
    "ruffus-jobs-limit --no-licenses: the arrays sharing a limit run one after another, each throttled to it",
    async ({ expect }) => {
      const copy = copySample("ruffus-jobs-limit");
      const r = await exportSlurm(["workflow.yaml", "--dry-run", "--no-licenses"], copy);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(
        [
          "ruffus-jobs-limit: would submit 4 job arrays in 4 sbatch calls (MaxArraySize 1001)",
          "  make_files.0    10 jobs",
          "  stage1_big.0    5 jobs   %3  afterok:make_files.0",
          "  stage1_small.0  5 jobs   %3  afterok:make_files.0  afterany:stage1_big.0",
          "  stage2.0        10 jobs  %5  afterok:stage1_big.0  afterok:stage1_small.0",
          "note: licenses are off: arrays sharing a named limit run one after another, each throttled to the limit",
          "note: the workflow-wide cap of 10 jobs at once is not applied on SLURM (only named limits and stage caps are)",
        ].join("\n"),
      );
      const w = await exportSlurm(["workflow.yaml", "-o", "slurm", "--no-licenses"], copy);
      expect(w.exitCode, w.stderr).toBe(0);
      const dir = join(copy, "slurm");
      for (const name of await submissionOrder(dir)) expect(directives(dir, name).join(" ")).not.toContain("--licenses");
      expect(directives(dir, "stage1_small.0")).toContain("--array=0-4%3");
      expect((await submitDryRun(dir)).stderr).toContain(
        "sbatch --parsable --dependency=afterok:<make_files.0>,afterany:<stage1_big.0> --kill-on-invalid-dep=yes arrays/stage1_small.0.sh\n",
      );
      expect(readFileSync(join(dir, "submit.sh"), "utf8")).not.toContain("Licenses=");
    },
  );

  test.concurrent("qiime-search: aftercorr for the one-to-one chunks, afterok for the gather", async ({ expect }) => {
    const r = await exportSlurm(["workflow.yaml", "--dry-run"], copyStaticQiime());
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      [
        "qiime-search: would submit 4 job arrays in 4 sbatch calls (MaxArraySize 1001)",
        "  split.0      6 jobs",
        "  search.0     6 jobs  aftercorr:split.0",
        "  merge.0      1 job   afterok:search.0",
        "  summarize.0  1 job   aftercorr:merge.0",
      ].join("\n"),
    );
    const { dir } = await exported("qiime-search");
    expect((await submitDryRun(dir)).stderr).toBe(
      [
        "sbatch --parsable arrays/split.0.sh",
        "sbatch --parsable --dependency=aftercorr:<split.0> --kill-on-invalid-dep=yes arrays/search.0.sh",
        "sbatch --parsable --dependency=afterok:<search.0> --kill-on-invalid-dep=yes arrays/merge.0.sh",
        "sbatch --parsable --dependency=aftercorr:<merge.0> --kill-on-invalid-dep=yes arrays/summarize.0.sh",
        "qiime-search: 4 sbatch calls (dry run, nothing submitted)",
      ].join("\n"),
    );
  });

  test.concurrent("qiime-search written: the report names the folder and how to submit, and the files are there", async ({ expect }) => {
    const copy = copyStaticQiime();
    const r = await exportSlurm(["workflow.yaml", "-o", "slurm"], copy);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      [
        "wrote slurm/: 4 job arrays, 4 sbatch calls (MaxArraySize 1001); submit with slurm/submit.sh",
        "  split.0      6 jobs",
        "  search.0     6 jobs  aftercorr:split.0",
        "  merge.0      1 job   afterok:search.0",
        "  summarize.0  1 job   aftercorr:merge.0",
      ].join("\n"),
    );
    const dir = join(copy, "slurm");
    expect(filesUnder(dir)).toEqual([
      ".wfc-export",
      "arrays/merge.0.sh",
      "arrays/search.0.sh",
      "arrays/split.0.sh",
      "arrays/summarize.0.sh",
      "submit.sh",
      "tables/merge.0.tbl",
      "tables/search.0.tbl",
      "tables/split.0.tbl",
      "tables/summarize.0.tbl",
    ]);
    expect(readdirSync(join(dir, "logs"))).toEqual([]);
    // One table line per array index.
    for (const [name, size] of [
      ["split.0", 6],
      ["search.0", 6],
      ["merge.0", 1],
      ["summarize.0", 1],
    ] as const) {
      expect(arraySize(dir, name)).toBe(size);
      expect(readFileSync(join(dir, "tables", `${name}.tbl`), "utf8").split("\n")).toHaveLength(size + 1);
    }
  });

  test.concurrent(
    "a fan-out of 10 with --max-array-size 4: 3 arrays per task, aftercorr chunk to chunk, a capped stage's chunks chained with afterany",
    async ({ expect }) => {
      const dir = fixture({ "wf.yaml": FAN_OUT });
      const r = await exportSlurm(["wf.yaml", "--dry-run", "--max-array-size", "4"], dir);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(
        [
          "fan: would submit 7 job arrays in 7 sbatch calls (MaxArraySize 4)",
          "  a.0  4 jobs",
          "  a.1  4 jobs",
          "  a.2  2 jobs",
          "  b.0  4 jobs  %2  aftercorr:a.0",
          "  b.1  4 jobs  %2  aftercorr:a.1  afterany:b.0",
          "  b.2  2 jobs  %2  aftercorr:a.2  afterany:b.1",
          "  c.0  1 job   afterok:b.0  afterok:b.1  afterok:b.2",
          "note: `b` is split into 3 arrays that run one after another, so its cap holds across them",
        ].join("\n"),
      );
      const w = await exportSlurm(["wf.yaml", "-o", "slurm", "--max-array-size", "4"], dir);
      expect(w.exitCode, w.stderr).toBe(0);
      const out = join(dir, "slurm");
      expect((await submitDryRun(out)).stderr).toBe(
        [
          "sbatch --parsable arrays/a.0.sh",
          "sbatch --parsable arrays/a.1.sh",
          "sbatch --parsable arrays/a.2.sh",
          "sbatch --parsable --dependency=aftercorr:<a.0> --kill-on-invalid-dep=yes arrays/b.0.sh",
          "sbatch --parsable --dependency=aftercorr:<a.1>,afterany:<b.0> --kill-on-invalid-dep=yes arrays/b.1.sh",
          "sbatch --parsable --dependency=aftercorr:<a.2>,afterany:<b.1> --kill-on-invalid-dep=yes arrays/b.2.sh",
          "sbatch --parsable --dependency=afterok:<b.0>,afterok:<b.1>,afterok:<b.2> --kill-on-invalid-dep=yes arrays/c.0.sh",
          "fan: 7 sbatch calls (dry run, nothing submitted)",
        ].join("\n"),
      );
      expect(["a.0", "a.1", "a.2", "b.0", "b.1", "b.2", "c.0"].map((n) => directives(out, n)[1])).toEqual([
        "--array=0-3",
        "--array=0-3",
        "--array=0-1",
        "--array=0-3%2",
        "--array=0-3%2",
        "--array=0-1%2",
        "--array=0-0",
      ]);
      // Array index i of chunk k runs job 4k + i: every element exactly once, in its own chunk.
      const runs = await runArraysWithoutSlurm(out);
      expect(runs.filter((x) => x.exitCode !== 0)).toEqual([]);
      expect(readFileSync(join(dir, "c.txt"), "utf8")).toBe("0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n");
      expect(runs).toHaveLength(21);
    },
  );

  test.concurrent(
    "without scontrol or --max-array-size, MaxArraySize is SLURM's default 1001; -o is required without --dry-run",
    async ({ expect }) => {
      const copy = copySample("scipion-steps");
      const r = await exportSlurm(["workflow.yaml", "-n"], copy);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(
        [
          "scipion-steps: would submit 2 job arrays in 2 sbatch calls (MaxArraySize 1001)",
          "  processStep.0       6 jobs",
          "  createOutputStep.0  1 job   afterok:processStep.0",
        ].join("\n"),
      );
      const missing = await exportSlurm(["workflow.yaml"], copy);
      expect(missing).toEqual({
        exitCode: 2,
        stdout: "",
        stderr: "wfc: error: say where the export goes with -o DIR (or look first with --dry-run)",
      });
      // --dry-run writes nothing, even with -o.
      const dry = await exportSlurm(["workflow.yaml", "--dry-run", "-o", "slurm"], copy);
      expect(dry.exitCode).toBe(0);
      expect(existsSync(join(copy, "slurm"))).toBe(false);
    },
  );

  test.concurrent("a plan.json compiled elsewhere exports the same files as its workflow", async ({ expect }) => {
    const copy = copyStaticQiime();
    const plans = mkdtempSync(join(tmpdir(), "wfc-plans-"));
    expect((await wfc(["compile", join(copy, "workflow.yaml"), "-o", join(plans, "plan.json")])).exitCode).toBe(0);
    expect((await exportSlurm(["workflow.yaml", "-o", "from-workflow"], copy)).exitCode).toBe(0);
    const r = await exportSlurm([join(plans, "plan.json"), "-o", join(copy, "from-plan")], tmpdir());
    expect(r.exitCode, r.stderr).toBe(0);
    const files = filesUnder(join(copy, "from-workflow"));
    expect(filesUnder(join(copy, "from-plan"))).toEqual(files);
    expect(contents(join(copy, "from-plan"), files)).toEqual(contents(join(copy, "from-workflow"), files));
  });
});

/* ------------------------------------------------------------ values that must arrive intact */

/** Values a shell would mangle, run or expand, each to arrive at a job byte for byte. */
const NASTY = [
  "two words",
  "it's",
  'say "hi"',
  "$(touch pwned)",
  "`touch pwned`",
  "$HOME",
  "line1\nline2",
  "a\tb",
  "*",
  "naïve ☃",
  "back\\slash",
  "  padded  ",
  "-n",
  "%s%d",
  "semi; touch pwned &",
  "trailing newline\n",
  "",
] as const;

/** The same values reach a job four ways: a shell `run`, an argv `run`, `env`, and an `fn` stage's vars. */
function nastyWorkflow(): Record<string, unknown> {
  const each = () => ({ foreach: { i: { range: [0, NASTY.length] }, v: [...NASTY] }, zip: ["i", "v"] });
  return {
    wfc: 1,
    name: "nasty",
    stages: {
      shell: { ...each(), outputs: "shell/{i}.txt", run: "printf %s {v} > {outputs}" },
      // argv: no shell parses the value on the way; the inner sh only reads "$1".
      argv: { ...each(), outputs: "argv/{i}.txt", run: ["sh", "-c", 'printf %s "$1" > "$2"', "sh", "{v}", "{outputs}"] },
      env: { ...each(), outputs: "env/{i}.txt", env: { V: "{v}" }, run: 'printf %s "$V" > {outputs}' },
      fn: { ...each(), outputs: "fn/{i}.txt", fn: "./write.mjs#write" },
    },
  };
}

const WRITE_MJS = `import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
export async function write({ vars, outputs }) {
  await mkdir(dirname(outputs), { recursive: true });
  await writeFile(outputs, String(vars.v));
}
`;

describe("values arrive intact: the array scripts run with bash, without SLURM", () => {
  test.concurrent(
    "quotes, $(...), backticks, $HOME, newlines, tabs, globs and non-ASCII reach shell, argv, env and fn steps byte for byte",
    async ({ expect }) => {
      // The workflow in a folder whose name needs quoting, the export in another.
      const root = fixture({ "work 'dir' $x/wf.yaml": nastyWorkflow(), "work 'dir' $x/write.mjs": WRITE_MJS });
      const work = join(root, "work 'dir' $x");
      const r = await exportSlurm(["wf.yaml", "-o", "../export $dir"], work);
      expect(r.exitCode, r.stderr).toBe(0);
      const dir = join(root, "export $dir");

      // Nothing of the values is in the scripts or tables as text: the tables are base64.
      const written = filesUnder(dir);
      for (const file of written) {
        const text = readFileSync(join(dir, file), "utf8");
        if (file.startsWith("tables/")) expect(text, file).toMatch(/^([A-Za-z0-9+/]+=*\n)+$/);
        for (const value of NASTY.filter((v) => v.trim().length > 2))
          expect(text, `${file} holds ${JSON.stringify(value)}`).not.toContain(value);
        for (const word of ["pwned", "naïve", "☃", "$HOME", "line1"]) expect(text, file).not.toContain(word);
      }

      const cwd = mkdtempSync(join(tmpdir(), "wfc-cwd-"));
      const runs = await runArraysWithoutSlurm(dir, { WFC: wfcBin }, cwd);
      expect(runs.filter((x) => x.exitCode !== 0)).toEqual([]);
      expect(runs.map((x) => `${x.array}[${x.index}]`)).toEqual(
        ["argv.0", "env.0", "fn.0", "shell.0"].flatMap((a) => NASTY.map((_, i) => `${a}[${i}]`)),
      );
      for (const stage of ["shell", "argv", "env", "fn"])
        for (const [i, value] of NASTY.entries())
          expect(readFileSync(join(work, stage, `${i}.txt`)), `${stage} ${i}: ${JSON.stringify(value)}`).toEqual(
            Buffer.from(value, "utf8"),
          );

      // No value ran as a command anywhere.
      for (const place of [root, cwd, tmpdir()]) expect(existsSync(join(place, "pwned")), place).toBe(false);
      expect(filesUnder(root).filter((f) => f.includes("pwned"))).toEqual([]);
      expect(filesUnder(work, [".wfc"])).toEqual(
        ["wf.yaml", "write.mjs", ...["argv", "env", "fn", "shell"].flatMap((s) => NASTY.map((_, i) => `${s}/${i}.txt`))].sort(),
      );
    },
  );

  test.concurrent(
    "qiime-search run from its export without SLURM (fn stage through $WFC) is byte-identical to wfc run",
    async ({ expect }) => {
      const local = copyStaticQiime();
      const run = await wfc(["run", "workflow.yaml"], { cwd: local });
      expect(run.exitCode, run.stderr).toBe(0);
      const { copy, dir } = await exported("qiime-search");
      const runs = await runArraysWithoutSlurm(dir, { WFC: wfcBin });
      expect(runs.filter((x) => x.exitCode !== 0)).toEqual([]);
      const files = filesUnder(local, [".wfc", "slurm"]);
      expect(files).toContain("results/summary.tsv");
      expect(filesUnder(copy, [".wfc", "slurm"])).toEqual(files);
      expect(contents(copy, files)).toEqual(contents(local, files));
    },
  );

  test.concurrent("a failing step fails its element with the step's exit code, and later steps do not run", async ({ expect }) => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
name: failing
stages:
  a:
    foreach: { i: [0, 1] }
    outputs: "a/{i}.txt"
    run: "if [ {i} = 1 ]; then exit 7; fi; echo {i} > {outputs}"
  b:
    foreach: { i: [0, 1] }
    inputs: "a/{i}.txt"
    outputs: "b/{i}.txt"
    run: "cat {inputs} > {outputs}"
`,
    });
    expect((await exportSlurm(["wf.yaml", "-o", "slurm"], dir)).exitCode).toBe(0);
    // a and b fuse into one task: one job per element runs a's step, then b's.
    const runs = await runArraysWithoutSlurm(join(dir, "slurm"));
    expect(runs.map((x) => [x.array, x.index, x.exitCode])).toEqual([
      ["a+b.0", 0, 0],
      ["a+b.0", 1, 7],
    ]);
    expect(existsSync(join(dir, "b/0.txt"))).toBe(true);
    expect(existsSync(join(dir, "b/1.txt"))).toBe(false);
  });
});

/* ------------------------------------------------------------ shellcheck */

const hasShellcheck = spawnSync("shellcheck", ["--version"], { stdio: "ignore" }).status === 0;
const SHELLCHECK_MISSING = "shellcheck is not installed (apt-get install shellcheck)";
if (!hasShellcheck && !onCi()) console.warn(`shellcheck of the exported scripts: skipped: ${SHELLCHECK_MISSING}`);

describe(`shellcheck of the exported scripts${hasShellcheck || onCi() ? "" : ` (skipped: ${SHELLCHECK_MISSING})`}`, () => {
  test.skipIf(!hasShellcheck && !onCi()).concurrent.for(SAMPLES)(
    "%s: submit.sh and every array script pass shellcheck",
    async (sample, { expect }) => {
      if (!hasShellcheck) throw new Error(`${SHELLCHECK_MISSING}; CI is set, so this is a failure`);
      const { dir } = await exported(sample);
      const scripts = ["submit.sh", ...readdirSync(join(dir, "arrays")).map((f) => `arrays/${f}`)];
      expect(scripts.length).toBeGreaterThan(2);
      const r = await execa("shellcheck", ["--format=gcc", ...scripts], { cwd: dir, reject: false });
      expect(String(r.stdout) + String(r.stderr)).toBe("");
      expect(r.exitCode).toBe(0);
    },
  );
});

describe(`shellcheck of wfc run's SLURM element script${hasShellcheck || onCi() ? "" : ` (skipped: ${SHELLCHECK_MISSING})`}`, () => {
  test.skipIf(!hasShellcheck && !onCi())("it passes shellcheck, with awkward folder names", async ({ expect }) => {
    if (!hasShellcheck) throw new Error(`${SHELLCHECK_MISSING}; CI is set, so this is a failure`);
    const { elementScript } = await import("../../runtime/slurm/submission.js");
    const dir = mkdtempSync(join(tmpdir(), "wfc-element-"));
    writeFileSync(join(dir, "job.sh"), elementScript("/tmp/it's $(here)/.wfc/slurm/a.0.1", "/tmp/it's $(here)\nnext"));
    const r = await execa("shellcheck", ["--format=gcc", "job.sh"], { cwd: dir, reject: false });
    expect(String(r.stdout) + String(r.stderr)).toBe("");
    expect(r.exitCode).toBe(0);
  });
});

/* ------------------------------------------------------------ the folder it writes */

describe("the export's folder", () => {
  test.concurrent("a non-empty folder that is not an export is refused with exit 2 and left as it was", async ({ expect }) => {
    const parent = mkdtempSync(join(tmpdir(), "wfc-export-"));
    const dir = join(parent, "mine");
    mkdirSync(dir);
    writeFileSync(join(dir, "notes.txt"), "keep me\n");
    const r = await exportSlurm([join(repoRoot, "samples/qiime-search/workflow.yaml"), "-o", "mine"], parent);
    expect(r).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "wfc: error: `mine` exists and is not a wfc export; choose another -o, or remove it",
    });
    expect(filesUnder(parent)).toEqual(["mine/notes.txt"]);
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("keep me\n");
  });

  test.concurrent("an existing empty folder is used", async ({ expect }) => {
    const parent = mkdtempSync(join(tmpdir(), "wfc-export-"));
    mkdirSync(join(parent, "empty"));
    const r = await exportSlurm([join(repoRoot, "samples/scipion-steps/workflow.yaml"), "-o", "empty"], parent);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readdirSync(parent)).toEqual(["empty"]);
    expect(filesUnder(join(parent, "empty"))).toContain("submit.sh");
  });

  test.concurrent("-o naming an existing file is refused (exit 2, no internal error) and the file left as it was", async ({ expect }) => {
    const parent = mkdtempSync(join(tmpdir(), "wfc-export-"));
    const file = join(parent, "out");
    writeFileSync(file, "not a folder\n");
    const r = await exportSlurm([join(repoRoot, "samples/scipion-steps/workflow.yaml"), "-o", "out"], parent);
    expect(r.stderr).not.toContain("internal error");
    expect(r).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "wfc: error: `out` is a file, not a folder; choose another -o",
    });
    expect(readFileSync(file, "utf8")).toBe("not a folder\n");
    expect(readdirSync(parent)).toEqual(["out"]);
  });

  test.concurrent("exporting again over an earlier export replaces it whole", async ({ expect }) => {
    const dir = fixture({ "wf.yaml": FAN_OUT });
    const first = await exportSlurm(["wf.yaml", "-o", "slurm", "--max-array-size", "4"], dir);
    expect(first.exitCode).toBe(0);
    const out = join(dir, "slurm");
    expect(readdirSync(join(out, "arrays")).sort()).toEqual(["a.0.sh", "a.1.sh", "a.2.sh", "b.0.sh", "b.1.sh", "b.2.sh", "c.0.sh"]);
    // What a submission leaves behind goes too: the new export is not mixed with the old.
    writeFileSync(join(out, "jobs.tsv"), "array\tjob_id\na.0\t1\n");
    writeFileSync(join(out, "logs", "fan.a_1_0.out"), "old\n");
    const again = await exportSlurm(["wf.yaml", "-o", "slurm"], dir);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^wrote slurm\/: 3 job arrays, 3 sbatch calls \(MaxArraySize 1001\)/);
    expect(filesUnder(out)).toEqual([
      ".wfc-export",
      "arrays/a.0.sh",
      "arrays/b.0.sh",
      "arrays/c.0.sh",
      "submit.sh",
      "tables/a.0.tbl",
      "tables/b.0.tbl",
      "tables/c.0.tbl",
    ]);
    expect(readdirSync(join(out, "logs"))).toEqual([]);
    // Nothing left beside it (the temporary folder, the old export).
    expect(readdirSync(dir).sort()).toEqual(["slurm", "wf.yaml"]);
  });

  test.concurrent("an invalid workflow exits 2 with its diagnostics and leaves no folder behind", async ({ expect }) => {
    const parent = mkdtempSync(join(tmpdir(), "wfc-export-"));
    const r = await exportSlurm([join(repoRoot, "samples/invalid/cycle-self-after.yaml"), "-o", "slurm"], parent);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("error WFC204: stage `train` depends on itself");
    expect(readdirSync(parent)).toEqual([]);
  });
});

test("wfc run's arrays name their indices as SLURM's compact list", async () => {
  const { indexList } = await import("../../runtime/slurm/submission.js");
  expect(indexList([0, 1, 2, 3])).toBe("0-3");
  expect(indexList([7, 1, 3, 2, 9, 10])).toBe("1-3,7,9-10");
  expect(indexList([5])).toBe("5");
  expect(indexList([4, 4, 5])).toBe("4-5");
});
