import { readFileSync } from "node:fs";
import { join } from "node:path";
import { JSDOM } from "jsdom";
import { beforeAll, describe, expect, test } from "vitest";
import { renderDot } from "../../compiler/render/dot.js";
import { copySample, fixture, jsonEvents, repoRoot, wfc } from "../e2e/helpers.js";
import { dotToSvg, hasDot, NO_DOT } from "./graphviz.js";
import { samplePlan } from "./plans.js";

/**
 * `wfc graph` on a workflow file (compiled first, like `run`), its legend of
 * edge kinds, and `--jobs`, the job-level graph; the DOT read back by
 * Graphviz, the Mermaid by Mermaid's own parser.
 */

type Mermaid = typeof import("mermaid").default;
let mermaid: Mermaid;

beforeAll(async () => {
  const { window } = new JSDOM("");
  Object.assign(globalThis, { window, document: window.document });
  mermaid = (await import("mermaid")).default;
  mermaid.initialize({ startOnLoad: false });
});

interface FlowDb {
  getVertices(): Map<string, { id: string; text?: string }>;
  getEdges(): { start: string; end: string; text: string; stroke: string }[];
  getSubGraphs(): { id: string; title: string; nodes: string[] }[];
}

async function mermaidDb(text: string): Promise<FlowDb> {
  await mermaid.parse(text);
  const body = text.replace(/^---\n[\s\S]*?\n---\n/, "");
  return (await mermaid.mermaidAPI.getDiagramFromText(body)).db as unknown as FlowDb;
}

const workflow = (sample: string) => join(repoRoot, "samples", sample, "workflow.yaml");

/** The `a -> b` edges of a DOT text outside its legend, as `a b` pairs, with their attributes. */
function dotEdges(text: string): string[] {
  const body = text.slice(0, text.indexOf('subgraph "cluster_legend"') >>> 0);
  return [...body.matchAll(/^ {2}"([^"]+)" -> "([^"]+)" \[(.*)\];$/gm)].map((m) => `${m[1]} -> ${m[2]} [${m[3]}]`);
}

describe("wfc graph FILE: a workflow as well as a plan", () => {
  test("a workflow is compiled first: the same drawing as its plan from `wfc compile`", async () => {
    const dir = fixture({});
    expect((await wfc(["compile", workflow("ruffus-jobs-limit"), "-o", "plan.json"], { cwd: dir })).exitCode).toBe(0);
    const fromPlan = await wfc(["graph", "plan.json"], { cwd: dir });
    const fromWorkflow = await wfc(["graph", workflow("ruffus-jobs-limit")], { cwd: dir });
    expect(fromWorkflow).toEqual({ exitCode: 0, stdout: fromPlan.stdout, stderr: "" });
  });

  test("-p, --params-file and -c apply as for `run`", async () => {
    const dir = fixture({
      "workflow.yaml": {
        wfc: 1,
        name: "n",
        params: { n: 3 },
        stages: { a: { foreach: { i: { range: [0, "{params.n}"] } }, run: "echo {i} > {outputs}", outputs: "a/{i}" } },
      },
      "params.yaml": "n: 7\n",
    });
    const drawn = async (...args: string[]) => {
      const r = await wfc(["graph", "workflow.yaml", "--jobs", "-o", "g.dot", ...args], { cwd: dir });
      expect(r.stderr).toBe("");
      return r.stdout;
    };
    expect(await drawn()).toBe("g.dot: dot graph of 3 jobs");
    expect(await drawn("-p", "n=5")).toBe("g.dot: dot graph of 5 jobs");
    expect(await drawn("--params-file", "params.yaml")).toBe("g.dot: dot graph of 7 jobs");
    expect(await drawn("--params-file", "params.yaml", "-p", "n=2")).toBe("g.dot: dot graph of 2 jobs");
    const badConfig = await wfc(["graph", "workflow.yaml", "-c", "missing.toml"], { cwd: dir });
    expect(badConfig.exitCode).toBe(2);
    expect(badConfig.stdout).toBe("");
    expect(badConfig.stderr).toContain("missing.toml");
  });

  test("a workflow with errors: its diagnostics, exit 2, nothing on stdout", async () => {
    const r = await wfc(["graph", "samples/invalid/unknown-limit.yaml"]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    // What `wfc validate` says of it (the corpus's expected text, without its comment header and exit line).
    const expected = readFileSync(join(repoRoot, "samples/invalid/unknown-limit.expected"), "utf8")
      .replace(/^#.*\n/gm, "")
      .replace(/\nexit: 2\n?$/, "")
      .trimEnd();
    expect(r.stderr).toBe(expected);
  });
});

describe("the legend of edge kinds", () => {
  test("DOT: one sample edge per kind drawn, styled like the kind, read back by Graphviz", async ({ skip }) => {
    const r = await wfc(["graph", workflow("scipion-steps")]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.slice(r.stdout.indexOf('  subgraph "cluster_legend"'))).toBe(
      [
        '  subgraph "cluster_legend" {',
        '    label="edge kinds";',
        '    style="rounded,dotted";',
        '    node [shape=point, width=0.05, label=""];',
        '    "legend 0 from";',
        '    "legend 0 to";',
        '    "legend 0 from" -> "legend 0 to" [label="all: every element waits for all of them (a barrier)", style=bold];',
        '    "legend 1 from";',
        '    "legend 1 to";',
        '    "legend 1 from" -> "legend 1 to" [label="after: order only, no input read", style=bold, arrowhead=empty];',
        "  }",
        "}",
      ].join("\n"),
    );
    // Without it, the drawing as before.
    const bare = await wfc(["graph", workflow("scipion-steps"), "--no-legend"]);
    expect(bare.stdout + "\n").toBe(renderDot(await samplePlan("scipion-steps")));

    if (!(await hasDot())) return process.env.CI ? expect.fail(NO_DOT) : skip(NO_DOT);
    const svg = await dotToSvg(r.stdout);
    expect(svg.count("cluster")).toBe(1);
    expect(svg.texts()).toEqual(
      expect.arrayContaining(["edge kinds", "all: every element waits for all of them (a barrier)", "after: order only, no input read"]),
    );
  });

  test.for(["qiime-search", "reads-split", "ruffus-jobs-limit"])("%s: the legend names exactly the kinds drawn", async (sample) => {
    const r = await wfc(["graph", workflow(sample)]);
    expect(r.exitCode, r.stderr).toBe(0);
    const kinds = new Set(dotEdges(r.stdout).map((e) => (e.includes("arrowhead=empty") ? "after" : /style=(\w+)/.exec(e)![1]!)));
    const legend = r.stdout.slice(r.stdout.indexOf('subgraph "cluster_legend"'));
    const shown = [...legend.matchAll(/-> "legend \d+ to" \[(.*)\];/g)].map((m) =>
      m[1]!.includes("arrowhead=empty") ? "after" : /style=(\w+)/.exec(m[1]!)![1]!,
    );
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.sort()).toEqual([...kinds].sort());
  });

  test("Mermaid: a subgraph of sample links, read back by Mermaid's parser", async () => {
    const r = await wfc(["graph", workflow("ruffus-jobs-limit"), "--format", "mermaid"]);
    expect(r.exitCode).toBe(0);
    const db = await mermaidDb(r.stdout);
    const legend = db.getSubGraphs().find((g) => g.title === "edge kinds");
    expect(legend?.nodes).toHaveLength(2);
    const sample = db.getEdges().filter((e) => e.start.startsWith("l_"));
    expect(sample.map((e) => [e.text, e.stroke])).toEqual([["by v: waits for the elements with the same values of v", "dotted"]]);
  });
});

describe("wfc graph --jobs: one node per job", () => {
  test("scipion-steps: six jobs gathered by one; Graphviz and Mermaid read it back", async ({ skip }) => {
    const r = await wfc(["graph", workflow("scipion-steps"), "--jobs"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(dotEdges(r.stdout)).toEqual([0, 1, 2, 3, 4, 5].map((j) => `processStep#${j} -> createOutputStep#0 [label="", style=bold]`));
    expect(r.stdout).toContain('"processStep#3" [label="processStep#3\\nelement=mic004"];');
    const m = await wfc(["graph", workflow("scipion-steps"), "--jobs", "--format", "mermaid"]);
    const db = await mermaidDb(m.stdout);
    expect(
      db
        .getSubGraphs()
        .map((g) => [g.title.split(/<br\/?>/)[0], g.nodes.length])
        .sort(),
    ).toEqual([
      ["createOutputStep", 1],
      ["edge kinds", 2],
      ["processStep", 6],
    ]);
    expect(db.getEdges().filter((e) => !e.start.startsWith("l_"))).toHaveLength(6);

    if (!(await hasDot())) return process.env.CI ? expect.fail(NO_DOT) : skip(NO_DOT);
    const svg = await dotToSvg(r.stdout);
    expect(svg.count("node")).toBe(7 + 2); // the jobs, and the legend's points
    expect(svg.count("edge")).toBe(6 + 1); // the \`after\` beside each input edge adds nothing: one legend entry
  });

  test("ruffus-jobs-limit: each job waits for the job with its file; a real run honours every edge drawn", async () => {
    const r = await wfc(["graph", workflow("ruffus-jobs-limit"), "--jobs", "--no-legend"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const edges = dotEdges(r.stdout).map((e) => e.replace(/ \[.*$/, ""));
    expect(edges).toHaveLength(20);
    expect(edges).toContain("make_files#7 -> stage1_big#2");
    expect(edges).toContain("stage1_big#2 -> stage2#7");

    const dir = copySample("ruffus-jobs-limit");
    const run = await wfc(["run", "workflow.yaml", "--json"], { cwd: dir });
    expect(run.exitCode, run.stderr).toBe(0);
    const events = jsonEvents(run.stdout);
    const at = (type: string, job: string) => events.findIndex((e) => e.type === type && `${e.task}#${e.job}` === job);
    for (const edge of edges) {
      const [from, to] = edge.split(" -> ") as [string, string];
      expect(at("job-end", from), edge).toBeGreaterThanOrEqual(0);
      expect(at("job-end", from), edge).toBeLessThan(at("job-start", to));
    }
  });

  /** A per-sample gather after a fused pair: a match edge from a batch of jobs to each sample's one. */
  const perSample = {
    wfc: 1,
    name: "per-sample",
    stages: {
      a: { foreach: { s: ["x", "y"], c: { range: [0, 3] } }, outputs: "a/{s}/{c}.txt", run: "echo {s} {c} > {outputs}" },
      b: {
        foreach: { s: ["x", "y"], c: { range: [0, 3] } },
        inputs: "a/{s}/{c}.txt",
        outputs: "b/{s}/{c}.txt",
        run: "cp {inputs} {outputs}",
      },
      merge: { foreach: { s: ["x", "y"] }, inputs: "b/{s}/*.txt", outputs: "m/{s}.txt", run: "cat {inputs} > {outputs}" },
    },
  };
  const folders: [string, () => string][] = [
    ["ruffus-jobs-limit", () => copySample("ruffus-jobs-limit")],
    ["scipion-steps", () => copySample("scipion-steps")],
    ["a per-sample gather", () => fixture({ "workflow.yaml": perSample })],
  ];
  test.for(folders)(
    "%s: what the graph shows a job waits for (transitively) is what `wfc run` runs for it as a target",
    async ([, make]) => {
      const dir = make();
      const r = await wfc(["graph", "workflow.yaml", "--jobs", "--no-legend"], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      const parents = new Map<string, string[]>();
      for (const edge of dotEdges(r.stdout)) {
        const [from, to] = edge.replace(/ \[.*$/, "").split(" -> ") as [string, string];
        parents.set(to, [...(parents.get(to) ?? []), from]);
      }
      const ancestors = (job: string): string[] => [job, ...(parents.get(job) ?? []).flatMap(ancestors)];
      // Each job's label: `task#j` and its values, which make a target: `task[i=7,size=big]`.
      const labels = [...r.stdout.matchAll(/^ {4}"([^"]+)" \[label="([^"]+)"\];$/gm)].map((m) => [m[1]!, m[2]!.split("\\n")[1]] as const);
      const sinks = labels.filter(([job]) => ![...parents.values()].some((ps) => ps.includes(job)));
      expect(sinks.length).toBeGreaterThan(0);
      for (const [job, values] of sinks) {
        const task = job.replace(/#\d+$/, "");
        const target = values === undefined ? task : `${task}[${values.replace(/, /g, ",")}]`;
        const dry = await wfc(["run", "workflow.yaml", target, "--dry-run", "--json"], { cwd: dir });
        expect(dry.exitCode, dry.stderr).toBe(0);
        const wouldRun = jsonEvents(dry.stdout)
          .filter((e) => e.type === "would-run")
          .map((e) => `${e.task}#${e.job}`);
        expect(wouldRun.sort(), target).toEqual([...new Set(ancestors(job))].sort());
      }
    },
  );

  test("a workflow whose jobs a job decides: exit 2, nothing drawn", async () => {
    const r = await wfc(["graph", workflow("qiime-search"), "--jobs"]);
    expect(r).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        "wfc: error: task `search` gets its jobs while the workflow runs (from what a job decides), so there is no job graph before the run; draw the task graph instead (without --jobs)",
    });
  });

  test("more than 500 jobs: exit 2 with the count, suggesting the task graph", async () => {
    const dir = fixture({
      "workflow.yaml": {
        wfc: 1,
        name: "big",
        stages: { a: { foreach: { i: { range: [0, 501] } }, run: "echo {i} > {outputs}", outputs: "a/{i}" } },
      },
    });
    const r = await wfc(["graph", "workflow.yaml", "--jobs"], { cwd: dir });
    expect(r).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "wfc: error: the job graph would have 501 jobs, more than the 500 it draws; draw the task graph instead (without --jobs)",
    });
    // The task graph of the same workflow is fine.
    expect((await wfc(["graph", "workflow.yaml"], { cwd: dir })).exitCode).toBe(0);
  });

  test("-o says how many jobs it drew", async () => {
    const dir = fixture({});
    const r = await wfc(["graph", workflow("scipion-steps"), "--jobs", "-o", "jobs.dot"], { cwd: dir });
    expect(r).toEqual({ exitCode: 0, stdout: "jobs.dot: dot graph of 7 jobs", stderr: "" });
    expect(readFileSync(join(dir, "jobs.dot"), "utf8")).toMatch(/^digraph "scipion-steps" \{/);
  });
});
