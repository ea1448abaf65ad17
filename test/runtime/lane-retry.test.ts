// A lane's follower must never run beside its leader's retry: the lane
// holds one slot, and a named limit of 1 must hold across a retry. Real
// processes: each job of `a` appends when it starts and ends to a file, and
// no two of them may overlap. (Found by test/property/lanes.test.ts: the
// run loop gave retries no `leaveLane`, and followers no `follows`.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";

const workflow = `wfc: 1
limits: { one: 1 }
stages:
  u:
    foreach: { i: { range: [0, 4] } }
    outputs: u/{i}.txt
    run: "sleep 0.{i}; echo {i} > {outputs}"
  a:
    foreach: { i: { range: [0, 4] } }
    inputs: u/{i}.txt
    outputs: out/{i}.txt
    limit: one
    retries: 1
    fuse: false
    run: "echo start {i} >> times; if [ {i} -eq 0 ] && [ ! -e failed-once ]; then touch failed-once; echo fail {i} >> times; exit 1; fi; sleep 0.3; echo end {i} >> times; echo {i} > {outputs}"
`;

test("a limit of 1 holds across a retry: no job of the lane runs beside its leader's retry", async () => {
  const dir = fixture({ "wf.yaml": workflow });
  const r = await wfc(["run", "wf.yaml", "--jobs", "4"], { cwd: dir });
  expect(r.exitCode, r.stderr).toBe(0);
  const lines = readFileSync(join(dir, "times"), "utf8").trim().split("\n");
  // One job at a time: each start is followed at once by that job's own end (or failure).
  const pairs = lines.flatMap((line, k) => (k % 2 === 0 ? [`${line} | ${lines[k + 1] ?? "(nothing)"}`] : []));
  for (const pair of pairs) expect(pair, lines.join("\n")).toMatch(/^start (\d) \| (end|fail) \1$/);
  expect(lines.filter((l) => l.startsWith("fail"))).toEqual(["fail 0"]);
  expect(lines.filter((l) => l.startsWith("end")).sort()).toEqual(["end 0", "end 1", "end 2", "end 3"]);
});
