/**
 * Right-sizing on the local cluster from .ci/slurm/up.sh (skipped without
 * one, a failure on CI): an export's jobs allocate known memory and sleep
 * on SLURM, their scripts measure them, `wfc suggest` sizes the stages from
 * that, and the next export's jobs are submitted with the suggested
 * `--mem` and `--time`, as SLURM itself reports them.
 */
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";
import { describeSlurm, waitForJobs } from "./cluster.js";
import { jobsTsv, wfcBin } from "./export-helpers.js";

const TIMEOUT = 180_000;
const MiB = 1024 * 1024;

const submitted: string[] = [];
const temporary: string[] = [];
afterAll(async () => {
  if (submitted.length > 0) await execa("scancel", submitted, { reject: false, timeout: 30_000 });
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

const WORKFLOW = `wfc: 1
name: sized
stages:
  big:
    foreach: { i: { range: [0, 3] } }
    outputs: "work/big{i}.txt"
    mem: 4G
    time: 2h
    run: "mkdir -p work && perl -e 'my $x = \\"a\\" x (${64 * MiB}); sleep 1; print length($x)' > {outputs}"
`;

const SITE = `[executors.cluster]
type = "slurm"

[map.stages]
big = "cluster"
`;

/** Exports to `out` with these configs, submits it, waits; array name → [job id, every element's state]. */
async function exportAndRun(dir: string, out: string, configs: readonly string[]): Promise<Map<string, [string, string[]]>> {
  const exported = await wfc(["export", "slurm", "workflow.yaml", ...configs.flatMap((c) => ["--config", c]), "-o", out], { cwd: dir });
  if (exported.exitCode !== 0) throw new Error(`export exited ${exported.exitCode}: ${exported.stderr}`);
  const submit = await execa("bash", [join(dir, out, "submit.sh")], {
    cwd: tmpdir(),
    env: { WFC: wfcBin },
    reject: false,
    timeout: 60_000,
  });
  const rows = jobsTsv(join(dir, out));
  submitted.push(...rows.map(([, id]) => id));
  if (submit.exitCode !== 0) throw new Error(`submit.sh exited ${submit.exitCode}: ${String(submit.stderr)}`);
  const states = await waitForJobs(
    rows.map(([, id]) => id),
    120_000,
  );
  return new Map(rows.map(([name, id]) => [name, [id, [...states].filter(([e]) => e.startsWith(`${id}_`)).map(([, s]) => s.state)]]));
}

describeSlurm("wfc suggest on jobs that ran on the cluster (.ci/slurm/up.sh)", () => {
  test(
    "measured by the array script on the node, suggested, and requested by the next submission",
    async () => {
      const dir = fixture({ "workflow.yaml": WORKFLOW, "site.toml": SITE });
      temporary.push(dir);
      const first = await exportAndRun(dir, "slurm", ["site.toml"]);
      expect(first.get("big.0")![1]).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"]);

      const r = await wfc(["suggest", "slurm", "--plan", "workflow.yaml", "--config", "site.toml", "-o", "wfc.suggested.toml"], {
        cwd: dir,
      });
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      const written = readFileSync(join(dir, "wfc.suggested.toml"), "utf8");
      const big =
        /\[resources\.big\]\nmem = "(\d+)M" +# p95 peak RSS ([\d.]+)M over 3 jobs; was 4G\ntime = "1m" +# p95 wall ([\d.]+)s over 3 jobs; was 2h\n/.exec(
          written,
        );
      expect(big, written).not.toBeNull();
      expect(Number(big![2])).toBeGreaterThanOrEqual(64);
      expect(Number(big![3])).toBeGreaterThanOrEqual(1);

      const second = await exportAndRun(dir, "slurm2", ["wfc.suggested.toml", "site.toml"]);
      const [id, states] = second.get("big.0")!;
      expect(states).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"]);
      // What SLURM granted the array, from its own record of the job.
      const shown = await execa("scontrol", ["show", "job", id], { timeout: 30_000 });
      expect(String(shown.stdout)).toMatch(new RegExp(`\\bMinMemoryNode=${big![1]}M\\b`));
      expect(String(shown.stdout)).toMatch(/\bTimeLimit=00:01:00\b/);
    },
    TIMEOUT,
  );
});
