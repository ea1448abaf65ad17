import { describe, expect, test } from "vitest";
import { renderDot } from "../../compiler/render/dot.js";
import { jobGraphModel } from "../../compiler/render/jobs.js";
import { renderMermaid } from "../../compiler/render/mermaid.js";
import { graphModel } from "../../compiler/render/model.js";
import type { Plan } from "../../contract/plan.js";
import { dotToSvg, hasDot, NO_DOT } from "./graphviz.js";
import { awkwardPlan } from "./plans.js";

/** The awkward plan with its tasks renamed to what the legend would call its own. */
function clashing(): Plan {
  const plan = awkwardPlan();
  const rename: Record<string, string> = { setup: "legend", end: "legend 0 from" };
  const id = (t: string) => rename[t] ?? t;
  return {
    ...plan,
    tasks: plan.tasks.map((t) => ({ ...t, id: id(t.id), deps: t.deps.map((d) => ({ ...d, task: id(d.task) })) })),
  };
}

describe("the legend's keys", () => {
  test("never take a task's: a task named `legend` or `legend 0 from` keeps its node", async ({ skip }) => {
    const model = graphModel(clashing());
    const keys = [...model.nodes, ...model.clusters, ...model.clusters.flatMap((c) => c.nodes)].map((n) => n.key);
    const legendKeys = [model.legend!.key, ...model.legend!.entries.flatMap((e) => [e.from, e.to])];
    expect(keys.filter((k) => legendKeys.includes(k))).toEqual([]);
    // Every kind the awkward plan draws, in the legend's fixed order, then `after` on its own.
    expect(model.legend!.entries.filter((e) => !e.after).map((e) => e.kind)).toEqual(["one-to-one", "all", "match", "map"]);
    expect(model.legend!.entries.map((e) => e.after)).toEqual([false, false, false, false, true]);
    const text = renderDot(clashing(), { legend: true });
    expect(text).toContain('subgraph "cluster_legend~2" {');
    expect(renderMermaid(clashing(), { legend: true })).toContain('subgraph l_legend_2["edge kinds"]');
    if (!(await hasDot())) return process.env.CI ? expect.fail(NO_DOT) : skip(NO_DOT);
    const svg = await dotToSvg(text);
    expect(svg.count("cluster")).toBe(model.clusters.length + 1);
    expect(svg.texts()).toContain("legend 0 from");
  });

  test("the job graph of the awkward plan: a node per job, map and match edges element by element", () => {
    const jobs = jobGraphModel(awkwardPlan());
    expect(jobs.ok).toBe(true);
    if (!jobs.ok) return;
    expect(jobs.jobs).toBe(53);
    // align+sort has 10 elements in batches of 4: 3 jobs covering 0-3, 4-7, 8-9.
    const fused = jobs.model.clusters.find((c) => c.key === "align+sort")!;
    expect(fused.nodes.map((n) => n.lines)).toEqual([
      ["align+sort#0", "elements 0-3"],
      ["align+sort#1", "elements 4-7"],
      ["align+sort#2", "elements 8-9"],
    ]);
    expect(fused.chained).toBe(false);
    // 1:1 end -> back\slash: ten edges i -> i.
    const oneToOne = jobs.model.edges.filter((e) => e.from.startsWith("end#"));
    expect(oneToOne.map((e) => [e.from, e.to])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => [`end#${i}`, `back\\slash#${i}`]));
  });
});
