/**
 * `wfc report` (issue 16): a real run, then the page it writes, loaded in
 * a real headless chromium (puppeteer-core driving /usr/bin/chromium): no
 * console error, no request but the page's own URL, one bar per record on
 * the timeline, a hovered bar's stage and element, hostile element values
 * and params shown as text, and a screenshot for a person to look at.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { TimelineData } from "../../runtime/report/model.js";
import { copySample, fixture, wfc } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`report browser tests skipped: ${CHROMIUM} is missing (install Debian's chromium; CI has it)`);

const HOSTILE = "</script><img src=x onerror=alert(1)>";
const VALUES = ["plain", HOSTILE, `quo"te's`, "new\nline"];

/** A workflow whose elements and param are hostile, three of whose four elements fail after printing hostile text. */
function hostileWorkflow(): string {
  return fixture({
    "workflow.yaml": {
      wfc: 1,
      name: "hostile-report",
      params: { note: `${HOSTILE} "q" 'a'\nsecond line` },
      stages: {
        make: {
          foreach: { s: VALUES },
          outputs: "out/{s}.txt",
          run: "printf '%s\\n' {s} > {outputs}; printf 'about %s\\n' {s}; sleep 0.2",
        },
        check: {
          foreach: { s: VALUES },
          inputs: "out/{s}.txt",
          outputs: "out/{s}.ok",
          run: "cat {inputs}; if [ {s} != plain ]; then echo 'boom </script><img src=x onerror=alert(2)>' >&2; exit 3; fi; touch {outputs}",
        },
        sum: { inputs: "out/*.ok", outputs: "out/sum", run: "cat {inputs} > {outputs}" },
      },
    },
  });
}

/** Runs the workflow for real; returns the run's id (the RunRecord it wrote). */
async function runFor(dir: string, args: readonly string[], outcome: "ok" | "failed"): Promise<string> {
  const ran = await wfc(["run", "workflow.yaml", ...args], { cwd: dir });
  expect(ran.exitCode, ran.stderr).toBe(outcome === "ok" ? 0 : 1);
  const runs = readdirSync(join(dir, ".wfc", "runs"));
  expect(runs).toHaveLength(1);
  return runs[0]!.replace(/\.json$/, "");
}

/** What the page did while it loaded: console errors, uncaught errors, requests, dialogs (an alert would be one). */
interface Visit {
  readonly page: Page;
  readonly errors: string[];
  readonly requests: string[];
  readonly dialogs: string[];
}

async function open(browser: Browser, file: string): Promise<Visit> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const url = pathToFileURL(file).href;
  const visit: Visit = { page, errors: [], requests: [], dialogs: [] };
  page.on("console", (m) => {
    if (m.type() === "error") visit.errors.push(m.text());
  });
  page.on("pageerror", (e) => visit.errors.push(String(e)));
  page.on("dialog", (d) => {
    visit.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    visit.requests.push(req.url());
    if (req.url() === url) void req.continue();
    else void req.abort();
  });
  await page.goto(url, { waitUntil: "load" });
  return visit;
}

async function timelineData(page: Page): Promise<TimelineData> {
  return JSON.parse(await page.$eval("#wfc-data", (s) => s.textContent ?? "")) as TimelineData;
}

/** Hovers bar i (its position from the page) and returns the tooltip's text, or "" when none shows. */
async function hover(page: Page, i: number): Promise<string> {
  await page.mouse.move(0, 0);
  const p = await page.evaluate(
    (j) => (window as unknown as { wfcTimeline: { point(i: number): { x: number; y: number } } }).wfcTimeline.point(j),
    i,
  );
  await page.mouse.move(p.x, p.y);
  return page.$eval("#tip", (t) => ((t as HTMLElement).hidden ? "" : (t.textContent ?? "")));
}

async function screenshot(page: Page, path: string): Promise<void> {
  await page.screenshot({ path, fullPage: true });
  console.log(`report screenshot: ${path}`);
}

/** The journal records a run wrote. */
function recordsOf(dir: string, run: string): { stage: string; element: string; status: string }[] {
  return readFileSync(join(dir, ".wfc", "journal.ndjson"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { stage: string; element: string; status: string; run?: string })
    .filter((r) => r.run === run);
}

describe.skipIf(!haveChromium)("wfc report in a real browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  test("a failed run with hostile values: one bar per record, hover tells stage and element, every value shows as text, nothing loads", async () => {
    const dir = hostileWorkflow();
    const id = await runFor(dir, ["-k"], "failed");
    const records = recordsOf(dir, id);
    expect(records).toHaveLength(8);

    const made = await wfc(["report", "-o", "report.html"], { cwd: dir });
    expect(made.stderr).toBe("");
    expect(made.exitCode).toBe(0);
    expect(made.stdout).toContain(`report.html: report of run ${id} (8 steps, 3 failed)`);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    // The only `</script>` in the file are the page's own two.
    expect(html.split("</script>")).toHaveLength(3);

    const { page, errors, requests, dialogs } = await open(browser, join(dir, "report.html"));
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(join(dir, "report.html")).href]);
    expect(dialogs).toEqual([]);
    expect(await page.$$eval("img", (l) => l.length)).toBe(0);

    expect(Number(await page.$eval("#timeline", (c) => c.getAttribute("data-bars")))).toBe(records.length);
    const data = await timelineData(page);
    expect(data.e.toSorted()).toEqual(
      records
        .map(() => "")
        .map((_, i) => data.e[i]!)
        .toSorted(),
    );
    const hostileBar = data.e.findIndex((e, i) => e === `s=${HOSTILE}` && data.stages[data.s[i]!] === "check");
    expect(hostileBar).toBeGreaterThanOrEqual(0);
    const tip = await hover(page, hostileBar);
    expect(tip).toContain("stage: check");
    expect(tip).toContain(`element: s=${HOSTILE}`);
    expect(tip).toContain("status: failed (exit 3)");
    // Measured by the pool worker (wait4): the step's peak RSS and CPU.
    expect(tip).toMatch(/peak RSS: \d/);
    expect(tip).toMatch(/CPU: \d/);
    const newline = data.e.findIndex((e) => e === "s=new\nline");
    expect(await hover(page, newline)).toContain("element: s=new\nline");

    const failures = await page.$eval("#failures", (s) => s.textContent ?? "");
    expect(failures).toContain(`check s=${HOSTILE}`);
    expect(failures).toContain(`check s=quo"te's`);
    expect(failures).toContain("boom </script><img src=x onerror=alert(2)>");
    expect(failures).toContain(`about ${HOSTILE}`);
    expect(await page.$eval("#params", (t) => t.textContent ?? "")).toContain(`${HOSTILE} "q" 'a'\nsecond line`);
    const stages = await page.$$eval("#stages tbody tr", (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
    expect(stages.map((r) => r.slice(0, 4))).toEqual([
      ["make", "4", "4", "0"],
      ["check", "4", "1", "3"],
      ["sum", "0", "0", "0"],
    ]);
    // Every record of the run was measured: wall, CPU efficiency and peak RSS are figures, not dashes.
    expect(stages[0]!.slice(4)).not.toContain("–");
    expect(stages[0]!.at(-1)).toBe("4");
    expect(await page.$$eval("#plan-graph .task", (l) => l.map((g) => g.getAttribute("data-task")))).toEqual(["make+check", "sum"]);
    await screenshot(page, join(dir, "report.png"));
    await page.close();
  });

  test("a dynamic sample: the critical path follows the elements each waited for, through expand and match edges", async () => {
    const dir = copySample("reads-split");
    const id = await runFor(dir, [], "ok");
    const records = recordsOf(dir, id);
    const made = await wfc(["report"], { cwd: dir });
    expect(made.exitCode, made.stderr).toBe(0);
    expect(made.stdout).toContain("wfc-report.html: report of run");

    const { page, errors, requests } = await open(browser, join(dir, "wfc-report.html"));
    expect(errors).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(Number(await page.$eval("#timeline", (c) => c.getAttribute("data-bars")))).toBe(records.length);
    const data = await timelineData(page);
    // split → map → merge → summarize, each step one the next waited for (sample A has the most chunks).
    const path = data.crit.map((i) => data.stages[data.s[i]!]);
    expect(path[0]).toBe("split");
    expect(path.at(-1)).toBe("summarize");
    expect(path).toContain("map");
    const crit = data.crit.map((i) => data.e[i]!);
    const sample = /^sample=([^,]+)/.exec(crit[0]!)![1];
    expect(crit.slice(0, -1).every((e) => e.startsWith(`sample=${sample}`))).toBe(true);
    // Each step on the path starts after the one before it ends.
    for (let k = 1; k < data.crit.length; k++) expect(data.a[data.crit[k]!]!).toBeGreaterThanOrEqual(data.b[data.crit[k - 1]!]! - 1);
    const tip = await hover(page, data.crit[1]!);
    expect(tip).toContain("on the critical path");
    expect(await page.$$eval("#plan-graph .edge", (l) => l.map((e) => e.getAttribute("data-kind")).sort())).toContain("expand");
    await screenshot(page, join(dir, "wfc-report.png"));
    await page.close();
  });

  test("20,000 records: every one counted on the timeline though most are under a pixel, and a hover still finds its own", async () => {
    const dir = await syntheticRun(20_000);
    const made = await wfc(["report", "-o", "big.html"], { cwd: dir });
    expect(made.exitCode, made.stderr).toBe(0);
    const { page, errors, requests } = await open(browser, join(dir, "big.html"));
    expect(errors).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(Number(await page.$eval("#timeline", (c) => c.getAttribute("data-bars")))).toBe(20_000);
    const data = await timelineData(page);
    expect(data.rows).toBe(8);
    // Zoomed in around the last bar (wheel at its place) until bars are pixels wide, a hover finds it.
    const last = data.e.indexOf("i=19999");
    for (let k = 0; k < 16; k++) {
      const p = await page.evaluate(
        (j) => (window as unknown as { wfcTimeline: { point(i: number): { x: number; y: number } } }).wfcTimeline.point(j),
        last,
      );
      await page.mouse.move(p.x, p.y);
      await page.mouse.wheel({ deltaY: -100 });
    }
    expect(Number(await page.$eval("#timeline", (c) => c.getAttribute("data-bars")))).toBeLessThan(20_000);
    expect(await hover(page, last)).toContain("element: i=19999");
    await screenshot(page, join(dir, "big.png"));
    await page.close();
  });
});

/**
 * A run too big to run here for a test: a real plan (compiled) with a
 * journal of `n` records of it on 8 slots and its RunRecord, as a run of
 * it would write them, each job a few ms long.
 */
async function syntheticRun(n: number): Promise<string> {
  const dir = fixture({
    "workflow.yaml": `wfc: 1\nname: big\nstages:\n  one:\n    foreach: { i: { range: [0, ${n}] } }\n    outputs: "o/{i}"\n    run: "touch {outputs}"\n`,
  });
  const compiled = await wfc(["compile", "workflow.yaml", "-o", "plan.json"], { cwd: dir });
  expect(compiled.stderr).toBe("");
  const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as { params: object };
  const start = Date.UTC(2026, 11, 3, 12);
  const id = "20261203T120000.000Z-1";
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = start + Math.floor(i / 8) * 3;
    lines.push(
      JSON.stringify({
        stage: "one",
        element: `i=${i}`,
        status: "done",
        hash: "0".repeat(64),
        start: s,
        end: s + 2 + (i % 3) * 0.5,
        exitCode: 0,
        run: id,
      }),
    );
  }
  mkdirSync(join(dir, ".wfc", "runs"), { recursive: true });
  writeFileSync(join(dir, ".wfc", "journal.ndjson"), `${lines.join("\n")}\n`);
  const host = { hostname: "h", platform: "linux", cpus: 2, memoryBytes: 2 ** 30, node: "v20" };
  const run = {
    id,
    wfc: "0.1.0",
    start,
    end: start + n,
    outcome: "ok",
    argv: ["run", "workflow.yaml"],
    cwd: dir,
    workflow: "workflow.yaml",
    params: plan.params,
    host,
    plan,
  };
  writeFileSync(join(dir, ".wfc", "runs", `${id}.json`), JSON.stringify(run));
  return dir;
}

test("the newest run by default, an older one by --run; steps up to date are counted, not drawn", async () => {
  const dir = copySample("reads-split");
  expect((await wfc(["run", "workflow.yaml"], { cwd: dir })).exitCode).toBe(0);
  expect((await wfc(["run", "workflow.yaml"], { cwd: dir })).exitCode).toBe(0);
  const [first, second] = readdirSync(join(dir, ".wfc", "runs"))
    .toSorted()
    .map((f) => f.replace(/\.json$/, ""));
  expect(second).toBeDefined();
  const newest = await wfc(["report"], { cwd: dir });
  expect(newest.stdout).toContain(`report of run ${second} (0 steps, 0 failed)`);
  const summary = (file: string) => /id="summary">([^<]*)</.exec(readFileSync(join(dir, file), "utf8"))?.[1];
  expect(summary("wfc-report.html")).toContain("0 steps ran · 0 failed · 13 up to date or not selected (not drawn)");
  const older = await wfc(["report", "--run", first!, "-o", "first.html"], { cwd: dir });
  expect(older.stdout).toContain(`first.html: report of run ${first} (13 steps, 0 failed)`);
  expect(summary("first.html")).toContain("13 steps ran · 0 failed · 0 up to date");
});

test("a retried step: its record names the attempt that wrote it, and its failure says so", async () => {
  const dir = fixture({
    "workflow.yaml": { wfc: 1, name: "retried", stages: { flaky: { outputs: "o", retries: 1, run: "echo trying; exit 4" } } },
  });
  expect((await wfc(["run", "workflow.yaml"], { cwd: dir })).exitCode).toBe(1);
  expect((await wfc(["report"], { cwd: dir })).exitCode).toBe(0);
  const html = readFileSync(join(dir, "wfc-report.html"), "utf8");
  expect(html).toContain("exit code 4 · attempt 2 · ended");
  expect(html).toMatch(/<pre class="log">[^<]*trying/);
});

describe("wfc report refuses what it cannot report, writing nothing", () => {
  test("no run recorded: exit 2, the path, and what to do", async () => {
    const dir = fixture({ "workflow.yaml": "wfc: 1\n" });
    const r = await wfc(["report", "-o", "r.html"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      `wfc: error: no run recorded in ${join(dir, ".wfc", "runs")}; run the workflow first (\`wfc run workflow.yaml\`), then \`wfc report\` in its folder`,
    );
    expect(readdirSync(dir)).toEqual(["workflow.yaml"]);
  });

  test("an unknown --run names the runs there", async () => {
    const dir = fixture({ ".wfc/runs/20261203T220000.000Z-1.json": "{}" });
    const r = await wfc(["report", "--run", "20261203T000000.000Z-9"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("no run `20261203T000000.000Z-9` in");
    expect(r.stderr).toContain("the runs recorded there are: 20261203T220000.000Z-1");
    expect(existsSync(join(dir, "wfc-report.html"))).toBe(false);
  });

  test("a damaged run record: exit 2, named, no stack trace", async () => {
    const dir = fixture({ ".wfc/runs/20261203T220000.000Z-1.json": '{"id": "20261203T220000.000Z-1", "start": 1, "plan": {"tasks": 3}}' });
    writeFileSync(join(dir, ".wfc", "journal.ndjson"), "");
    const r = await wfc(["report", dir], { cwd: "/" });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^wfc: error: .*20261203T220000\.000Z-1\.json: it lacks `argv`, `host` or `params`; /);
    expect(existsSync(join(dir, "wfc-report.html"))).toBe(false);
  });

  test("a hand-edited journal (odd usage figures, a torn line, an unknown stage) is reported, not a crash", async () => {
    const dir = fixture({ "workflow.yaml": { wfc: 1, name: "odd", stages: { one: { outputs: "o", run: "touch o" } } } });
    expect((await wfc(["run", "workflow.yaml"], { cwd: dir })).exitCode).toBe(0);
    const [runFile] = readdirSync(join(dir, ".wfc", "runs"));
    const id = runFile!.replace(/\.json$/, "");
    const odd = [
      {
        stage: "one",
        element: "",
        status: "done",
        hash: "h",
        start: 1,
        end: 2,
        run: id,
        usage: { wallMs: "x", userMs: null, maxRssKb: "9", via: "wait4" },
      },
      { stage: "gone", element: "", status: "failed", hash: "h", start: 1, end: 2, run: id },
    ];
    writeFileSync(
      join(dir, ".wfc", "journal.ndjson"),
      `${readFileSync(join(dir, ".wfc", "journal.ndjson"), "utf8")}{"stage":"one","ele\n${odd.map((r) => JSON.stringify(r)).join("\n")}\n`,
    );
    const r = await wfc(["report"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`report of run ${id} (2 steps, 0 failed)`);
  });

  test("the default page's name taken by a file wfc did not write: exit 2, the file kept; its own page is replaced", async () => {
    const dir = copySample("reads-split");
    expect((await wfc(["run", "workflow.yaml"], { cwd: dir })).exitCode).toBe(0);
    writeFileSync(join(dir, "wfc-report.html"), "<p>my notes</p>\n");
    const refused = await wfc(["report"], { cwd: dir });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe(
      "wfc: error: wfc-report.html exists and is not a report wfc wrote; name another file with -o, or move it away",
    );
    expect(readFileSync(join(dir, "wfc-report.html"), "utf8")).toBe("<p>my notes</p>\n");
    rmSync(join(dir, "wfc-report.html"));
    expect((await wfc(["report"], { cwd: dir })).exitCode).toBe(0);
    expect((await wfc(["report"], { cwd: dir })).exitCode).toBe(0);
  });

  test("no such folder", async () => {
    const r = await wfc(["report", "no-such-dir"], { cwd: fixture({}) });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("wfc: error: no-such-dir: no such folder;");
  });
});
