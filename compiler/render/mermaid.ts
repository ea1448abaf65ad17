import type { Plan } from "../../contract/plan.js";
import { unreachable } from "../../contract/unreachable.js";
import type { RenderOptions } from "./legend.js";
import { graphModel, type GraphEdge, type GraphModel } from "./model.js";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f]/g;

/**
 * Text inside a Mermaid `"…"` label. Mermaid has no backslash escapes; it
 * decodes `#name;` and `#code;` entities, and renders labels as HTML, so
 * `#`, `"`, `&`, `<`, `>` and the backtick (which would start a markdown
 * string) are written as entities. Lines are joined with `<br/>`.
 */
export function mermaidText(lines: readonly string[]): string {
  const escape = (line: string) =>
    line
      .replace(CONTROL, "\uFFFD")
      .replace(/#/g, "#35;")
      .replace(/"/g, "#quot;")
      .replace(/&/g, "#amp;")
      .replace(/</g, "#lt;")
      .replace(/>/g, "#gt;")
      .replace(/`/g, "#96;");
  return `"${lines
    .flatMap((l) => l.split(/\r\n|\r|\n/))
    .map(escape)
    .join("<br/>")}"`;
}

/**
 * Mermaid ids are plain words: anything else becomes `_`, repeats get a
 * suffix, and a prefix per kind keeps clear of keywords like `end`.
 */
class MermaidIds {
  readonly #taken = new Set<string>();
  readonly #byKey = new Map<string, string>();

  add(prefix: string, key: string): string {
    const base = prefix + key.replace(/[^A-Za-z0-9_]/g, "_");
    let id = base;
    for (let n = 2; this.#taken.has(id); n++) id = `${base}_${n}`;
    this.#taken.add(id);
    this.#byKey.set(key, id);
    return id;
  }

  /** The id given to a model key (node and cluster keys are distinct). */
  of(key: string): string {
    return this.#byKey.get(key)!;
  }
}

/** Link text by kind: 1:1 solid, all thick, match and map dotted (map with a finer dash, set by `linkStyle`). */
function arrow(kind: GraphEdge["kind"]): string {
  switch (kind) {
    case "one-to-one":
      return "-->";
    case "all":
      return "==>";
    case "match":
    case "map":
      return "-.->";
    case "expand":
      return "-->";
    default:
      return unreachable(kind);
  }
}

/** The plan as a Mermaid `flowchart LR`, the same drawing as the DOT output. */
export function renderMermaid(plan: Plan, options: RenderOptions = {}): string {
  return renderMermaidModel(graphModel(plan), options);
}

/** A drawing (the task graph, or the job graph of compiler/render/jobs.ts) as a Mermaid `flowchart LR`. */
export function renderMermaidModel(model: GraphModel, options: RenderOptions = {}): string {
  const ids = new MermaidIds();
  const out: string[] = ["---", `title: ${JSON.stringify(model.title.join(" · "))}`, "---", "flowchart LR"];
  const fineDash: number[] = [];
  let links = 0;
  for (const node of model.nodes) out.push(`  ${ids.add("t_", node.key)}[${mermaidText(node.lines)}]`);
  for (const cluster of model.clusters) {
    out.push(`  subgraph ${ids.add("c_", cluster.key)}[${mermaidText(cluster.lines)}]`);
    out.push("    direction LR");
    for (const node of cluster.nodes) out.push(`    ${ids.add("s_", node.key)}[${mermaidText(node.lines)}]`);
    for (const [i, node] of cluster.nodes.entries()) {
      const next = cluster.nodes[i + 1];
      if (!cluster.chained || next === undefined) continue;
      out.push(`    ${ids.of(node.key)} --> ${ids.of(next.key)}`);
      links++;
    }
    out.push("  end");
  }
  for (const edge of model.edges) {
    const from = ids.of(edge.fromCluster ?? edge.from);
    const to = ids.of(edge.toCluster ?? edge.to);
    out.push(`  ${from} ${arrow(edge.kind)}${edge.lines.length > 0 ? `|${mermaidText(edge.lines)}|` : ""} ${to}`);
    if (edge.kind === "map") fineDash.push(links);
    links++;
  }
  if (options.legend === true && model.legend !== null) {
    // Sample links between blank points, the way each kind is drawn (Mermaid has no hollow arrowhead: `after` edges say so in their label).
    const legend = model.legend;
    out.push(`  subgraph ${ids.add("l_", legend.key)}["edge kinds"]`, "    direction TB");
    const points: string[] = [];
    for (const entry of legend.entries) {
      const from = ids.add("l_", entry.from);
      const to = ids.add("l_", entry.to);
      points.push(from, to);
      out.push(`    ${from}[" "] ${arrow(entry.kind)}|${mermaidText([entry.text])}| ${to}[" "]`);
      if (entry.kind === "map") fineDash.push(links);
      links++;
    }
    out.push("  end", `  classDef wfcLegendPoint fill:none,stroke:none`, `  class ${points.join(",")} wfcLegendPoint`);
  }
  // Mermaid numbers links in the order they are written, internal ones included.
  if (fineDash.length > 0) out.push(`  linkStyle ${fineDash.join(",")} stroke-dasharray:2 4`);
  return out.join("\n") + "\n";
}
