import type { ElementEdge, Plan, PlanTask } from "../../contract/plan.js";
import { escapeHtml } from "./escape.js";

/** How each kind of edge is drawn: stroke, dashes, width; the legend shows the same. */
const EDGE_STYLE: Readonly<
  Record<ElementEdge["kind"], { readonly colour: string; readonly dash: string; readonly width: number; readonly words: string }>
> = {
  "one-to-one": { colour: "#444", dash: "", width: 1.5, words: "one-to-one (element i waits for element i)" },
  all: { colour: "#111", dash: "", width: 3, words: "all (waits for every element)" },
  match: { colour: "#2a6fb0", dash: "7 4", width: 1.5, words: "match (elements with equal variables)" },
  map: { colour: "#7a5a00", dash: "2 4", width: 2, words: "map (an explicit element map)" },
  expand: { colour: "#a0307a", dash: "10 3 2 3", width: 2, words: "expand (the producer decides the elements)" },
};

const W = 210;
const H = 46;
const GAP_X = 70;
const GAP_Y = 22;
const PAD = 12;

/**
 * The plan's graph as inline SVG: one box per task (its stages, coloured
 * by its first stage as on the timeline; its elements), laid out in
 * columns by dependency depth, one curve per dependency styled by its
 * edge kind, and a legend. Every name is escaped.
 */
export function planGraphSvg(plan: Plan, colourOf: (stage: string) => string): string {
  const depth = new Map<string, number>();
  for (const t of plan.tasks) depth.set(t.id, Math.max(0, ...t.deps.map((d) => (depth.get(d.task) ?? 0) + 1)));
  const columns: PlanTask[][] = [];
  for (const t of plan.tasks) (columns[depth.get(t.id)!] ??= []).push(t);
  const at = new Map<string, { x: number; y: number }>();
  columns.forEach((tasks, c) => tasks.forEach((t, r) => at.set(t.id, { x: PAD + c * (W + GAP_X), y: PAD + r * (H + GAP_Y) })));
  const tallest = Math.max(1, ...columns.map((c) => c.length));
  const kinds = [...new Set(plan.tasks.flatMap((t) => t.deps.map((d) => d.edge.kind)))].sort();
  const legendY = PAD + tallest * (H + GAP_Y);
  const width = Math.max(PAD * 2 + columns.length * (W + GAP_X) - GAP_X, 360);
  const height = legendY + 22 * Math.max(1, kinds.length) + PAD;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" id="plan-graph" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="the plan's graph">`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#444"/></marker></defs>`,
  );
  for (const t of plan.tasks) {
    const to = at.get(t.id)!;
    for (const d of t.deps) {
      const from = at.get(d.task);
      if (from === undefined) continue;
      const s = EDGE_STYLE[d.edge.kind];
      const x1 = from.x + W;
      const y1 = from.y + H / 2;
      const x2 = to.x;
      const y2 = to.y + H / 2;
      const mid = (x1 + x2) / 2;
      parts.push(
        `<path class="edge" data-kind="${d.edge.kind}" d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}" fill="none" stroke="${s.colour}" stroke-width="${s.width}"${s.dash === "" ? "" : ` stroke-dasharray="${s.dash}"`} marker-end="url(#arrow)"><title>${escapeHtml(`${d.task} → ${t.id}: ${d.edge.kind}${d.input === null ? " (after)" : ""}`)}</title></path>`,
      );
    }
  }
  for (const t of plan.tasks) {
    const { x, y } = at.get(t.id)!;
    const label = t.stages.length === 1 ? t.stages[0]! : `${t.id}: ${t.stages.join(" → ")}`;
    const size =
      t.space.dynamic !== undefined
        ? "elements decided at run time"
        : `${t.space.size} element${t.space.size === 1 ? "" : "s"}, ${t.executor}`;
    parts.push(
      `<g class="task" data-task="${escapeHtml(t.id)}"><title>${escapeHtml(`${t.id}\nstages: ${t.stages.join(", ")}\n${size}`)}</title>`,
      `<rect x="${x}" y="${y}" width="${W}" height="${H}" rx="6" fill="#fff" stroke="${colourOf(t.stages[0]!)}" stroke-width="2.5"/>`,
      `<rect x="${x}" y="${y}" width="8" height="${H}" rx="3" fill="${colourOf(t.stages[0]!)}"/>`,
      `<text x="${x + 16}" y="${y + 19}" font-size="13" font-weight="600">${escapeHtml(clip(label, 27))}</text>`,
      `<text x="${x + 16}" y="${y + 36}" font-size="11" fill="#555">${escapeHtml(clip(size, 32))}</text></g>`,
    );
  }
  kinds.forEach((kind, i) => {
    const s = EDGE_STYLE[kind];
    const y = legendY + 11 + i * 22;
    parts.push(
      `<line x1="${PAD}" y1="${y}" x2="${PAD + 44}" y2="${y}" stroke="${s.colour}" stroke-width="${s.width}"${s.dash === "" ? "" : ` stroke-dasharray="${s.dash}"`}/>`,
      `<text x="${PAD + 54}" y="${y + 4}" font-size="12">${escapeHtml(s.words)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** At most `n` characters, the rest as `…` (the box's title has the whole). */
function clip(text: string, n: number): string {
  const chars = [...text];
  return chars.length <= n ? text : `${chars.slice(0, n - 1).join("")}…`;
}
