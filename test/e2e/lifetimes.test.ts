/**
 * `temp` and `protected` outputs, end to end with the built CLI and real
 * jobs: a temp output goes once everything that reads it has succeeded, a
 * re-run does not rebuild it while what was made from it is up to date (and
 * does when something made from it must be rebuilt); a protected output is
 * read-only after its job, and a run that would overwrite it stops.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "./helpers.js";

interface JobEnd {
  type: string;
  task: string;
  job: number;
  status: string;
  reason?: string;
}

/** `task#job status` for every job-end of a `--json` run, sorted. */
function ends(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JobEnd)
    .filter((e) => e.type === "job-end")
    .map((e) => `${e.task}#${e.job} ${e.status}`)
    .sort();
}

/** align -> sort -> merge, with the unsorted alignments temp (not fused: each stage its own job). */
const pipeline = (samples: string) => `wfc: 1
params:
  samples: [${samples}]
stages:
  align:
    foreach: { s: "{params.samples}" }
    outputs: { sam: "work/{s}.sam" }
    temp: [sam]
    fuse: false
    run: echo "read of {s}" > {outputs} && echo ran >> align.count
  sort:
    foreach: { s: "{params.samples}" }
    inputs: "work/{s}.sam"
    outputs: "work/{s}.bam"
    run: sort {inputs} > {outputs}
  merge:
    inputs: { glob: "work/*.bam" }
    outputs: all.txt
    run: cat {inputs} > {outputs}
`;

describe("temp outputs", () => {
  test("are removed once every job that reads them succeeded, and a re-run does not rebuild them", async () => {
    const dir = fixture({ "wf.yaml": pipeline("a, b") });
    const first = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(first.exitCode).toBe(0);
    expect(existsSync(join(dir, "work/a.sam"))).toBe(false);
    expect(existsSync(join(dir, "work/b.sam"))).toBe(false);
    expect(readFileSync(join(dir, "all.txt"), "utf8")).toBe("read of a\nread of b\n");

    // Gone temp outputs make nothing out of date: everything is up to date, nothing ran again.
    const again = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(again.exitCode).toBe(0);
    expect(ends(again.stdout)).toEqual(["align#0 skipped", "align#1 skipped", "merge#0 skipped", "sort#0 skipped", "sort#1 skipped"]);
    const dry = await wfc(["run", "wf.yaml", "--dry-run"], { cwd: dir });
    expect(dry.stderr).toMatch(/^ok: would run 0, 5 up to date/m);
    expect(readFileSync(join(dir, "align.count"), "utf8")).toBe("ran\nran\n");
  });

  test("is rebuilt when a job that reads it must run again, and only that one", async () => {
    const dir = fixture({ "wf.yaml": pipeline("a, b") });
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
    rmSync(join(dir, "work/b.bam"));

    const dry = await wfc(["run", "wf.yaml", "--dry-run"], { cwd: dir });
    expect(dry.stdout).toContain("would run align#1: temp output work/b.sam is gone and sort#1 must read it");
    expect(dry.stdout).not.toContain("would run align#0");
    const r = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(ends(r.stdout)).toEqual(["align#0 skipped", "align#1 done", "merge#0 done", "sort#0 skipped", "sort#1 done"]);
    expect(readFileSync(join(dir, "work/b.bam"), "utf8")).toBe("read of b\n");
    // Made again for the job that needed it, and gone again after it.
    expect(existsSync(join(dir, "work/b.sam"))).toBe(false);
  });

  test("a target or --forcerun that runs a reader of a gone temp output makes it again first", async () => {
    const dir = fixture({ "wf.yaml": pipeline("a, b") });
    // A partial run: only sample a's chain; its temp output goes once sort[s=a] has read it.
    const partial = await wfc(["run", "wf.yaml", "sort[s=a]", "--json"], { cwd: dir });
    expect(partial.exitCode, partial.stderr).toBe(0);
    expect(ends(partial.stdout)).toEqual(["align#0 done", "sort#0 done"]);
    expect(existsSync(join(dir, "work/a.sam"))).toBe(false);
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);

    const forced = await wfc(["run", "wf.yaml", "--forcerun", "sort", "--json"], { cwd: dir });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(ends(forced.stdout)).toEqual(["align#0 done", "align#1 done", "merge#0 done", "sort#0 done", "sort#1 done"]);
    expect(readFileSync(join(dir, "all.txt"), "utf8")).toBe("read of a\nread of b\n");
    expect(existsSync(join(dir, "work/a.sam"))).toBe(false);
  });

  test("stays when a job that reads it fails, so the re-run after the fix needs only that job", async () => {
    // b's sort fails until the file `fixed` is there: the fix changes no command.
    const dir = fixture({ "wf.yaml": pipeline("a, b").replace("run: sort {inputs}", "run: test {s} != b -o -e fixed && sort {inputs}") });
    const r = await wfc(["run", "wf.yaml", "--keep-going"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(existsSync(join(dir, "work/a.sam"))).toBe(false);
    expect(readFileSync(join(dir, "work/b.sam"), "utf8")).toBe("read of b\n");

    writeFileSync(join(dir, "fixed"), "");
    const fixed = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(fixed.exitCode).toBe(0);
    expect(ends(fixed.stdout)).toEqual(["align#0 skipped", "align#1 skipped", "merge#0 done", "sort#0 skipped", "sort#1 done"]);
    expect(existsSync(join(dir, "work/b.sam"))).toBe(false);
  });

  test("a value that makes a temp output name a folder (`work/.`) removes nothing but that element's files", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  make:
    foreach: { s: [".", a] }
    outputs: "work/{s}"
    temp: true
    run: "mkdir -p work && if [ {s} = . ]; then echo mine > work/keep.txt; else echo {s} > {outputs}; fi"
  use:
    foreach: { s: [".", a] }
    inputs: "work/{s}"
    outputs: "used/{s}.txt"
    run: "ls -d {inputs} > {outputs}"
`,
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('wfc: temp output "work/." is a folder, so it was left in place: temp removes files only');
    expect(readFileSync(join(dir, "work/keep.txt"), "utf8")).toBe("mine\n");
    expect(existsSync(join(dir, "work/a"))).toBe(false);
  });

  test("a temp output read by the next step of its own fused job goes when that job succeeds", async () => {
    const dir = fixture({ "wf.yaml": pipeline("a").replace("    fuse: false\n", "") });
    const plan = await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir });
    expect(plan.exitCode).toBe(0);
    const tasks = (JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as { tasks: { stages: string[] }[] }).tasks;
    expect(tasks.map((t) => t.stages)).toContainEqual(["align", "sort"]);
    expect((await wfc(["run", "plan.json"], { cwd: dir })).exitCode).toBe(0);
    expect(existsSync(join(dir, "work/a.sam"))).toBe(false);
    expect(readFileSync(join(dir, "work/a.bam"), "utf8")).toBe("read of a\n");
  });

  test("a hostile sample name is a value: its temp file goes, nothing else does", async () => {
    const dir = fixture({ "wf.yaml": pipeline(`"x'; rm -rf .. #", "$(touch pwned)"`), "keep.txt": "mine\n" });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(existsSync(join(dir, "work/x'; rm -rf .. #.sam"))).toBe(false);
    expect(existsSync(join(dir, "work/x'; rm -rf .. #.bam"))).toBe(true);
    expect(existsSync(join(dir, "work/$(touch pwned).bam"))).toBe(true);
    expect(existsSync(join(dir, "pwned"))).toBe(false);
    expect(readFileSync(join(dir, "keep.txt"), "utf8")).toBe("mine\n");
  });
});

describe("protected outputs", () => {
  const workflow = (word: string) => `wfc: 1
stages:
  call:
    foreach: { s: [a, b] }
    outputs: { vcf: "calls/{s}.vcf", stats: "calls/{s}.stats" }
    protected: [vcf]
    run: echo ${word} {s} > {outputs.vcf} && echo n > {outputs.stats}
`;

  test("are read-only after their job; the others are not", async () => {
    const dir = fixture({ "wf.yaml": workflow("variant") });
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
    expect(statSync(join(dir, "calls/a.vcf")).mode & 0o222).toBe(0);
    expect(statSync(join(dir, "calls/a.stats")).mode & 0o200).toBe(0o200);
    // Up to date, they are simply skipped.
    const again = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toMatch(/^ok: 0 done, 2 up to date/m);
  });

  test("a run that would overwrite one stops that job with its path and leaves it as it was", async () => {
    const dir = fixture({ "wf.yaml": workflow("variant") });
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
    writeFileSync(join(dir, "wf.yaml"), workflow("changed"));
    const r = await wfc(["run", "wf.yaml", "--keep-going"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'failed: call#0 (output "calls/a.vcf" is protected and would be overwritten (its command changed): remove it yourself to rebuild it)',
    );
    // Even as root, who may write a read-only file: the job never started.
    expect(readFileSync(join(dir, "calls/a.vcf"), "utf8")).toBe("variant a\n");
    expect(readFileSync(join(dir, "calls/b.vcf"), "utf8")).toBe("variant b\n");

    rmSync(join(dir, "calls/a.vcf"), { force: true });
    const rebuilt = await wfc(["run", "wf.yaml", "--keep-going"], { cwd: dir });
    expect(rebuilt.exitCode).toBe(1);
    expect(readFileSync(join(dir, "calls/a.vcf"), "utf8")).toBe("changed a\n");
    expect(rebuilt.stderr).toContain('failed: call#1 (output "calls/b.vcf" is protected');
  });
});

test("`wfc export slurm` says that its scripts neither remove temp outputs nor protect outputs", async () => {
  const dir = fixture({ "wf.yaml": pipeline("a").replace("run: sort {inputs}", "protected: true\n    run: sort {inputs}") });
  const r = await wfc(["export", "slurm", "wf.yaml", "--dry-run"], { cwd: dir });
  expect(r.exitCode).toBe(0);
  expect(r.stdout).toContain("note: the scripts leave temp outputs in place (`align`); `wfc run` with a slurm executor removes them\n");
  expect(r.stdout).toContain("note: the scripts do not make protected outputs read-only (`sort`); `wfc run` with a slurm executor does");
});

describe("`temp` and `protected` are checked when the workflow is", () => {
  test("a name that is no output, an output both, a temp output nothing reads", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  a:
    outputs: { bam: a.bam, bai: a.bai }
    temp: [bma]
    protected: [bai]
    run: touch {outputs}
  b:
    outputs: b.txt
    temp: true
    protected: [b.txt]
    run: touch {outputs}
`,
    });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("wf.yaml:5:12: error WFC252: `temp` names `bma`, which is not an output of this stage");
    expect(r.stderr).toContain("|            ^^^ expected `a.bai`, `a.bam`, `bai` or `bam`\n   = help: did you mean `bam`?");
    expect(r.stderr).toContain("wf.yaml:11:17: error WFC253: output `b.txt` is both `temp` and `protected`");
    expect(r.stderr).toContain("= note: wf.yaml:10:11: it is `temp` here");
  });

  test("a temp output no stage reads is a warning", async () => {
    const dir = fixture({ "wf.yaml": "wfc: 1\nstages:\n  a:\n    outputs: a.txt\n    temp: true\n    run: touch {outputs}\n" });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("wf.yaml:4:14: warning WFC254: `temp` output `a.txt` of stage `a` is read by no stage");
  });
});
