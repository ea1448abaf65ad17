/**
 * `wfc run` of a data-dependent fan-out whose per-chunk stage runs on a
 * `slurm` executor, on the local cluster from .ci/slurm/up.sh (skipped
 * without one, a failure on CI): the chunks a local split writes become
 * SLURM arrays as each sample's split ends, with the stage's cap as `%k`;
 * values with quotes and spaces travel as values; a re-run submits nothing.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, expect, test } from "vitest";
import { fixture, jsonEvents, wfc } from "../e2e/helpers.js";
import { describeSlurm } from "./cluster.js";

const TIMEOUT = 150_000;
const temporary: string[] = [];
const submitted: string[] = [];
afterAll(async () => {
  if (submitted.length > 0) await execa("scancel", submitted, { reject: false, timeout: 30_000 });
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

describeSlurm("wfc run: dynamic elements on a slurm executor (.ci/slurm/up.sh)", () => {
  test(
    "chunks decided locally run as SLURM arrays once known, throttled by the stage's cap; outputs byte-exact",
    async () => {
      const dir = fixture({
        "in/a.txt": "3\n",
        "in/it's b.txt": "0\n",
        "in/c d.txt": "2\n",
        "wf.yaml": `wfc: 1
params:
  samples: [a, "it's b", c d]
executors:
  cluster: { type: slurm }
stages:
  split:
    foreach: { sample: "{params.samples}" }
    inputs: "in/{sample}.txt"
    outputs: { chunks: "work/chunks/{sample}/part {chunk}.txt" }
    decides: [chunk]
    run: 'for i in $(seq 1 "$(cat {inputs})"); do echo "$i of $(basename {inputs})" > "work/chunks/"{sample}"/part $i.txt"; done'
  map:
    foreach:
      sample: "{params.samples}"
      chunk: { from: split }
    inputs: "work/chunks/{sample}/part {chunk}.txt"
    outputs: "work/mapped/{sample}/{chunk}.txt"
    executor: cluster
    limit: 2
    run: "sed 's/^/mapped /' {inputs} > {outputs}"
  merge:
    foreach: { sample: "{params.samples}" }
    inputs: "work/mapped/{sample}/*.txt"
    outputs: "merged/{sample}.txt"
    run: "cat /dev/null {inputs} > {outputs}"
`,
      });
      temporary.push(dir);
      const r = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
      const events = jsonEvents(r.stdout);
      const submits = events.filter((e) => e.type === "slurm-submit") as unknown as { jobId: string; jobs: number; sbatch: string[] }[];
      for (const s of submits) submitted.push(s.jobId);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(submits.reduce((n, s) => n + s.jobs, 0)).toBe(5);
      for (const s of submits) expect(s.sbatch.find((a) => a.startsWith("--array="))).toMatch(/%2$/);
      expect(readFileSync(join(dir, "merged/a.txt"), "utf8")).toBe("mapped 1 of a.txt\nmapped 2 of a.txt\nmapped 3 of a.txt\n");
      expect(readFileSync(join(dir, "merged/c d.txt"), "utf8")).toBe("mapped 1 of c d.txt\nmapped 2 of c d.txt\n");
      expect(readFileSync(join(dir, "merged/it's b.txt"), "utf8")).toBe("");

      const again = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
      expect(again.exitCode).toBe(0);
      expect(jsonEvents(again.stdout).filter((e) => e.type === "slurm-submit")).toEqual([]);
    },
    TIMEOUT,
  );
});
