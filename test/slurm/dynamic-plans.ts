/**
 * Plans with dynamic spaces (issue 14), built by hand as the compiler writes
 * them (the spec's "Plan (compiler output)"), for the tests of their SLURM
 * export: a producer per sample writing as many chunk files as its data
 * says, a map and a filter over them (two dynamic stages over one space), a
 * per-sample gather, a report over every sample, and a stage that depends
 * on none of them.
 */
import { PLAN_VERSION, type Part, type Plan, type PlanPath, type PlanTask } from "../../contract/plan.js";
import { task as planTask } from "../runtime/plans.js";

/** The samples: one with 3 chunks, one with none, one whose name and chunks need quoting. */
export const SAMPLES = ["A", "b c", "it's"] as const;

/** reads/SAMPLE.txt: one `CHUNK|TEXT` line per chunk the split writes. */
export const READS: Record<(typeof SAMPLES)[number], string> = {
  A: "c1|alpha\nc2|beta SKIP\nc3|gamma\n",
  "b c": "",
  "it's": 'x y|one "two"\nq\'uote|three\n',
};

const path = (template: Part[], from: PlanPath["from"] = [], glob = false): PlanPath => ({ name: null, template, glob, from });
const v = (name: string): Part => ({ var: name });
const IN: Part = { inputs: true };
const OUT: Part = { outputs: true };

/** A task as test/runtime/plans.ts makes one, on the `processes` executor; a dynamic space's has `jobs: null`. */
function task(id: string, extra: Partial<PlanTask> & Pick<PlanTask, "space" | "steps">): PlanTask {
  const jobs = extra.space.dynamic === undefined ? extra.space.size : null;
  return planTask(id, extra.space.size, { executor: "processes", priority: 1, jobs, ...extra });
}

const samples = { vars: [{ name: "sample", values: [...SAMPLES] }], zip: [], size: SAMPLES.length };
const chunks = {
  ...samples,
  dynamic: { vars: ["chunk"], from: { kind: "files" as const, task: "split", step: "split", output: 0 }, per: ["sample"] },
};

/**
 * split → map → filter → merge (per sample) → report, count (a gather of split's chunks), and `other`:
 *
 * ```yaml
 * split:  { foreach: { sample }, inputs: reads/{sample}.txt, outputs: work/chunks/{sample}/{chunk}.txt, decides: [chunk] }
 * count:  { foreach: { sample }, inputs: work/chunks/{sample}/*.txt, outputs: counts/{sample}.txt }
 * map:    { foreach: { sample, chunk: { from: split } }, inputs: work/chunks/{sample}/{chunk}.txt, outputs: work/mapped/{sample}/{chunk}.txt,
 *           limit: 2, limits: { ftp_download_limit: 1 } }
 * filter: { foreach: { sample, chunk: { from: split } }, inputs: work/mapped/{sample}/{chunk}.txt, outputs: work/kept/{sample}/{chunk}.txt }
 * merge:  { foreach: { sample }, inputs: work/kept/{sample}/*.txt, outputs: merged/{sample}.txt }
 * report: { inputs: merged/*.txt, outputs: report.txt }
 * other:  { outputs: other.txt }
 * ```
 */
export function chunkPlan(name = "chunks"): Plan {
  const split = task("split", {
    space: samples,
    steps: [
      {
        stage: "split",
        action: {
          kind: "shell",
          shell: "bash",
          // One file per line: the data decides how many and their names.
          command: [
            "mkdir -p work/chunks/",
            v("sample"),
            "; while IFS='|' read -r c text; do printf '%s\\n' \"$text\" > work/chunks/",
            v("sample"),
            '/"$c.txt"; done < ',
            IN,
          ],
        },
        inputs: [path(["reads/", v("sample"), ".txt"])],
        outputs: [{ ...path(["work/chunks/", v("sample"), "/", v("chunk"), ".txt"]), name: "chunks" }],
        env: {},
        decides: ["chunk"],
      },
    ],
  });
  const count = task("count", {
    space: samples,
    steps: [
      {
        stage: "count",
        action: { kind: "shell", shell: "bash", command: ["cat ", IN, " /dev/null | wc -l > ", OUT] },
        inputs: [path(["work/chunks/", v("sample"), "/*.txt"], [{ task: "split", step: "split", output: 0 }], true)],
        outputs: [path(["counts/", v("sample"), ".txt"])],
        env: {},
      },
    ],
    deps: [{ task: "split", edge: { kind: "match", on: [["sample", "sample"]], where: {}, when: {} }, input: { step: "count", index: 0 } }],
  });
  const map = task("map", {
    space: chunks,
    steps: [
      {
        stage: "map",
        action: { kind: "shell", shell: "bash", command: ["tr a-z A-Z < ", IN, " > ", OUT] },
        inputs: [path(["work/chunks/", v("sample"), "/", v("chunk"), ".txt"], [{ task: "split", step: "split", output: 0 }])],
        outputs: [path(["work/mapped/", v("sample"), "/", v("chunk"), ".txt"])],
        env: {},
      },
    ],
    deps: [{ task: "split", edge: { kind: "expand" }, input: { step: "map", index: 0 } }],
    // `limit: 2` and `limits: { ftp_download_limit: 1 }` (a license .ci/slurm/up.sh's cluster has).
    groups: [
      { group: "cap:map", weight: 1 },
      { group: "limit:ftp_download_limit", weight: 1 },
    ],
  });
  const filter = task("filter", {
    space: chunks,
    steps: [
      {
        stage: "filter",
        action: { kind: "shell", shell: "bash", command: ["sed '/SKIP/d' ", IN, " > ", OUT] },
        inputs: [path(["work/mapped/", v("sample"), "/", v("chunk"), ".txt"], [{ task: "map", step: "map", output: 0 }])],
        outputs: [path(["work/kept/", v("sample"), "/", v("chunk"), ".txt"])],
        env: {},
      },
    ],
    deps: [
      { task: "split", edge: { kind: "expand" }, input: null },
      { task: "map", edge: { kind: "one-to-one" }, input: { step: "filter", index: 0 } },
    ],
  });
  const merge = task("merge", {
    space: samples,
    steps: [
      {
        stage: "merge",
        action: { kind: "shell", shell: "bash", command: ["{ echo ", v("sample"), ": ; cat ", IN, " /dev/null; } > ", OUT] },
        inputs: [path(["work/kept/", v("sample"), "/*.txt"], [{ task: "filter", step: "filter", output: 0 }], true)],
        outputs: [path(["merged/", v("sample"), ".txt"])],
        env: {},
      },
    ],
    deps: [
      { task: "filter", edge: { kind: "match", on: [["sample", "sample"]], where: {}, when: {} }, input: { step: "merge", index: 0 } },
    ],
  });
  const report = task("report", {
    space: { vars: [], zip: [], size: 1 },
    steps: [
      {
        stage: "report",
        action: { kind: "shell", shell: "bash", command: ["cat ", IN, " > ", OUT] },
        inputs: [path(["merged/*.txt"], [{ task: "merge", step: "merge", output: 0 }], true)],
        outputs: [path(["report.txt"])],
        env: {},
      },
    ],
    deps: [{ task: "merge", edge: { kind: "all" }, input: { step: "report", index: 0 } }],
  });
  const other = task("other", {
    space: { vars: [], zip: [], size: 1 },
    steps: [
      {
        stage: "other",
        action: { kind: "shell", shell: "bash", command: ["echo other > ", OUT] },
        inputs: [],
        outputs: [path(["other.txt"])],
        env: {},
      },
    ],
  });
  return {
    plan: PLAN_VERSION,
    wfc: "test",
    name,
    source: { file: "wf.yaml", format: "yaml", sha256: "0".repeat(64) },
    workdir: ".",
    params: {},
    jobs: null,
    executors: { processes: { type: "processes", max: null, runs: ["fn", "run"] } },
    groups: [
      { id: "cap:map", capacity: 2, kind: "cap" },
      { id: "limit:ftp_download_limit", capacity: 3, kind: "limit" },
    ],
    tasks: [other, split, count, map, filter, merge, report],
  };
}

/** What the workflow writes, byte for byte: per sample its kept chunks (upper-cased, SKIP lines dropped) in path order. */
export const EXPECTED: Record<string, string> = {
  "merged/A.txt": "A:\nALPHA\nGAMMA\n",
  "merged/b c.txt": "b c:\n",
  "merged/it's.txt": 'it\'s:\nTHREE\nONE "TWO"\n',
  "other.txt": "other\n",
  "counts/A.txt": "3\n",
  "counts/b c.txt": "0\n",
  "counts/it's.txt": "2\n",
};

/**
 * One element per line of a file a stage wrote:
 *
 * ```yaml
 * ids:      { foreach: { sample }, inputs: reads/{sample}.txt, outputs: work/ids/{sample}.txt }   # cut -d'|' -f1
 * annotate: { foreach: { sample, id: { lines: "work/ids/{sample}.txt" } }, outputs: work/ann/{sample}/{id}.txt }
 * ```
 */
export function linesPlan(): Plan {
  const ids = task("ids", {
    space: samples,
    steps: [
      {
        stage: "ids",
        action: { kind: "shell", shell: "bash", command: ["cut -d'|' -f1 < ", IN, " > ", OUT] },
        inputs: [path(["reads/", v("sample"), ".txt"])],
        outputs: [path(["work/ids/", v("sample"), ".txt"])],
        env: {},
      },
    ],
  });
  const annotate = task("annotate", {
    space: {
      ...samples,
      dynamic: { vars: ["id"], from: { kind: "lines", task: "ids", step: "ids", output: 0 }, per: ["sample"] },
    },
    steps: [
      {
        stage: "annotate",
        action: { kind: "shell", shell: "bash", command: ["printf '%s/%s\\n' ", v("sample"), " ", v("id"), " > ", OUT] },
        inputs: [],
        outputs: [path(["work/ann/", v("sample"), "/", v("id"), ".txt"])],
        env: {},
      },
    ],
    deps: [{ task: "ids", edge: { kind: "expand" }, input: null }],
  });
  return { ...chunkPlan("lines"), tasks: [ids, annotate] };
}

/**
 * The chunk plan and a second wave: `words` fans out over the lines of
 * `merged/{sample}.txt`, which `merge` writes only after split's expansion
 * submitted it, so its own expansion comes after split's.
 *
 * ```yaml
 * words: { foreach: { sample, line: { lines: "merged/{sample}.txt" } }, outputs: words/{sample}/{line}.txt }
 * ```
 */
export function chainPlan(): Plan {
  const base = chunkPlan("chain");
  const words = task("words", {
    space: {
      ...samples,
      dynamic: { vars: ["line"], from: { kind: "lines", task: "merge", step: "merge", output: 0 }, per: ["sample"] },
    },
    steps: [
      {
        stage: "words",
        action: { kind: "shell", shell: "bash", command: ["printf '%s\\n' ", v("line"), " > ", OUT] },
        inputs: [],
        outputs: [path(["words/", v("sample"), "/", v("line"), ".txt"])],
        env: {},
      },
    ],
    deps: [{ task: "merge", edge: { kind: "expand" }, input: null }],
  });
  return { ...base, tasks: [...base.tasks, words] };
}
