/**
 * `wfc run --directory DIR` runs the jobs in another folder (Snakemake's
 * --directory): inputs are read and outputs written there, `.wfc/` is
 * there, while `fn` modules stay the workflow's. A plan moved away from its
 * workflow says where its jobs will run instead of silently running there.
 * Real runs of the built CLI.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "./helpers.js";

const workflow = `wfc: 1
stages:
  copy:
    inputs: "in.txt"
    outputs: "out/copy.txt"
    run: "cp {inputs} {outputs}"
  mark:
    inputs: "out/copy.txt"
    outputs: "out/mark.txt"
    fn: "lib.mjs#mark"
`;
const lib = `import { readFileSync, writeFileSync } from "node:fs";
export function mark({ inputs, outputs }) { writeFileSync(outputs, "marked " + readFileSync(inputs, "utf8")); }
`;

describe("wfc run --directory", () => {
  test("jobs run in the given folder: inputs, outputs and .wfc/ there, the fn module from the workflow's folder", async () => {
    const dir = fixture({ "wf/wf.yaml": workflow, "wf/lib.mjs": lib, "wf/in.txt": "from wf\n", "elsewhere/in.txt": "from elsewhere\n" });
    const r = await wfc(["run", "wf/wf.yaml", "--directory", "elsewhere"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "elsewhere/out/mark.txt"), "utf8")).toBe("marked from elsewhere\n");
    expect(existsSync(join(dir, "elsewhere/.wfc"))).toBe(true);
    expect(existsSync(join(dir, "wf/out"))).toBe(false);
    expect(existsSync(join(dir, "wf/.wfc"))).toBe(false);
  });

  test("a folder that does not exist: exit 2, nothing run", async () => {
    const dir = fixture({ "wf.yaml": workflow, "lib.mjs": lib, "in.txt": "x\n" });
    const r = await wfc(["run", "wf.yaml", "--directory", "nope"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("wfc: error: --directory nope: no such folder");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  test("a plan moved away from its workflow says where its jobs run; with --directory it runs there and says nothing", async () => {
    const dir = fixture({ "wf/wf.yaml": workflow, "wf/lib.mjs": lib, "wf/in.txt": "x\n" });
    expect((await wfc(["compile", "wf/wf.yaml", "-o", "wf/plan.json"], { cwd: dir })).exitCode).toBe(0);
    mkdirSync(join(dir, "moved"));
    renameSync(join(dir, "wf/plan.json"), join(dir, "moved/plan.json"));
    const r = await wfc(["run", "moved/plan.json", "--dry-run"], { cwd: dir });
    expect(r.stderr.split("\n")[0]).toBe(
      `wfc: warning: moved/plan.json was compiled from ${join(dir, "moved/wf.yaml")}, which is not there (was the plan moved?): ` +
        `its jobs run in ${join(dir, "moved")}, where its \`workdir\` points; --directory DIR runs them elsewhere`,
    );
    const there = await wfc(["run", "moved/plan.json", "--directory", "wf"], { cwd: dir });
    expect(there.exitCode, there.stderr).toBe(0);
    expect(there.stderr).not.toContain("warning");
    expect(readFileSync(join(dir, "wf/out/mark.txt"), "utf8")).toBe("marked x\n");
  });
});
