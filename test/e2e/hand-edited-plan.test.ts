/**
 * A plan.json edited by hand (or corrupted) so that it lies about itself is
 * refused when it is loaded: one line naming the task and the problem,
 * exit 2, and no job runs (no `.wfc/` state, no outputs). Each case compiles
 * a real workflow with the CLI, edits the plan, and runs it with the CLI.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { fixture, wfc } from "./helpers.js";

const workflow = `wfc: 1
stages:
  make:
    foreach: { i: { range: [0, 5] } }
    outputs: "a/{i}.txt"
    fuse: false
    run: "mkdir -p a && echo {i} > {outputs}"
  copy:
    foreach: { i: { range: [0, 5] } }
    inputs: "a/{i}.txt"
    outputs: "b/{i}.txt"
    run: "mkdir -p b && cp {inputs} {outputs}"
  pick:
    foreach: { j: { range: [0, 5] } }
    inputs: { src: "a/{j}.txt" }
    outputs: "c/{j}.txt"
    run: "mkdir -p c && cp {inputs.src} {outputs}"
  zipped:
    foreach: { x: [p, q], y: [1, 2] }
    zip: [x, y]
    outputs: "z/{x}{y}"
    run: "mkdir -p z && touch {outputs}"
`;

/** plan.json as a hand editor sees it: plain, mutable JSON. */
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let compiled: Json;

beforeAll(async () => {
  const dir = fixture({ "wf.yaml": workflow });
  const r = await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir });
  expect(r.exitCode).toBe(0);
  compiled = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8"));
});

/** The compiled plan, edited, written to a fresh folder and run; what the user sees, and what was left behind. */
async function runEdited(edit: (tasks: Record<string, Json>) => void) {
  const plan = structuredClone(compiled);
  edit(Object.fromEntries(plan.tasks.map((t: Json) => [t.id, t])));
  const dir = fixture({ "wf.yaml": workflow, "plan.json": JSON.stringify(plan, null, 2) });
  const r = await wfc(["run", "plan.json"], { cwd: dir });
  return { ...r, left: [".wfc", "a", "b", "c", "z"].filter((f) => existsSync(join(dir, f))) };
}

const refused = (problem: string) => `wfc: error: \`plan.json\` is not a valid wfc plan: ${problem}; recompile it with \`wfc compile\``;

describe("a hand-edited plan is refused at load, before any job runs", () => {
  test("the plan as compiled runs (the edits below are what breaks it)", async () => {
    const r = await runEdited(() => {});
    expect(r.exitCode).toBe(0);
    expect(r.left).toEqual([".wfc", "a", "b", "c", "z"]);
  });

  const cases: [string, (t: Record<string, Json>) => void, string][] = [
    [
      "a dependency cycle",
      (t) => t.make.deps.push({ task: "copy", edge: { kind: "all" }, input: null }),
      "task `make` is in a dependency cycle: `make` → `copy` → `make` (each waits for the next)",
    ],
    [
      "a task that depends on itself",
      (t) => t.zipped.deps.push({ task: "zipped", edge: { kind: "all" }, input: null }),
      "task `zipped` is in a dependency cycle: `zipped` → `zipped` (each waits for the next)",
    ],
    ["`jobs` that do not cover the space", (t) => (t.copy.jobs = 3), "task `copy`: `jobs` is 3, but 5 elements in batches of 1 make 5"],
    ["`batch` changed without `jobs`", (t) => (t.copy.batch = 2), "task `copy`: `jobs` is 5, but 5 elements in batches of 2 make 3"],
    [
      "a `size` that is not what the variables make",
      (t) => (t.copy.space.size = 6),
      "task `copy`: its space says `size` 6, but its variables make 5 elements",
    ],
    [
      "zipped variables of different lengths",
      (t) => t.zipped.space.vars[1].values.push(3),
      "task `zipped`: zipped variable `y` has 3 values, not 2 like the first",
    ],
    [
      "a `zip` naming no variable",
      (t) => (t.zipped.space.zip = ["x", "w"]),
      "task `zipped`: `zip` names `w`, which is not a variable of its space",
    ],
    ["a range step of 0", (t) => (t.make.space.vars[0].range = [0, 5, 0]), "task `make`: the range of `i` has a step of 0"],
    [
      "a map edge with too few offsets",
      (t) => (t.copy.deps[0].edge = { kind: "map", offsets: [0, 1, 2], indices: [0, 1] }),
      "task `copy`: its map edge from task `make` has 3 offsets for 5 elements (it needs 6)",
    ],
    [
      "a map edge whose offsets go down",
      (t) => (t.copy.deps[0].edge = { kind: "map", offsets: [0, 2, 1, 3, 4, 5], indices: [0, 1, 2, 3, 4] }),
      "task `copy`: its map edge from task `make` has offsets that go down at element 1",
    ],
    [
      "a map edge whose offsets do not end at its indices",
      (t) => (t.copy.deps[0].edge = { kind: "map", offsets: [0, 1, 2, 3, 4, 4], indices: [0, 1, 2, 3, 4] }),
      "task `copy`: its map edge from task `make` ends at offset 4, but has 5 indices",
    ],
    [
      "a map edge pointing past the producer",
      (t) => (t.copy.deps[0].edge = { kind: "map", offsets: [0, 1, 2, 3, 4, 5], indices: [0, 1, 2, 3, 99] }),
      "task `copy`: its map edge from task `make` points at element 99 of 5",
    ],
    [
      "a one-to-one edge between spaces of different sizes",
      (t) => {
        t.copy.space.vars[0].range = [0, 4, 1];
        t.copy.space.size = 4;
        t.copy.jobs = 4;
      },
      "task `copy`: its one-to-one edge from task `make` joins 5 elements to 4",
    ],
    [
      "a match edge naming a variable the consumer does not have",
      (t) => (t.pick.deps[0].edge.on = [["i", "k"]]),
      "task `pick`: its match edge from task `make` matches on `k`, which this task does not have",
    ],
    [
      "a match edge with a `where` the producer does not have",
      (t) => (t.pick.deps[0].edge.where = { size: "small" }),
      "task `pick`: its match edge from task `make` has `where` `size`, which task `make` does not have",
    ],
    [
      "a command naming an input the step does not have",
      (t) => (t.pick.steps[0].action.command[1].name = "sorc"),
      "task `pick`: the command of step `pick` uses `{inputs.sorc}`, which the step does not have",
    ],
    [
      "a command naming a variable the space does not have",
      (t) => (t.copy.steps[0].action.command[1] = { var: "k" }),
      "task `copy`: the command of step `copy` uses `{k}`, which its space does not have",
    ],
    [
      "an input read from an output that does not exist",
      (t) => (t.copy.steps[0].inputs[0].from[0].output = 3),
      "task `copy`: input 0 of step `copy` reads output 3 of step `make` of task `make`, which it does not depend on or which does not exist",
    ],
    [
      "an input read from a task it does not depend on",
      (t) => (t.copy.steps[0].inputs[0].from[0] = { task: "zipped", step: "zipped", output: 0 }),
      "task `copy`: input 0 of step `copy` reads output 0 of step `zipped` of task `zipped`, which it does not depend on or which does not exist",
    ],
    [
      "a timeout the runtime cannot keep",
      (t) => (t.zipped.timeout = 1e9),
      "task `zipped`: `timeout` 1000000000 s is not above 0 and at most 2073600 s",
    ],
  ];

  test.each(cases)("%s", async (_, edit, problem) => {
    const r = await runEdited(edit);
    expect(r.stderr).toBe(refused(problem));
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.left).toEqual([]);
  });
});

describe("the check is linear in the plan's size", () => {
  test("a plan with a 1,000,000-entry map edge loads and is drawn", async () => {
    const n = 1_000_000;
    const plan = structuredClone(compiled);
    const [make, copy] = plan.tasks as Json[];
    for (const t of [make, copy]) {
      t.space.vars[0].range = [0, n, 1];
      t.space.size = n;
      t.jobs = n;
    }
    copy.deps[0].edge = {
      kind: "map",
      offsets: Array.from({ length: n + 1 }, (_, j) => j),
      indices: Array.from({ length: n }, (_, j) => j),
    };
    plan.tasks = [make, copy];
    const dir = fixture({});
    writeFileSync(join(dir, "plan.json"), JSON.stringify(plan));
    const r = await wfc(["graph", "plan.json"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("map");
  });
});
