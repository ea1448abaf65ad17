/**
 * Paths wfc writes, checks and removes, end to end with the built CLI and
 * real jobs: a failed job's cleanup removes only what the job made; outputs
 * (from the file or from a hand-edited plan) never leave the workflow's
 * folder; absolute and `..` inputs are looked up where they are; globs stay
 * inside the folder and stop on Ctrl-C.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, repoRoot, wfc } from "./helpers.js";

/** Every file and folder under `dir`, relative, sorted (`.wfc/` folders left out). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.name === ".wfc") continue;
      out.push(e.isDirectory() ? `${path}/` : path);
      if (e.isDirectory()) walk(path);
    }
  };
  walk("");
  return out.sort();
}

/** A workflow folder inside a parent folder that also holds a sibling, so an escape would show. */
function nested(workflow: string): { parent: string; dir: string } {
  const parent = mkdtempSync(join(tmpdir(), "wfc-paths-"));
  mkdirSync(join(parent, "escape"));
  writeFileSync(join(parent, "escape", "keep.txt"), "the sibling's data\n");
  const dir = join(parent, "wf");
  mkdirSync(dir);
  writeFileSync(join(dir, "wf.yaml"), workflow);
  writeFileSync(join(dir, "data.txt"), "the user's data\n");
  return { parent, dir };
}

describe("cleanup after a failed job removes only what the job made", () => {
  test("outputs that existed before and were left alone stay; new and changed ones go; a folder that existed stays", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  s:
    outputs: [keep, same.txt, changed.txt, new.txt, newdir]
    run: "echo x >> changed.txt; echo x > new.txt; mkdir newdir; echo y > newdir/f; echo z > keep/extra; exit 3"
`,
      "keep/mine.txt": "the user's file in a folder the job names as an output\n",
      "same.txt": "an output from an earlier run the job never touched\n",
      "changed.txt": "an output the job appends to\n",
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("failed: s#0 (exit 3)");
    // keep/ existed: it stays whole (what the job wrote into it too, since wfc cannot tell it apart).
    expect(tree(dir)).toEqual(["keep/", "keep/extra", "keep/mine.txt", "same.txt", "wf.yaml"]);
    expect(readFileSync(join(dir, "keep/mine.txt"), "utf8")).toBe("the user's file in a folder the job names as an output\n");
    expect(readFileSync(join(dir, "same.txt"), "utf8")).toBe("an output from an earlier run the job never touched\n");
  });

  test("a hand-edited plan whose output is `work/..` fails that job before it starts and deletes nothing", async () => {
    const { parent, dir } = nested(`wfc: 1
stages:
  s:
    foreach: { v: [a] }
    outputs: "work/{v}"
    run: "touch started; exit 3"
`);
    expect((await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir })).exitCode).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as { tasks: { space: { vars: { values: string[] }[] } }[] };
    plan.tasks[0]!.space.vars[0]!.values = [".."];
    writeFileSync(join(dir, "plan.json"), JSON.stringify(plan));
    const r = await wfc(["run", "plan.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'failed: s#0 (output "work/.." of stage `s` uses `..`: outputs must stay inside the workflow\'s folder, so the job was not started)',
    );
    expect(tree(dir)).toEqual(["data.txt", "plan.json", "wf.yaml"]);
    expect(tree(parent)).toEqual(["escape/", "escape/keep.txt", "wf/", "wf/data.txt", "wf/plan.json", "wf/wf.yaml"]);
  });

  test("`wfc export slurm` of such a plan is refused: exit 2, nothing written", async () => {
    const dir = fixture({ "wf.yaml": 'wfc: 1\nstages:\n  s:\n    foreach: { v: [a] }\n    outputs: "work/{v}"\n    run: "exit 3"\n' });
    expect((await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir })).exitCode).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as { tasks: { space: { vars: { values: string[] }[] } }[] };
    plan.tasks[0]!.space.vars[0]!.values = [".."];
    writeFileSync(join(dir, "plan.json"), JSON.stringify(plan));
    const r = await wfc(["export", "slurm", "plan.json", "-o", "slurm", "--max-array-size", "100"], { cwd: dir });
    expect(r.stderr).toBe('wfc: error: output "work/.." of stage `s` uses `..`: outputs must stay inside the workflow\'s folder');
    expect(r.exitCode).toBe(2);
    expect(tree(dir)).toEqual(["plan.json", "wf.yaml"]);
  });

  test("a hand-edited plan with an absolute output fails that job before it starts", async () => {
    const dir = fixture({ "wf.yaml": 'wfc: 1\nstages:\n  s:\n    outputs: "out.txt"\n    run: "touch started; exit 3"\n' });
    const victim = mkdtempSync(join(tmpdir(), "wfc-victim-"));
    writeFileSync(join(victim, "keep.txt"), "not wfc's\n");
    expect((await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir })).exitCode).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as {
      tasks: { steps: { outputs: { template: string[] }[] }[] }[];
    };
    plan.tasks[0]!.steps[0]!.outputs[0]!.template = [victim];
    writeFileSync(join(dir, "plan.json"), JSON.stringify(plan));
    const r = await wfc(["run", "plan.json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`failed: s#0 (output ${JSON.stringify(victim)} of stage \`s\` is absolute: outputs must stay inside`);
    expect(existsSync(join(dir, "started"))).toBe(false);
    expect(readdirSync(victim)).toEqual(["keep.txt"]);
  });
});

describe("outputs outside the workflow's folder are refused at validation", () => {
  test('`foreach: { v: [".."] }` with `outputs: "work/{v}"`: a located error, nothing run, nothing deleted', async () => {
    const { parent, dir } = nested(`wfc: 1
stages:
  clean:
    foreach: { v: [".."] }
    outputs: "work/{v}"
    run: "exit 3"
`);
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.stderr)
      .toBe(`wf.yaml:5:14: error WFC223: output \`work/{v}\` of stage \`clean\` resolves to "work/.." (with {v} = ".."), which uses \`..\`
 5 |     outputs: "work/{v}"
   |              ^^^^^^^^^^ expected a path inside the workflow's folder, without \`..\`
   = help: wfc creates outputs, and removes them after a failure, only inside the workflow's folder; give \`v\` values that name files or folders
   = note: wf.yaml:4:16: \`v\` is defined here

1 error in wf.yaml`);
    expect(r.exitCode).toBe(2);
    expect(tree(parent)).toEqual(["escape/", "escape/keep.txt", "wf/", "wf/data.txt", "wf/wf.yaml"]);
  });

  test('`{a}{b}` with a = "." and b = "." is `..` too', async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
params: { a: ".", b: "." }
stages:
  s:
    foreach: { x: [one, two] }
    outputs: "{params.a}{params.b}/{x}.txt"
    run: "exit 3"
`,
    });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      'wf.yaml:6:14: error WFC223: output `{params.a}{params.b}/{x}.txt` of stage `s` resolves to "../one.txt" (with {params.a} = ".", {params.b} = ".", {x} = "one"), which uses `..`',
    );
  });

  test("a literal `../escape` output: a located error, the sibling folder untouched", async () => {
    const { parent, dir } = nested('wfc: 1\nstages:\n  s:\n    outputs: "../escape"\n    run: "exit 3"\n');
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("wf.yaml:4:14: error WFC223: output `../escape` of stage `s` uses `..`");
    expect(tree(parent)).toEqual(["escape/", "escape/keep.txt", "wf/", "wf/data.txt", "wf/wf.yaml"]);
  });

  test("sheet values and --param values are checked where they land in an output", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
params: { out: results }
stages:
  s:
    foreach: { id: { sheet: samples.tsv } }
    outputs: "{params.out}/{id.group}/{id}.txt"
    run: "exit 3"
`,
      "samples.tsv": "id\tgroup\na\tx\nb\t..\n",
    });
    const sheet = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(sheet.exitCode).toBe(2);
    expect(sheet.stderr).toContain(
      'resolves to "results/../b.txt" (with {params.out} = "results", {id.group} = "..", {id} = "b"), which uses `..`',
    );
    writeFileSync(join(dir, "samples.tsv"), "id\tgroup\na\tx\nb\ty\n");
    expect((await wfc(["validate", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
    const param = await wfc(["validate", "wf.yaml", "--param", "out=/tmp"], { cwd: dir });
    expect(param.exitCode).toBe(2);
    expect(param.stderr).toContain(
      'error WFC224: output `{params.out}/{id.group}/{id}.txt` of stage `s` resolves to "/tmp/x/a.txt" (with {params.out} = "/tmp", {id.group} = "x", {id} = "a"), which is absolute',
    );
  });
});

describe("absolute outputs are refused; absolute and `..` inputs are read where they are", () => {
  test("an absolute output: a located error, and no stray folder inside the workflow's", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "wfc-abs-")), "out.txt");
    const dir = fixture({ "wf.yaml": `wfc: 1\nstages:\n  s:\n    outputs: "${out}"\n    run: "touch {outputs}"\n` });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.stderr).toContain(`wf.yaml:4:14: error WFC224: output \`${out}\` of stage \`s\` is absolute
 4 |     outputs: "${out}"`);
    expect(r.stderr).toContain("   = help: wfc creates outputs, and removes them after a failure, only inside the workflow's folder;");
    expect(r.exitCode).toBe(2);
    expect(tree(dir)).toEqual(["wf.yaml"]);
    expect(existsSync(out)).toBe(false);
  });

  test("an absolute input and a `..` input: a newer one re-runs the job, in a run and in a dry run", async () => {
    const shared = mkdtempSync(join(tmpdir(), "wfc-ref-"));
    writeFileSync(join(shared, "ref.fa"), ">ref\nACGT\n");
    const { parent, dir } = nested(`wfc: 1
stages:
  s:
    inputs: ["${join(shared, "ref.fa")}", "../escape/keep.txt"]
    outputs: "out.txt"
    run: "cat {inputs} > {outputs}"
`);
    const first = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(first.exitCode).toBe(0);
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe(">ref\nACGT\nthe sibling's data\n");
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).stderr).toContain("ok: 0 done, 1 up to date");
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(shared, "ref.fa"), later, later);
    const dry = await wfc(["run", "wf.yaml", "--dry-run"], { cwd: dir });
    expect(dry.stdout).toContain(`would run s#0: input ${join(shared, "ref.fa")} is newer than its outputs`);
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).stdout).toContain("done      s#0");
    // Now only the `..` input is newer than the output.
    const earlier = new Date(Date.now() - 3_600_000);
    utimesSync(join(shared, "ref.fa"), earlier, earlier);
    utimesSync(join(parent, "escape", "keep.txt"), later, later);
    const dry2 = await wfc(["run", "wf.yaml", "--dry-run"], { cwd: dir });
    expect(dry2.stdout).toContain("would run s#0: input ../escape/keep.txt is newer than its outputs");
    expect(tree(dir)).toEqual(["data.txt", "out.txt", "wf.yaml"]);
  });
});

describe("globs stay inside the workflow's folder", () => {
  test("a foreach glob that is absolute, or climbs out with `..`: a located error with a suggestion", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  a:
    foreach: { s: { glob: "/data/**/{s}.fa" } }
    outputs: "a/{s}"
    run: "touch {outputs}"
  b:
    foreach: { s: { glob: "../data/{s}.fa" } }
    outputs: "b/{s}"
    run: "touch {outputs}"
  c:
    inputs: "../data/*.fa"
    outputs: "c.txt"
    run: "cat {inputs} > {outputs}"
`,
    });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.stderr)
      .toBe(`wf.yaml:4:27: error WFC225: glob \`/data/**/{s}.fa\` is absolute, so it would search outside the workflow's folder
 4 |     foreach: { s: { glob: "/data/**/{s}.fa" } }
   |                           ^^^^^^^^^^^^^^^^^ expected a pattern relative to the workflow's folder, without \`..\`
   = help: to search another folder, link it into the workflow's folder (\`ln -s /data data\`) and glob \`data/...\`

wf.yaml:8:27: error WFC225: glob \`../data/{s}.fa\` uses \`..\`, so it would search outside the workflow's folder
 8 |     foreach: { s: { glob: "../data/{s}.fa" } }
   |                           ^^^^^^^^^^^^^^^^ expected a pattern relative to the workflow's folder, without \`..\`
   = help: to search ../data, link it into the workflow's folder (\`ln -s ../data data\`) and glob \`data/{s}.fa\`

wf.yaml:12:13: error WFC225: input glob \`../data/*.fa\` of stage \`c\` uses \`..\`, so it would search outside the workflow's folder
 12 |     inputs: "../data/*.fa"
    |             ^^^^^^^^^^^^^^ expected a pattern relative to the workflow's folder, without \`..\`
    = help: list the files, or link ../data into the workflow's folder (\`ln -s ../data data\`) and glob \`data/*.fa\`

3 errors in wf.yaml`);
    expect(r.exitCode).toBe(2);
  });
});

/**
 * A tree that takes long to walk and little to make: links fan out level by
 * level (a/l* → b, b/l* → c, c/l* → d, 20 files in d), so walking `tree/a`
 * visits 20⁴ files in 20 + 20² + 20³ folders, from 80 entries on disk.
 */
const TREE_FOLDERS = 20 + 20 ** 2 + 20 ** 3;

function bigTree(dir: string): void {
  const levels = ["a", "b", "c", "d"];
  for (const l of levels) mkdirSync(join(dir, "tree", l), { recursive: true });
  for (let i = 0; i < 20; i++) {
    for (let k = 0; k < levels.length - 1; k++) symlinkSync(`../${levels[k + 1]}`, join(dir, "tree", levels[k]!, `l${i}`));
    writeFileSync(join(dir, "tree", "d", `f${i}.txt`), "");
  }
}

/**
 * Starts `wfc run wf.yaml` in `dir`, waits until it is walking `tree/`, sends
 * SIGINT; resolves with how it ended. tinyglobby's debug log (on stdout)
 * says when the walk has begun: what it is doing, not a fixed delay.
 */
async function interruptWhileGlobbing(dir: string): Promise<{ code: number | null; stderr: string; crawled: number }> {
  const child = spawn(process.execPath, [join(repoRoot, "dist/cli/bin.js"), "run", "wf.yaml"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", WFC_CONFIG: "", TINYGLOBBY_DEBUG: "1" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  while (!stdout.includes("crawling ")) await new Promise((r) => setTimeout(r, 5));
  child.kill("SIGINT");
  const code = await exited;
  // One "crawling" line per folder the walk entered.
  return { code, stderr, crawled: stdout.split("\n").filter((l) => l.includes("crawling ")).length };
}

describe("a long glob stops on Ctrl-C", () => {
  test("a foreach glob (expanded when the workflow compiles): exit 130, interrupted, nothing run", async () => {
    const dir = fixture({
      "wf.yaml":
        'wfc: 1\nstages:\n  s:\n    foreach: { f: { glob: "tree/a/**/{f}.txt" } }\n    outputs: "out/{f}"\n    run: "touch {outputs}"\n',
    });
    bigTree(dir);
    const { code, stderr, crawled } = await interruptWhileGlobbing(dir);
    expect(code).toBe(130);
    // The walk stopped part-way: it did not go on to the end before exiting.
    expect(crawled).toBeLessThan(TREE_FOLDERS);
    expect(stderr).toBe("wfc: interrupted\n");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  test("an input glob (expanded when its job starts): exit 130, interrupted, the job not run", async () => {
    const dir = fixture({
      "wf.yaml": 'wfc: 1\nstages:\n  s:\n    inputs: "tree/a/**/*.txt"\n    outputs: "n.txt"\n    run: "echo {inputs} > {outputs}"\n',
    });
    bigTree(dir);
    const { code, stderr, crawled } = await interruptWhileGlobbing(dir);
    expect(code).toBe(130);
    // The walk stopped part-way: it did not go on to the end before exiting.
    expect(crawled).toBeLessThan(TREE_FOLDERS);
    expect(stderr).toMatch(/^interrupted: 0 done, 0 up to date, 0 failed/m);
    expect(existsSync(join(dir, "n.txt"))).toBe(false);
  });
});
