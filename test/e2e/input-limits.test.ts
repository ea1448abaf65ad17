/**
 * Oversized and odd numbers from an untrusted workflow: each is a located
 * error with exit 2 (never a crash allocating per-element arrays, exit 70),
 * or works correctly. Real runs of the built CLI on temp-dir fixtures.
 */
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "./helpers.js";

/** A one-stage workflow around a `foreach` line (and any extra stage lines). */
const oneStage = (foreach: string, extra = "") =>
  [
    "wfc: 1",
    "stages:",
    "  a:",
    `    foreach: ${foreach}`,
    '    outputs: "o/{i}"',
    '    run: "mkdir -p o && touch {outputs}"',
    extra,
    "",
  ].join("\n");

/** plan.json as a hand editor sees it: plain, mutable JSON. */
interface HandEdited {
  tasks: { space: { vars: { range: number[] }[]; size: number }; jobs: number }[];
}

function expectCleanFailure(r: { exitCode: number | undefined; stderr: string; stdout: string }) {
  expect(r.exitCode).toBe(2);
  expect(r.stderr).not.toContain("internal error");
  expect(r.stderr).not.toContain("    at ");
}

describe("fan-out sizes are limited where they are written", () => {
  test("a range of 1e12 is refused at the range by --dry-run, not a crash", async () => {
    const dir = fixture({ "wf.yaml": oneStage("{ i: { range: [0, 1000000000000] } }") });
    const r = await wfc(["run", "wf.yaml", "--dry-run"], { cwd: dir });
    expectCleanFailure(r);
    expect(r.stderr).toBe(
      [
        "wf.yaml:4:28: error WFC232: range `i` has 1,000,000,000,000 values, more than the 10,000,000 a stage can have",
        " 4 |     foreach: { i: { range: [0, 1000000000000] } }",
        "   |                            ^^^^^^^^^^^^^^^^^^",
        "   = help: give each job a chunk of the values (a range over chunks, a larger `step`) instead of one value each",
        "",
        "1 error in wf.yaml",
      ].join("\n"),
    );
    expect(existsSync(join(dir, ".wfc"))).toBe(false);
  });

  test("a cross product too large is refused at the foreach that makes it, with its factors", async () => {
    const dir = fixture({
      "wf.yaml": oneStage("{ i: { range: [0, 100000] }, j: { range: [0, 100000] }, k: [x, y], l: [1, 2] }\n    zip: [k, l]").replace(
        '"o/{i}"',
        '"o/{i}/{j}/{k}{l}"',
      ),
    });
    const r = await wfc(["compile", "wf.yaml"], { cwd: dir });
    expectCleanFailure(r);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n").slice(0, 3)).toEqual([
      "wf.yaml:4:5: error WFC232: this `foreach` makes 20,000,000,000 elements (`i` 100,000 × `j` 100,000 × `k`+`l` 2), more than the 10,000,000 a stage can have",
      " 4 |     foreach: { i: { range: [0, 100000] }, j: { range: [0, 100000] }, k: [x, y], l: [1, 2] }",
      "   |     ^^^^^^^",
    ]);
  });

  test("a range bound from --param is checked like one written in the file", async () => {
    const dir = fixture({
      "wf.yaml": `wfc: 1\nparams: { n: 3 }\n${oneStage('{ i: { range: [0, "{params.n}"] } }').slice("wfc: 1\n".length)}`,
    });
    const r = await wfc(["run", "wf.yaml", "--dry-run", "--param", "n=1000000000000"], { cwd: dir });
    expectCleanFailure(r);
    expect(r.stderr.split("\n")[0]).toBe(
      "wf.yaml:5:28: error WFC232: range `i` has 1,000,000,000,000 values, more than the 10,000,000 a stage can have",
    );
  });

  test("the workflow's total is limited too, at the stage that passes it", async () => {
    const stages = ["a", "b", "c", "d", "e", "f"]
      .map((s) => `  ${s}:\n    foreach: { i: { range: [0, 9000000] } }\n    outputs: "${s}/{i}"\n    run: "true"`)
      .join("\n");
    const dir = fixture({ "wf.yaml": `wfc: 1\nstages:\n${stages}\n` });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expectCleanFailure(r);
    expect(r.stderr.split("\n")[0]).toBe(
      "wf.yaml:24:5: error WFC232: with this stage the workflow has 54,000,000 elements, more than the 50,000,000 a workflow can have",
    );
  });

  test("bounds beyond 2^53 (rounded, so silently wrong) and 1e308 are refused at the bound", async () => {
    const dir = fixture({
      "big.yaml": oneStage("{ i: { range: [100000000000000000000, 100000000000000000003] } }"),
      "huge.yaml": oneStage("{ i: { range: [0, 10, 1e308] } }"),
    });
    const big = await wfc(["run", "big.yaml", "--dry-run"], { cwd: dir });
    expectCleanFailure(big);
    expect(big.stderr.split("\n").slice(0, 3)).toEqual([
      "big.yaml:4:29: error WFC233: range bound 100000000000000000000 cannot be counted exactly (integers beyond 2^53 are rounded)",
      " 4 |     foreach: { i: { range: [100000000000000000000, 100000000000000000003] } }",
      "   |                             ^^^^^^^^^^^^^^^^^^^^^ expected an integer from -9,007,199,254,740,991 to 9,007,199,254,740,991",
    ]);
    const huge = await wfc(["run", "huge.yaml", "--dry-run"], { cwd: dir });
    expectCleanFailure(huge);
    expect(huge.stderr.split("\n")[0]).toBe(
      "huge.yaml:4:36: error WFC233: range bound 1e+308 cannot be counted exactly (integers beyond 2^53 are rounded)",
    );
  });

  test("a negative step counts down, and every value runs once", async () => {
    const dir = fixture({ "wf.yaml": oneStage("{ i: { range: [10, 0, -3] } }") });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(readdirSync(join(dir, "o")).sort()).toEqual(["1", "10", "4", "7"]);
  });
});

describe("timeouts wfc cannot honour", () => {
  test("30 days (beyond Node's timers, which would fire at once) and 0 are located errors", async () => {
    const dir = fixture({
      "long.yaml": oneStage("{ i: [1] }", "    timeout: 30d"),
      "zero.yaml": `wfc: 1\ndefaults:\n  timeout: 0s\n${oneStage("{ i: [1] }").slice("wfc: 1\n".length)}`,
    });
    const long = await wfc(["run", "long.yaml"], { cwd: dir });
    expectCleanFailure(long);
    expect(long.stderr.split("\n").slice(0, 4)).toEqual([
      "long.yaml:7:14: error WFC235: a `timeout` of 2,592,000 s is longer than wfc can time",
      " 7 |     timeout: 30d",
      "   |              ^^^ expected a duration above 0 and at most 24 days",
      "   = help: remove `timeout` to let jobs run as long as they need",
    ]);
    expect(existsSync(join(dir, "o"))).toBe(false);
    const zero = await wfc(["run", "zero.yaml"], { cwd: dir });
    expectCleanFailure(zero);
    expect(zero.stderr.split("\n")[0]).toBe("zero.yaml:3:12: error WFC235: a `timeout` of 0 would stop every job as it starts");
  });
});

describe("durations and worker counts too large to keep", () => {
  test("an `expected` of 1e308 (an Infinity priority, written as null) is a located error", async () => {
    const dir = fixture({ "wf.yaml": oneStage("{ i: [1] }", "    expected: 1e308") });
    const r = await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir });
    expectCleanFailure(r);
    expect(r.stderr.split("\n").slice(0, 3)).toEqual([
      "wf.yaml:7:15: error WFC235: an `expected` of 1e+308 s is longer than wfc can time",
      " 7 |     expected: 1e308",
      "   |               ^^^^^ expected a duration of at most 3,650 days",
    ]);
    expect(existsSync(join(dir, "plan.json"))).toBe(false);
  });

  test("`jobs: 1e308` caps fn calls without failing them (the pool had thrown in every job)", async () => {
    const dir = fixture({
      "f.mjs": "import { writeFileSync } from 'node:fs';\nexport function f({ outputs }) { writeFileSync([].concat(outputs)[0], 'x'); }\n",
      "wf.yaml": 'wfc: 1\njobs: 1e308\nstages:\n  a:\n    foreach: { i: [1, 2, 3] }\n    outputs: "o{i}"\n    fn: ./f.mjs#f\n',
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.stderr).not.toContain("RangeError");
    expect(r.exitCode).toBe(0);
    expect(["o1", "o2", "o3"].every((f) => existsSync(join(dir, f)))).toBe(true);
  });
});

describe("sample sheets that are not sheets", () => {
  test("a device is refused before reading, and so is a sheet over 256 MiB", async () => {
    const dir = fixture({
      "dev.yaml": oneStage("{ i: { sheet: /dev/zero } }"),
      "big.yaml": oneStage("{ i: { sheet: big.tsv } }"),
    });
    const dev = await wfc(["validate", "dev.yaml"], { cwd: dir });
    expectCleanFailure(dev);
    expect(dev.stderr.split("\n").slice(0, 4)).toEqual([
      "dev.yaml:4:28: error WFC234: sample sheet `/dev/zero` is a device, not a file",
      " 4 |     foreach: { i: { sheet: /dev/zero } }",
      "   |                            ^^^^^^^^^ expected a .tsv or .csv file",
      "",
    ]);
    // Sparse: 300 MB on paper, nothing on disk.
    writeFileSync(join(dir, "big.tsv"), "id\n");
    truncateSync(join(dir, "big.tsv"), 300_000_000);
    const big = await wfc(["validate", "big.yaml"], { cwd: dir });
    expectCleanFailure(big);
    expect(big.stderr.split("\n")[0]).toBe(
      "big.yaml:4:28: error WFC245: sample sheet `big.tsv` is 300,000,000 bytes, more than the 268,435,456 a sheet can have",
    );
  });
});

describe("a plan is held to the same limits", () => {
  test("a hand-edited range of 1e12 is refused at load, not a crash", async () => {
    const dir = fixture({ "wf.yaml": oneStage("{ i: { range: [0, 5] } }") });
    expect((await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir })).exitCode).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as HandEdited;
    const task = plan.tasks[0]!;
    task.space.vars[0]!.range = [0, 1e12, 1];
    task.space.size = 1e12;
    task.jobs = 1e12;
    writeFileSync(join(dir, "plan.json"), JSON.stringify(plan));
    const r = await wfc(["run", "plan.json", "--dry-run"], { cwd: dir });
    expectCleanFailure(r);
    expect(r.stderr).toBe(
      "wfc: error: `plan.json` is not a valid wfc plan: task `a`: `i` has 1,000,000,000,000 values, more than the 10,000,000 a task can have; recompile it with `wfc compile`",
    );
  });
});
