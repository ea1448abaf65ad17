/**
 * A partial run's selection (runtime/run/select.ts), on plans the real
 * compiler makes: a target runs what it names and what that needs through
 * every kind of element edge, a fused task only a prefix of its steps, a
 * batched job only its selected elements; `--until` and `--forcerun`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { compileFile } from "../../compiler/compile.js";
import { ElementSpace } from "../../contract/elements.js";
import type { Plan } from "../../contract/plan.js";
import { select, type Selection, type SelectRequest } from "../../runtime/run/select.js";
import { run } from "../../runtime/run/run.js";
import { Scheduler } from "../../runtime/scheduler/scheduler.js";
import { fixture } from "../e2e/helpers.js";

// prep → align (a fused trim+align), align → call (match on sample, batch 4) → report (match, a gather), align → merge (all).
const workflow = `wfc: 1
params:
  samples: [a, b, c]
stages:
  prep:
    outputs: ref.txt
    run: "echo ref > {outputs}"
  trim:
    foreach: { sample: "{params.samples}" }
    inputs: "raw/{sample}.fq"
    outputs: "trimmed/{sample}.fq"
    run: "cat {inputs} > {outputs}"
  align:
    foreach: { sample: "{params.samples}" }
    inputs: ["trimmed/{sample}.fq", ref.txt]
    outputs: "bam/{sample}.bam"
    run: "cat {inputs} > {outputs}"
  call:
    foreach: { sample: "{params.samples}", chrom: [1, 2] }
    inputs: "bam/{sample}.bam"
    outputs: "calls/{sample}/{chrom}.vcf"
    batch: 4
    run: "cat {inputs} > {outputs}"
  report:
    foreach: { sample: "{params.samples}" }
    inputs: "calls/{sample}/*.vcf"
    outputs: "reports/{sample}.txt"
    run: "cat {inputs} > {outputs}"
  merge:
    inputs: "bam/*.bam"
    outputs: all.txt
    run: "cat {inputs} > {outputs}"
`;

let plan: Plan;
let dir: string;
beforeAll(async () => {
  dir = fixture({ "wf.yaml": workflow });
  const result = await compileFile(join(dir, "wf.yaml"), { planPath: join(dir, "plan.json") });
  if (result.plan === undefined) throw new Error(JSON.stringify(result.diagnostics));
  plan = result.plan;
  expect(plan.tasks.map((t) => t.id)).toEqual(["prep", "trim+align", "call", "merge", "report"]);
});

const request = (r: Partial<SelectRequest>): SelectRequest => ({ targets: [], until: [], forcerun: [], workdir: dir, cwd: dir, ...r });

function selection(r: Partial<SelectRequest>): Selection {
  const s = select(plan, request(r));
  if (!s.ok) throw new Error(JSON.stringify(s.problems));
  if (s.selection === undefined) throw new Error("no selection");
  return s.selection;
}

/** What runs, readably: per task, each selected element as `vars: steps`; forced steps marked with `!`. */
function shown(s: Selection): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  plan.tasks.forEach((task, t) => {
    const space = new ElementSpace(task.space);
    const list: string[] = [];
    for (let e = 0; e < task.space.size; e++) {
      const steps = s.steps[t]?.[e] ?? task.steps.length;
      if (steps === 0) continue;
      const forced = s.forced[t]?.[e] ?? 0;
      const names = task.steps.slice(0, steps).map((step, i) => (forced > 0 && i >= forced - 1 ? `${step.stage}!` : step.stage));
      const vars = task.space.vars.map((v) => `${v.name}=${space.value(e, v.name)}`).join(",");
      list.push(`${vars}: ${names.join(",")}`);
    }
    if (list.length > 0) out[task.id] = list;
  });
  return out;
}

describe("targets", () => {
  test("no target, --until nor --forcerun: no selection (the whole plan)", () => {
    expect(select(plan, request({}))).toEqual({ ok: true, selection: undefined });
  });

  test("the first stage of a fused task: only that step, and nothing only the second step needs (prep)", () => {
    const s = selection({ targets: ["trim"] });
    expect(shown(s)).toEqual({ "trim+align": ["sample=a: trim", "sample=b: trim", "sample=c: trim"] });
    expect(s.jobs).toEqual([0, 3, 0, 0, 0]);
  });

  test("the second stage of a fused task: both steps, and what the second reads", () => {
    expect(shown(selection({ targets: ["align"] }))).toEqual({
      prep: [": prep"],
      "trim+align": ["sample=a: trim,align", "sample=b: trim,align", "sample=c: trim,align"],
    });
  });

  test("stage[var=value]: that element's chain only, through a match edge", () => {
    expect(shown(selection({ targets: ["report[sample=b]"] }))).toEqual({
      prep: [": prep"],
      "trim+align": ["sample=b: trim,align"],
      call: ["sample=b,chrom=1: call", "sample=b,chrom=2: call"],
      report: ["sample=b: report"],
    });
  });

  test("one element of a batched job: only that element of the job, and the job counts once", () => {
    const s = selection({ targets: ["call[chrom=2,sample=b]"] });
    expect(shown(s).call).toEqual(["sample=b,chrom=2: call"]);
    expect(s.jobs[2]).toBe(1);
    // A subset of the variables selects every element that matches; here both batched jobs.
    const c = selection({ targets: ["call[chrom=1]"] });
    expect(shown(c).call).toEqual(["sample=a,chrom=1: call", "sample=b,chrom=1: call", "sample=c,chrom=1: call"]);
    expect(c.jobs[2]).toBe(2);
  });

  test("a gather over an `all` edge needs every producer element", () => {
    expect(shown(selection({ targets: ["merge"] }))).toEqual({
      prep: [": prep"],
      "trim+align": ["sample=a: trim,align", "sample=b: trim,align", "sample=c: trim,align"],
      merge: [": merge"],
    });
  });

  test("an output path, as written, as ./path, as an absolute path in the workflow's folder, or from a subfolder", () => {
    const expected = { prep: [": prep"], "trim+align": ["sample=c: trim,align"] };
    expect(shown(selection({ targets: ["bam/c.bam"] }))).toEqual(expected);
    expect(shown(selection({ targets: ["./bam/c.bam"] }))).toEqual(expected);
    expect(shown(selection({ targets: [join(dir, "bam/c.bam")] }))).toEqual(expected);
    expect(shown(selection({ targets: ["c.bam"], cwd: join(dir, "bam") }))).toEqual(expected);
    // The fused task's first output: the first step only.
    expect(shown(selection({ targets: ["trimmed/a.fq"] }))).toEqual({ "trim+align": ["sample=a: trim"] });
  });

  test("a fused task's id, as progress lines show it, is its last stage", () => {
    expect(shown(selection({ targets: ["trim+align"] }))).toEqual(shown(selection({ targets: ["align"] })));
  });

  test("several targets add up", () => {
    expect(shown(selection({ targets: ["trim[sample=a]", "reports/c.txt"] }))["trim+align"]).toEqual([
      "sample=a: trim",
      "sample=c: trim,align",
    ]);
  });
});

describe("--until and --forcerun", () => {
  test("--until: the stage and what it needs, nothing downstream nor beside", () => {
    expect(shown(selection({ until: ["call"] }))).toEqual({
      prep: [": prep"],
      "trim+align": ["sample=a: trim,align", "sample=b: trim,align", "sample=c: trim,align"],
      call: [
        "sample=a,chrom=1: call",
        "sample=a,chrom=2: call",
        "sample=b,chrom=1: call",
        "sample=b,chrom=2: call",
        "sample=c,chrom=1: call",
        "sample=c,chrom=2: call",
      ],
    });
  });

  test("--until with targets: only what both select", () => {
    expect(shown(selection({ targets: ["report[sample=a]"], until: ["trim"] }))).toEqual({ "trim+align": ["sample=a: trim"] });
  });

  test("--forcerun of a fused task's second step forces that step and everything downstream, not the first step", () => {
    const s = selection({ forcerun: ["align"] });
    const all = shown(s);
    expect(all.prep).toEqual([": prep"]);
    expect(all["trim+align"]).toEqual(["sample=a: trim,align!", "sample=b: trim,align!", "sample=c: trim,align!"]);
    expect(all.merge).toEqual([": merge!"]);
    expect(all.report).toEqual(["sample=a: report!", "sample=b: report!", "sample=c: report!"]);
    expect(s.forced[0]).toBeUndefined();
  });

  test("--forcerun within targets: forced only where it runs", () => {
    expect(shown(selection({ targets: ["call[sample=a]"], forcerun: ["trim"] }))).toEqual({
      prep: [": prep"],
      "trim+align": ["sample=a: trim!,align!"],
      call: ["sample=a,chrom=1: call!", "sample=a,chrom=2: call!"],
    });
  });
});

describe("problems", () => {
  const problems = (r: Partial<SelectRequest>) => {
    const s = select(plan, request(r));
    if (s.ok) throw new Error("selected");
    return s.problems;
  };

  test("each one as data, every target's at once", () => {
    expect(
      problems({
        targets: ["trmi", "call[smple=a]", "call[sample=z]", "call[sample=a", "nope/x.txt"],
        until: ["alig"],
        forcerun: ["report[sample=a]", "x"],
      }),
    ).toEqual([
      {
        kind: "unknown-stage",
        option: "target",
        text: "trmi",
        stage: "trmi",
        stages: ["prep", "trim", "align", "call", "merge", "report"],
      },
      {
        kind: "unknown-variable",
        option: "target",
        text: "call[smple=a]",
        stage: "call",
        variable: "smple",
        variables: ["sample", "chrom"],
      },
      {
        kind: "unknown-value",
        option: "target",
        text: "call[sample=z]",
        stage: "call",
        variable: "sample",
        value: "z",
        values: ["a", "b", "c"],
      },
      { kind: "syntax", option: "target", text: "call[sample=a", message: "a missing `]` at the end" },
      expect.objectContaining({ kind: "unknown-path", option: "target", text: "nope/x.txt" }),
      { kind: "unknown-stage", option: "--until", text: "alig", stage: "alig", stages: expect.any(Array) },
      { kind: "syntax", option: "--forcerun", text: "report[sample=a]", message: "--forcerun takes stage names, not elements" },
      { kind: "unknown-stage", option: "--forcerun", text: "x", stage: "x", stages: expect.any(Array) },
    ]);
  });

  test("a path outside the workflow's folder is no output, even if it ends like one", () => {
    expect(problems({ targets: ["../bam/a.bam", "/elsewhere/bam/a.bam"] }).map((p) => p.kind)).toEqual(["unknown-path", "unknown-path"]);
  });

  test("values that exist apart but not together", () => {
    const zipped = {
      ...plan,
      tasks: plan.tasks.map((t) => (t.id === "call" ? { ...t, space: { ...t.space, zip: ["sample", "chrom"] } } : t)),
    };
    // Zip needs equal lengths: give `chrom` three values, so the elements are (a,1), (b,2), (c,3).
    const space = {
      vars: [
        { name: "sample", values: ["a", "b", "c"] },
        { name: "chrom", values: [1, 2, 3] },
      ],
      zip: ["sample", "chrom"],
      size: 3,
    };
    const p = { ...zipped, tasks: zipped.tasks.map((t) => (t.id === "call" ? { ...t, space, jobs: 1 } : t)) };
    const s = select(p, request({ targets: ["call[sample=a,chrom=2]"] }));
    expect(s).toEqual({ ok: false, problems: [{ kind: "no-element", option: "target", text: "call[sample=a,chrom=2]", stage: "call" }] });
  });
});

describe("the scheduler runs exactly the selection", () => {
  /** Takes and finishes jobs until nothing more starts: the jobs taken, as `task#job`, in order. */
  function drive(s: Selection | undefined): string[] {
    const scheduler = new Scheduler(plan, { cores: 4, lanes: false, ...(s ? { only: s.steps } : {}) });
    const order: string[] = [];
    for (let taken = scheduler.take(); taken.length > 0; taken = scheduler.take())
      for (const ref of taken) {
        order.push(`${plan.tasks[ref.task]!.id}#${ref.job}`);
        scheduler.finish(ref, "done");
      }
    expect(scheduler.idle).toBe(true);
    return order;
  }

  test.each([
    [["trim"], [], ["trim+align#0", "trim+align#1", "trim+align#2"]],
    [["report[sample=b]"], [], ["prep#0", "trim+align#1", "call#0", "report#1"]],
    [["calls/c/1.vcf"], [], ["prep#0", "trim+align#2", "call#1"]],
    [[], ["call"], ["prep#0", "trim+align#0", "trim+align#1", "trim+align#2", "call#0", "call#1"]],
  ])("%j --until %j", (targets, until, expected) => {
    const s = selection({ targets, until });
    const order = drive(s);
    expect([...order].sort()).toEqual([...expected].sort());
    expect(order.length).toBe(s.jobs.reduce((a, b) => a + b, 0));
    // Producers before consumers.
    for (const [a, b] of [
      ["prep#0", "trim+align"],
      ["trim+align", "call"],
      ["call", "report"],
    ] as const) {
      const first = order.findIndex((j) => j.startsWith(a));
      const last = order.findIndex((j) => j.startsWith(b));
      if (first !== -1 && last !== -1 && !(a === "prep#0" && targets[0] === "trim")) expect(first).toBeLessThan(last);
    }
  });

  test("no selection: every job", () => {
    expect(drive(undefined)).toHaveLength(plan.tasks.reduce((n, t) => n + (t.jobs ?? 0), 0));
  });
});

test("run() from the library takes a selection: only `prep` runs, and the summary counts one job", async () => {
  const s = selection({ targets: ["ref.txt"] });
  const summary = await run(plan, { planDir: dir, config: { selection: s }, onWarning: () => {} });
  expect([summary.status, summary.done, summary.skipped, summary.notRun]).toEqual(["ok", 1, 0, 0]);
  expect(existsSync(join(dir, "ref.txt"))).toBe(true);
  expect(existsSync(join(dir, "trimmed"))).toBe(false);
});

test("run() refuses a selection made for another plan", async () => {
  const s = selection({ targets: ["ref.txt"] });
  const other = { ...plan, tasks: plan.tasks.slice(0, 2) };
  await expect(run(other, { planDir: dir, config: { selection: s }, onWarning: () => {} })).rejects.toThrow(
    "the selection was not made for this plan (make it with select() on the same plan)",
  );
});

// split decides chunks per sample; map (dynamic) → filter (dynamic, fused with map) → merge (a gather per sample).
const dynamicWorkflow = `wfc: 1
params:
  samples: [a, b, c]
stages:
  split:
    foreach: { sample: "{params.samples}" }
    inputs: "in/{sample}.txt"
    outputs: "chunks/{sample}/{chunk}.txt"
    decides: [chunk]
    run: ./split.sh {inputs} chunks/{sample}
  map:
    foreach: { sample: "{params.samples}", chunk: { from: split } }
    inputs: "chunks/{sample}/{chunk}.txt"
    outputs: "mapped/{sample}/{chunk}.txt"
    run: "cat {inputs} > {outputs}"
  filter:
    foreach: { sample: "{params.samples}", chunk: { from: split } }
    inputs: "mapped/{sample}/{chunk}.txt"
    outputs: "filtered/{sample}/{chunk}.txt"
    run: "cat {inputs} > {outputs}"
  merge:
    foreach: { sample: "{params.samples}" }
    inputs: "filtered/{sample}/*.txt"
    outputs: "merged/{sample}.txt"
    run: "cat {inputs} > {outputs}"
`;

describe("a dynamic stage: selected per block of its static variables", () => {
  let dyn: Plan;
  let ddir: string;
  beforeAll(async () => {
    ddir = fixture({ "wf.yaml": dynamicWorkflow });
    const result = await compileFile(join(ddir, "wf.yaml"), { planPath: join(ddir, "plan.json") });
    if (result.plan === undefined) throw new Error(JSON.stringify(result.diagnostics));
    dyn = result.plan;
    expect(dyn.tasks.map((t) => t.id)).toEqual(["split", "map+filter", "merge"]);
  });
  const pick = (r: Partial<SelectRequest>): Selection => {
    const s = select(dyn, { targets: [], until: [], forcerun: [], workdir: ddir, cwd: ddir, ...r });
    if (!s.ok || s.selection === undefined) throw new Error(JSON.stringify(s));
    return s.selection;
  };
  /** Per task: static tasks' steps per element; a dynamic task's per block, its forced steps, and its elements by decided values. */
  const seen = (s: Selection) =>
    dyn.tasks.map((_, i) =>
      s.dynamic?.[i] === undefined
        ? [...(s.steps[i] ?? [])].join("")
        : `${[...s.dynamic[i].steps].join("")} forced ${[...s.dynamic[i].forced].join("")} ${JSON.stringify(s.dynamic[i].elements)}`,
    );

  test("merge[sample=b]: block b of map+filter, both steps, and split[sample=b]", () => {
    const s = pick({ targets: ["merge[sample=b]"] });
    expect(seen(s)).toEqual(["010", "020 forced 000 []", "010"]);
    expect(s.jobs).toEqual([1, 0, 1]);
    expect(s.steps[1]).toBeUndefined();
  });

  test("filter[sample=c,chunk=7]: that element of block c (a target to check when c expands), its split", () => {
    expect(seen(pick({ targets: ["filter[sample=c,chunk=7]"] }))).toEqual([
      "001",
      `000 forced 000 ${JSON.stringify([{ block: 2, values: [["chunk", "7"]], steps: 2, target: "filter[sample=c,chunk=7]" }])}`,
      "000",
    ]);
    // Its output's path: the same element.
    expect(seen(pick({ targets: ["filtered/c/7.txt"] }))[1]).toContain('"values":[["chunk","7"]],"steps":2');
  });

  test("--until map (the first step of the fused task): every block's first step; --forcerun filter forces step 2 of each and the merges", () => {
    expect(seen(pick({ until: ["map"] }))).toEqual(["111", "111 forced 000 []", "000"]);
    expect(seen(pick({ forcerun: ["filter"] }))).toEqual(["", "222 forced 222 []", ""]);
    expect(pick({ forcerun: ["filter"] }).forced[2]).toEqual(new Uint16Array([1, 1, 1]));
  });

  test("a decided value is any value before the run; a static one is checked (WFC264)", () => {
    const bad = select(dyn, { targets: ["map[sample=z,chunk=1]"], until: [], forcerun: [], workdir: ddir, cwd: ddir });
    expect(bad.ok ? [] : bad.problems.map((p) => p.kind)).toEqual(["unknown-value"]);
    const unknown = select(dyn, { targets: ["map[chunks=1]"], until: [], forcerun: [], workdir: ddir, cwd: ddir });
    expect(unknown.ok ? [] : unknown.problems).toMatchObject([{ kind: "unknown-variable", variables: ["sample", "chunk"] }]);
  });
});
