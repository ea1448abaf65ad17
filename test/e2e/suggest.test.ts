/**
 * `wfc suggest` (docs/resources.md): real jobs that allocate known memory
 * and sleep known times, measured by a real run, turned into a config file
 * that the next compile and SLURM export use; synthetic journals and traces
 * for the rules, the too-few case, hostile values and every refusal.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { memRule } from "../../runtime/suggest/rules.js";
import { directives, runArraysWithoutSlurm, withoutScontrol } from "../slurm/export-helpers.js";
import { fixture, wfc } from "./helpers.js";

const MiB = 1024 * 1024;

/** `big` allocates 80 MiB and sleeps 2 s per element, `small` 8 MiB; `few` has 2 elements, too few to size. */
const SIZING = `wfc: 1
name: sizing
defaults:
  time: 3h
stages:
  big:
    foreach: { i: { range: [0, 4] } }
    outputs: "work/big{i}.txt"
    mem: 8G
    time: 2h
    run: "mkdir -p work && perl -e 'my $x = \\"a\\" x (${80 * MiB}); sleep 2; print length($x)' > {outputs}"
  small:
    foreach: { i: { range: [0, 4] } }
    inputs: "work/big{i}.txt"
    outputs: "work/small{i}.txt"
    run: "perl -e 'my $x = \\"a\\" x (${8 * MiB}); print length($x)' > {outputs}"
  few:
    foreach: { i: { range: [0, 2] } }
    outputs: "work/few{i}.txt"
    mem: 1G
    run: "mkdir -p work && echo {i} > {outputs}"
`;

/** A site config: every stage on a SLURM executor with a 2G default. */
const SITE = `[executors.cluster]
type = "slurm"
mem = "2G"

[map.stages]
big = "cluster"
small = "cluster"
few = "cluster"
`;

describe("wfc suggest on real jobs", () => {
  test("measured memory and time become the config the next SLURM export requests", async () => {
    const dir = fixture({ "workflow.yaml": SIZING, "site.toml": SITE });
    const run = await wfc(["run", "workflow.yaml"], { cwd: dir });
    expect(run.exitCode, run.stderr).toBe(0);

    const r = await wfc(["suggest", "-o", "wfc.suggested.toml"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("Measured 10 steps of elements (each one's last measured run) from .wfc/journal.ndjson (10 measured records).");
    expect(lines[1]).toMatch(/^Current requests from \.wfc\/runs\/\d{8}T\d{6}\.\d{3}Z-\d+\.json\.$/);
    expect(r.stdout).toContain("`few`: 2 jobs measured: too few measurements (at least 3 needed), nothing suggested\n");

    const written = readFileSync(join(dir, "wfc.suggested.toml"), "utf8");
    expect(written.split("\n")[0]).toBe("# Written by wfc suggest: the resources each stage's jobs need, from what they used.");
    expect(written).toMatch(/^# Date: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/m);
    expect(written).toContain("# few: too few measurements (2 jobs), nothing suggested\n");
    expect(written).not.toContain("[resources.few]");

    // big: at least the 80 MiB it allocated (perl may hold a copy), p95 × 1.2 in 64M steps; 2 s of sleep → the 1 minute minimum.
    const big =
      /\[resources\.big\]\nmem = "(\d+)M" +# p95 peak RSS ([\d.]+)M over 4 jobs; was 8G\ntime = "1m" +# p95 wall ([\d.]+)s over 4 jobs; was 2h\ncpus = 1 +# /.exec(
        written,
      );
    expect(big, written).not.toBeNull();
    const [, mem, rss, wall] = big!.map(Number) as [number, number, number, number];
    expect(rss).toBeGreaterThanOrEqual(80);
    expect(rss).toBeLessThan(400);
    expect(mem).toBe(memRule(Math.round(rss * 1024 * 10) / 10));
    expect(mem).toBeGreaterThanOrEqual(128);
    expect(wall).toBeGreaterThanOrEqual(2);
    // small: 8 MiB is under the 128M minimum; the workflow's `defaults` time (3h) is replaced too.
    expect(written).toMatch(
      /\[resources\.small\]\nmem = "128M" +# p95 peak RSS [\d.]+M over 4 jobs; was none\ntime = "1m" +# p95 wall [\d.]+s over 4 jobs; was 3h\n/,
    );

    // The suggested file stacked on the site config: the first --config wins for what both set.
    const exported = await wfc(
      ["export", "slurm", "workflow.yaml", "--config", "wfc.suggested.toml", "--config", "site.toml", "-o", "slurm"],
      {
        cwd: dir,
        env: withoutScontrol,
      },
    );
    expect(exported.stderr).toBe("");
    expect(exported.exitCode).toBe(0);
    const slurm = join(dir, "slurm");
    expect(directives(slurm, "big.0")).toContain(`--mem=${mem}M`);
    expect(directives(slurm, "big.0")).toContain("--time=00:01:00");
    expect(directives(slurm, "small.0")).toContain("--mem=128M");
    expect(directives(slurm, "small.0")).toContain("--time=00:01:00");
    // `few` was not sized: its own mem and the workflow's default time.
    expect(directives(slurm, "few.0")).toContain("--mem=1024M");
    expect(directives(slurm, "few.0")).toContain("--time=03:00:00");

    // --explain says where each value came from.
    const explained = await wfc(["compile", "workflow.yaml", "--config", "wfc.suggested.toml", "--explain", "-o", "plan.json"], {
      cwd: dir,
    });
    expect(explained.exitCode).toBe(0);
    const section = explained.stdout.split("\n");
    const at = section.indexOf("Resources from config files:");
    expect(section.slice(at, at + 3)).toEqual([
      "Resources from config files:",
      `  - \`big\`: mem ${mem}M (the workflow's: 8G), time 1m (the workflow's: 2h), cpus 1, from wfc.suggested.toml:14`,
      "  - `small`: mem 128M (the workflow's: none), time 1m (the workflow's: 3h), cpus 1, from wfc.suggested.toml:21",
    ]);
  }, 120_000);
});

describe("wfc suggest on fused stages", () => {
  test("one request for the fused job: the largest RSS of its steps, the same values for each stage, which stay fused", async () => {
    const dir = fixture({
      "workflow.yaml": `wfc: 1
name: fused
stages:
  a:
    foreach: { i: { range: [0, 3] } }
    outputs: "work/a{i}.txt"
    run: "mkdir -p work && perl -e 'my $x = \\"a\\" x (${8 * MiB}); print 1' > {outputs}"
  b:
    foreach: { i: { range: [0, 3] } }
    inputs: "work/a{i}.txt"
    outputs: "work/b{i}.txt"
    run: "perl -e 'my $x = \\"a\\" x (${120 * MiB}); print 1' > {outputs}"
`,
    });
    const run = await wfc(["run", "workflow.yaml"], { cwd: dir });
    expect(run.exitCode, run.stderr).toBe(0);
    const r = await wfc(["suggest", "-o", "s.toml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("`a`, `b` (fused in task `a+b`: one request for the job): 3 jobs measured\n");
    const written = readFileSync(join(dir, "s.toml"), "utf8");
    const tables = [
      ...written.matchAll(
        /\[resources\.(a|b)\] {2}# fused in task a\+b: one request for the job\nmem = "(\d+)M" +# p95 peak RSS ([\d.]+)M/g,
      ),
    ];
    expect(tables.map((t) => t[1])).toEqual(["a", "b"]);
    expect(tables[0]![2]).toBe(tables[1]![2]);
    // b's 120 MiB, not a's 8: above the 128M minimum.
    expect(Number(tables[0]![3])).toBeGreaterThanOrEqual(120);
    expect(Number(tables[0]![2])).toBeGreaterThan(128);
    const explained = await wfc(["compile", "workflow.yaml", "-c", "s.toml", "--explain", "-o", "plan.json"], { cwd: dir });
    expect(explained.stdout).toContain("  - `a` → `b` fused into `a+b`: one job per element runs both\n");
    // `wfc report --suggest` is the same command, where report's users look for it.
    const alias = await wfc(["report", ".", "--suggest", "-o", "s.toml"], { cwd: dir });
    expect(alias.exitCode, alias.stderr).toBe(0);
    expect(alias.stdout).toBe(r.stdout);
    expect(
      readFileSync(join(dir, "s.toml"), "utf8")
        .split("\n")
        .filter((l) => !/date|Written/i.test(l)),
    ).toEqual(written.split("\n").filter((l) => !/date|Written/i.test(l)));
  }, 60_000);
});

describe("wfc suggest on a SLURM export's jobs", () => {
  test("what the array scripts measured (usage/), sized by stage with --plan, then the next export requests it", async () => {
    const dir = fixture({ "workflow.yaml": SIZING, "site.toml": SITE });
    const first = await wfc(["export", "slurm", "workflow.yaml", "--config", "site.toml", "-o", "slurm"], {
      cwd: dir,
      env: withoutScontrol,
    });
    expect(first.exitCode, first.stderr).toBe(0);
    // The jobs as SLURM would run them, index by index, each script measuring its steps.
    const runs = await runArraysWithoutSlurm(join(dir, "slurm"));
    expect(runs.map((r) => r.exitCode)).toEqual(Array(10).fill(0));

    // A static export holds no plan: which stage a measured step was needs it.
    const without = await wfc(["suggest", "slurm"], { cwd: dir });
    expect(without.exitCode).toBe(2);
    expect(without.stderr).toBe(
      [
        "slurm: error WFC306: `slurm` is a SLURM export without its plan: which stage each measured step was cannot be told",
        "   = help: give the workflow or plan it was exported from with --plan",
        "",
        "1 error in wfc suggest's inputs",
      ].join("\n"),
    );

    const r = await wfc(["suggest", "slurm", "--plan", "workflow.yaml", "--config", "site.toml", "-o", "wfc.suggested.toml"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n").slice(0, 2)).toEqual([
      "Measured 10 steps of elements (each one's last measured run) from slurm/usage (10 measured records).",
      "Current requests from workflow.yaml.",
    ]);
    const written = readFileSync(join(dir, "wfc.suggested.toml"), "utf8");
    expect(written).toContain("#   slurm/usage (export, 10 measured records)\n");
    const big =
      /\[resources\.big\]\nmem = "(\d+)M" +# p95 peak RSS ([\d.]+)M over 4 jobs; was 8G\ntime = "1m" +# p95 wall ([\d.]+)s over 4 jobs; was 2h\n/.exec(
        written,
      );
    expect(big, written).not.toBeNull();
    expect(Number(big![2])).toBeGreaterThanOrEqual(80);
    expect(Number(big![3])).toBeGreaterThanOrEqual(2);

    const again = await wfc(["export", "slurm", "workflow.yaml", "-c", "wfc.suggested.toml", "-c", "site.toml", "-o", "slurm2"], {
      cwd: dir,
      env: withoutScontrol,
    });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(directives(join(dir, "slurm2"), "big.0")).toEqual(expect.arrayContaining([`--mem=${big![1]}M`, "--time=00:01:00"]));
    expect(directives(join(dir, "slurm2"), "small.0")).toEqual(expect.arrayContaining(["--mem=128M", "--time=00:01:00"]));
  }, 120_000);
});

/** A journal record of `stage`'s element `i`, with usage. */
function record(stage: string, i: number, usage: Record<string, unknown> | undefined, status = "done") {
  return JSON.stringify({
    stage,
    element: `i=${i}`,
    status,
    hash: "0".repeat(64),
    start: 1_700_000_000_000 + i,
    end: 1_700_000_100_000 + i,
    exitCode: status === "done" ? 0 : 1,
    ...(usage !== undefined ? { usage: { via: "wait4", ...usage } } : {}),
  });
}

const SYNTHETIC = `wfc: 1
name: synthetic
stages:
  align:
    foreach: { i: { range: [0, 20] } }
    outputs: "a/{i}"
    cpus: 8
    mem: 16G
    run: "touch {outputs}"
  sort:
    foreach: { i: { range: [0, 20] } }
    inputs: "a/{i}"
    outputs: "s/{i}"
    run: "touch {outputs}"
`;

describe("wfc suggest on synthetic journals and traces", () => {
  test("the rules exactly: p95 of 20 elements, × 1.2 and × 1.5, rounded up; failures not counted; current from --plan", async () => {
    const journal = [
      // align: element i walls (i+1) × 10 s, uses 3.5 CPUs, (i+1) × 100 MiB; element 19 failed, so of 19 the p95 is the largest: 190 s, 1900 MiB.
      ...Array.from({ length: 20 }, (_, i) =>
        record("align", i, { wallMs: (i + 1) * 10_000, userMs: (i + 1) * 33_000, sysMs: (i + 1) * 2_000, maxRssKb: (i + 1) * 100 * 1024 }),
      ),
      // A failure is not a measurement of what the stage needs (and an older record of the same element is superseded).
      record("align", 19, { wallMs: 1, maxRssKb: 1 }, "failed"),
      // sort: wall only (as SpawnRunner measures), 2 elements: too few.
      record("sort", 0, { wallMs: 1000 }),
      record("sort", 1, { wallMs: 1000 }),
      record("sort", 2, undefined),
    ];
    const dir = fixture({ "workflow.yaml": SYNTHETIC, ".wfc/journal.ndjson": journal.join("\n") + "\n" });
    const r = await wfc(["suggest", "--plan", "workflow.yaml"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      [
        "Measured 22 steps of elements (each one's last measured run) from .wfc/journal.ndjson (23 measured records).",
        "Current requests from workflow.yaml.",
        "Rules: mem = p95 peak RSS × 1.2, rounded up to 64M (at least 128M); time = p95 wall × 1.5, rounded up to the minute (at least 1m); cpus = p95 of (user+sys)/wall, rounded up (less 0.05 for clock granularity), at least 1.",
        "",
        "`align`: 19 jobs measured, 1 failed not counted",
        "  mem    16G → 2304M  p95 peak RSS 1900.0M over 19",
        "  time  none → 5m     p95 wall 190.0s over 19",
        "  cpus     8 → 4      p95 CPU/wall 3.50 over 19",
        "",
        "`sort`: 2 jobs measured: too few measurements (at least 3 needed), nothing suggested",
      ].join("\n"),
    );
  });

  test("trace files, TSV and CSV, hostile element values included; -o refuses a file wfc did not write", async () => {
    const header =
      "task\tstage\telement\tjob\tattempt\tstatus\texit\tstart\tend\twall_s\tcpu_pct\tuser_s\tsys_s\tpeak_rss_kb\tread_bytes\twrite_bytes\tlog";
    const hostile = ["'=cmd()", "a\\tb\\nc", '</script>"x"'];
    const tsv = [
      header,
      ...hostile.map(
        (e, i) =>
          `sort\tsort\t${e}\t${i}\t1\tdone\t0\t2026-12-03T22:00:00.000Z\t2026-12-03T22:0${i}:00.000Z\t${100 + i}.000\t50.0\t${50 + i}.000\t0.000\t${300 * 1024}\t0\t0\t`,
      ),
    ].join("\n");
    const csv = [
      header.replaceAll("\t", ","),
      `align,align,"x,""y""\nz",0,1,done,0,,2026-12-03T22:00:00.000Z,30.000,,,,,,,`,
      `align,align,i=1,1,1,done,0,,2026-12-03T22:00:00.000Z,30.000,,,,,,,`,
      `align,align,i=2,2,1,cancelled,,,2026-12-03T22:00:00.000Z,,,,,,,,`,
    ].join("\r\n");
    const dir = fixture({ "run.trace.tsv": tsv + "\n", "run.csv": csv + "\r\n", "mine.toml": "# my site config\n" });
    const r = await wfc(["suggest", "run.trace.tsv", "run.csv"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      [
        "Measured 5 steps of elements (each one's last measured run) from run.trace.tsv (3 measured records), run.csv (2 measured records).",
        "Current requests: unknown (no run record with a plan; give --plan FILE).",
        "Rules: mem = p95 peak RSS × 1.2, rounded up to 64M (at least 128M); time = p95 wall × 1.5, rounded up to the minute (at least 1m); cpus = p95 of (user+sys)/wall, rounded up (less 0.05 for clock granularity), at least 1.",
        "",
        "`align`: 2 jobs measured: too few measurements (at least 3 needed), nothing suggested",
        "",
        "`sort`: 3 jobs measured",
        "  mem   ? → 384M  p95 peak RSS 300.0M over 3",
        "  time  ? → 3m    p95 wall 102.0s over 3",
        "  cpus  ? → 1     p95 CPU/wall 0.51 over 3",
      ].join("\n"),
    );

    // A file wfc did not write is left as it is.
    const refused = await wfc(["suggest", "run.trace.tsv", "-o", "mine.toml"], { cwd: dir });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe(
      [
        "mine.toml:1:1: error WFC305: `mine.toml` was not written by `wfc suggest`; it is left as it is",
        " 1 | # my site config",
        "   | ^^^^^^^^^^^^^^^^ expected a file whose first line is `# Written by wfc suggest…`, or none",
        "   = help: write the suggestions to another file (-o wfc.suggested.toml), or give --force to replace this one",
        "",
        "1 error in mine.toml",
      ].join("\n"),
    );
    expect(refused.stdout).toBe("");
    expect(readFileSync(join(dir, "mine.toml"), "utf8")).toBe("# my site config\n");

    // Its own file it replaces; --force replaces any.
    expect((await wfc(["suggest", "run.trace.tsv", "-o", "s.toml"], { cwd: dir })).exitCode).toBe(0);
    expect((await wfc(["suggest", "run.trace.tsv", "-o", "s.toml"], { cwd: dir })).exitCode).toBe(0);
    const forced = await wfc(["suggest", "run.trace.tsv", "-o", "mine.toml", "--force"], { cwd: dir });
    expect(forced.exitCode).toBe(0);
    const text = readFileSync(join(dir, "mine.toml"), "utf8");
    expect(text).toContain(
      [
        "",
        "[resources.sort]",
        'mem = "384M"  # p95 peak RSS 300.0M over 3 jobs; was unknown',
        'time = "3m"   # p95 wall 102.00s over 3 jobs; was unknown',
        "cpus = 1      # p95 CPU/wall 0.51 over 3 jobs; was unknown",
        "",
      ].join("\n"),
    );
    // A place that cannot be written: the cause, exit 2, no stack trace.
    const unwritable = await wfc(["suggest", "run.trace.tsv", "-o", "mine.toml/s.toml"], { cwd: dir });
    expect(unwritable.stderr).toBe("wfc: error: cannot write `mine.toml/s.toml`: cannot make its folder (EEXIST)");
    expect(unwritable.exitCode).toBe(2);
    // What it wrote is a valid config.
    const shown = await wfc(["config", "show", "--config", "mine.toml"], { cwd: dir });
    expect(shown.stderr).toBe("");
    expect(shown.stdout).toContain('[resources.sort]  # from mine.toml:14\nmem = "384M"      # from mine.toml:15\n');
  });

  test("nothing readable or nothing measured: exit 2 with the cause, nothing written", async () => {
    const dir = fixture({
      "notes.txt": "hello\n",
      "old/.wfc/journal.ndjson": record("a", 0, undefined) + "\n",
      "empty/readme": "",
    });
    const missing = await wfc(["suggest", "nope", "empty", "notes.txt", "-o", "s.toml"], { cwd: dir });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toBe(
      [
        "nope: error WFC306: no such folder or file `nope`",
        "   = help: name a workflow's folder (it holds `.wfc/`) or a trace file written by `wfc run --trace`",
        "",
        "empty: error WFC306: `empty` holds no journal (`empty/.wfc/journal.ndjson`): no run happened there",
        "   = help: run the workflow first (`wfc run`), or name the folder it ran in",
        "",
        "notes.txt: error WFC306: `notes.txt` is not a trace written by `wfc run --trace` (its first line is not the trace's header)",
        "   = help: a trace starts with the line `task\\tstage\\telement\\tjob\\tattempt\\tstatus\\texit\\tstart\\tend\\twall_s\\tcpu_pct\\tuser_s\\tsys_s\\tpeak_rss_kb\\tread_bytes\\twrite_bytes\\tlog`; a journal is `DIR/.wfc/journal.ndjson`",
        "",
        "3 errors in wfc suggest's inputs",
      ].join("\n"),
    );
    const unmeasured = await wfc(["suggest", "old", "-o", "s.toml"], { cwd: dir });
    expect(unmeasured.exitCode).toBe(2);
    expect(unmeasured.stderr).toBe(
      [
        "old/.wfc/journal.ndjson: error WFC307: no measured jobs in old/.wfc/journal.ndjson: its records carry no usage",
        "   = help: run the workflow with a wfc that measures jobs (`wfc run --force` measures every job again), then ask again",
        "",
        "1 error in wfc suggest's inputs",
      ].join("\n"),
    );
    expect(existsSync(join(dir, "s.toml"))).toBe(false);
  });
});
