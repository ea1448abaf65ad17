import { createHash } from "node:crypto";
import type { PlanStep } from "../../contract/plan.js";
import { duration, isoTime, kib } from "./display.js";
import { escapeHtml as h, jsonForScript } from "./escape.js";
import { planGraphSvg } from "./graph-svg.js";
import type { ReportModel, StageRow } from "./model.js";
import { TIMELINE_SCRIPT } from "./timeline-script.js";

/**
 * The report as one HTML file with nothing outside it: styles, the script
 * and the data inline, no fonts, images or links to fetch. Everything but
 * the timeline is written here as markup, each user value escaped; the
 * timeline's data is JSON in a `type="application/json"` script with `<`,
 * `>`, `&` escaped, read by the one script. The Content-Security-Policy
 * allows only that script (by its hash) and no request at all: even a
 * value that escaped escaping could neither run nor load anything.
 */
export function reportHtml(model: ReportModel, generator: string): string {
  const { run, plan } = model;
  const colourOf = new Map(model.stages.map((s) => [s.stage, s.colour]));
  const scriptHash = createHash("sha256").update(TIMELINE_SCRIPT).digest("base64");
  const csp = `default-src 'none'; script-src 'sha256-${scriptHash}'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`;
  const records = model.timeline.s.length;
  const failed = model.table.reduce((n, s) => n + s.failed, 0);
  const wall = run.end === null ? undefined : run.end - run.start;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${h(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${h(generator)}">
<title>${h(`wfc report: ${plan.name} (${run.id})`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${h(plan.name)}</h1>
<p class="summary" id="summary">${h(
    [
      `run ${run.id}`,
      outcomeWords(run.outcome),
      `started ${isoTime(run.start)}`,
      wall === undefined ? "no end recorded" : `took ${duration(wall)}`,
      `${count(records)} step${records === 1 ? "" : "s"} ran`,
      `${count(failed)} failed`,
      `${count(model.notRun)} up to date or not selected (not drawn)`,
    ].join(" · "),
  )}</p>
</header>

<section id="timeline-section">
<h2>Timeline</h2>
<p class="hint">One bar per step of an element this run ran, on rows of slots, coloured by stage; a red lower half: failed; pale: touched. Outlined and joined: the critical path. Hover a bar for its details; wheel to zoom, drag to pan, double-click to reset.</p>
<ul class="legend" id="legend">${model.stages.map((s) => `<li><span class="swatch" style="background:${s.colour}"></span>${h(s.stage)}</li>`).join("")}<li><span class="swatch failed"></span>failed</li><li><span class="swatch critical"></span>critical path</li></ul>
<div class="canvas-box"><canvas id="timeline" data-bars="0" data-records="${records}"></canvas></div>
<div id="tip" role="tooltip" hidden></div>
${criticalSection(model)}
</section>

<section id="stages">
<h2>Stages</h2>
${stageTable(model.table)}
<p class="hint">Wall: each step's measured wall time (else its end minus its start). CPU efficiency: (user + system CPU) / (wall × cpus requested), over the steps measured. Peak RSS: the largest resident memory of the step's command and its children.</p>
</section>

<section id="failures">
<h2>Failures</h2>
${failuresSection(model)}
</section>

<section id="graph">
<h2>Plan</h2>
<div class="graph-box">${planGraphSvg(plan, (s) => colourOf.get(s) ?? "#888")}</div>
</section>

<section id="run">
<h2>Run</h2>
${runSection(model)}
</section>
<footer>${h(`Made by ${generator} from .wfc/runs/${run.id}.json and .wfc/journal.ndjson.`)}</footer>
<script type="application/json" id="wfc-data">${jsonForScript(model.timeline)}</script>
<script>${TIMELINE_SCRIPT}</script>
</body>
</html>
`;
}

function outcomeWords(outcome: ReportModel["run"]["outcome"]): string {
  switch (outcome) {
    case "ok":
      return "succeeded";
    case "failed":
      return "failed";
    case "interrupted":
      return "interrupted";
    case null:
      return "still running, or killed";
  }
}

function criticalSection(model: ReportModel): string {
  if (model.critical.length === 0) return `<p id="critical">No critical path: this run ran nothing.</p>`;
  const first = model.critical[0]!;
  const last = model.critical.at(-1)!;
  const shown = model.critical.length > 12 ? [...model.critical.slice(0, 6), undefined, ...model.critical.slice(-5)] : model.critical;
  return `<details id="critical"><summary>${h(
    `Critical path: ${model.critical.length} step${model.critical.length === 1 ? "" : "s"}, from ${duration(first.start - model.timeline.t0)} to ${duration(last.end - model.timeline.t0)} after the start`,
  )}</summary><ol>${shown
    .map((c) => (c === undefined ? `<li class="gap">…</li>` : `<li>${h(`${c.stage} ${c.element}: ${duration(c.end - c.start)}`)}</li>`))
    .join("")}</ol></details>`;
}

function cell(value: number | undefined, format: (n: number) => string): string {
  return value === undefined ? `<td class="none">–</td>` : `<td>${h(format(value))}</td>`;
}

/** 100000 as 100,000. */
function count(n: number): string {
  return n.toLocaleString("en");
}

function stageTable(rows: readonly StageRow[]): string {
  const body = rows
    .map(
      (r) =>
        `<tr${r.jobs === 0 ? ' class="idle"' : ""}><th scope="row"><span class="swatch" style="background:${r.colour}"></span>${h(r.stage)}</th>` +
        `<td>${count(r.jobs)}</td><td>${count(r.ok)}</td><td${r.failed > 0 ? ' class="bad"' : ""}>${count(r.failed)}</td>` +
        cell(r.wallP50, duration) +
        cell(r.wallP95, duration) +
        cell(r.wallMax, duration) +
        cell(r.cpuEfficiency, (e) => `${Math.round(e * 100)}% of ${r.cpus}`) +
        cell(r.rssP50, kib) +
        cell(r.rssMax, kib) +
        `<td>${count(r.measured)}</td></tr>`,
    )
    .join("\n");
  return `<table class="stages"><thead><tr><th>stage</th><th>steps</th><th>ok</th><th>failed</th><th>wall p50</th><th>wall p95</th><th>wall max</th><th>CPU efficiency</th><th>peak RSS p50</th><th>peak RSS max</th><th>measured</th></tr></thead>
<tbody>
${body}
</tbody></table>`;
}

function failuresSection(model: ReportModel): string {
  if (model.failures.length === 0) return `<p>None.</p>`;
  const items = model.failures.map(
    (f) =>
      `<article class="failure"><h3>${h(`${f.stage} ${f.element}`)}</h3><p>${h(
        [
          f.exitCode === undefined ? "exit code unknown" : f.exitCode === null ? "killed by a signal" : `exit code ${f.exitCode}`,
          ...(f.attempt !== undefined ? [`attempt ${f.attempt}`] : []),
          `ended ${isoTime(f.end)}`,
          f.log === undefined ? "no log" : `log: ${f.log}`,
        ].join(" · "),
      )}</p>${f.tail === "" ? "" : `<pre class="log">${h(f.tail)}</pre>`}</article>`,
  );
  const more = model.moreFailures > 0 ? `<p>${h(`and ${model.moreFailures} earlier failures, not shown`)}</p>` : "";
  return items.join("\n") + more;
}

function runSection(model: ReportModel): string {
  const { run, plan } = model;
  const rows: [string, string][] = [
    ["command", ["wfc", ...run.argv].join(" ")],
    ["workflow", run.workflow],
    ["run in", run.cwd],
    ["started", isoTime(run.start)],
    ["ended", run.end === null ? "no end recorded" : isoTime(run.end)],
    ["outcome", outcomeWords(run.outcome)],
    ["wfc", run.wfc],
    [
      "host",
      `${run.host.hostname}: ${run.host.platform}, ${run.host.cpus} CPUs, ${kib(run.host.memoryBytes / 1024)} memory, Node ${run.host.node}`,
    ],
  ];
  const params = Object.entries(run.params);
  const executors = Object.entries(plan.executors).map(
    ([name, e]) => `${name}: ${e.type}${e.max === null ? "" : `, at most ${e.max} at once`}; runs ${e.runs.join(", ")}`,
  );
  const environments = plan.tasks.flatMap((t) => t.steps.flatMap((s) => environmentLine(s)));
  return `<table class="facts">${rows.map(([k, v]) => `<tr><th scope="row">${h(k)}</th><td>${h(v)}</td></tr>`).join("")}</table>
<h3>Params</h3>
${params.length === 0 ? "<p>None.</p>" : `<table class="facts" id="params">${params.map(([k, v]) => `<tr><th scope="row">${h(k)}</th><td><code>${h(typeof v === "string" ? v : JSON.stringify(v))}</code></td></tr>`).join("")}</table>`}
<h3>Executors</h3>
<ul>${executors.map((e) => `<li>${h(e)}</li>`).join("")}</ul>
<h3>Environments</h3>
${environments.length === 0 ? "<p>Every step ran on the host as it is.</p>" : `<ul>${environments.map((e) => `<li>${h(e)}</li>`).join("")}</ul>`}`;
}

function environmentLine(step: PlanStep): string[] {
  const env = step.environment;
  if (env === undefined) return [];
  const parts: string[] = [];
  if (env.container !== undefined) parts.push(`container ${env.container}`);
  if (env.modules !== undefined) parts.push(`modules ${env.modules.join(" ")}`);
  if (env.conda !== undefined)
    parts.push(
      `conda ${env.conda.kind === "file" ? `file ${env.conda.path}` : env.conda.kind === "prefix" ? `prefix ${env.conda.path}` : env.conda.name}`,
    );
  return [`${step.stage}: ${parts.join(", ")}`];
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; margin: 0 auto; padding: 0 24px 40px; max-width: 1400px; }
h1 { font-size: 22px; margin: 20px 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
.summary, .hint { color: #555; margin: 4px 0 10px; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 6px 0 10px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.swatch.failed { background: #d7191c; }
.swatch.critical { background: #fff; border: 2px solid #000; width: 9px; height: 9px; }
.canvas-box { border: 1px solid #ddd; border-radius: 4px; overflow: hidden; }
canvas { display: block; width: 100%; cursor: crosshair; }
#tip { position: absolute; background: #1d1d1f; color: #fff; padding: 6px 9px; border-radius: 4px; font: 12px/1.4 ui-monospace, monospace; white-space: pre-wrap; max-width: 560px; overflow-wrap: anywhere; pointer-events: none; z-index: 2; }
table { border-collapse: collapse; }
.stages th, .stages td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: right; }
.stages th[scope=row], .stages thead th:first-child { text-align: left; }
.stages thead th { font-weight: 600; border-bottom: 2px solid #ccc; }
.stages .idle { color: #999; }
td.none { color: #aaa; }
td.bad { color: #d7191c; font-weight: 600; }
.facts th { text-align: left; padding: 3px 14px 3px 0; vertical-align: top; font-weight: 600; }
.facts td { padding: 3px 0; overflow-wrap: anywhere; white-space: pre-wrap; }
.failure { border-left: 4px solid #d7191c; padding: 2px 12px; margin: 10px 0; }
.failure h3 { overflow-wrap: anywhere; white-space: pre-wrap; }
pre.log { background: #f6f6f6; padding: 8px; overflow: auto; max-height: 320px; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.graph-box { overflow: auto; }
#plan-graph text { font-family: system-ui, sans-serif; }
#critical ol { margin: 4px 0; }
#critical li { overflow-wrap: anywhere; }
footer { margin-top: 32px; color: #888; font-size: 12px; }
`;
