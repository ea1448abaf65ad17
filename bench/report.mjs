#!/usr/bin/env node
// Report benchmark (not a test): how long `wfc report` takes for a run of
// 100,000 journal records, how big the page is, and how long headless
// chromium takes to load it and draw its timeline. The run is synthetic
// (a plan compiled from a two-stage workflow of 50,000 elements each, a
// journal of 100,000 records packed on 16 slots with measured usage and a
// few failures, and its RunRecord), so the bench needs no 100,000 jobs.
//
//   npm run build && node bench/report.mjs [--records=N] [--keep]
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { flag, option } from "./format.mjs";

/* global document, WheelEvent -- the functions given to page.evaluate run in the browser */

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "dist/cli/bin.js");
const records = Number(option("records") ?? "100000");
const keep = flag("keep");
const CHROMIUM = "/usr/bin/chromium";

if (!existsSync(bin)) {
  console.error("bench/report.mjs: dist/ is missing; run `npm run build` first");
  process.exit(2);
}

const dir = mkdtempSync(join(os.tmpdir(), "wfc-bench-report-"));
const per = Math.ceil(records / 2);
writeFileSync(
  join(dir, "workflow.yaml"),
  `wfc: 1
name: report-bench
stages:
  align:
    foreach: { i: { range: [0, ${per}] } }
    outputs: "a/{i}"
    run: "touch {outputs}"
  count:
    foreach: { i: { range: [0, ${per}] } }
    inputs: "a/{i}"
    outputs: "c/{i}"
    run: "wc -c {inputs} > {outputs}"
`,
);
execFileSync(process.execPath, [bin, "compile", "workflow.yaml", "-o", "plan.json"], { cwd: dir, env: { ...process.env, WFC_CONFIG: "" } });
const plan = JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(join(dir, "plan.json"), "utf8")));

// A deterministic pseudo-random stream (no Math.random: the same journal every time).
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;

const start = Date.UTC(2026, 11, 3, 12, 0, 0);
const id = `${new Date(start).toISOString().replace(/[-:]/g, "")}-4242`;
const SLOTS = 16;
const free = new Array(SLOTS).fill(start + 50);
const lines = [];
let end = start;
const ranAlign = new Array(per).fill(0);
for (let n = 0; n < records; n++) {
  const stage = n < per ? "align" : "count";
  const i = n < per ? n : n - per;
  const slot = n % SLOTS;
  const ready = stage === "count" ? ranAlign[i] : start;
  const s = Math.max(free[slot], ready);
  const wall = 5 + rand() * 40 + (stage === "count" ? 20 : 0);
  const e = s + wall;
  free[slot] = e;
  if (stage === "align") ranAlign[i] = e;
  end = Math.max(end, e);
  const failed = stage === "count" && i % 9973 === 0;
  lines.push(
    JSON.stringify({
      stage,
      element: `i=${i}`,
      status: failed ? "failed" : "done",
      hash: "0".repeat(64),
      start: s,
      end: e,
      exitCode: failed ? 1 : 0,
      usage: { wallMs: wall, userMs: wall * 0.8 * rand(), sysMs: wall * 0.05, maxRssKb: Math.round(2048 + rand() * 60000), via: "wait4" },
      run: id,
    }),
  );
}
mkdirSync(join(dir, ".wfc", "runs"), { recursive: true });
writeFileSync(join(dir, ".wfc", "journal.ndjson"), `${lines.join("\n")}\n`);
writeFileSync(
  join(dir, ".wfc", "runs", `${id}.json`),
  JSON.stringify({
    id,
    wfc: plan.wfc,
    start,
    end: end + 10,
    outcome: "failed",
    argv: ["run", "workflow.yaml", "-k"],
    cwd: dir,
    workflow: join(dir, "workflow.yaml"),
    params: {},
    host: {
      hostname: os.hostname(),
      platform: process.platform,
      cpus: os.cpus().length,
      memoryBytes: os.totalmem(),
      node: process.version,
    },
    plan,
  }),
);

const t = process.hrtime.bigint();
execFileSync(process.execPath, [bin, "report", "-o", "report.html"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
const generateMs = Number(process.hrtime.bigint() - t) / 1e6;
const size = statSync(join(dir, "report.html")).size;
console.log(`records:          ${records.toLocaleString("en")}`);
console.log(`wfc report:       ${(generateMs / 1000).toFixed(2)} s (the whole command: Node start, read, compute, write)`);
console.log(`page size:        ${(size / 1024 / 1024).toFixed(1)} MiB`);

if (existsSync(CHROMIUM)) {
  const { default: puppeteer } = await import("puppeteer-core");
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const l = process.hrtime.bigint();
    await page.goto(pathToFileURL(join(dir, "report.html")).href, { waitUntil: "load" });
    await page.waitForFunction(() => Number(document.getElementById("timeline")?.getAttribute("data-bars")) > 0);
    const loadMs = Number(process.hrtime.bigint() - l) / 1e6;
    const bars = await page.$eval("#timeline", (c) => Number(c.getAttribute("data-bars")));
    // One redraw, as a zoom or pan does.
    const redrawMs = await page.evaluate(() => {
      const c = document.getElementById("timeline");
      const t0 = performance.now();
      c.dispatchEvent(new WheelEvent("wheel", { deltaY: -100, clientX: 300, clientY: 100, bubbles: true, cancelable: true }));
      return performance.now() - t0;
    });
    console.log(`chromium load:    ${(loadMs / 1000).toFixed(2)} s (to the timeline drawn: ${bars.toLocaleString("en")} bars)`);
    console.log(`redraw (zoom):    ${redrawMs.toFixed(0)} ms`);
    if (errors.length > 0) console.log(`page errors:      ${errors.join("; ")}`);
  } finally {
    await browser.close();
  }
} else console.log(`chromium load:    skipped (${CHROMIUM} is missing)`);

if (keep) console.log(`kept: ${join(dir, "report.html")}`);
else rmSync(dir, { recursive: true, force: true });
