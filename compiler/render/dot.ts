import type { Plan } from "../../contract/plan.js";
import { unreachable } from "../../contract/unreachable.js";
import type { Legend, RenderOptions } from "./legend.js";
import { graphModel, type GraphEdge, type GraphModel } from "./model.js";

// Control characters other than line breaks cannot be shown; Graphviz would reject some.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f]/g;

/** A DOT double-quoted string: the only escape DOT itself knows is `\"`; `\\` keeps label escapes (`\n`, `\N`) literal. */
export function dotId(text: string): string {
  return `"${text
    .replace(CONTROL, "\uFFFD")
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, "\\n")}"`;
}

/** A label of several centred lines. */
function dotLabel(lines: readonly string[]): string {
  return dotId(lines.join("\n"));
}

function edgeStyle(kind: GraphEdge["kind"]): string {
  switch (kind) {
    case "one-to-one":
      return "solid";
    case "all":
      return "bold";
    case "match":
      return "dashed";
    case "map":
      return "dotted";
    case "expand":
      return "tapered";
    default:
      return unreachable(kind);
  }
}

/**
 * The plan as a Graphviz digraph: a box per task, a cluster per fused task
 * with a box per step, edges styled by kind (1:1 solid, all bold, match
 * dashed, map dotted; `after` with a hollow arrowhead).
 */
export function renderDot(plan: Plan, options: RenderOptions = {}): string {
  return renderDotModel(graphModel(plan), plan.name, options);
}

/** A drawing (the task graph, or the job graph of compiler/render/jobs.ts) as a Graphviz digraph. */
export function renderDotModel(model: GraphModel, name: string, options: RenderOptions = {}): string {
  const out: string[] = [];
  out.push(`digraph ${dotId(name)} {`);
  out.push(`  graph [rankdir=LR, compound=true, labelloc=t, fontname="Helvetica", label=${dotLabel(model.title)}];`);
  out.push(`  node [shape=box, style=rounded, fontname="Helvetica"];`);
  out.push(`  edge [fontname="Helvetica", fontsize=10];`);
  for (const node of model.nodes) out.push(`  ${dotId(node.key)} [label=${dotLabel(node.lines)}];`);
  for (const cluster of model.clusters) {
    out.push(`  subgraph ${dotId(`cluster_${cluster.key}`)} {`);
    out.push(`    label=${dotLabel(cluster.lines)};`);
    out.push(`    style="rounded,dashed";`);
    for (const node of cluster.nodes) out.push(`    ${dotId(node.key)} [label=${dotLabel(node.lines)}];`);
    for (const [i, node] of cluster.nodes.entries()) {
      const next = cluster.nodes[i + 1];
      if (cluster.chained && next !== undefined) out.push(`    ${dotId(node.key)} -> ${dotId(next.key)};`);
    }
    out.push("  }");
  }
  for (const edge of model.edges) {
    const attrs = [`label=${dotLabel(edge.lines)}`, `style=${edgeStyle(edge.kind)}`];
    if (edge.after) attrs.push("arrowhead=empty");
    if (edge.fromCluster !== null) attrs.push(`ltail=${dotId(`cluster_${edge.fromCluster}`)}`);
    if (edge.toCluster !== null) attrs.push(`lhead=${dotId(`cluster_${edge.toCluster}`)}`);
    out.push(`  ${dotId(edge.from)} -> ${dotId(edge.to)} [${attrs.join(", ")}];`);
  }
  if (options.legend === true && model.legend !== null) out.push(...dotLegend(model.legend));
  out.push("}");
  return out.join("\n") + "\n";
}

/** The legend: a cluster of sample edges between blank points, each labelled with what its kind means. */
function dotLegend(legend: Legend): string[] {
  const out = [`  subgraph ${dotId(`cluster_${legend.key}`)} {`, `    label="edge kinds";`, `    style="rounded,dotted";`];
  out.push(`    node [shape=point, width=0.05, label=""];`);
  for (const entry of legend.entries) {
    out.push(`    ${dotId(entry.from)};`, `    ${dotId(entry.to)};`);
    const attrs = [`label=${dotId(entry.text)}`, `style=${edgeStyle(entry.kind)}`];
    if (entry.after) attrs.push("arrowhead=empty");
    out.push(`    ${dotId(entry.from)} -> ${dotId(entry.to)} [${attrs.join(", ")}];`);
  }
  out.push("  }");
  return out;
}
