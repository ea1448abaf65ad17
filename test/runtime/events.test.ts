import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { copySample, repoRoot, wfc } from "../e2e/helpers.js";

const schema = JSON.parse(readFileSync(join(repoRoot, "schema/events.schema.json"), "utf8")) as object;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

type Event = Record<string, unknown> & { type: string };

/** Every line of `--json` output, each checked against schema/events.schema.json. */
function events(stdout: string): Event[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const event = JSON.parse(line) as Event;
      expect(validate(event), `${line}\n${JSON.stringify(validate.errors, null, 2)}`).toBe(true);
      return event;
    });
}

describe("wfc run --json: NDJSON events as schema/events.schema.json describes them", () => {
  test("a run: run-start, each job's start before its end, run-end with the summary", async () => {
    const dir = copySample("qiime-search");
    const r = await wfc(["run", "workflow.yaml", "--json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const list = events(r.stdout);
    expect(list[0]!.type).toBe("run-start");
    expect(list.at(-1)!.type).toBe("run-end");
    const ends = list.filter((e) => e.type === "job-end");
    // run-start counts the jobs known before any runs; the split's expand event adds one search per chunk it wrote.
    const expanded = list.filter((e) => e.type === "expand").map((e) => e.jobs as number);
    expect(expanded).toEqual([6]);
    expect(ends).toHaveLength((list[0]!.jobs as number) + 6);
    for (const end of ends) {
      const start = list.findIndex((e) => e.type === "job-start" && e.task === end.task && e.job === end.job);
      expect(start, `${String(end.task)}#${String(end.job)} has a job-start`).toBeGreaterThan(0);
      expect(start).toBeLessThan(list.indexOf(end));
      expect(end.status).toBe("done");
      // What the job used (issue 16): every job here ran, so each was measured (schema: $defs/usage).
      expect(
        (end.usage as { wallMs: number } | undefined)?.wallMs,
        `${String(end.task)}#${String(end.job)} has usage`,
      ).toBeGreaterThanOrEqual(0);
    }
    const summary = list.at(-1)!.summary as { status: string; done: number; criticalPath: { task: string }[] };
    expect([summary.status, summary.done]).toEqual(["ok", 9]);
    // The last job to finish, and the chain that led to it, one job per stage.
    expect(summary.criticalPath.map((p) => p.task)).toEqual(["split", "search", "merge", "summarize"]);
  });

  test("a re-run reports every job up to date; a dry run, what would run and why", async () => {
    const dir = copySample("scipion-steps");
    expect((await wfc(["run", "workflow.yaml"], { cwd: dir })).exitCode).toBe(0);
    const again = events((await wfc(["run", "workflow.yaml", "--json"], { cwd: dir })).stdout);
    const ends = again.filter((e) => e.type === "job-end");
    expect(ends.length).toBeGreaterThan(0);
    expect(ends.every((e) => e.status === "skipped" && e.reason === "up to date")).toBe(true);
    const dry = events((await wfc(["run", "workflow.yaml", "--json", "--dry-run", "--force"], { cwd: dir })).stdout);
    const would = dry.filter((e) => e.type === "would-run");
    expect(would).toHaveLength(ends.length);
    expect(new Set(would.map((e) => e.reason))).toEqual(new Set(["--force"]));
  });

  test("a failure: a failed job-end with its exit code and log, and the summary's failures", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wfc-events-fail-"));
    writeFileSync(
      join(dir, "wf.yaml"),
      ["wfc: 1", "stages:", "  boom:", "    outputs: out.txt", "    run: \"echo 'it broke' >&2; exit 3\""].join("\n"),
    );
    const r = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const list = events(r.stdout);
    const end = list.find((e) => e.type === "job-end")!;
    expect([end.status, end.exitCode]).toEqual(["failed", 3]);
    const summary = list.at(-1)!.summary as { status: string; failures: { exitCode: number; tail: string }[] };
    expect(summary.status).toBe("failed");
    expect(summary.failures.map((f) => [f.exitCode, f.tail])).toEqual([[3, "it broke"]]);
  });

  test("a shared limit: the summary names it as the busiest", async () => {
    const dir = copySample("ruffus-jobs-limit");
    const r = await wfc(["run", "workflow.yaml", "--json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const summary = events(r.stdout).at(-1)!.summary as { busiestLimit: { group: string; capacity: number; fullMs: number } };
    expect([summary.busiestLimit.group, summary.busiestLimit.capacity]).toEqual(["limit:ftp_download_limit", 3]);
    expect(summary.busiestLimit.fullMs).toBeGreaterThan(0);
  });
});
