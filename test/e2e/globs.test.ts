/**
 * wfc's one glob semantics (contract/glob.ts), end to end with the built
 * CLI: a foreach glob gives each element the value of its placeholder, and
 * an input glob names the same files when the compiler infers dependencies
 * as when the job gathers its inputs (from producers or from the disk).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { Plan } from "../../contract/plan.js";
import { fixture, wfc } from "./helpers.js";

describe("a foreach glob with `**` before its placeholder", () => {
  test("`data/**/{sample}.fa` gives each file's name, at any depth; dotfiles and other endings are left out", async () => {
    const dir = fixture({
      "wf.yaml": {
        wfc: 1,
        stages: {
          s: { foreach: { sample: { glob: "data/**/{sample}.fa" } }, outputs: "out/{sample}.txt", run: "echo {sample} > {outputs}" },
        },
      },
      "data/a.fa": ">a\n",
      "data/x/b.fa": ">b\n",
      "data/x/y/c.fa": ">c\n",
      "data/.hidden.fa": ">h\n",
      "data/x/d.fa.gz": "",
      "data/x/notes.txt": "",
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("ok: 3 done");
    expect(readdirSync(join(dir, "out")).sort()).toEqual(["a.txt", "b.txt", "c.txt"]);
    for (const s of ["a", "b", "c"]) expect(readFileSync(join(dir, "out", `${s}.txt`), "utf8")).toBe(`${s}\n`);
  });
});

describe("an input glob `a/**/c.tsv` names the same files at compile time and at run time", () => {
  /** The stages whose jobs the task running `stage` waits for, or runs with it (fused). */
  function feeding(plan: Plan, stage: string): string[] {
    const task = plan.tasks.find((t) => t.steps.some((s) => s.stage === stage))!;
    const fused = task.steps.map((s) => s.stage).filter((s) => s !== stage);
    const deps = task.deps.flatMap((d) => plan.tasks.find((t) => t.id === d.task)!.steps.map((s) => s.stage));
    return [...new Set([...fused, ...deps])].sort();
  }

  test("from producers: `a/c.tsv` (fused into its task) and `a/{d}/c.tsv` feed it, `a/xc.tsv` does not", async () => {
    const dir = fixture({
      "wf.yaml": {
        wfc: 1,
        stages: {
          top: { outputs: "a/c.tsv", run: "echo top > {outputs}" },
          deep: { foreach: { d: ["b", "b/d"] }, outputs: "a/{d}/c.tsv", run: "echo deep > {outputs}" },
          stray: { outputs: "a/xc.tsv", run: "echo stray > {outputs}" },
          gather: { inputs: "a/**/c.tsv", outputs: "got.txt", run: "printf '%s\\n' {inputs} > {outputs}" },
        },
      },
    });
    const compiled = await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir });
    expect(compiled.exitCode).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as Plan;
    expect(feeding(plan, "gather")).toEqual(["deep", "top"]);
    // top is fused into gather's task: its output reaches the glob, though the task has no dep edge to itself.
    expect(plan.tasks.find((t) => t.steps.some((s) => s.stage === "gather"))!.steps.map((s) => s.stage)).toEqual(["top", "gather"]);

    const r = await wfc(["run", "plan.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, "got.txt"), "utf8")).toBe("a/b/c.tsv\na/b/d/c.tsv\na/c.tsv\n");
    // stray ran too, on its own: its output exists, and the glob left it out.
    expect(readFileSync(join(dir, "a/xc.tsv"), "utf8")).toBe("stray\n");
  });

  test("from the disk: the same files as tinyglobby finds (no `a/xc.tsv`, no dotfolder)", async () => {
    const dir = fixture({
      "wf.yaml": { wfc: 1, stages: { gather: { inputs: "a/**/c.tsv", outputs: "got.txt", run: "printf '%s\\n' {inputs} > {outputs}" } } },
      "a/c.tsv": "",
      "a/xc.tsv": "",
      "a/b/c.tsv": "",
      "a/b/d/c.tsv": "",
      "a/.h/c.tsv": "",
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, "got.txt"), "utf8")).toBe("a/b/c.tsv\na/b/d/c.tsv\na/c.tsv\n");
  });

  test("a glob wildcard that takes part of a foreach value: every element that writes a match is gathered", async () => {
    const dir = fixture({
      "wf.yaml": {
        wfc: 1,
        stages: {
          make: {
            foreach: { p: ["c.tsv", "xc.tsv", "b/c.tsv", "b/d/c.tsv", "b/c.tsv.gz"] },
            outputs: "a/{p}",
            run: "echo {p} > {outputs}",
          },
          gather: { inputs: "a/**/c.tsv", outputs: "got.txt", run: "printf '%s\\n' {inputs} > {outputs}" },
          pre: { foreach: { q: ["x", "xy", "y"] }, outputs: "z/{q}", run: "echo {q} > {outputs}" },
          pick: { inputs: "z/x*", outputs: "picked.txt", run: "printf '%s\\n' {inputs} > {outputs}" },
        },
      },
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    // Before, the element edge bound `p` to `c.tsv` and `q` to `x`: one file each.
    expect(readFileSync(join(dir, "got.txt"), "utf8")).toBe("a/b/c.tsv\na/b/d/c.tsv\na/c.tsv\n");
    expect(readFileSync(join(dir, "picked.txt"), "utf8")).toBe("z/x\nz/xy\n");
  });
});

describe("a glob that starts with `..` stays refused", () => {
  test("`..*/{f}.txt` and `./..*` would make the walk start in the parent folder: exit 2, located errors, nothing run", async () => {
    const dir = fixture({
      "wf.yaml":
        'wfc: 1\nstages:\n  s:\n    foreach: { f: { glob: "..*/{f}.txt" } }\n    outputs: "out/{f}"\n    run: "touch {outputs}"\n  c:\n    inputs: "./..*"\n    outputs: "o"\n    run: "true"\n',
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      "wf.yaml:4:27: error WFC225: glob `..*/{f}.txt` uses `..`, so it would search outside the workflow's folder",
    );
    expect(r.stderr).toContain(
      "wf.yaml:8:13: error WFC225: input glob `./..*` of stage `c` uses `..`, so it would search outside the workflow's folder",
    );
    expect(readdirSync(dir)).toEqual(["wf.yaml"]);
  });
});
