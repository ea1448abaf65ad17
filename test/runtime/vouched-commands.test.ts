/**
 * A journal record keeps its step's fingerprint, and while the step's is
 * the same the record vouches for the command's hash (the command is not
 * built to be checked: runtime/run/fingerprint.ts). Whatever changes a
 * command must still re-run it, and nothing else may: real jobs through
 * run(), plans compiled from workflow files, the journal read as a user's
 * tools would.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { compileFile } from "../../compiler/compile.js";
import { run, type RunSummary } from "../../runtime/run/run.js";
import { fixture, wfc } from "../e2e/helpers.js";

interface Line {
  stage: string;
  element: string;
  hash: string;
  fp?: string;
}

const journal = (dir: string): Line[] =>
  readFileSync(join(dir, ".wfc/journal.ndjson"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Line);

async function runIn(dir: string, params: Record<string, string> = {}): Promise<RunSummary> {
  const compiled = await compileFile(join(dir, "wf.yaml"), { planPath: join(dir, "plan.json"), params });
  if (compiled.plan === undefined) throw new Error(JSON.stringify(compiled.diagnostics));
  return run(compiled.plan, { planDir: dir, config: { cores: 2 }, onWarning: () => {} });
}

const workflow = ({ samples = "[a, b]", copy = "cp", greeting = "{params.greeting}" } = {}) => `wfc: 1
params: { greeting: hello }
stages:
  make:
    foreach: { s: ${samples} }
    outputs: "made/{s}.txt"
    run: "echo ${greeting} {s} > {outputs}"
  copy:
    foreach: { s: ${samples} }
    inputs: "made/{s}.txt"
    outputs: "copied/{s}.txt"
    run: "${copy} {inputs} {outputs}"
`;

test("records keep their step's fingerprint, and a re-run with nothing to do appends nothing", async () => {
  const dir = fixture({ "wf.yaml": workflow() });
  // `make` and `copy` fuse: a job per sample, a record per step.
  expect(await runIn(dir)).toMatchObject({ status: "ok", done: 2 });
  const first = journal(dir);
  expect(first).toHaveLength(4);
  expect(first.every((l) => typeof l.fp === "string")).toBe(true);
  expect(await runIn(dir)).toMatchObject({ status: "ok", done: 0, skipped: 2 });
  expect(journal(dir)).toEqual(first);
});

test("a changed command re-runs its stage, and only it, though its records vouched for the old one", async () => {
  const dir = fixture({ "wf.yaml": workflow() });
  await runIn(dir);
  const before = journal(dir).length;
  writeFileSync(join(dir, "wf.yaml"), workflow({ copy: "cp -p" }));
  expect(await runIn(dir)).toMatchObject({ status: "ok", done: 2 });
  expect(
    journal(dir)
      .slice(before)
      .map((l) => `${l.stage} ${l.element}`),
  ).toEqual(["copy s=a", "copy s=b"]);
  expect(await runIn(dir)).toMatchObject({ status: "ok", done: 0, skipped: 2 });
});

test("a changed param re-runs the step whose command uses it, and what reads its output", async () => {
  const dir = fixture({ "wf.yaml": workflow() });
  await runIn(dir);
  // `make` names the param: its command changes, and `copy` after it runs because its input is new.
  const changed = await runIn(dir, { greeting: "bye" });
  expect(changed).toMatchObject({ status: "ok", done: 2 });
  expect(readFileSync(join(dir, "copied/a.txt"), "utf8")).toBe("bye a\n");
  expect(await runIn(dir, { greeting: "bye" })).toMatchObject({ status: "ok", done: 0, skipped: 2 });
});

test("a param only one stage uses changes the others' fingerprints, not their commands: they stay up to date and are stamped again", async () => {
  const dir = fixture({ "wf.yaml": workflow({ greeting: "hi" }) });
  await runIn(dir);
  const before = journal(dir).length;
  // `greeting` is in no command now: every command is the same, every fingerprint is new.
  expect(await runIn(dir, { greeting: "bye" })).toMatchObject({ status: "ok", done: 0, skipped: 2 });
  const stamped = journal(dir).slice(before);
  expect(stamped.map((l) => `${l.stage} ${l.element}`).sort()).toEqual(["copy s=a", "copy s=b", "make s=a", "make s=b"]);
  // Stamped once: the next run finds them vouched for and writes nothing.
  expect(await runIn(dir, { greeting: "bye" })).toMatchObject({ status: "ok", done: 0, skipped: 2 });
  expect(journal(dir)).toHaveLength(before + 4);
});

test("a new sample runs only its own jobs; the others stay up to date", async () => {
  const dir = fixture({ "wf.yaml": workflow() });
  await runIn(dir);
  writeFileSync(join(dir, "wf.yaml"), workflow({ samples: "[a, b, c]" }));
  expect(await runIn(dir)).toMatchObject({ status: "ok", done: 1, skipped: 2 });
  expect(readFileSync(join(dir, "copied/c.txt"), "utf8")).toBe("hello c\n");
  expect(await runIn(dir)).toMatchObject({ status: "ok", done: 0, skipped: 3 });
});

test("a vouched-for job whose output is gone runs its whole command again", async () => {
  const dir = fixture({ "wf.yaml": workflow() });
  await runIn(dir);
  rmSync(join(dir, "made/b.txt"));
  expect(await runIn(dir)).toMatchObject({ status: "ok", done: 1, skipped: 1 });
  expect(readFileSync(join(dir, "made/b.txt"), "utf8")).toBe("hello b\n");
  expect(readFileSync(join(dir, "copied/b.txt"), "utf8")).toBe("hello b\n");
});

test("a record whose fingerprint is not the step's is checked by its command: a forged hash re-runs, a true one is stamped again", async () => {
  const dir = fixture({ "wf.yaml": workflow() });
  await runIn(dir);
  const lines = journal(dir).map((l) => ({ ...l, fp: "another" }));
  // `make s=a` claims a command it never ran.
  lines[0] = { ...lines[0]!, hash: "0".repeat(64) };
  writeFileSync(join(dir, ".wfc/journal.ndjson"), lines.map((l) => JSON.stringify(l) + "\n").join(""));
  expect(await runIn(dir)).toMatchObject({ status: "ok", done: 1, skipped: 1 });
  const last = new Map(journal(dir).map((l) => [`${l.stage} ${l.element}`, l]));
  expect([...last.values()].every((l) => l.fp !== "another")).toBe(true);
});

test("a sheet's other column is part of a command: changing it re-runs the element's job", async () => {
  const dir = fixture({
    "samples.tsv": "id\tgreeting\na\thello\nb\thi\n",
    "wf.yaml": `wfc: 1
stages:
  make:
    foreach: { s: { sheet: samples.tsv, key: id } }
    outputs: "made/{s}.txt"
    run: "echo {s.greeting} > {outputs}"
`,
  });
  expect(await runIn(dir)).toMatchObject({ status: "ok", done: 2 });
  writeFileSync(join(dir, "samples.tsv"), "id\tgreeting\na\thello\nb\tbye\n");
  expect(await runIn(dir)).toMatchObject({ status: "ok", done: 1, skipped: 1 });
  expect(readFileSync(join(dir, "made/b.txt"), "utf8")).toBe("bye\n");
});

test("the workflow file and its compiled plan.json vouch alike: running one after the other stamps nothing", async () => {
  const dir = fixture({ "wf.yaml": workflow() });
  expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
  const before = journal(dir);
  expect((await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir })).exitCode).toBe(0);
  expect((await wfc(["run", "plan.json"], { cwd: dir })).stderr).toMatch(/^ok: 0 done, 2 up to date/m);
  expect((await wfc(["run", "wf.yaml"], { cwd: dir })).stderr).toMatch(/^ok: 0 done, 2 up to date/m);
  expect(journal(dir)).toEqual(before);
});
