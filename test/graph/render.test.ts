import { beforeAll, describe, expect, test } from "vitest";
import { dotId, renderDot } from "../../compiler/render/dot.js";
import { graphModel } from "../../compiler/render/model.js";
import type { Plan } from "../../contract/plan.js";
import { NO_DOT, dotToSvg, hasDot } from "./graphviz.js";
import { awkwardPlan, samplePlan, samples } from "./plans.js";

let dot = false;
beforeAll(async () => {
  dot = await hasDot();
  if (!dot && process.env.CI === undefined) console.warn(`test/graph: ${NO_DOT}`);
});

/** Skips a Graphviz check with a visible reason, except on CI, where a missing `dot` is a failure. */
function needDot(skip: (note: string) => never): void {
  if (dot) return;
  if (process.env.CI !== undefined) throw new Error(`${NO_DOT}; on CI it must be (see .ci/run)`);
  skip(NO_DOT);
}

describe("renderDot", () => {
  test("ruffus-jobs-limit: exact output (match edges with fixed values, a named limit, a cap)", async () => {
    expect(renderDot(await samplePlan("ruffus-jobs-limit"))).toBe(
      [
        'digraph "ruffus-jobs-limit" {',
        '  graph [rankdir=LR, compound=true, labelloc=t, fontname="Helvetica", label="ruffus-jobs-limit\\n4 tasks, 30 jobs, at most 10 at once"];',
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
        '  "make_files" [label="make_files\\n10 elements\\nexecutor multiprocess (processes)\\npriority 4.333 s"];',
        '  "stage1_big" [label="stage1_big\\n5 elements\\nexecutor multiprocess (processes)\\nlimit ftp_download_limit (3 at once)\\npriority 3.333 s"];',
        '  "stage1_small" [label="stage1_small\\n5 elements\\nexecutor multiprocess (processes)\\nlimit ftp_download_limit (3 at once)\\npriority 3.333 s"];',
        '  "stage2" [label="stage2\\n10 elements\\nexecutor multiprocess (processes)\\ncap 5\\npriority 2 s"];',
        '  "make_files" -> "stage1_big" [label="by i\\nsize=big", style=dashed];',
        '  "make_files" -> "stage1_small" [label="by i\\nsize=small", style=dashed];',
        '  "stage1_big" -> "stage2" [label="by i", style=dashed];',
        '  "stage1_small" -> "stage2" [label="by i", style=dashed];',
        "}",
        "",
      ].join("\n"),
    );
  });

  test("scipion-steps: an `after` edge beside the barrier it duplicates", async () => {
    const text = renderDot(await samplePlan("scipion-steps"));
    expect(text).toContain('  "processStep" -> "createOutputStep" [label="all", style=bold];\n');
    expect(text).toContain('  "processStep" -> "createOutputStep" [label="after", style=bold, arrowhead=empty];\n');
  });

  test("qiime-search: the expansion tapered, 1:1 edges solid, the gather bold, executors named with their type", async () => {
    const text = renderDot(await samplePlan("qiime-search"));
    expect(text).toContain(
      '  "search" [label="search\\n1 block, chunk expanded after split\\nexecutor htex (processes)\\npriority 3 s"];\n',
    );
    expect(text).toContain('  "split" -> "search" [label="expands at run time", style=tapered];\n');
    expect(text).toContain('  "merge" -> "summarize" [label="1:1", style=solid];\n');
    expect(text).toContain('  "search" -> "merge" [label="all", style=bold];\n');
  });

  test("a fused task, a map edge, `after` into and out of a cluster, awkward names: exact output", () => {
    expect(renderDot(awkwardPlan())).toBe(
      [
        'digraph "awk \\"ward\\" ünï" {',
        '  graph [rankdir=LR, compound=true, labelloc=t, fontname="Helvetica", label="awk \\"ward\\" ünï\\n6 tasks, 53 jobs, at most 4 at once"];',
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
        '  "back\\\\slash" [label="back\\\\slash\\n10 elements\\nexecutor local (threads)\\npriority 1 s"];',
        '  "end" [label="end\\n10 elements\\nexecutor local (threads)\\npriority 1 s"];',
        '  "fetch-\\"raw\\"" [label="fetch-\\"raw\\"\\n10 elements\\nexecutor local (threads)\\npriority 4.5 s"];',
        '  "résumé" [label="résumé\\n10 elements\\nexecutor local (threads)\\ncap 5\\npriority 2 s"];',
        '  "setup" [label="setup\\n10 elements\\nexecutor local (threads)\\npriority 5 s"];',
        '  subgraph "cluster_align+sort" {',
        '    label="align+sort\\n10 elements, 3 jobs of 4\\nexecutor htex (processes)\\nlimit db-<1> (4 at once), weight 2\\npriority 3 s";',
        '    style="rounded,dashed";',
        '    "align+sort/align" [label="align"];',
        '    "align+sort/sort" [label="sort"];',
        '    "align+sort/align" -> "align+sort/sort";',
        "  }",
        '  "align+sort/sort" -> "end" [label="after", style=bold, arrowhead=empty, ltail="cluster_align+sort"];',
        '  "align+sort/sort" -> "résumé" [label="by i→j\\nsize=small\\nif k=x#1", style=dashed];',
        '  "end" -> "back\\\\slash" [label="1:1", style=solid];',
        '  "fetch-\\"raw\\"" -> "align+sort/align" [label="map", style=dotted];',
        '  "résumé" -> "end" [label="all", style=bold];',
        '  "setup" -> "align+sort/align" [label="after", style=bold, arrowhead=empty, lhead="cluster_align+sort"];',
        "}",
        "",
      ].join("\n"),
    );
  });

  test("ids and labels are quoted: quotes, backslashes, line breaks and control characters", () => {
    expect(dotId("plain")).toBe('"plain"');
    expect(dotId('say "hi"')).toBe('"say \\"hi\\""');
    expect(dotId("a\\N")).toBe('"a\\\\N"');
    expect(dotId("two\nlines\r\nthree")).toBe('"two\\nlines\\nthree"');
    expect(dotId("tab\there\u0000")).toBe('"tab\uFFFDhere\uFFFD"');
  });

  test("output does not depend on the order of tasks or dependencies in the plan", () => {
    const plan = awkwardPlan();
    const shuffled: Plan = { ...plan, tasks: [...plan.tasks].reverse().map((t) => ({ ...t, deps: [...t.deps].reverse() })) };
    expect(renderDot(shuffled)).toBe(renderDot(plan));
  });

  test("a dependency on a task the plan lacks is left out rather than crashing", () => {
    const plan = awkwardPlan();
    const broken: Plan = { ...plan, tasks: plan.tasks.filter((t) => t.id !== "setup") };
    expect(graphModel(broken).edges.some((e) => e.lines.includes("after") && e.toCluster !== null)).toBe(false);
    expect(renderDot(broken)).not.toContain('"setup"');
  });
});

describe("Graphviz parses the DOT output (dot -Tsvg)", () => {
  const cases: [string, () => Promise<Plan> | Plan][] = [
    ...samples.map((s) => [s, () => samplePlan(s)] as [string, () => Promise<Plan>]),
    ["awkward", awkwardPlan],
  ];
  test.for(cases)("%s: lays out without errors or warnings, with every node, cluster and edge", async ([, make], { skip }) => {
    needDot(skip);
    const plan = await make();
    const model = graphModel(plan);
    const svg = await dotToSvg(renderDot(plan));
    expect(svg.stderr).toBe("");
    const internal = model.clusters.reduce((n, c) => n + c.nodes.length - 1, 0);
    expect(svg.count("node")).toBe(model.nodes.length + model.clusters.reduce((n, c) => n + c.nodes.length, 0));
    expect(svg.count("cluster")).toBe(model.clusters.length);
    expect(svg.count("edge")).toBe(model.edges.length + internal);
  });

  test("the awkward names come out of Graphviz as written", async ({ skip }) => {
    needDot(skip);
    const texts = (await dotToSvg(renderDot(awkwardPlan()))).texts();
    for (const text of [
      'awk "ward" ünï',
      'fetch-"raw"',
      "back\\slash",
      "résumé",
      "limit db-<1> (4 at once), weight 2",
      "by i→j",
      "if k=x#1",
    ]) {
      expect(texts).toContain(text);
    }
  });

  test("a broken DOT text is rejected (the check can fail)", async ({ skip }) => {
    needDot(skip);
    await expect(dotToSvg('digraph { "a -> b }')).rejects.toThrow(/dot -Tsvg failed/);
  });
});
