/**
 * Issue 13 points 3 and 4: the run state is keyed by element identity (its
 * variables' values) and by step, never by position. Reordering a list
 * re-runs nothing, dropping an element re-runs only what gathers, a fused
 * job that fails in a later step keeps (and journals) the steps before it
 * and resumes at the failing one, logs are named by identity, and a step's
 * shell is part of what makes it up to date.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, jobsRan, jsonEvents, wfc } from "./helpers.js";

const events = jsonEvents;
const ran = jobsRan;

type Record = { stage: string; element: string; status: string };
const journal = (dir: string): Record[] =>
  readFileSync(join(dir, ".wfc/journal.ndjson"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record);

const samples = `wfc: 1
params: { samples: [a, b, c] }
stages:
  count:
    foreach: { s: "{params.samples}" }
    outputs: "counts/{s}.txt"
    run: "echo counting {s}; echo {s} > {outputs}"
  total:
    inputs: "counts/*.txt"
    outputs: total.txt
    run: "cat {inputs} > {outputs}"
`;

describe("the run state is keyed by element identity, not position", () => {
  test("reordering the sample list re-runs nothing", async () => {
    const dir = fixture({ "wf.yaml": samples });
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
    const again = await wfc(["run", "wf.yaml", "--json", "--param", "samples=c,a,b"], { cwd: dir });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(ran(again.stdout)).toEqual([]);
    expect(readFileSync(join(dir, "total.txt"), "utf8")).toBe("a\nb\nc\n");
  });

  test("dropping one sample leaves the others up to date; only the gathering consumer runs again", async () => {
    const dir = fixture({ "wf.yaml": samples });
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
    const dry = await wfc(["run", "wf.yaml", "--json", "--dry-run", "--param", "samples=a,c"], { cwd: dir });
    expect(
      events(dry.stdout)
        .filter((e) => e.type === "would-run")
        .map((e) => [e.task, e.reason]),
    ).toEqual([["total", "its command changed"]]);
    const again = await wfc(["run", "wf.yaml", "--json", "--param", "samples=a,c"], { cwd: dir });
    expect(ran(again.stdout)).toEqual(["total#0"]);
    expect(readFileSync(join(dir, "total.txt"), "utf8")).toBe("a\nc\n");
  });

  test("logs are named by the element's identity: `.wfc/logs/<task>/s=a.log`", async () => {
    const dir = fixture({ "wf.yaml": samples });
    expect((await wfc(["run", "wf.yaml", "--param", "samples=b,a"], { cwd: dir })).exitCode).toBe(0);
    expect(readdirSync(join(dir, ".wfc/logs/count")).toSorted()).toEqual(["s=a.log", "s=b.log"]);
    expect(readFileSync(join(dir, ".wfc/logs/count/s=a.log"), "utf8")).toBe("counting a\n");
  });

  test("hostile values (slashes, `..`, newlines, a very long one) give safe log names, one per element", async () => {
    const values = ["a/b", "..", ".", "x\ny", "-rf", "a,b=c", "%2F", "", "v".repeat(400), "v".repeat(399) + "w"];
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  s:
    foreach: { v: ${JSON.stringify(values)} }
    run: "printf '%s|' {v}"
`,
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    // Nothing outside the task's folder: every log is a plain file in it.
    expect(readdirSync(join(dir, ".wfc/logs"))).toEqual(["s"]);
    const names = readdirSync(join(dir, ".wfc/logs/s"), { withFileTypes: true });
    expect(names.every((d) => d.isFile() && Buffer.byteLength(d.name) <= 255 && !d.name.includes("\n"))).toBe(true);
    const texts = names.map((d) => readFileSync(join(dir, ".wfc/logs/s", d.name), "utf8")).toSorted();
    expect(texts).toEqual(values.map((v) => `${v}|`).toSorted());
    expect(names.map((d) => d.name)).toContain("v=a%2Fb.log");
  });

  test("changing a stage's `shell` from sh to bash runs it again", async () => {
    const workflow = (shell: string) => `wfc: 1\nstages:\n  s:\n    outputs: o.txt\n    shell: ${shell}\n    run: "echo hi > {outputs}"\n`;
    const dir = fixture({ "wf.yaml": workflow("sh") });
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
    expect(ran((await wfc(["run", "wf.yaml", "--json"], { cwd: dir })).stdout)).toEqual([]);
    writeFileSync(join(dir, "wf.yaml"), workflow("bash"));
    const again = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(ran(again.stdout)).toEqual(["s#0"]);
    expect(events(again.stdout).find((e) => e.type === "job-end")).toMatchObject({ status: "done" });
  });
});

describe("a fused job's steps are journaled as their own jobs", () => {
  // `first` and `second` fuse into one task (same elements, one-to-one): one job per element runs both.
  const fused = `wfc: 1
stages:
  first:
    foreach: { s: [x, y] }
    outputs: "one/{s}.txt"
    run: "echo {s} >> first-ran.txt; echo {s} > {outputs}"
  second:
    foreach: { s: [x, y] }
    inputs: "one/{s}.txt"
    outputs: "two/{s}.txt"
    run: "if [ -e broken-{s} ]; then exit 4; fi; cp {inputs} {outputs}"
`;

  test("the second step fails: the first step's output and record stay, and the re-run runs only the second step", async () => {
    const dir = fixture({ "wf.yaml": fused, "broken-y": "" });
    const r = await wfc(["run", "wf.yaml", "--json", "--keep-going", "--jobs", "1"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(events(r.stdout).find((e) => e.type === "job-end" && e.status === "failed")).toMatchObject({ task: "first+second" });
    // The first step succeeded for y: its output stays; the failing step left nothing.
    expect(["one/x.txt", "two/x.txt", "one/y.txt", "two/y.txt"].map((f) => existsSync(join(dir, f)))).toEqual([true, true, true, false]);
    expect(journal(dir).map((j) => [j.stage, j.element, j.status])).toEqual([
      ["first", "s=x", "done"],
      ["second", "s=x", "done"],
      ["first", "s=y", "done"],
      ["second", "s=y", "failed"],
    ]);
    // The summary names the failing step and element by identity.
    const text = await wfc(["run", "wf.yaml", "--keep-going"], { cwd: dir });
    expect(text.stderr).toContain("failed: first+second#1 (exit 4)\n  element: s=y (step `second`)\n");

    rmSync(join(dir, "broken-y"));
    const dry = await wfc(["run", "wf.yaml", "--json", "--dry-run"], { cwd: dir });
    const would = events(dry.stdout).filter((e) => e.type === "would-run");
    expect(would.map((e) => [e.task, e.job, e.reason, e.commands])).toEqual([
      ["first+second", 1, "step `second`: it failed last time", ["if [ -e broken-y ]; then exit 4; fi; cp one/y.txt two/y.txt"]],
    ]);
    const again = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(ran(again.stdout)).toEqual(["first+second#1"]);
    // Its job-end says why it ran: which step, and why.
    expect(events(again.stdout).find((e) => e.type === "job-end" && e.status === "done")?.why).toBe("step `second`: it failed last time");
    // The first step ran once per element, in all three runs together.
    expect(readFileSync(join(dir, "first-ran.txt"), "utf8")).toBe("x\ny\n");
    expect(readFileSync(join(dir, "two/y.txt"), "utf8")).toBe("y\n");
  });

  test("a retry resumes at the failing step: the step before it runs once", async () => {
    const dir = fixture({
      "wf.yaml": fused
        .replace(
          'run: "if [ -e broken-{s} ]; then exit 4; fi; cp {inputs} {outputs}"',
          'retries: 1\n    run: "if [ ! -e tried-{s} ]; then touch tried-{s}; exit 4; fi; cp {inputs} {outputs}"',
        )
        .replace('outputs: "one/{s}.txt"', 'outputs: "one/{s}.txt"\n    retries: 1'),
    });
    const r = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(ran(r.stdout)).toEqual(["first+second#0", "first+second#1"]);
    expect(readFileSync(join(dir, "first-ran.txt"), "utf8").split("\n").filter(Boolean).toSorted()).toEqual(["x", "y"]);
    expect(readFileSync(join(dir, "two/y.txt"), "utf8")).toBe("y\n");
  });

  test("--touch journals each step of each element as touched; the next run runs nothing, --force runs every step", async () => {
    const dir = fixture({ "wf.yaml": fused });
    const touched = await wfc(["run", "wf.yaml", "--touch"], { cwd: dir });
    expect(touched.exitCode, touched.stderr).toBe(0);
    expect(journal(dir).map((j) => [j.stage, j.element, j.status])).toEqual([
      ["first", "s=x", "touched"],
      ["second", "s=x", "touched"],
      ["first", "s=y", "touched"],
      ["second", "s=y", "touched"],
    ]);
    expect(existsSync(join(dir, "first-ran.txt"))).toBe(false);
    expect(ran((await wfc(["run", "wf.yaml", "--json"], { cwd: dir })).stdout)).toEqual([]);
    const forced = await wfc(["run", "wf.yaml", "--json", "--force"], { cwd: dir });
    expect(ran(forced.stdout)).toEqual(["first+second#0", "first+second#1"]);
    expect(readFileSync(join(dir, "first-ran.txt"), "utf8").split("\n").filter(Boolean).toSorted()).toEqual(["x", "y"]);
  });

  test("records of the older journal format (per task and job number) are ignored: the job runs once more", async () => {
    const dir = fixture({
      "wf.yaml": 'wfc: 1\nstages:\n  s:\n    outputs: o.txt\n    run: "echo hi > {outputs}"\n',
      "o.txt": "hi\n",
      ".wfc/journal.ndjson": '{"task":"s","job":0,"status":"done","hash":"0","start":1,"end":2,"exitCode":0}\n',
    });
    expect(ran((await wfc(["run", "wf.yaml", "--json"], { cwd: dir })).stdout)).toEqual(["s#0"]);
    expect(ran((await wfc(["run", "wf.yaml", "--json"], { cwd: dir })).stdout)).toEqual([]);
  });

  test("a step whose input is its fused job's gone `temp` output runs with the step that writes it", async () => {
    const workflow = (word: string) => `wfc: 1
stages:
  first:
    foreach: { s: [x] }
    outputs: { tmp: "one/{s}.txt" }
    temp: [tmp]
    run: "echo {s} >> first-ran.txt; echo {s} > {outputs}"
  second:
    foreach: { s: [x] }
    inputs: "one/{s}.txt"
    outputs: "two/{s}.txt"
    run: "echo ${word} > {outputs}; cat {inputs} >> {outputs}"
`;
    const dir = fixture({ "wf.yaml": workflow("v1") });
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
    expect(existsSync(join(dir, "one/x.txt"))).toBe(false);
    expect(ran((await wfc(["run", "wf.yaml", "--json"], { cwd: dir })).stdout)).toEqual([]);
    // Only the second step changed, but it reads what the first wrote, which is gone: both run.
    writeFileSync(join(dir, "wf.yaml"), workflow("v2"));
    const again = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(readFileSync(join(dir, "two/x.txt"), "utf8")).toBe("v2\nx\n");
    expect(readFileSync(join(dir, "first-ran.txt"), "utf8")).toBe("x\nx\n");
  });

  // One executor for both, so that they fuse (by default `fn` steps go to threads).
  test("a batched fused job whose `fn` step throws for its second element keeps everything before it", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1
stages:
  first:
    foreach: { s: [x, y, z] }
    batch: 3
    executor: processes
    outputs: "one/{s}.txt"
    run: "echo {s} >> first-ran.txt; echo {s} > {outputs}"
  second:
    foreach: { s: [x, y, z] }
    batch: 3
    executor: processes
    inputs: "one/{s}.txt"
    outputs: "two/{s}.txt"
    fn: "second.mjs#run"
`,
      "second.mjs": `import { existsSync, readFileSync, writeFileSync } from "node:fs";
export function run({ inputs, outputs, vars }) {
  if (existsSync("broken-" + vars.s)) throw new Error("broken " + vars.s);
  writeFileSync(outputs, readFileSync(inputs, "utf8"));
}
`,
      "broken-y": "",
    });
    const r = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(events(r.stdout).find((e) => e.type === "job-end")).toMatchObject({ task: "first+second", status: "failed" });
    // x's two steps and y's first ran; y's `fn` step failed; z never started.
    expect(["one/x.txt", "two/x.txt", "one/y.txt", "two/y.txt", "one/z.txt"].map((f) => existsSync(join(dir, f)))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(journal(dir).map((j) => [j.stage, j.element, j.status])).toEqual([
      ["first", "s=x", "done"],
      ["second", "s=x", "done"],
      ["first", "s=y", "done"],
      ["second", "s=y", "failed"],
    ]);
    // A batch's log: its first element's identity and how many more.
    expect(readdirSync(join(dir, ".wfc/logs/first+second"))).toEqual(["s=x+2.log"]);
    rmSync(join(dir, "broken-y"));
    const dry = await wfc(["run", "wf.yaml", "--json", "--dry-run"], { cwd: dir });
    expect(events(dry.stdout).find((e) => e.type === "would-run")?.reason).toBe("step `second` of s=y: it failed last time");
    const again = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(readFileSync(join(dir, "first-ran.txt"), "utf8")).toBe("x\ny\nz\n");
  });
});
