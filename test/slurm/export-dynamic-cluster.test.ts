/**
 * An exported workflow with dynamic spaces (issue 14) on the local cluster
 * from .ci/slurm/up.sh (skipped without one, a failure on CI): submit.sh
 * submits what is known and the expansion job; the expansion job runs wfc on
 * the node, lists what split wrote and submits map, filter, merge and report
 * from there. Checked from the outputs, byte for byte, and the jobs' states.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";
import { describeSlurm, waitForJobs, type JobStates } from "./cluster.js";
import { chainPlan, chunkPlan, EXPECTED, READS } from "./dynamic-plans.js";
import { contents, filesUnder, jobsTsv } from "./export-helpers.js";

const TIMEOUT = 150_000;
const submitted = new Set<string>();
const temporary: string[] = [];
afterAll(async () => {
  if (submitted.size > 0) await execa("scancel", [...submitted], { reject: false, timeout: 30_000 });
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/**
 * Exports `plan.json` in `dir`, runs submit.sh, waits until its jobs are
 * final, then for what the expansion jobs submitted (jobs.tsv grows) until
 * no new id comes: every job's final state, by name.
 */
async function submitAndWait(dir: string, env: Record<string, string> = {}): Promise<{ ids: Map<string, string>; states: JobStates }> {
  const exported = await wfc(["export", "slurm", "plan.json", "-o", "slurm"], { cwd: dir });
  if (exported.exitCode !== 0) throw new Error(`export exited ${exported.exitCode}: ${exported.stderr}`);
  const out = join(dir, "slurm");
  const submit = await execa("bash", [join(out, "submit.sh")], { cwd: tmpdir(), env, reject: false, timeout: 60_000 });
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

/** `NAME[i]=STATE` per element (a job that is not an array: `NAME=STATE`), sorted. */
function byName(ids: ReadonlyMap<string, string>, states: JobStates): string[] {
  const names = new Map([...ids].map(([name, id]) => [id, name]));
  return [...states]
    .map(([element, { state }]) => {
      const [id, i] = element.split("_");
      return `${names.get(id!) ?? id}${i === undefined ? "" : `[${i}]`}=${state}`;
    })
    .sort();
}

/** The chunk plan, its reads, and a chunk an earlier run left (A has 3 chunks now): never mapped nor merged. */
function chunkFixture(): string {
  const dir = fixture({
    "plan.json": chunkPlan(),
    "work/chunks/A/c4.txt": "left by an earlier run\n",
    ...Object.fromEntries(Object.entries(READS).map(([s, text]) => [`reads/${s}.txt`, text])),
  });
  temporary.push(dir);
  return dir;
}

describeSlurm("an exported workflow with dynamic spaces, submitted to the cluster (.ci/slurm/up.sh)", () => {
  test(
    "split decides each sample's chunks (3, none, and names with a space and a quote); map, filter, merge and report run from the expansion, byte-exact; an earlier run's chunk is left alone",
    async () => {
      const dir = chunkFixture();
      const { ids, states } = await submitAndWait(dir);
      expect([...ids.keys()]).toEqual(["other.0", "split.0", "expand.split", "count.0", "map.0", "filter.0", "merge.0", "report.0"]);
      expect(byName(ids, states)).toEqual([
        ...[0, 1, 2].map((i) => `count.0[${i}]=COMPLETED`),
        "expand.split=COMPLETED",
        ...[0, 1, 2, 3, 4].map((i) => `filter.0[${i}]=COMPLETED`),
        ...[0, 1, 2, 3, 4].map((i) => `map.0[${i}]=COMPLETED`),
        ...[0, 1, 2].map((i) => `merge.0[${i}]=COMPLETED`),
        "other.0[0]=COMPLETED",
        "report.0[0]=COMPLETED",
        ...[0, 1, 2].map((i) => `split.0[${i}]=COMPLETED`),
      ]);
      expect(contents(dir, Object.keys(EXPECTED))).toEqual(EXPECTED);
      expect(readFileSync(join(dir, "report.txt"), "utf8")).toBe(
        EXPECTED["merged/A.txt"]! + EXPECTED["merged/b c.txt"]! + EXPECTED["merged/it's.txt"]!,
      );
      expect(filesUnder(join(dir, "work"))).toEqual(
        ["kept", "mapped"]
          .flatMap((s) => ["A/c1.txt", "A/c2.txt", "A/c3.txt", "it's/q'uote.txt", "it's/x y.txt"].map((f) => `${s}/${f}`))
          .concat([
            "chunks/A/c1.txt",
            "chunks/A/c2.txt",
            "chunks/A/c3.txt",
            "chunks/A/c4.txt",
            "chunks/it's/q'uote.txt",
            "chunks/it's/x y.txt",
          ])
          .sort(),
      );
      expect(readFileSync(join(dir, "work/mapped/it's/x y.txt"), "utf8")).toBe('ONE "TWO"\n');
      // The expansion's log says what it did, and which file it left alone.
      const log = readdirSync(join(dir, "slurm", "logs")).find((f) => f.startsWith("chunks.expand.split_"))!;
      expect(readFileSync(join(dir, "slurm", "logs", log), "utf8")).toMatch(
        /^warning: 1 file matching the outputs of `split` was there before its job and not written by it: left alone, not used: "work\/chunks\/A\/c4\.txt"\nmap: 5 elements\nfilter: 5 elements\n(sbatch .*\n){5}expand\.split: 5 job arrays submitted \(count, map, filter, merge, report\)\n$/,
      );
    },
    TIMEOUT,
  );

  test(
    "every sample with no chunk: map and filter submit nothing, merge and report run without waiting for them",
    async () => {
      const dir = fixture({
        "plan.json": chunkPlan("none"),
        ...Object.fromEntries(Object.keys(READS).map((s) => [`reads/${s}.txt`, ""])),
      });
      temporary.push(dir);
      const { ids, states } = await submitAndWait(dir);
      expect([...ids.keys()]).toEqual(["other.0", "split.0", "expand.split", "count.0", "merge.0", "report.0"]);
      expect(byName(ids, states).every((s) => s.endsWith("=COMPLETED"))).toBe(true);
      expect(readFileSync(join(dir, "report.txt"), "utf8")).toBe("A:\nb c:\nit's:\n");
      expect(existsSync(join(dir, "work", "mapped"))).toBe(false);
    },
    TIMEOUT,
  );

  test(
    "two expansions in a chain: split's submits merge and merge's expansion, which expands the lines merge wrote",
    async () => {
      const dir = fixture({
        "plan.json": chainPlan(),
        ...Object.fromEntries(Object.entries(READS).map(([s, text]) => [`reads/${s}.txt`, text])),
      });
      temporary.push(dir);
      const { ids, states } = await submitAndWait(dir);
      expect([...ids.keys()]).toEqual([
        "other.0",
        "split.0",
        "expand.split",
        "count.0",
        "map.0",
        "filter.0",
        "merge.0",
        "report.0",
        "expand.merge",
        "words.0",
      ]);
      expect(byName(ids, states).filter((s) => !s.endsWith("=COMPLETED"))).toEqual([]);
      expect(filesUnder(join(dir, "words"))).toEqual(
        ["A/A:.txt", "A/ALPHA.txt", "A/GAMMA.txt", "b c/b c:.txt", "it's/it's:.txt", "it's/THREE.txt", 'it\'s/ONE "TWO".txt'].sort(),
      );
      expect(readFileSync(join(dir, 'words/it\'s/ONE "TWO".txt'), "utf8")).toBe('ONE "TWO"\n');
    },
    TIMEOUT,
  );

  test(
    "a workflow compiled by wfc (decides, { from: split }), exported and submitted: byte-identical to wfc run",
    async () => {
      const dir = fixture({
        "reads/A.txt": "c1|alpha\nc2|beta\nc10|ten\n",
        "reads/b c.txt": "",
        "workflow.yaml": `wfc: 1
name: ydyn
stages:
  split:
    foreach: { sample: [A, "b c"] }
    inputs: "reads/{sample}.txt"
    outputs: { chunks: "work/chunks/{sample}/{chunk}.txt" }
    decides: [chunk]
    run: "while IFS='|' read -r c text; do printf '%s\\n' \\"$text\\" > work/chunks/{sample}/\\"$c.txt\\"; done < {inputs}"
  map:
    foreach: { sample: [A, "b c"], chunk: { from: split } }
    inputs: "work/chunks/{sample}/{chunk}.txt"
    outputs: "work/mapped/{sample}/{chunk}.txt"
    run: "tr a-z A-Z < {inputs} > {outputs}"
  merge:
    foreach: { sample: [A, "b c"] }
    inputs: "work/mapped/{sample}/*.txt"
    outputs: "merged/{sample}.txt"
    run: "cat {inputs} /dev/null > {outputs}"
`,
      });
      temporary.push(dir);
      const compiled = await wfc(["compile", "workflow.yaml", "-o", "plan.json"], { cwd: dir });
      expect(compiled.exitCode, compiled.stderr).toBe(0);
      const { ids, states } = await submitAndWait(dir);
      expect([...ids.keys()]).toEqual(["split.0", "expand.split", "map.0", "merge.0"]);
      expect(byName(ids, states).filter((x) => !x.endsWith("=COMPLETED"))).toEqual([]);
      // The gather reads its paths in path order: c1, c10, c2.
      expect(contents(dir, ["merged/A.txt", "merged/b c.txt"])).toEqual({ "merged/A.txt": "ALPHA\nTEN\nBETA\n", "merged/b c.txt": "" });
      // The same as `wfc run` here.
      const local = fixture({
        "workflow.yaml": readFileSync(join(dir, "workflow.yaml"), "utf8"),
        "reads/A.txt": readFileSync(join(dir, "reads/A.txt"), "utf8"),
        "reads/b c.txt": "",
      });
      temporary.push(local);
      const run = await wfc(["run", "workflow.yaml"], { cwd: local });
      expect(run.exitCode, run.stderr).toBe(0);
      const files = filesUnder(local, [".wfc"]);
      expect(filesUnder(dir, [".wfc", "slurm", "plan.json"])).toEqual(files);
      expect(contents(dir, files)).toEqual(contents(local, files));
    },
    TIMEOUT,
  );

  test(
    "where the expansion cannot run wfc (WFC_NODE names no Node.js), it fails with that cause in its log and nothing after split runs",
    async () => {
      const dir = chunkFixture();
      const { ids, states } = await submitAndWait(dir, { WFC_NODE: "/nonexistent/node" });
      expect([...ids.keys()]).toEqual(["other.0", "split.0", "expand.split"]);
      expect(byName(ids, states)).toContain("expand.split=FAILED");
      const log = readdirSync(join(dir, "slurm", "logs")).find((f) => f.startsWith("chunks.expand.split_"))!;
      expect(readFileSync(join(dir, "slurm", "logs", log), "utf8")).toMatch(
        /^wfc: expand\.split: cannot run Node\.js 20 as \/nonexistent\/node on \S+ \(set WFC_NODE when you submit\); nothing after split was submitted\n$/,
      );
      expect(existsSync(join(dir, "merged"))).toBe(false);
      expect(existsSync(join(dir, "work", "mapped"))).toBe(false);
    },
    TIMEOUT,
  );
});
