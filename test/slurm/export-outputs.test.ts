/**
 * An exported job's declared outputs, without a cluster: the array script run
 * with bash as SLURM would run it (`SLURM_ARRAY_TASK_ID`, `SLURM_SUBMIT_DIR`).
 * Exit 0 is not success unless every declared output is there, after a
 * latency wait for slow shared file systems, as in `wfc run`; the missing
 * paths are listed quoted, whatever bytes they hold. (The array scripts'
 * shellcheck is in export.test.ts.)
 */
import { existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";

/** Runs element `index` of `arrays/NAME.sh` of the export in `dir` with bash. */
async function element(dir: string, name: string, index: number, env: Record<string, string> = {}) {
  const r = await execa("bash", [join(dir, "arrays", `${name}.sh`)], {
    cwd: tmpdir(),
    env: { ...env, SLURM_ARRAY_TASK_ID: String(index), SLURM_SUBMIT_DIR: dir },
    reject: false,
    timeout: 60_000,
  });
  return { exitCode: r.exitCode, stderr: String(r.stderr) };
}

describe("an exported job that exits 0 without writing a declared output fails", () => {
  const workflow = JSON.stringify({
    wfc: 1,
    stages: {
      make: {
        foreach: { v: ["a", "b c", "it's\nnew"] },
        outputs: { txt: "out/{v}.txt", idx: "out/{v}.idx" },
        run: "echo partial > {outputs.txt}; if [ {v} = a ]; then touch {outputs.idx}; fi; exit 0",
      },
    },
  });

  test("exit 1 with the missing paths listed, quoted; the job that wrote both succeeds", async () => {
    const dir = fixture({ "wf.json": workflow });
    const r = await wfc(["export", "slurm", "wf.json", "-o", "export", "--latency-wait", "0"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const ex = join(dir, "export");
    expect(await element(ex, "make.0", 0)).toEqual({ exitCode: 0, stderr: "" });
    expect(await element(ex, "make.0", 1)).toEqual({
      exitCode: 1,
      stderr: "wfc: exit 0 but it did not write 1 declared output(s) (after waiting 0 s): out/b\\ c.idx",
    });
    expect(await element(ex, "make.0", 2)).toEqual({
      exitCode: 1,
      stderr: "wfc: exit 0 but it did not write 1 declared output(s) (after waiting 0 s): $'out/it\\'s\\nnew.idx'",
    });
    expect(existsSync(join(dir, "out/b c.txt"))).toBe(true);
  });

  test("an output that shows up later, within the latency wait (WFC_LATENCY_WAIT at submit time), is success", async () => {
    const dir = fixture({
      "wf.json": JSON.stringify({ wfc: 1, stages: { late: { outputs: "late.txt", run: "touch ran; exit 0" } } }),
    });
    const r = await wfc(["export", "slurm", "wf.json", "-o", "export", "--latency-wait", "0"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const ex = join(dir, "export");
    const job = element(ex, "late.0", 0, { WFC_LATENCY_WAIT: "120" });
    // Its command has run and exited 0; then the output appears (as a node's file shows up late on NFS).
    while (!existsSync(join(dir, "ran"))) await new Promise((r) => setTimeout(r, 50));
    writeFileSync(join(dir, "late.txt"), "late\n");
    expect(await job).toEqual({ exitCode: 0, stderr: "" });
  });
});
