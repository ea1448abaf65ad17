/**
 * A no-op re-run replays the last one's answer (runtime/run/memo.ts) only
 * when its checks would read what the last one read. The danger is a
 * replay where the checks would have run something: a silently stale
 * result. So every test here is differential: the same folder is copied
 * (`cp -a`: same files, same mtimes, another path, so the copy's memo
 * never applies and it runs every check), the same change is made to
 * both, and both runs must run the same jobs, warn the same and end the
 * same. Whether the original replayed is told by its memo file: a replay
 * leaves it as it was, a run that checks writes a new one (or none).
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { compileFile } from "../../compiler/compile.js";
import { run, type RunEvent } from "../../runtime/run/run.js";
import { fixture } from "../e2e/helpers.js";

/**
 * Everything the memo must model: a sample sheet; a split that decides its
 * chunks by the files it writes; a map per chunk and a merge that gathers
 * them; a stage that writes a list of ids and one element per id; a gather
 * of source files by a glob.
 */
const WORKFLOW = `wfc: 1
stages:
  split:
    foreach: { s: { lines: samples.txt } }
    inputs: "in/{s}.txt"
    outputs: "work/chunks/{s}/{chunk}.txt"
    decides: [chunk]
    run: 'n=$(cat {inputs}); mkdir -p work/chunks/{s}; for i in $(seq 1 $n); do echo {s}$i > work/chunks/{s}/$i.txt; done'
  map:
    foreach: { s: { lines: samples.txt }, chunk: { from: split } }
    inputs: "work/chunks/{s}/{chunk}.txt"
    outputs: "work/mapped/{s}/{chunk}.txt"
    run: "cat {inputs} > {outputs}"
  merge:
    foreach: { s: { lines: samples.txt } }
    inputs: "work/mapped/{s}/*.txt"
    outputs: "work/merged/{s}.txt"
    run: "cat {inputs} > {outputs}"
  ids:
    foreach: { s: { lines: samples.txt } }
    inputs: "in/{s}.txt"
    outputs: "work/ids/{s}.txt"
    run: 'seq 1 $(cat {inputs}) | sed "s/^/id/" > {outputs}'
  fetch:
    foreach: { s: { lines: samples.txt }, id: { lines: "work/ids/{s}.txt" } }
    outputs: "work/fetched/{s}/{id}.txt"
    run: "echo {id} > {outputs}"
  refs:
    inputs: "refs/*.fa"
    outputs: "work/refs.txt"
    run: "cat {inputs} > {outputs}"
`;

interface Outcome {
  /** The jobs that ran, as `task#job`, sorted. */
  readonly ran: readonly string[];
  readonly summary: unknown;
  readonly warnings: readonly string[];
  /** Every file under work/, with its content. */
  readonly files: Readonly<Record<string, string>>;
}

async function runIn(dir: string, checkAfterMs?: number): Promise<Outcome> {
  const compiled = await compileFile(join(dir, "wf.yaml"), { planPath: join(dir, "plan.json") });
  if (compiled.plan === undefined) throw new Error(JSON.stringify(compiled.diagnostics));
  const ran: string[] = [];
  const warnings: string[] = [];
  const summary = await run(compiled.plan, {
    planDir: dir,
    config: { cores: 2 },
    ...(checkAfterMs !== undefined ? { checkAfterMs } : {}),
    onWarning: (w) => warnings.push(w.split(dir).join("DIR")),
    onEvent: (e: RunEvent) => {
      if (e.type === "job-end" && e.status !== "skipped") ran.push(`${e.task}#${e.job}`);
      if (e.type === "stale-inputs") warnings.push(e.message.split(dir).join("DIR"));
    },
  });
  // Times differ from run to run; which jobs made the critical path does not.
  const path = summary.criticalPath.map((p) => `${p.task}#${p.job}`);
  const timeless = { ...summary, wallMs: 0, criticalPath: path };
  return { ran: ran.sort(), summary: timeless, warnings, files: tree(join(dir, "work"), dir) };
}

function tree(root: string, base: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(root)) return out;
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relative(base, path)] = readFileSync(path, "utf8");
  }
  return out;
}

const memoOf = (dir: string) => join(dir, ".wfc/memo.json");
const memoId = (dir: string) => {
  const s = statSync(memoOf(dir), { throwIfNoEntry: false });
  return s === undefined ? undefined : `${s.ino}:${s.mtimeMs}`;
};

/**
 * A folder whose memo is there: left by a run with nothing to do after the
 * run that ran the jobs, or (`afterWork`) by the check that run makes at
 * its end (run.ts checkAfterRun; made to happen after any run here).
 */
async function recorded(afterWork = false): Promise<string> {
  const dir = fixture({
    "wf.yaml": WORKFLOW,
    "samples.txt": "a\nb\n",
    "in/a.txt": "3\n",
    "in/b.txt": "2\n",
    "refs/one.fa": ">one\n",
  });
  expect((await runIn(dir, afterWork ? 0 : undefined)).summary).toMatchObject({ status: "ok", failed: 0 });
  expect(existsSync(memoOf(dir))).toBe(afterWork);
  if (!afterWork) expect((await runIn(dir)).ran).toEqual([]);
  expect(existsSync(memoOf(dir))).toBe(true);
  return dir;
}

/** Runs a change in a folder with a memo and in a copy that must check everything; both must come out alike. */
async function differential(change: (dir: string) => void, afterWork: boolean): Promise<{ replayed: boolean; outcome: Outcome }> {
  const dir = await recorded(afterWork);
  const copy = `${dir}-copy`;
  execFileSync("cp", ["-a", dir, copy]);
  change(dir);
  change(copy);
  const before = memoId(dir);
  const outcome = await runIn(dir);
  const replayed = before !== undefined && memoId(dir) === before;
  const checked = await runIn(copy);
  expect(outcome).toEqual(checked);
  return { replayed, outcome };
}

const future = (path: string) => {
  const later = new Date(Date.now() + 60_000);
  utimesSync(path, later, later);
};

describe.each([
  ["left by a no-op run", false],
  ["left by the check after the run that ran the jobs", true],
])("a memo %s: a no-op re-run replays only what its checks would decide", (_, afterWork) => {
  test("nothing changed: it replays, and says what a full check says", async () => {
    const { replayed, outcome } = await differential(() => {}, afterWork);
    expect(replayed).toBe(true);
    expect(outcome.ran).toEqual([]);
    expect(outcome.summary).toMatchObject({ status: "ok", done: 0, skipped: 2 + 5 + 2 + 2 + 5 + 1 });
  });

  test("the replayed run reports the same events as a run that checks", async () => {
    const dir = await recorded(afterWork);
    const events = async () => {
      const compiled = await compileFile(join(dir, "wf.yaml"), { planPath: join(dir, "plan.json") });
      const seen: unknown[] = [];
      await run(compiled.plan!, {
        planDir: dir,
        config: { cores: 2 },
        onEvent: (e) =>
          seen.push({
            ...e,
            time: 0,
            ...("start" in e ? { start: 0 } : {}),
            ...(e.type === "run-end" ? { summary: { ...e.summary, wallMs: 0 } } : {}),
          }),
      });
      return seen;
    };
    const id = memoId(dir);
    const replayed = await events();
    expect(memoId(dir)).toBe(id);
    rmSync(memoOf(dir));
    const checked = await events();
    expect(replayed).toEqual(checked);
    expect(replayed.filter((e) => (e as RunEvent).type === "expand")).toHaveLength(4);
  });

  const changes: [string, (dir: string) => void, string[]][] = [
    ["an input newer than its outputs", (d) => future(join(d, "in/a.txt")), ["split#0", "ids#0"]],
    ["an output removed", (d) => rmSync(join(d, "work/merged/b.txt")), ["merge#1"]],
    ["a decided chunk removed", (d) => rmSync(join(d, "work/chunks/a/2.txt")), ["split#0"]],
    ["an output older than its input", (d) => utimesSync(join(d, "work/refs.txt"), new Date(0), new Date(0)), ["refs#0"]],
    ["a new file the source glob matches", (d) => writeFileSync(join(d, "refs/two.fa"), ">two\n"), ["refs#0"]],
    ["an ids file that lists one more id", (d) => appendFileSync(join(d, "work/ids/b.txt"), "id9\n"), []],
    ["a failed record in the journal", (d) => appendFileSync(join(d, ".wfc/journal.ndjson"), failedRecord(d, "refs", "")), ["refs#0"]],
    ["the journal removed", (d) => rmSync(join(d, ".wfc/journal.ndjson")), []],
    ["a new sample in the sheet", (d) => (appendFileSync(join(d, "samples.txt"), "c\n"), writeFileSync(join(d, "in/c.txt"), "1\n")), []],
  ];
  test.each(changes)("%s: it checks, and runs what a full check runs", async (_, change, expected) => {
    const { replayed, outcome } = await differential(change, afterWork);
    expect(replayed).toBe(false);
    expect(outcome.ran.length).toBeGreaterThan(0);
    for (const job of expected) expect(outcome.ran).toContain(job);
  });

  test("a stray file in a decided folder: it checks, and warns as a full check does", async () => {
    const { replayed, outcome } = await differential((d) => writeFileSync(join(d, "work/chunks/b/7.txt"), "stray\n"), afterWork);
    expect(replayed).toBe(false);
    expect(outcome.ran).toEqual([]);
    expect(outcome.warnings.join("\n")).toContain("work/chunks/b/7.txt");
  });

  test("an output rewritten with its mtime put back: it replays, as a full check (which reads mtimes) decides", async () => {
    const { replayed, outcome } = await differential((d) => rewriteKeepingMtime(join(d, "work/merged/a.txt"), "other\n"), afterWork);
    expect(outcome.ran).toEqual([]);
    expect(replayed).toBe(true);
  });

  test("an ids file rewritten with its mtime put back: it checks (the file is read), and fetches the new id", async () => {
    const { replayed, outcome } = await differential((d) => rewriteKeepingMtime(join(d, "work/ids/b.txt"), "id1\nid2\nid7\n"), afterWork);
    expect(replayed).toBe(false);
    expect(outcome.files["work/fetched/b/id7.txt"]).toBe("id7\n");
  });
});

/** New content, the old mtime to the nanosecond (`touch -r`: utimes through a Date keeps only milliseconds). */
function rewriteKeepingMtime(path: string, text: string): void {
  execFileSync("cp", ["-p", path, `${path}.ref`]);
  writeFileSync(path, text);
  execFileSync("touch", ["-r", `${path}.ref`, path]);
  rmSync(`${path}.ref`);
}

function failedRecord(dir: string, stage: string, element: string): string {
  const last = readFileSync(join(dir, ".wfc/journal.ndjson"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { stage: string; element: string; hash: string })
    .findLast((r) => r.stage === stage && r.element === element)!;
  return `${JSON.stringify({ ...last, status: "failed", exitCode: 1 })}\n`;
}

describe("what never replays", () => {
  test("a run that died left its jobs listed in .wfc/running: the next run checks, and stops them first", async () => {
    const dir = await recorded();
    const id = memoId(dir);
    // A run that died (pid 1 is no wfc) with no group left: the check path reads the file and forgets it.
    writeFileSync(join(dir, ".wfc/running"), "run 999999\n");
    const outcome = await runIn(dir);
    expect(outcome.ran).toEqual([]);
    expect(memoId(dir)).not.toBe(id);
    expect(existsSync(join(dir, ".wfc/running"))).toBe(false);
  });

  test("a dry run, a forced run and a plan with temp outputs leave no memo and use none", async () => {
    const dir = await recorded();
    const compiled = await compileFile(join(dir, "wf.yaml"), { planPath: join(dir, "plan.json") });
    const id = memoId(dir);
    const dry = await run(compiled.plan!, { planDir: dir, config: { cores: 2, dryRun: true } });
    expect(dry).toMatchObject({ status: "ok", wouldRun: 0 });
    // A dry run neither replays nor writes: the memo is as it was.
    expect(memoId(dir)).toBe(id);
    const forced = await run(compiled.plan!, { planDir: dir, config: { cores: 2, force: true } });
    expect(forced.done).toBeGreaterThan(0);
    expect(existsSync(memoOf(dir))).toBe(false);

    const temp = fixture({
      "wf.yaml": `wfc: 1
stages:
  make:
    outputs: "mid.txt"
    temp: true
    run: "echo x > {outputs}"
  use:
    inputs: "mid.txt"
    outputs: "out.txt"
    run: "cat {inputs} > {outputs}"
`,
    });
    for (let i = 0; i < 3; i++) {
      const plan = (await compileFile(join(temp, "wf.yaml"), { planPath: join(temp, "plan.json") })).plan!;
      expect(await run(plan, { planDir: temp, config: { cores: 2 } })).toMatchObject({ status: "ok" });
    }
    expect(existsSync(memoOf(temp))).toBe(false);
  });
});

describe("the checks read the file system only through the run's Mtimes", () => {
  // What memo.ts compares is what Mtimes recorded: a read that bypasses it would go unrecorded, and a
  // replay could miss its change. Each module of the up-to-date path may import from node:fs only these
  // (none of them reads: `touch` writes, and a touching run never replays; sources.ts's default is for
  // callers without a run).
  const allowed: Record<string, string[]> = {
    "runtime/run/freshness.ts": ["existsSync", "mkdirSync", "utimesSync", "writeFileSync"],
    "runtime/run/expansion.ts": [],
    "runtime/run/expand-job.ts": [],
    "runtime/run/sources.ts": ["existsSync"],
    "runtime/run/fingerprint.ts": [],
    "runtime/run/select.ts": [],
    "runtime/run/run-selection.ts": [],
    "runtime/jobs/expand.ts": [],
    "runtime/jobs/stale-inputs.ts": [],
    "runtime/jobs/describe.ts": [],
    "runtime/scheduler/scheduler.ts": [],
    "runtime/scheduler/elements.ts": [],
    "runtime/scheduler/readiness.ts": [],
  };
  test.each(Object.entries(allowed))("%s", (file, names) => {
    const text = readFileSync(join(import.meta.dirname, "../..", file), "utf8");
    const imported = [...text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"node:fs(?:\/promises)?"/g)].flatMap((m) =>
      m[1]!
        .split(",")
        .map((n) => n.trim())
        .filter(Boolean),
    );
    expect(imported.sort()).toEqual(names);
    // A glob is walked through ExpanderOptions.walk (the run's Mtimes); expand.ts's default is for callers without a run.
    expect(text.match(/walkGlob\(/g)?.length ?? 0).toBe(file === "runtime/jobs/expand.ts" ? 1 : 0);
  });
});

describe("the thread that checks half the mtimes of a large memo", () => {
  test("says yes only when every mtime is the recorded one, a missing file's too", async () => {
    const { statsHold } = await import("../../runtime/run/memo.js");
    const dir = fixture({ "a.txt": "a", "b/c.txt": "c" });
    const paths = ["a.txt", join(dir, "b/c.txt"), "gone.txt"];
    const now = [statSync(join(dir, "a.txt")).mtimeMs, statSync(join(dir, "b/c.txt")).mtimeMs, null];
    expect(await statsHold(dir, paths, now)).toBe(true);
    expect(await statsHold(dir, paths, [now[0]!, now[1]! - 1, null])).toBe(false);
    expect(await statsHold(dir, paths, [now[0]!, now[1]!, 5])).toBe(false);
    writeFileSync(join(dir, "gone.txt"), "here now");
    expect(await statsHold(dir, paths, now)).toBe(false);
  });
});
