// WFC_LANES=0 turns lanes off for bisecting (runtime/README.md): the same
// workflow, run by the built CLI with real processes with lanes on and off,
// must give the same results. Failures in the middle of a task make the
// lanes put followers back, so that path is compared too.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";

const workflow = {
  wfc: 1,
  stages: {
    a: {
      foreach: { i: { range: [0, 40] } },
      outputs: "a/{i}.txt",
      run: "if [ {i} -eq 3 ] || [ {i} -eq 17 ]; then echo no {i}; exit 1; fi; echo {i} > {outputs}",
    },
    b: { foreach: { i: { range: [0, 40] } }, inputs: "a/{i}.txt", outputs: "b/{i}.txt", run: "cat {inputs} > {outputs}" },
    c: { foreach: { j: { range: [0, 30] } }, outputs: "c/{j}.txt", run: "echo {j} > {outputs}" },
    all: { inputs: "c/*.txt", outputs: "all.txt", run: "cat {inputs} > {outputs}" },
  },
};

type Event = { type: string; task?: string; job?: number; status?: string; summary?: Record<string, unknown> };

/** What a run did, as a user sees it: exit code, summary counts, each job's end, the files written, the failed jobs' logs. */
async function results(env: Record<string, string>) {
  const dir = fixture({ "wf.yaml": workflow });
  const r = await wfc(["run", "wf.yaml", "--keep-going", "--jobs", "2", "--json"], { cwd: dir, env });
  const events = r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Event);
  const { status, done, skipped, failed, notRun } = events.at(-1)!.summary!;
  const ends = events
    .filter((e) => e.type === "job-end")
    .map((e) => `${e.task}#${e.job} ${e.status}`)
    .sort();
  const files = ["a", "b", "c"].flatMap((d) => readdirSync(join(dir, d)).map((f) => `${d}/${f}: ${readFileSync(join(dir, d, f), "utf8")}`));
  const logs = ["3", "17"].map((i) => readFileSync(join(dir, ".wfc/logs/a+b", `i=${i}.log`), "utf8"));
  return { exitCode: r.exitCode, stderr: r.stderr, summary: { status, done, skipped, failed, notRun }, ends, files: files.sort(), logs };
}

test("a run with lanes off (WFC_LANES=0) gives the same results as with lanes on", async () => {
  const on = await results({});
  const off = await results({ WFC_LANES: "0" });
  expect(on.exitCode, on.stderr).toBe(1);
  expect(on.summary).toEqual({ status: "failed", done: 69, skipped: 0, failed: 2, notRun: 0 });
  expect(on.logs).toEqual(["no 3\nwfc: a+b#3 failed: exit 1\n", "no 17\nwfc: a+b#17 failed: exit 1\n"]);
  expect(on.files).toHaveLength(38 + 38 + 30);
  expect({ ...off, stderr: "" }).toEqual({ ...on, stderr: "" });
});
