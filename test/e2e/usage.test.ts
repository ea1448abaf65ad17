/**
 * What a run records of what its jobs used (issue 16), with real processes:
 * the journal's records (`usage`, `run`, `attempt`), the `job-end` events,
 * `--trace FILE` and `--events FILE`, and `.wfc/runs/<id>.json`. Only lower
 * bounds on the figures: a step that holds 200 MiB has a peak RSS of at
 * least that, one that burns CPU has user time.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { fixture, repoRoot, wfc } from "./helpers.js";

const schema = JSON.parse(readFileSync(join(repoRoot, "schema/events.schema.json"), "utf8")) as object;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

const HOLD_200_MIB = `perl -e 'my $x = "a" x (200*1024*1024); sleep 1'`;
const BURN = `perl -e 'my $t = times; my $i = 0; while (times - $t < 0.5) {{ $i++ }}'`;
const COLUMNS =
  "task stage element job attempt status exit start end wall_s cpu_pct user_s sys_s peak_rss_kb read_bytes write_bytes log".split(" ");

interface Usage {
  wallMs: number;
  userMs?: number;
  sysMs?: number;
  maxRssKb?: number;
  readBytes?: number;
  writeBytes?: number;
  via: string;
}
interface Record_ {
  stage: string;
  element: string;
  status: string;
  exitCode?: number | null;
  usage?: Usage;
  run?: string;
  attempt?: number;
}

function journal(dir: string): Record_[] {
  return readFileSync(join(dir, ".wfc/journal.ndjson"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record_);
}

/** The trace's rows as objects by column; the header must be the columns, in order. */
function traceRows(text: string): Record<string, string>[] {
  const [header, ...lines] = text.split("\n");
  expect(header!.split("\t")).toEqual(COLUMNS);
  expect(lines.at(-1)).toBe("");
  return lines.slice(0, -1).map((line) => {
    const cells = line.split("\t");
    expect(cells).toHaveLength(COLUMNS.length);
    return Object.fromEntries(COLUMNS.map((c, i) => [c, cells[i]!]));
  });
}

function runRecords(dir: string): string[] {
  const folder = join(dir, ".wfc/runs");
  return existsSync(folder) ? readdirSync(folder).sort() : [];
}

const MEASURED = {
  wfc: 1,
  stages: {
    hold: { foreach: { n: [1, 2] }, outputs: "hold/{n}.txt", run: `${HOLD_200_MIB}; echo {n} > {outputs}` },
    burn: { outputs: "burn.txt", run: `${BURN}; touch {outputs}` },
    broken: { outputs: "never.txt", run: "exit 3" },
  },
};

describe("a run records what each step used", () => {
  test("journal records, job-end events (--json and --events at once) and --trace rows carry usage; the run's record its end", async () => {
    const dir = fixture({ "wf.yaml": MEASURED });
    const r = await wfc(["run", "wf.yaml", "-k", "--json", "--events", "events.ndjson", "--trace", "trace.tsv"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(1);

    // --events writes what --json prints, line for line, each line as the schema says.
    const file = readFileSync(join(dir, "events.ndjson"), "utf8");
    expect(file.trimEnd()).toBe(r.stdout.trimEnd());
    const events = file
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; task?: string; status?: string; usage?: Usage });
    for (const e of events) expect(validate(e), JSON.stringify(validate.errors)).toBe(true);
    const ends = events.filter((e) => e.type === "job-end");
    expect(ends).toHaveLength(4);
    for (const e of ends.filter((e) => e.task === "hold")) {
      expect(e.usage!.maxRssKb).toBeGreaterThanOrEqual(200 * 1024);
      expect(e.usage!.wallMs).toBeGreaterThanOrEqual(1000);
      expect(e.usage!.via).toBe("wait4");
    }
    expect(ends.find((e) => e.task === "burn")!.usage!.userMs).toBeGreaterThanOrEqual(400);
    expect(ends.find((e) => e.task === "broken")).toMatchObject({ status: "failed", usage: { via: "wait4" } });

    // One run record, ended, named by the records this run wrote.
    const [name, ...more] = runRecords(dir);
    expect(more).toEqual([]);
    const run = JSON.parse(readFileSync(join(dir, ".wfc/runs", name!), "utf8")) as Record<string, unknown>;
    expect(`${run.id as string}.json`).toBe(name);
    expect(run).toMatchObject({ outcome: "failed", cwd: dir, workflow: join(dir, "wf.yaml"), params: {} });
    expect(run.argv).toEqual(["run", "wf.yaml", "-k", "--json", "--events", "events.ndjson", "--trace", "trace.tsv"]);
    expect(run.end).toBeGreaterThanOrEqual(run.start as number);
    expect((run.plan as { tasks: unknown[] }).tasks).toHaveLength(3);

    const records = journal(dir);
    expect(records.map((x) => [x.stage, x.element, x.status, x.run]).sort()).toEqual([
      ["broken", "", "failed", run.id],
      ["burn", "", "done", run.id],
      ["hold", "n=1", "done", run.id],
      ["hold", "n=2", "done", run.id],
    ]);
    for (const x of records.filter((x) => x.stage === "hold")) expect(x.usage!.maxRssKb).toBeGreaterThanOrEqual(200 * 1024);
    expect(records.find((x) => x.stage === "burn")!.usage!.userMs).toBeGreaterThanOrEqual(400);
    // No retries: no attempt.
    expect(records.every((x) => x.attempt === undefined)).toBe(true);

    const rows = traceRows(readFileSync(join(dir, "trace.tsv"), "utf8"));
    expect(rows.map((x) => [x.task, x.stage, x.element, x.status, x.exit, x.attempt]).sort()).toEqual([
      ["broken", "broken", "", "failed", "3", "1"],
      ["burn", "burn", "", "done", "0", "1"],
      ["hold", "hold", "n=1", "done", "0", "1"],
      ["hold", "hold", "n=2", "done", "0", "1"],
    ]);
    for (const x of rows.filter((x) => x.stage === "hold")) {
      expect(Number(x.peak_rss_kb)).toBeGreaterThanOrEqual(200 * 1024);
      expect(Number(x.wall_s)).toBeGreaterThanOrEqual(1);
      expect(x.log).toBe(join(dir, ".wfc/logs/hold", `${x.element}.log`));
    }
    const burn = rows.find((x) => x.stage === "burn")!;
    expect(Number(burn.user_s)).toBeGreaterThanOrEqual(0.4);
    expect(Number(burn.cpu_pct)).toBeGreaterThan(0);
    for (const x of rows) {
      expect(x.start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(x.end!)).toBeGreaterThanOrEqual(Date.parse(x.start!));
    }
  });

  test("a retried step's record and row say which attempt ran it", async () => {
    const dir = fixture({
      "wf.yaml": {
        wfc: 1,
        stages: { flaky: { retries: 2, outputs: "out.txt", run: "if [ -e tried ]; then touch {outputs}; else touch tried; exit 1; fi" } },
      },
    });
    const r = await wfc(["run", "wf.yaml", "--trace", "trace.tsv"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(journal(dir).map((x) => [x.stage, x.status, x.attempt])).toEqual([["flaky", "done", 2]]);
    expect(traceRows(readFileSync(join(dir, "trace.tsv"), "utf8")).map((x) => [x.stage, x.status, x.attempt])).toEqual([
      ["flaky", "done", "2"],
    ]);
  });

  test("`fn` steps: wall time, and in a child process the CPU it used, measured by the worker", async () => {
    const dir = fixture({
      "spin.mjs":
        "import { writeFileSync } from 'node:fs';\n" +
        "export function spin({ outputs }) { const t = process.cpuUsage(); while (process.cpuUsage(t).user < 300000) {} writeFileSync(outputs, 'x'); }\n",
      "wf.yaml": {
        wfc: 1,
        executors: { procs: { type: "processes" } },
        stages: { spin: { executor: "procs", outputs: "spun.txt", fn: "./spin.mjs#spin" } },
      },
    });
    const r = await wfc(["run", "wf.yaml", "--trace", "trace.tsv"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const [record] = journal(dir);
    expect(record!.usage!.via).toBe("worker");
    expect(record!.usage!.wallMs).toBeGreaterThanOrEqual(300);
    expect(record!.usage!.userMs).toBeGreaterThanOrEqual(300);
    expect(Number(traceRows(readFileSync(join(dir, "trace.tsv"), "utf8"))[0]!.user_s)).toBeGreaterThanOrEqual(0.3);
  });

  test("WFC_MEASURE=0: no usage anywhere, the trace's cells for it empty", async () => {
    const dir = fixture({ "wf.yaml": { wfc: 1, stages: { one: { outputs: "a.txt", run: "touch {outputs}" } } } });
    const r = await wfc(["run", "wf.yaml", "--trace", "trace.tsv", "--json"], { cwd: dir, env: { WFC_MEASURE: "0" } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(journal(dir)[0]!.usage).toBeUndefined();
    expect(r.stdout).not.toContain('"usage"');
    const [row] = traceRows(readFileSync(join(dir, "trace.tsv"), "utf8"));
    expect([row!.wall_s, row!.cpu_pct, row!.peak_rss_kb]).toEqual(["", "", ""]);
    expect(row!.status).toBe("done");
  });

  test("the trace as CSV for a file named *.csv", async () => {
    const dir = fixture({
      "wf.yaml": { wfc: 1, stages: { one: { foreach: { v: ["a,b", "c"] }, outputs: "out/{v}", run: "touch {outputs}" } } },
    });
    const r = await wfc(["run", "wf.yaml", "--trace", "trace.csv"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = readFileSync(join(dir, "trace.csv"), "utf8").split("\n");
    expect(lines[0]).toBe(COLUMNS.join(","));
    // An element's identity escapes its commas (contract/identity.ts): every row is the 17 cells.
    const rows = lines.slice(1, -1).map((l) => l.split(","));
    expect(rows.map((cells) => cells.length)).toEqual([COLUMNS.length, COLUMNS.length]);
    expect(rows.map((cells) => cells[2]).sort()).toEqual(["v=a%2Cb", "v=c"]);
  });
});

describe("--trace and --events as a run goes", () => {
  test("Ctrl-C: the step it stopped is a cancelled row, the step before it done; the run record says interrupted", async () => {
    const dir = fixture({
      "wf.yaml": {
        wfc: 1,
        stages: {
          first: { foreach: { n: [1] }, outputs: "a/{n}.txt", run: "touch {outputs}" },
          second: { foreach: { n: [1] }, inputs: "a/{n}.txt", outputs: "b/{n}.txt", run: "touch started; sleep 30; touch {outputs}" },
        },
      },
    });
    const child = spawn(process.execPath, [join(repoRoot, "dist/cli/bin.js"), "run", "wf.yaml", "--trace", "trace.tsv"], {
      cwd: dir,
      env: { ...process.env, WFC_CONFIG: "", NO_COLOR: "1" },
      stdio: ["ignore", "ignore", "ignore"],
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    while (!existsSync(join(dir, "started"))) await sleep(20);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    const rows = traceRows(readFileSync(join(dir, "trace.tsv"), "utf8"));
    expect(rows.map((x) => [x.task, x.stage, x.element, x.status])).toEqual([
      ["first+second", "first", "n=1", "done"],
      ["first+second", "second", "n=1", "cancelled"],
    ]);
    expect(journal(dir).map((x) => [x.stage, x.status])).toEqual([["first", "done"]]);
    const [name] = runRecords(dir);
    expect(JSON.parse(readFileSync(join(dir, ".wfc/runs", name!), "utf8"))).toMatchObject({ outcome: "interrupted" });
  });

  test("--events without --json: the file has the events, the terminal its progress lines and summary", async () => {
    const dir = fixture({ "wf.yaml": { wfc: 1, stages: { one: { foreach: { n: [1, 2] }, outputs: "{n}.txt", run: "touch {outputs}" } } } });
    const r = await wfc(["run", "wf.yaml", "--events", "events.ndjson"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\[1\/2\] done +one#\d/m);
    expect(r.stderr).toMatch(/^ok: 2 done/m);
    const types = readFileSync(join(dir, "events.ndjson"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types[0]).toBe("run-start");
    expect(types.at(-1)).toBe("run-end");
    expect(types.filter((t) => t === "job-end")).toHaveLength(2);
  });
});

describe("run records: .wfc/runs/<id>.json", () => {
  test("written when the run starts (end: null), then with its end; a dry run writes none", async () => {
    const dir = fixture({
      "wf.yaml": { wfc: 1, stages: { look: { outputs: "seen.json", run: "cat .wfc/runs/*.json > {outputs}" } } },
    });
    expect((await wfc(["run", "wf.yaml", "--dry-run"], { cwd: dir })).exitCode).toBe(0);
    expect(runRecords(dir)).toEqual([]);
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const seen = JSON.parse(readFileSync(join(dir, "seen.json"), "utf8")) as Record<string, unknown>;
    expect([seen.end, seen.outcome]).toEqual([null, null]);
    const [name] = runRecords(dir);
    const after = JSON.parse(readFileSync(join(dir, ".wfc/runs", name!), "utf8")) as Record<string, unknown>;
    expect(after.id).toBe(seen.id);
    expect(after.outcome).toBe("ok");
  });

  test("the newest 20 are kept; files not named like a run record are never removed", async () => {
    const dir = fixture({ "wf.yaml": { wfc: 1, stages: { one: { outputs: "a.txt", run: "touch {outputs}" } } } });
    mkdirSync(join(dir, ".wfc/runs"), { recursive: true });
    const old = Array.from({ length: 25 }, (_, i) => `20200101T0000${String(i).padStart(2, "0")}.000Z-1.json`);
    for (const n of [...old, "notes.txt", "20200101.json", "mine.json"]) writeFileSync(join(dir, ".wfc/runs", n), "{}");
    const r = await wfc(["run", "wf.yaml", "--force"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const left = runRecords(dir);
    expect(left.filter((n) => !old.includes(n)).sort()).toEqual(
      [
        "20200101.json",
        "mine.json",
        "notes.txt",
        left.find((n) => n.startsWith("20") && !old.includes(n) && n !== "20200101.json")!,
      ].sort(),
    );
    // The run's own and the 19 newest of the old ones.
    expect(left.filter((n) => old.includes(n))).toEqual(old.slice(6));
  });

  test("a --trace file that cannot be written is bad input: exit 2, nothing runs", async () => {
    const dir = fixture({ "wf.yaml": { wfc: 1, stages: { one: { outputs: "a.txt", run: "touch {outputs}" } } } });
    const r = await wfc(["run", "wf.yaml", "--trace", "no/such/folder/trace.tsv"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--trace no\/such\/folder\/trace.tsv: cannot write it/);
    expect(existsSync(join(dir, "a.txt"))).toBe(false);
  });
});
