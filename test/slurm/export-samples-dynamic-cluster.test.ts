/**
 * The samples whose fan-out their data decides (issue 14), exported with
 * `wfc export slurm` and submitted to the local cluster from .ci/slurm/up.sh
 * (skipped without one, a failure on CI): submit.sh submits the split and
 * the expansion job, which lists the chunks on the node and submits the rest.
 * Every job must end COMPLETED and the outputs must be byte-identical to a
 * local `wfc run` of another copy.
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, test } from "vitest";
import { copySample, wfc } from "../e2e/helpers.js";
import { describeSlurm, waitForJobs, type JobStates } from "./cluster.js";
import { contents, filesUnder, jobsTsv, wfcBin } from "./export-helpers.js";

const TIMEOUT = 150_000;
const submitted = new Set<string>();
const temporary: string[] = [];
afterAll(async () => {
  if (submitted.size > 0) await execa("scancel", [...submitted], { reject: false, timeout: 30_000 });
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/**
 * Exports the sample's workflow.yaml in `dir`, runs submit.sh (with `$WFC`,
 * for `fn` steps and the expansion), then waits for its jobs, and again for
 * what the expansion jobs submitted (jobs.tsv grows) until no new id comes.
 */
async function submitAndWait(dir: string): Promise<{ ids: Map<string, string>; states: JobStates }> {
  const exported = await wfc(["export", "slurm", "workflow.yaml", "-o", "slurm"], { cwd: dir });
  if (exported.exitCode !== 0) throw new Error(`export exited ${exported.exitCode}: ${exported.stderr}`);
  const out = join(dir, "slurm");
  const submit = await execa("bash", [join(out, "submit.sh")], { cwd: tmpdir(), env: { WFC: wfcBin }, reject: false, timeout: 60_000 });
  if (submit.exitCode !== 0) throw new Error(`submit.sh exited ${submit.exitCode}: ${String(submit.stderr)}`);
  let ids = new Map<string, string>();
  let states: JobStates = new Map();
  for (;;) {
    const now = new Map(jobsTsv(out));
    for (const id of now.values()) submitted.add(id);
    if (now.size === ids.size) return { ids, states };
    ids = now;
    states = await waitForJobs([...ids.values()], 120_000);
  }
}

describeSlurm("the samples with data-dependent fan-out, exported and submitted to the cluster (.ci/slurm/up.sh)", () => {
  const cases: { sample: string; arrays: string[] }[] = [
    { sample: "qiime-search", arrays: ["split.0", "expand.split", "search.0", "merge.0", "summarize.0"] },
    { sample: "reads-split", arrays: ["split.0", "expand.split", "map.0", "merge.0", "summarize.0"] },
  ];
  test.concurrent.for(cases)(
    "$sample: every job COMPLETED, outputs byte-identical to a local wfc run",
    { timeout: TIMEOUT },
    async ({ sample, arrays }, { expect }) => {
      const [slurm, local] = [copySample(sample), copySample(sample)];
      temporary.push(slurm, local);
      const r = await wfc(["run", "workflow.yaml"], { cwd: local });
      expect(r.exitCode, r.stderr).toBe(0);
      const { ids, states } = await submitAndWait(slurm);
      expect([...ids.keys()]).toEqual(arrays);
      expect([...states.values()].filter((s) => s.state !== "COMPLETED")).toEqual([]);
      const files = filesUnder(local, [".wfc", "slurm"]);
      expect(files).toContain("results/summary.tsv");
      expect(filesUnder(slurm, [".wfc", "slurm"])).toEqual(files);
      expect(contents(slurm, files)).toEqual(contents(local, files));
    },
  );
});
