/**
 * Targets and partial runs, end to end with the built CLI and real jobs:
 * `wfc run wf.yaml TARGET…` (a stage, `stage[var=value]`, an output path),
 * `--until` and `--forcerun`, on a workflow with a fan-out, a fused pair
 * (trim+align), a batched stage, gathers over `match` and `all` edges.
 * Every job appends what it ran to ran.log, so a test sees exactly which
 * steps of which elements ran.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "./helpers.js";

const workflow = `wfc: 1
params:
  samples: [a, b, c]
stages:
  prep:
    outputs: ref.txt
    run: "echo prep >> ran.log; echo ref > {outputs}"
  trim:
    foreach: { sample: "{params.samples}" }
    inputs: "raw/{sample}.fq"
    outputs: "trimmed/{sample}.fq"
    run: "echo trim {sample} >> ran.log; cat {inputs} > {outputs}"
  align:
    foreach: { sample: "{params.samples}" }
    inputs: ["trimmed/{sample}.fq", ref.txt]
    outputs: "bam/{sample}.bam"
    run: "echo align {sample} >> ran.log; cat {inputs} > {outputs}"
  call:
    foreach: { sample: "{params.samples}", chrom: [1, 2] }
    inputs: "bam/{sample}.bam"
    outputs: "calls/{sample}/{chrom}.vcf"
    batch: 4
    run: "echo call {sample} {chrom} >> ran.log; cat {inputs} > {outputs}"
  report:
    foreach: { sample: "{params.samples}" }
    inputs: "calls/{sample}/*.vcf"
    outputs: "reports/{sample}.txt"
    run: "echo report {sample} >> ran.log; cat {inputs} > {outputs}"
  merge:
    inputs: "bam/*.bam"
    outputs: all.txt
    run: "echo merge >> ran.log; cat {inputs} > {outputs}"
`;

function project(): string {
  return fixture({ "wf.yaml": workflow, "raw/a.fq": "A\n", "raw/b.fq": "B\n", "raw/c.fq": "C\n" });
}

/** What ran since the last look, sorted (jobs run in parallel), and the log emptied. */
function ran(dir: string): string[] {
  const path = join(dir, "ran.log");
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, "utf8").trim().split("\n").sort();
  rmSync(path);
  return lines;
}

/** The summary line, without its time. */
function summary(stderr: string): string {
  return stderr
    .trim()
    .split("\n")
    .at(-1)!
    .replace(/ in [0-9.]+ s$/, "");
}

const everything = [
  "align a",
  "align b",
  "align c",
  "call a 1",
  "call a 2",
  "call b 1",
  "call b 2",
  "call c 1",
  "call c 2",
  "merge",
  "prep",
  "report a",
  "report b",
  "report c",
  "trim a",
  "trim b",
  "trim c",
];

describe("targets", () => {
  test("a stage runs it and what it needs only; the summary counts only those jobs; up-to-date ones are skipped", async () => {
    const dir = project();
    const r = await wfc(["run", "wf.yaml", "align"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(ran(dir)).toEqual(["align a", "align b", "align c", "prep", "trim a", "trim b", "trim c"]);
    expect(summary(r.stderr)).toBe("ok: 4 done, 0 up to date, 0 failed, 0 not run");
    expect(r.stdout.split("\n").at(-1)).toMatch(/^\[4\/4\] done/);
    expect(existsSync(join(dir, "all.txt"))).toBe(false);

    // The rest runs; then the target is up to date.
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
    expect(ran(dir)).toEqual([
      "call a 1",
      "call a 2",
      "call b 1",
      "call b 2",
      "call c 1",
      "call c 2",
      "merge",
      "report a",
      "report b",
      "report c",
    ]);
    const again = await wfc(["run", "wf.yaml", "align", "trim"], { cwd: dir });
    expect(ran(dir)).toEqual([]);
    expect(summary(again.stderr)).toBe("ok: 0 done, 4 up to date, 0 failed, 0 not run");
  });

  test("the first stage of a fused pair runs that step only, and not what only the second step reads", async () => {
    const dir = project();
    const r = await wfc(["run", "wf.yaml", "trim"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(ran(dir)).toEqual(["trim a", "trim b", "trim c"]);
    expect(existsSync(join(dir, "trimmed/a.fq"))).toBe(true);
    expect(existsSync(join(dir, "bam/a.bam"))).toBe(false);
    expect(existsSync(join(dir, "ref.txt"))).toBe(false);
  });

  test("stage[var=value] runs only that element's chain", async () => {
    const dir = project();
    const r = await wfc(["run", "wf.yaml", "report[sample=b]"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(ran(dir)).toEqual(["align b", "call b 1", "call b 2", "prep", "report b", "trim b"]);
    expect(readFileSync(join(dir, "reports/b.txt"), "utf8")).toBe("B\nref\nB\nref\n");
    expect(summary(r.stderr)).toBe("ok: 4 done, 0 up to date, 0 failed, 0 not run");
  });

  test("an output path (also ./path and absolute) runs the element that writes it, even one element of a batched job", async () => {
    const dir = project();
    const r = await wfc(["run", "wf.yaml", "calls/b/2.vcf"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    // call's job 0 holds a1, a2, b1, b2: only b2 ran.
    expect(ran(dir)).toEqual(["align b", "call b 2", "prep", "trim b"]);
    expect(existsSync(join(dir, "calls/b/1.vcf"))).toBe(false);

    const r2 = await wfc(["run", "wf.yaml", "./bam/a.bam", join(dir, "trimmed/c.fq")], { cwd: dir });
    expect(r2.exitCode).toBe(0);
    expect(ran(dir)).toEqual(["align a", "trim a", "trim c"]);
  });

  test("an input file missing for an element the targets leave out does not stop them", async () => {
    const dir = fixture({ "wf.yaml": workflow, "raw/a.fq": "A\n" });
    const r = await wfc(["run", "wf.yaml", "report[sample=a]"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(ran(dir)).toEqual(["align a", "call a 1", "call a 2", "prep", "report a", "trim a"]);
    // A target that needs it stops before anything runs.
    const b = await wfc(["run", "wf.yaml", "trim[sample=b]"], { cwd: dir });
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toContain('"raw/b.fq" (needed by stage `trim`, sample="b")');
    expect(ran(dir)).toEqual([]);
  });

  test("a plan.json takes targets too", async () => {
    const dir = project();
    expect((await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir })).exitCode).toBe(0);
    const r = await wfc(["run", "plan.json", "merge"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(ran(dir)).toEqual(["align a", "align b", "align c", "merge", "prep", "trim a", "trim b", "trim c"]);
  });

  test("--dry-run with a target lists only the selected jobs", async () => {
    const dir = project();
    const r = await wfc(["run", "wf.yaml", "trim[sample=c]", "--dry-run"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("would run trim+align#2: it has not run\n  echo trim c >> ran.log; cat raw/c.fq > trimmed/c.fq");
    expect(summary(r.stderr)).toBe("ok: would run 1, 0 up to date");
    expect(ran(dir)).toEqual([]);
  });

  test("--json: run-start counts the selected jobs", async () => {
    const dir = project();
    const r = await wfc(["run", "wf.yaml", "call[chrom=1]", "--json"], { cwd: dir });
    const start = r.stdout
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; jobs?: number })
      .find((e) => e.type === "run-start");
    // prep, three trim+align, call's two batched jobs (each with one chrom=1 element).
    expect(start?.jobs).toBe(6);
    expect(ran(dir)).toEqual(["align a", "align b", "align c", "call a 1", "call b 1", "call c 1", "prep", "trim a", "trim b", "trim c"]);
  });
});

describe("--until and --forcerun", () => {
  test("--until STAGE runs it and what it needs, nothing downstream or beside", async () => {
    const dir = project();
    const r = await wfc(["run", "wf.yaml", "--until", "call"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(ran(dir)).toEqual(everything.filter((l) => !/^(merge|report)/.test(l)));
  });

  test("--until the first stage of a fused pair runs that step only", async () => {
    const dir = project();
    const r = await wfc(["run", "wf.yaml", "--until", "trim"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(ran(dir)).toEqual(["trim a", "trim b", "trim c"]);
    expect(summary(r.stderr)).toBe("ok: 3 done, 0 up to date, 0 failed, 0 not run");
  });

  test("--forcerun re-runs that stage (only that step of a fused pair) and everything downstream", async () => {
    const dir = project();
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
    expect(ran(dir)).toEqual(everything);
    const r = await wfc(["run", "wf.yaml", "--forcerun", "align"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(ran(dir)).toEqual(everything.filter((l) => !/^(prep|trim)/.test(l)));
    expect(summary(r.stderr)).toBe("ok: 9 done, 1 up to date, 0 failed, 0 not run");

    // A comma list, and with a target: forced only within what runs.
    const r2 = await wfc(["run", "wf.yaml", "report[sample=a]", "--forcerun", "merge,call"], { cwd: dir });
    expect(r2.exitCode).toBe(0);
    expect(ran(dir)).toEqual(["call a 1", "call a 2", "report a"]);
  });
});

describe("bad targets: exit 2, one located line with a code, nothing run", () => {
  const cases: [string[], string[]][] = [
    [
      ["trmi"],
      [
        "wfc: error WFC262: target `trmi` names no stage of this workflow, nor an output of one",
        "   = expected: one of `align`, `call`, `merge`, `prep`, `report` or `trim`",
        "   = help: did you mean `trim`?",
      ],
    ],
    [
      ["align[smple=a]"],
      [
        "wfc: error WFC263: target `align[smple=a]`: stage `align` has no variable `smple`",
        "   = expected: one of `sample`",
        "   = help: did you mean `sample`?",
      ],
    ],
    [
      ["call[sample=d]"],
      [
        'wfc: error WFC264: target `call[sample=d]`: no element of stage `call` has sample="d"',
        "   = expected: one of `a`, `b` or `c`",
        "   = help: did you mean `a`?",
      ],
    ],
    [
      ["calls/d/1.vcf"],
      [
        "wfc: error WFC265: target `calls/d/1.vcf` is no output of any stage",
        "   = expected: a stage, `stage[var=value,…]` or a path a stage writes",
        "   = help: did you mean `calls/a/1.vcf`?",
      ],
    ],
    [
      ["call[sample=a"],
      [
        "wfc: error WFC261: target `call[sample=a` is malformed: a missing `]` at the end",
        "   = expected: a stage, `stage[var=value,…]` or a path a stage writes",
      ],
    ],
    [
      ["--until", "alig"],
      [
        "wfc: error WFC262: `--until alig` names no stage of this workflow",
        "   = expected: one of `align`, `call`, `merge`, `prep`, `report` or `trim`",
        "   = help: did you mean `align`?",
      ],
    ],
    [
      ["--forcerun", "trim,merj"],
      [
        "wfc: error WFC262: `--forcerun merj` names no stage of this workflow",
        "   = expected: one of `align`, `call`, `merge`, `prep`, `report` or `trim`",
        "   = help: did you mean `merge`?",
      ],
    ],
  ];
  for (const [args, lines] of cases) {
    test(args.join(" "), async () => {
      const dir = project();
      const r = await wfc(["run", "wf.yaml", ...args], { cwd: dir });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toBe([...lines, "", "1 error in the targets"].join("\n"));
      expect(r.stdout).toBe("");
      expect(ran(dir)).toEqual([]);
      expect(existsSync(join(dir, ".wfc"))).toBe(false);
    });
  }
});

describe("hostile values in targets are values, never code", () => {
  const hostile = `wfc: 1
params:
  v: ["$(touch pwned)", "a'b", "x\\"y", "semi;colon"]
stages:
  echo:
    foreach: { v: "{params.v}" }
    outputs: "out/{v}.txt"
    run: "printf '%s' {v} > {outputs}; echo {v} >> ran.log"
`;

  test("a target selects the element with that exact value; nothing it holds runs", async () => {
    const dir = fixture({ "wf.yaml": hostile });
    const r = await wfc(["run", "wf.yaml", "echo[v=$(touch pwned)]", 'echo[v="x\\"y"]'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(ran(dir)).toEqual(["$(touch pwned)", 'x"y']);
    expect(readFileSync(join(dir, "out/$(touch pwned).txt"), "utf8")).toBe("$(touch pwned)");
    expect(existsSync(join(dir, "pwned"))).toBe(false);
    expect(existsSync(join(dir, "out/a'b.txt"))).toBe(false);
  });

  test("an unknown hostile value is shown escaped, never run", async () => {
    const dir = fixture({ "wf.yaml": hostile });
    const r = await wfc(["run", "wf.yaml", "echo[v=$(touch pwned2)\n\u001b[31mred]"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(
      'wfc: error WFC264: target `echo[v=$(touch pwned2)\\n\\x1b[31mred]`: no element of stage `echo` has v="$(touch pwned2)\\n\\u001b[31mred"',
    );
    expect(existsSync(join(dir, "pwned2"))).toBe(false);
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});
