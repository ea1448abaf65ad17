/**
 * Data-dependent fan-out run for real (issue 14): a split per sample writes
 * as many chunk files as its input says, a map runs per chunk as soon as
 * its sample's split ends, a gather per sample takes exactly what this
 * run's split wrote. Plans built by hand to the contract (contract/plan.ts),
 * real shell jobs through run().
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { Part, Plan, PlanTask } from "../../contract/plan.js";
import { run, type RunEvent } from "../../runtime/run/run.js";
import { select, type Selection } from "../../runtime/run/select.js";
import { fixture } from "../e2e/helpers.js";
import { plan as planOf, task } from "./plans.js";
import { path, pipeline, s, withSplit } from "./dynamic-plans.js";

async function runIn(dir: string, plan: Plan) {
  const events: RunEvent[] = [];
  const warnings: string[] = [];
  const summary = await run(plan, {
    planDir: dir,
    config: { cores: 2 },
    onEvent: (e) => events.push(e),
    onWarning: (w) => warnings.push(w),
  });
  return { summary, events, warnings };
}

describe("a data-dependent fan-out, run", () => {
  test("each sample gets as many jobs as its split wrote files; gathers take exactly those; a re-run does nothing", async () => {
    const samples = ["a", "b", "it's x"];
    const dir = fixture({ "in/a.txt": "3\n", "in/b.txt": "0\n", "in/it's x.txt": "2\n" });
    const plan = pipeline(samples);
    const first = await runIn(dir, plan);
    expect(first.summary).toMatchObject({ status: "ok", done: 3 + 5 + 3, failed: 0, notRun: 0 });
    expect(readFileSync(join(dir, "merged/a.txt"), "utf8")).toBe("1\n1\n2\n2\n3\n3\n");
    expect(readFileSync(join(dir, "merged/b.txt"), "utf8")).toBe("");
    expect(readFileSync(join(dir, "merged/it's x.txt"), "utf8")).toBe("1\n1\n2\n2\n");
    const expands = first.events.filter((e) => e.type === "expand");
    expect(expands.map((e) => [e.element, e.jobs]).sort()).toEqual([
      ["s=a", 3],
      ["s=b", 0],
      ["s=it%27s%20x", 2],
    ]);

    // The critical path runs through a dynamic job, which its split's end released.
    expect(first.summary.criticalPath.map((p) => p.task)).toEqual(["split", "map", "merge"]);

    const again = await runIn(dir, plan);
    expect(again.summary).toMatchObject({ status: "ok", done: 0, skipped: 11 });
    expect(again.warnings).toEqual([]);
  });

  test("fewer chunks now: the gone elements are reported, their old files never gathered, the other samples untouched", async () => {
    const dir = fixture({ "in/a.txt": "3\n", "in/b.txt": "2\n" });
    const plan = pipeline(["a", "b"]);
    expect((await runIn(dir, plan)).summary).toMatchObject({ status: "ok", done: 2 + 5 + 2 });
    writeFileSync(join(dir, "in/a.txt"), "2\n");
    const { summary, warnings, events } = await runIn(dir, plan);
    // split[a] runs again and so does what depends on it; sample b is up to date.
    expect(summary).toMatchObject({ status: "ok", done: 1 + 2 + 1, skipped: 1 + 2 + 1 });
    expect(readFileSync(join(dir, "merged/a.txt"), "utf8")).toBe("1\n1\n2\n2\n");
    expect(warnings).toEqual([
      'split[s=a]: a file matches its output pattern that it did not write in this run: "chunks/a/3.txt"; not used, left in place',
      'split[s=a] decided fewer elements than last time: c="3" is gone; what was made from it is left in place and never gathered',
    ]);
    const ran = events.flatMap((e) => (e.type === "job-end" && e.status === "done" ? [`${e.task}#${e.job}`] : []));
    expect(ran.filter((j) => j.startsWith("map"))).toHaveLength(2);
    // The old chunk and what was made of it are still there: wfc removes nothing it did not make in this run.
    expect(readFileSync(join(dir, "chunks/a/3.txt"), "utf8")).toBe("3\n");
    expect(readFileSync(join(dir, "mapped/a/3.txt"), "utf8")).toBe("3\n3\n");
  });

  test("a split that fails leaves none of its chunks, and nothing expands from it", async () => {
    const dir = fixture({ "in/a.txt": "2\n" });
    const plan = pipeline(["a"]);
    const failing = withSplit(plan, "mkdir -p chunks/a; echo 1 > chunks/a/1.txt; exit 3");
    const { summary, events } = await runIn(dir, failing);
    expect(summary).toMatchObject({ status: "failed", failed: 1, done: 0 });
    expect(events.some((e) => e.type === "expand")).toBe(false);
    expect(() => readFileSync(join(dir, "chunks/a/1.txt"))).toThrow();
  });

  test("Ctrl-C while a split runs removes the chunks it wrote so far; nothing expands, nothing is journaled", async () => {
    const dir = fixture({ "in/a.txt": "2\n" });
    const plan = pipeline(["a"]);
    const slow = withSplit(plan, "mkdir -p chunks/a; echo 1 > chunks/a/1.txt; sleep 30");
    const abort = new AbortController();
    const events: RunEvent[] = [];
    const watch = setInterval(() => existsSync(join(dir, "chunks/a/1.txt")) && abort.abort(), 20);
    const summary = await run(slow, {
      planDir: dir,
      config: { cores: 2 },
      signal: abort.signal,
      onEvent: (e) => events.push(e),
      onWarning: () => {},
    });
    clearInterval(watch);
    expect(summary).toMatchObject({ status: "interrupted", cancelled: 1 });
    expect(existsSync(join(dir, "chunks/a/1.txt"))).toBe(false);
    expect(events.some((e) => e.type === "expand")).toBe(false);
    expect(existsSync(join(dir, ".wfc/journal.ndjson")) ? readFileSync(join(dir, ".wfc/journal.ndjson"), "utf8") : "").toBe("");
  });

  test("a retried split counts only what its successful attempt wrote", async () => {
    const dir = fixture({ "in/a.txt": "2\n" });
    const plan = pipeline(["a"]);
    // The first attempt writes 4 chunks and fails; the second writes 2.
    const command =
      "mkdir -p chunks/a; if [ ! -e tried ]; then touch tried; for i in 1 2 3 4; do echo $i > chunks/a/$i.txt; done; exit 1; fi; for i in 1 2; do echo $i > chunks/a/$i.txt; done";
    const retried = withSplit(plan, command, { retries: 1 });
    const { summary, warnings } = await runIn(dir, retried);
    expect(summary).toMatchObject({ status: "ok", done: 1 + 2 + 1 });
    expect(readFileSync(join(dir, "merged/a.txt"), "utf8")).toBe("1\n1\n2\n2\n");
    expect(existsSync(join(dir, "chunks/a/3.txt"))).toBe(false);
    expect(warnings).toEqual([]);
  });

  test("a file that appeared beside an up-to-date split's chunks is reported and not used", async () => {
    const dir = fixture({ "in/a.txt": "2\n" });
    const plan = pipeline(["a"]);
    await runIn(dir, plan);
    const quiet = await runIn(dir, plan);
    expect(quiet.warnings).toEqual([]);
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(join(dir, "chunks/a/9.txt"), "9\n");
    const { summary, warnings } = await runIn(dir, plan);
    expect(summary).toMatchObject({ status: "ok", done: 0, skipped: 4 });
    expect(warnings).toEqual([
      'split[s=a]: a file matches its output pattern that it did not write in this run: "chunks/a/9.txt"; not used, left in place',
    ]);
    expect(readFileSync(join(dir, "merged/a.txt"), "utf8")).toBe("1\n1\n2\n2\n");
  });

  test("a missing decided file makes its producer out of date; the re-run lists again", async () => {
    const dir = fixture({ "in/a.txt": "2\n" });
    const plan = pipeline(["a"]);
    await runIn(dir, plan);
    rmSync(join(dir, "chunks/a/2.txt"));
    const { summary, events } = await runIn(dir, plan);
    expect(summary).toMatchObject({ status: "ok" });
    const split = events.find((e) => e.type === "job-end" && e.task === "split");
    expect(split).toMatchObject({ status: "done", why: "output chunks/a/2.txt is missing" });
    expect(readFileSync(join(dir, "merged/a.txt"), "utf8")).toBe("1\n1\n2\n2\n");
  });

  test("a dry run says which jobs wait for a producer; after a run it knows them all", async () => {
    const dir = fixture({ "in/a.txt": "2\n", "in/b.txt": "1\n" });
    const plan = pipeline(["a", "b"]);
    const dry = await run(plan, { planDir: dir, config: { cores: 2, dryRun: true }, onWarning: () => {} });
    expect(dry).toMatchObject({ status: "ok", wouldRun: 2, unknown: [{ task: "map", from: "split", known: 0, blocks: 2 }] });
    await runIn(dir, plan);
    writeFileSync(join(dir, "in/b.txt"), "1\n");
    const after = await run(plan, { planDir: dir, config: { cores: 2, dryRun: true }, onWarning: () => {} });
    // split[a] is up to date and expands from its record: its map job is known; split[b] would run.
    expect(after).toMatchObject({ status: "ok", unknown: [{ task: "map", known: 2, blocks: 1 }] });
    // split[b] would run; merge[b] waits for map's jobs of b, which only running split[b] tells.
    expect(after).toMatchObject({ wouldRun: 1, notRun: 1, skipped: 2 + 1 + 1 });
  });
});

/** One element per line of a file a stage wrote: values that are shell syntax stay values. */
function linesPipeline(): Plan {
  const space = { vars: [{ name: "s", values: ["a"] }], zip: [], size: 1 };
  const id: Part = { var: "id" };
  const list = task("list", 1, {
    space,
    steps: [
      {
        stage: "list",
        action: { kind: "shell", shell: "bash", command: ["cp in/", s, ".txt ids/", s, ".txt"] },
        inputs: [path("in/", s, ".txt")],
        outputs: [path("ids/", s, ".txt")],
        env: {},
      },
    ],
  });
  const each: PlanTask = task("each", 1, {
    space: { ...space, dynamic: { vars: ["id"], from: { kind: "lines", task: "list", step: "list", output: 0 }, per: ["s"] } },
    jobs: null,
    steps: [
      {
        stage: "each",
        action: { kind: "shell", shell: "bash", command: ["printf '%s\\n' ", id, " > ", { outputs: true }] },
        inputs: [],
        outputs: [path("out/", s, "/", id, ".txt")],
        env: {},
      },
    ],
    deps: [{ task: "list", edge: { kind: "expand" }, input: null }],
  });
  return planOf([list, each]);
}

describe("hostile file names a split writes", () => {
  test("each becomes one value, quoted wherever it lands; no canary, byte-exact outputs", async () => {
    const names = ["$(touch canary)", "`touch canary`", "it's", '"q"', "a;b", "x && touch canary", "sp ace", "-rf", "ü", "%41", "a,b=c"];
    const dir = fixture({ "in/a.txt": "", "names.txt": names.join("\n") + "\n" });
    const plan = pipeline(["a"]);
    const hostile = withSplit(plan, 'while IFS= read -r n; do printf \'%s\\n\' "$n" > "chunks/a/$n.txt"; done < names.txt');
    const { summary, events } = await runIn(dir, hostile);
    expect(summary).toMatchObject({ status: "ok", done: 1 + names.length + 1 });
    expect(existsSync(join(dir, "canary"))).toBe(false);
    for (const n of names) expect(readFileSync(join(dir, "mapped/a", `${n}.txt`), "utf8")).toBe(`${n}\n${n}\n`);
    // The gather takes every one, in code-unit order of the paths.
    const sorted = names.map((n) => `mapped/a/${n}.txt`).sort();
    expect(readFileSync(join(dir, "merged/a.txt"), "utf8")).toBe(
      sorted
        .map((p) => p.slice("mapped/a/".length, -4))
        .map((n) => `${n}\n${n}\n`)
        .join(""),
    );
    const logs = events.filter((e) => e.type === "job-end" && e.task === "map");
    expect(logs).toHaveLength(names.length);
  });
});

describe("a pattern output outside the workflow's folder (a hand-edited plan)", () => {
  test("is refused before its job runs: nothing outside is listed, written or removed", async () => {
    // The split's input in/{s}.txt is ../outside.txt from the workflow's folder.
    const root = fixture({ "wf/in/.keep": "", "outside.txt": "1\n", "outside/1.txt": "mine\n" });
    const dir = join(root, "wf");
    const plan = withSplit(pipeline(["../../outside"]), "echo changed >> ../outside/1.txt; exit 1");
    const { summary, events } = await runIn(dir, plan);
    expect(summary).toMatchObject({ status: "failed", failed: 1 });
    expect(summary.failures[0]!.reason).toContain('output "chunks/../../outside/{c}.txt" of stage `split`');
    expect(summary.failures[0]!.reason).toContain("outputs must stay inside the workflow's folder, so the job was not started");
    expect(events.some((e) => e.type === "expand")).toBe(false);
    expect(readFileSync(join(root, "outside/1.txt"), "utf8")).toBe("mine\n");
  });
});

describe("a deciding `fn` step", () => {
  test("gets its pattern output as text with `{var}` holes and its folder made; what it writes decides", async () => {
    const dir = fixture({
      "in/a.txt": "3\n",
      "split.mjs": `import { readFileSync, writeFileSync } from "node:fs";
export function split({ inputs, outputs }) {
  const n = Number(readFileSync(inputs, "utf8"));
  for (let i = 1; i <= n; i++) writeFileSync(outputs.replace("{c}", String(i)), i + "\\n");
}
`,
    });
    const plan = pipeline(["a"]);
    const fn = withSplit(plan, { kind: "fn", module: "split.mjs", export: "split" });
    const { summary } = await runIn(dir, fn);
    expect(summary).toMatchObject({ status: "ok", done: 1 + 3 + 1 });
    expect(readFileSync(join(dir, "merged/a.txt"), "utf8")).toBe("1\n1\n2\n2\n3\n3\n");
  });
});

describe("one element per line of a produced file", () => {
  test("each line is one element; shell syntax in a line is a value, byte for byte", async () => {
    const lines = ["plain", "two words", "$(touch canary)", "`touch canary`", "it's", '"q"', "semi;colon"];
    const dir = fixture({ "in/a.txt": lines.join("\n") + "\n\n", "ids/.keep": "" });
    const { summary, events } = await runIn(dir, linesPipeline());
    expect(summary).toMatchObject({ status: "ok", done: 1 + lines.length });
    expect(events.find((e) => e.type === "expand")).toMatchObject({ task: "each", element: "s=a", jobs: lines.length });
    expect(readdirSync(join(dir, "out/a")).sort()).toEqual(lines.map((l) => `${l}.txt`).sort());
    for (const l of lines) expect(readFileSync(join(dir, "out/a", `${l}.txt`), "utf8")).toBe(`${l}\n`);
    expect(existsSync(join(dir, "canary"))).toBe(false);
  });

  test("a line that would put an output outside the workflow's folder fails its own job only; nothing is written outside", async () => {
    const root = fixture({ "wf/in/a.txt": "fine\n../../../escaped\n", "wf/ids/.keep": "" });
    const dir = join(root, "wf");
    const { summary } = await runIn(dir, linesPipeline());
    expect(summary).toMatchObject({ status: "failed", done: 1 + 1, failed: 1 });
    expect(summary.failures[0]!.reason).toContain("outputs must stay inside the workflow's folder, so the job was not started");
    expect(readFileSync(join(dir, "out/a/fine.txt"), "utf8")).toBe("fine\n");
    expect(existsSync(join(root, "escaped.txt"))).toBe(false);
  });

  test("a repeated line fails its producer with the line numbers; nothing expands", async () => {
    const dir = fixture({ "in/a.txt": "x\ny\nx\n", "ids/.keep": "" });
    const { summary, events } = await runIn(dir, linesPipeline());
    expect(summary).toMatchObject({ status: "failed", failed: 1 });
    expect(summary.failures[0]!.reason).toBe(
      'line 3 of "ids/a.txt" repeats "x" (line 1): each line is one element, and two elements cannot share a value',
    );
    expect(events.some((e) => e.type === "expand")).toBe(false);
  });
});

describe("a partial run of a data-dependent fan-out (targets through select())", () => {
  const selected = (plan: Plan, dir: string, targets: string[], forcerun: string[] = []) => {
    const s = select(plan, { targets, until: [], forcerun, workdir: dir, cwd: dir });
    if (!s.ok || s.selection === undefined) throw new Error(JSON.stringify(s));
    return s.selection;
  };
  const runWith = async (dir: string, plan: Plan, selection: Selection) => {
    const events: RunEvent[] = [];
    const summary = await run(plan, { planDir: dir, config: { cores: 2, selection }, onEvent: (e) => events.push(e) });
    const ran = events.flatMap((e) => (e.type === "job-end" && e.status === "done" ? [e.task] : [])).sort();
    return { summary, ran };
  };

  test("merge[s=b]: b's split, its chunks and merge; a's split never runs (its input need not even exist)", async () => {
    const dir = fixture({ "in/b.txt": "2\n" });
    const plan = pipeline(["a", "b"]);
    const { summary, ran } = await runWith(dir, plan, selected(plan, dir, ["merge[s=b]"]));
    expect(summary).toMatchObject({ status: "ok", done: 4, notRun: 0 });
    expect(ran).toEqual(["map", "map", "merge", "split"]);
    expect(readFileSync(join(dir, "merged/b.txt"), "utf8")).toBe("1\n1\n2\n2\n");
    expect(existsSync(join(dir, "chunks/a"))).toBe(false);
  });

  test("map[s=a,c=2] runs that chunk only; c=9, which split[s=a] does not decide, fails the run with the cause", async () => {
    const dir = fixture({ "in/a.txt": "3\n" });
    const plan = pipeline(["a"]);
    const one = await runWith(dir, plan, selected(plan, dir, ["map[s=a,c=2]"]));
    expect(one.summary).toMatchObject({ status: "ok", done: 2 });
    expect(readdirSync(join(dir, "mapped/a"))).toEqual(["2.txt"]);

    const missing = await runWith(dir, plan, selected(plan, dir, ["map[s=a,c=9]"]));
    expect(missing.summary).toMatchObject({
      status: "failed",
      done: 0,
      skipped: 1,
      reason: "target `map[s=a,c=9]` was not made: `split[s=a]` decided c 1, 2, 3, not 9",
    });
  });

  test("a chunk of a block no producer element expands (split has no s=b): the run fails with that cause", async () => {
    const dir = fixture({ "in/a.txt": "1\n" });
    const two = pipeline(["a", "b"]);
    const plan = { ...two, tasks: two.tasks.map((t) => (t.id !== "split" ? t : { ...pipeline(["a"]).tasks[0]! })) };
    const { summary } = await runWith(dir, plan, selected(plan, dir, ["map[s=b,c=1]"]));
    expect(summary).toMatchObject({
      status: "failed",
      done: 0,
      reason: "target `map[s=b,c=1]` was not made: no element of `split` has s=b, so nothing decides its c",
    });
  });

  test("--forcerun map re-runs exactly the chunks (known only once split expands) and the merge", async () => {
    const dir = fixture({ "in/a.txt": "2\n", "in/b.txt": "1\n" });
    const plan = pipeline(["a", "b"]);
    expect((await runIn(dir, plan)).summary).toMatchObject({ status: "ok", done: 7 });
    const { summary, ran } = await runWith(dir, plan, selected(plan, dir, [], ["map"]));
    expect(summary).toMatchObject({ status: "ok", done: 5, skipped: 2 });
    expect(ran).toEqual(["map", "map", "map", "merge", "merge"]);
  });
});
