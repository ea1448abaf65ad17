/**
 * `wfc export slurm` of a plan with dynamic spaces (issue 14), without a
 * cluster: what submit.sh submits (what is known, and an expansion job after
 * the producer), the files it writes, shellcheck on every generated script
 * (those an expansion writes too), and what an expansion job does on a node
 * that cannot submit. Submitted end to end: export-dynamic-cluster.test.ts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";
import { onCi } from "./cluster.js";
import { chainPlan, chunkPlan, EXPECTED, linesPlan, READS } from "./dynamic-plans.js";
import { arraySize, contents, filesUnder, submitDryRun, withoutScontrol } from "./export-helpers.js";

/** A folder with the chunk plan as plan.json and its reads. */
/** The chunk plan, its reads, and a chunk an earlier run left (A has 3 chunks now). */
function chunkFixture(): string {
  return fixture({
    "plan.json": chunkPlan(),
    "work/chunks/A/c4.txt": "left by an earlier run\n",
    ...Object.fromEntries(Object.entries(READS).map(([s, text]) => [`reads/${s}.txt`, text])),
  });
}

const exportSlurm = (args: readonly string[], cwd: string) => wfc(["export", "slurm", ...args], { cwd, env: withoutScontrol });

describe("the export of a plan with dynamic spaces", () => {
  test.concurrent(
    "--dry-run: what is known is submitted, then expand.split after split; the rest is submitted from the cluster",
    async () => {
      const r = await exportSlurm(["plan.json", "--dry-run"], chunkFixture());
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(
        [
          "chunks: would submit 2 job arrays and 1 expansion job in 3 sbatch calls (MaxArraySize 1001); the rest is submitted from the cluster once known",
          "  other.0       1 job",
          "  split.0       3 jobs",
          "  expand.split  1 job   afterok:split.0  then submits count, map, filter, merge, report",
          "the cluster's slurm.conf must have: Licenses=ftp_download_limit:3",
          "note: `count`, `map`, `filter`, `merge`, `report` are known only when `split` has run: expand.split, a job after it, lists what it wrote and submits them from a compute node",
        ].join("\n"),
      );
    },
  );

  test.concurrent(
    "written: submit.sh submits the known arrays and the expansion job; plan.json, expansion.json and README.txt",
    async () => {
      const dir = chunkFixture();
      const r = await exportSlurm(["plan.json", "-o", "slurm"], dir);
      expect(r.exitCode, r.stderr).toBe(0);
      const out = join(dir, "slurm");
      expect(filesUnder(out)).toEqual([
        ".wfc-export",
        "README.txt",
        "arrays/other.0.sh",
        "arrays/split.0.sh",
        "expand/split.sh",
        "expansion.json",
        "plan.json",
        "submit.sh",
        "tables/other.0.tbl",
        "tables/split.0.tbl",
      ]);
      expect((await submitDryRun(out)).stderr).toBe(
        [
          "sbatch --parsable arrays/other.0.sh",
          "sbatch --parsable arrays/split.0.sh",
          "sbatch --parsable --dependency=afterok:<split.0> --kill-on-invalid-dep=yes expand/split.sh",
          "chunks: 3 sbatch calls (dry run, nothing submitted)",
        ].join("\n"),
      );
      const readme = readFileSync(join(out, "README.txt"), "utf8");
      expect(readme).toContain("- sbatch from compute nodes (the expansion job submits the next arrays), and\n- Node.js 20 on them");
      expect(readme).toContain("  expand.split: after split; submits count, map, filter, merge, report\n");
      expect(readFileSync(join(out, "expand", "split.sh"), "utf8")).toContain('exec "$node" "$wfc" __slurm-expand "$export_dir" split\n');
      // The split job checks no pattern output as a path: it writes 0..n files matching it.
      expect(readFileSync(join(out, "arrays", "split.0.sh"), "utf8")).toContain("#SBATCH --array=0-2\n");
    },
  );

  test.concurrent("an expansion job on a node without sbatch fails with that cause in its log, and submits nothing", async () => {
    const dir = chunkFixture();
    expect((await exportSlurm(["plan.json", "-o", "slurm"], dir)).exitCode).toBe(0);
    const out = join(dir, "slurm");
    const r = await execa("/bin/bash", [join(out, "expand", "split.sh")], {
      cwd: tmpdir(),
      env: { PATH: mkdtempSync(join(tmpdir(), "wfc-no-sbatch-")), SLURM_SUBMIT_DIR: out },
      extendEnv: false,
      reject: false,
    });
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(
      /^wfc: expand\.split: there is no sbatch on \S+: the cluster must allow submitting jobs from compute nodes; nothing after split was submitted$/,
    );
    expect(existsSync(join(out, "jobs.tsv"))).toBe(false);
    expect(readdirSync(join(out, "elements"))).toEqual([]);
  });

  test.concurrent("a static plan's export has no expansion, README.txt, plan.json or expand/", async () => {
    const dir = fixture({
      "wf.yaml": "wfc: 1\nname: s\nstages:\n  a:\n    foreach: { i: [1, 2] }\n    outputs: 'a/{i}'\n    run: 'touch {outputs}'\n",
    });
    expect((await exportSlurm(["wf.yaml", "-o", "slurm"], dir)).exitCode).toBe(0);
    expect(filesUnder(join(dir, "slurm"))).toEqual([".wfc-export", "arrays/a.0.sh", "submit.sh", "tables/a.0.tbl"]);
  });
});

/* ------------------------------------------------------------ the expansion, with a stand-in sbatch */

/**
 * A stand-in for sbatch on PATH that records its arguments and prints the
 * next id: the expansion's own work (listing, tables, element tables, the
 * arrays' dependencies) checked exactly, without a cluster. The cluster test
 * runs the same with the real one.
 */
function recordingSbatch(): { bin: string; calls: string } {
  const bin = mkdtempSync(join(tmpdir(), "wfc-sbatch-"));
  const calls = join(bin, "calls");
  writeFileSync(
    join(bin, "sbatch"),
    `#!/bin/bash\nn=$(( $(wc -l < ${JSON.stringify(calls)} 2>/dev/null || echo 0) + 101 ))\nprintf '%s\\n' "$*" >> ${JSON.stringify(calls)}\necho "$n"\n`,
    { mode: 0o755 },
  );
  return { bin, calls };
}

/** What submit.sh and the split jobs would have left in export `out`: jobs.tsv, and the chunks (split's array run with bash). */
async function submittedAndSplit(out: string): Promise<void> {
  writeFileSync(join(out, "jobs.tsv"), "array\tjob_id\nother.0\t11\nsplit.0\t12\nexpand.split\t13\n");
  for (const index of [0, 1, 2]) {
    const r = await execa("bash", [join(out, "arrays", "split.0.sh")], {
      cwd: tmpdir(),
      env: { SLURM_ARRAY_TASK_ID: String(index), SLURM_SUBMIT_DIR: out },
      reject: false,
    });
    if (r.exitCode !== 0) throw new Error(`split[${index}] exited ${r.exitCode}: ${String(r.stderr)}`);
  }
}

describe("an expansion job", () => {
  test.concurrent(
    "lists what split wrote, writes element tables and the arrays' tables, and submits map, filter (aftercorr), merge and report after them",
    async () => {
      const dir = chunkFixture();
      expect((await exportSlurm(["plan.json", "-o", "slurm"], dir)).exitCode).toBe(0);
      const out = join(dir, "slurm");
      await submittedAndSplit(out);
      // A hidden file is not a chunk.
      writeFileSync(join(dir, "work/chunks/A/.hidden.txt"), "no\n");
      const { bin, calls } = recordingSbatch();
      const r = await execa("bash", [join(out, "expand", "split.sh")], {
        cwd: tmpdir(),
        env: { PATH: `${bin}:${process.env.PATH}`, SLURM_SUBMIT_DIR: out, SLURM_JOB_ID: "13", SLURM_MEM_PER_NODE: "100" },
        reject: false,
      });
      expect(String(r.stderr)).toBe("");
      expect(r.exitCode).toBe(0);
      expect(readFileSync(calls, "utf8")).toBe(
        [
          // split's jobs ended ok before the expansion ran: count does not wait for them again.
          "--parsable arrays/count.0.sh",
          "--parsable arrays/map.0.sh",
          "--parsable --dependency=aftercorr:102 --kill-on-invalid-dep=yes arrays/filter.0.sh",
          "--parsable --dependency=afterok:103 --kill-on-invalid-dep=yes arrays/merge.0.sh",
          "--parsable --dependency=afterok:104 --kill-on-invalid-dep=yes arrays/report.0.sh",
          "",
        ].join("\n"),
      );
      expect(readFileSync(join(out, "jobs.tsv"), "utf8")).toBe(
        "array\tjob_id\nother.0\t11\nsplit.0\t12\nexpand.split\t13\ncount.0\t101\nmap.0\t102\nfilter.0\t103\nmerge.0\t104\nreport.0\t105\n",
      );
      expect(readFileSync(join(out, "elements", "map.tsv"), "utf8")).toBe(
        [
          "array\tindex\telement",
          "map.0\t0\tsample=A,chunk=c1",
          "map.0\t1\tsample=A,chunk=c2",
          "map.0\t2\tsample=A,chunk=c3",
          "map.0\t3\tsample=it%27s,chunk=q%27uote",
          "map.0\t4\tsample=it%27s,chunk=x%20y",
          "",
        ].join("\n"),
      );
      // The dynamic array gets its stage's cap as %k and its named limit as a license, as a static one would.
      expect(readFileSync(join(out, "arrays", "map.0.sh"), "utf8")).toContain(
        "#SBATCH --array=0-4%2\n#SBATCH --output=logs/%x_%A_%a.out\n#SBATCH --licenses=ftp_download_limit:1\n",
      );
      expect(readFileSync(join(out, "arrays", "merge.0.sh"), "utf8")).toContain("#SBATCH --array=0-2\n");
      expect(String(r.stdout).split("\n").at(-1)).toBe("expand.split: 5 job arrays submitted (count, map, filter, merge, report)");
      // The chunk an earlier run left is reported, and neither mapped nor gathered.
      expect(String(r.stdout).split("\n")[0]).toBe(
        'warning: 1 file matching the outputs of `split` was there before its job and not written by it: left alone, not used: "work/chunks/A/c4.txt"',
      );
    },
  );
});

describe("an expansion job over the lines of a file", () => {
  /** Exports the lines plan, runs `ids` (reads given), then its expansion with the stand-in sbatch. */
  async function expandLines(reads: Record<string, string>) {
    const dir = fixture({ "plan.json": linesPlan(), ...Object.fromEntries(Object.entries(reads).map(([s, t]) => [`reads/${s}.txt`, t])) });
    expect((await exportSlurm(["plan.json", "-o", "slurm"], dir)).exitCode).toBe(0);
    const out = join(dir, "slurm");
    writeFileSync(join(out, "jobs.tsv"), "array\tjob_id\nids.0\t12\nexpand.ids\t13\n");
    for (const index of [0, 1, 2]) {
      const r = await execa("bash", [join(out, "arrays", "ids.0.sh")], {
        env: { SLURM_ARRAY_TASK_ID: String(index), SLURM_SUBMIT_DIR: out },
        reject: false,
      });
      expect(r.exitCode, String(r.stderr)).toBe(0);
    }
    const { bin, calls } = recordingSbatch();
    const r = await execa("bash", [join(out, "expand", "ids.sh")], {
      env: { PATH: `${bin}:${process.env.PATH}`, SLURM_SUBMIT_DIR: out },
      reject: false,
    });
    return { dir, out, calls, r };
  }

  test.concurrent("one element per line, in file order; the values reach the jobs byte for byte", async () => {
    const { dir, out, calls, r } = await expandLines(READS);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(readFileSync(calls, "utf8")).toBe("--parsable arrays/annotate.0.sh\n");
    expect(readFileSync(join(out, "elements", "annotate.tsv"), "utf8")).toBe(
      [
        "array\tindex\telement",
        "annotate.0\t0\tsample=A,id=c1",
        "annotate.0\t1\tsample=A,id=c2",
        "annotate.0\t2\tsample=A,id=c3",
        "annotate.0\t3\tsample=it%27s,id=x%20y",
        "annotate.0\t4\tsample=it%27s,id=q%27uote",
        "",
      ].join("\n"),
    );
    for (const index of [0, 1, 2, 3, 4]) {
      const job = await execa("bash", [join(out, "arrays", "annotate.0.sh")], {
        env: { SLURM_ARRAY_TASK_ID: String(index), SLURM_SUBMIT_DIR: out },
        reject: false,
      });
      expect(job.exitCode, String(job.stderr)).toBe(0);
    }
    expect(readFileSync(join(dir, "work/ann/it's/x y.txt"), "utf8")).toBe("it's/x y\n");
    expect(readFileSync(join(dir, "work/ann/it's/q'uote.txt"), "utf8")).toBe("it's/q'uote\n");
  });

  test.concurrent("a repeated line fails the expansion with where it is, and nothing is submitted", async () => {
    const { calls, r } = await expandLines({ A: "c1|x\nc2|y\nc1|z\n", "b c": "", "it's": "" });
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toBe('wfc: expand.ids: "work/ids/A.txt" line 3 repeats "c1" (first on line 1): one element per value');
    expect(existsSync(calls)).toBe(false);
  });
});

describe("expansions in a chain", () => {
  /** Runs every element of `arrays/NAME.sh` with bash, as SLURM would. */
  async function runArray(out: string, name: string): Promise<void> {
    for (let index = 0; index < arraySize(out, name); index++) {
      const r = await execa("bash", [join(out, "arrays", `${name}.sh`)], {
        env: { SLURM_ARRAY_TASK_ID: String(index), SLURM_SUBMIT_DIR: out },
        reject: false,
      });
      if (r.exitCode !== 0) throw new Error(`${name}[${index}] exited ${r.exitCode}: ${String(r.stderr)}`);
    }
  }

  test.concurrent(
    "split's expansion submits merge, then merge's expansion after it; that one reads what split's decided and expands the lines merge wrote",
    async () => {
      const dir = fixture({
        "plan.json": chainPlan(),
        ...Object.fromEntries(Object.entries(READS).map(([s, text]) => [`reads/${s}.txt`, text])),
      });
      const r = await exportSlurm(["plan.json", "--dry-run"], dir);
      expect(r.stdout).toContain(
        "\n  expand.split  1 job   afterok:split.0  then submits count, map, filter, merge, report\n  expand.merge  1 job   after merge, submitted by expand.split  then submits words\n",
      );
      expect((await exportSlurm(["plan.json", "-o", "slurm"], dir)).exitCode).toBe(0);
      const out = join(dir, "slurm");
      await submittedAndSplit(out);
      const { bin, calls } = recordingSbatch();
      const env = { PATH: `${bin}:${process.env.PATH}`, SLURM_SUBMIT_DIR: out };
      const first = await execa("bash", [join(out, "expand", "split.sh")], { env, reject: false });
      expect(first.exitCode, String(first.stderr)).toBe(0);
      expect(readFileSync(calls, "utf8").split("\n").at(-2)).toBe(
        "--parsable --dependency=afterok:104 --kill-on-invalid-dep=yes expand/merge.sh",
      );
      for (const name of ["count.0", "map.0", "filter.0", "merge.0", "report.0"]) await runArray(out, name);
      const second = await execa("bash", [join(out, "expand", "merge.sh")], { env, reject: false });
      expect(second.exitCode, String(second.stderr)).toBe(0);
      expect(readFileSync(calls, "utf8").split("\n").at(-2)).toBe("--parsable arrays/words.0.sh");
      expect(readFileSync(join(out, "elements", "words.tsv"), "utf8")).toBe(
        [
          "array\tindex\telement",
          "words.0\t0\tsample=A,line=A%3A",
          "words.0\t1\tsample=A,line=ALPHA",
          "words.0\t2\tsample=A,line=GAMMA",
          "words.0\t3\tsample=b%20c,line=b%20c%3A",
          "words.0\t4\tsample=it%27s,line=it%27s%3A",
          "words.0\t5\tsample=it%27s,line=THREE",
          "words.0\t6\tsample=it%27s,line=ONE%20%22TWO%22",
          "",
        ].join("\n"),
      );
      await runArray(out, "words.0");
      const merged = Object.keys(EXPECTED).filter((f) => f.startsWith("merged/"));
      expect(contents(dir, merged)).toEqual(Object.fromEntries(merged.map((f) => [f, EXPECTED[f]])));
      expect(readFileSync(join(dir, 'words/it\'s/ONE "TWO".txt'), "utf8")).toBe('ONE "TWO"\n');
    },
  );
});

/* ------------------------------------------------------------ shellcheck */

const hasShellcheck = spawnSync("shellcheck", ["--version"], { stdio: "ignore" }).status === 0;
describe(`shellcheck of a dynamic plan's scripts${hasShellcheck || onCi() ? "" : " (skipped: shellcheck is not installed)"}`, () => {
  test.skipIf(!hasShellcheck && !onCi())("submit.sh, expand/*.sh and every array script, those an expansion writes too", async () => {
    if (!hasShellcheck) throw new Error("shellcheck is not installed; CI is set, so this is a failure");
    const dir = chunkFixture();
    expect((await exportSlurm(["plan.json", "-o", "slurm"], dir)).exitCode).toBe(0);
    const out = join(dir, "slurm");
    await submittedAndSplit(out);
    const { bin } = recordingSbatch();
    const r = await execa("bash", [join(out, "expand", "split.sh")], {
      env: { PATH: `${bin}:${process.env.PATH}`, SLURM_SUBMIT_DIR: out },
      reject: false,
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const scripts = ["submit.sh", "expand/split.sh", ...readdirSync(join(out, "arrays")).map((f) => `arrays/${f}`)];
    expect(scripts).toHaveLength(9);
    const check = await execa("shellcheck", ["--format=gcc", ...scripts], { cwd: out, reject: false });
    expect(String(check.stdout) + String(check.stderr)).toBe("");
    expect(check.exitCode).toBe(0);
  });
});
