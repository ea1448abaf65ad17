/**
 * Up-to-date checks read each file's modification time once while nothing
 * runs (runtime/run/mtimes.ts). A job that runs changes files a check has
 * already seen: what comes after it must look again, or a stale
 * consumer would pass for up to date. Real jobs through the built CLI.
 */
import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";

test("a job's check sees its output, the job runs and rewrites it: the next stage's check sees the new one and runs", async () => {
  const dir = fixture({
    "in.txt": "one\n",
    "wf.yaml": `wfc: 1
stages:
  first:
    inputs: in.txt
    outputs: mid.txt
    run: "cat {inputs} > {outputs}"
  second:
    fuse: false
    inputs: mid.txt
    outputs: out.txt
    run: "cat {inputs} > {outputs}"
`,
  });
  // Not fused: `second` is checked after `first` ran, by a check of its own.
  expect((await wfc(["run", "wf.yaml", "--jobs", "1"], { cwd: dir })).exitCode).toBe(0);
  writeFileSync(join(dir, "in.txt"), "two\n");
  const later = new Date(Date.now() + 5000);
  utimesSync(join(dir, "in.txt"), later, later);
  const r = await wfc(["run", "wf.yaml", "--jobs", "1"], { cwd: dir });
  expect(r.exitCode).toBe(0);
  expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("two\n");
});
