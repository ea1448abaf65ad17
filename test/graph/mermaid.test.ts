import { JSDOM } from "jsdom";
import { beforeAll, describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import type { Plan } from "../../contract/plan.js";
import { renderMermaid, mermaidText } from "../../compiler/render/mermaid.js";
import { graphModel } from "../../compiler/render/model.js";
import { awkwardPlan, samplePlan, samples } from "./plans.js";

/**
 * Mermaid's own parser (the `mermaid` package, the one that renders), run
 * headless: it needs a DOM only for DOMPurify, which jsdom provides.
 */
type Mermaid = typeof import("mermaid").default;
let mermaid: Mermaid;

interface FlowDb {
  getVertices(): Map<string, { id: string; text?: string }>;
  getEdges(): { start: string; end: string; text: string; stroke: string; style?: string[] }[];
  getSubGraphs(): { id: string; title: string; nodes: string[] }[];
}

beforeAll(async () => {
  const { window } = new JSDOM("");
  Object.assign(globalThis, { window, document: window.document });
  mermaid = (await import("mermaid")).default;
  mermaid.initialize({ startOnLoad: false });
});

/** Mermaid keeps `#name;` / `#code;` entities in an internal form until rendering; undo that and the line breaks. */
function decode(text: string): string {
  const named: Record<string, string> = { quot: '"', amp: "&", lt: "<", gt: ">" };
  return text
    .replace(/<br\s*\/?>/g, "\n")
    .replace(/ﬂ°°(\d+)¶ß/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/ﬂ°(\w+)¶ß/g, (whole, name: string) => named[name] ?? whole);
}

/** Parses a rendered flowchart: the frontmatter title, and the flowchart as Mermaid's parser sees it. */
async function parsed(text: string): Promise<{ title: string; db: FlowDb }> {
  await mermaid.parse(text); // throws with Mermaid's own message on a syntax error
  const [, front, body] = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text) ?? [];
  expect(body).toBeDefined();
  const title = (parseYaml(front!) as { title: string }).title;
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(body!);
  return { title, db: diagram.db as unknown as FlowDb };
}

describe("Mermaid's parser reads the output back as drawn", () => {
  const cases: [string, () => Promise<Plan> | Plan][] = [
    ...samples.map((s) => [s, () => samplePlan(s)] as [string, () => Promise<Plan>]),
    ["awkward", awkwardPlan],
  ];
  test.for(cases)("%s: every label, node, cluster and edge round-trips", async ([, make]) => {
    const plan = await make();
    const model = graphModel(plan);
    const { title, db } = await parsed(renderMermaid(plan));
    expect(title).toBe(model.title.join(" · "));

    const labels = [...db.getVertices().values()].filter((v) => !v.id.startsWith("c_")).map((v) => decode(v.text ?? ""));
    const expected = [...model.nodes, ...model.clusters.flatMap((c) => c.nodes)].map((n) => n.lines.join("\n"));
    expect(labels.sort()).toEqual(expected.sort());

    const clusters = db.getSubGraphs().map((c) => [decode(c.title), c.nodes.length]);
    expect(clusters.sort()).toEqual(model.clusters.map((c) => [c.lines.join("\n"), c.nodes.length]).sort());

    const edges = db.getEdges();
    const internal = model.clusters.reduce((n, c) => n + c.nodes.length - 1, 0);
    expect(edges).toHaveLength(model.edges.length + internal);
    const strokes = { "one-to-one": "normal", all: "thick", match: "dotted", map: "dotted", expand: "normal" } as const;
    const drawn = edges.slice(internal).map((e) => [decode(e.text), e.stroke, e.style?.[0] ?? null]);
    expect(drawn).toEqual(model.edges.map((e) => [e.lines.join("\n"), strokes[e.kind], e.kind === "map" ? "stroke-dasharray:2 4" : null]));
  });

  test("awkward names: ids are plain words, never a keyword; labels keep the names", async () => {
    const text = renderMermaid(awkwardPlan());
    const { db } = await parsed(text);
    const ids = [...db.getVertices().keys()];
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_]+$/);
    expect(ids).toContain("t_end");
    expect(ids).not.toContain("end");
    const labels = [...db.getVertices().values()].map((v) => decode(v.text ?? "").split("\n")[0]);
    expect(labels).toEqual(expect.arrayContaining(['fetch-"raw"', "back\\slash", "résumé", "end"]));
  });

  test("exact output for the awkward plan", () => {
    expect(renderMermaid(awkwardPlan())).toBe(
      [
        "---",
        'title: "awk \\"ward\\" ünï · 6 tasks, 53 jobs, at most 4 at once"',
        "---",
        "flowchart LR",
        '  t_back_slash["back\\slash<br/>10 elements<br/>executor local (threads)<br/>priority 1 s"]',
        '  t_end["end<br/>10 elements<br/>executor local (threads)<br/>priority 1 s"]',
        '  t_fetch__raw_["fetch-#quot;raw#quot;<br/>10 elements<br/>executor local (threads)<br/>priority 4.5 s"]',
        '  t_r_sum_["résumé<br/>10 elements<br/>executor local (threads)<br/>cap 5<br/>priority 2 s"]',
        '  t_setup["setup<br/>10 elements<br/>executor local (threads)<br/>priority 5 s"]',
        '  subgraph c_align_sort["align+sort<br/>10 elements, 3 jobs of 4<br/>executor htex (processes)<br/>limit db-#lt;1#gt; (4 at once), weight 2<br/>priority 3 s"]',
        "    direction LR",
        '    s_align_sort_align["align"]',
        '    s_align_sort_sort["sort"]',
        "    s_align_sort_align --> s_align_sort_sort",
        "  end",
        '  c_align_sort ==>|"after"| t_end',
        '  s_align_sort_sort -.->|"by i→j<br/>size=small<br/>if k=x#35;1"| t_r_sum_',
        '  t_end -->|"1:1"| t_back_slash',
        '  t_fetch__raw_ -.->|"map"| s_align_sort_align',
        '  t_r_sum_ ==>|"all"| t_end',
        '  t_setup ==>|"after"| c_align_sort',
        "  linkStyle 4 stroke-dasharray:2 4",
        "",
      ].join("\n"),
    );
  });

  test("ids that sanitise alike stay distinct", async () => {
    const plan = awkwardPlan();
    const setup = plan.tasks.find((t) => t.id === "setup")!;
    const named = (id: string) => ({ ...setup, id, stages: [id], steps: [{ ...setup.steps[0]!, stage: id }] });
    const text = renderMermaid({ ...plan, tasks: [...plan.tasks, named("set-up"), named("set_up")] });
    expect(text).toContain('  t_set_up["set-up<br/>');
    expect(text).toContain('  t_set_up_2["set_up<br/>');
    expect(text).toContain('  t_setup["setup<br/>');
    await parsed(text);
  });

  test("label escapes: quotes, entities, HTML and backticks are written as Mermaid entities", () => {
    expect(mermaidText(['a "b" #c; <d> & `e`', "second"])).toBe('"a #quot;b#quot; #35;c; #lt;d#gt; #amp; #96;e#96;<br/>second"');
  });

  test("a broken flowchart is rejected (the check can fail)", async () => {
    await expect(mermaid.parse('flowchart LR\n  a["x" --> b\n')).rejects.toThrow(/Parse error/);
    await expect(mermaid.parse("flowchart LR\n  end --> b\n")).rejects.toThrow(/Parse error/);
  });
});
