// The line a SLURM job's script writes per step (runtime/slurm/measure-script.ts),
// read back by wfc: figures or `-`, a torn last line ignored. The script itself
// runs on the real cluster in test/slurm/run-cluster.test.ts and export-cluster.test.ts.
import { expect, test } from "vitest";
import { parseUsageLines, usageOfStep } from "../../runtime/slurm/measure-script.js";

test("a line per step: start and end in seconds, then user µs, sys µs, max RSS KiB, blocks in and out", () => {
  const steps = parseUsageLines("1700000000.250000 1700000001.750000 1500000 20000 204800 8 16\n1700000002 1700000003 - - - - -\n");
  expect(steps.map(usageOfStep)).toEqual([
    { wallMs: 1500, userMs: 1500, sysMs: 20, maxRssKb: 204800, readBytes: 4096, writeBytes: 8192, via: "script" },
    { wallMs: 1000, via: "script" },
  ]);
});

test("a torn or foreign line ends what is read: nothing is guessed", () => {
  expect(parseUsageLines("1 2 3 4 5 6 7\n1 2 3 4")).toHaveLength(1);
  expect(parseUsageLines("garbage\n1 2 3 4 5 6 7\n")).toEqual([]);
  expect(parseUsageLines("")).toEqual([]);
});
