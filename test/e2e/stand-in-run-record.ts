import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, cpus, totalmem } from "node:os";
import { join } from "node:path";
import type { JournalRecord } from "../../runtime/state/journal.js";
import type { JobUsage, RunRecord } from "../../runtime/state/usage.js";

/**
 * A STAND-IN for what part A of issue 16 (branch `usage`) makes every run
 * write: `.wfc/runs/<id>.json` and the `run`, `attempt` and `usage` fields
 * of the journal records the run wrote. Until that branch is merged, the
 * report's tests run a real workflow and then call this to add them to the
 * records that run wrote (those that started at or after `since`), with
 * the `usage` that `usage(record)` gives (only `wallMs` by default: no
 * figure is invented unless a test asks). Once runs write them, tests drop it.
 */
export function standInRunRecord(
  dir: string,
  options: {
    readonly since: number;
    readonly plan: unknown;
    readonly argv: readonly string[];
    readonly workflow: string;
    readonly outcome: RunRecord["outcome"];
    readonly params?: Record<string, unknown>;
    readonly usage?: (r: JournalRecord) => Partial<JobUsage>;
  },
): string {
  const journal = join(dir, ".wfc", "journal.ndjson");
  const lines = readFileSync(journal, "utf8").split("\n");
  let end = options.since;
  const id = `${new Date(options.since).toISOString().replace(/[-:]/g, "")}-${process.pid}`;
  const stamped = lines.map((line) => {
    if (line.trim() === "") return line;
    const r = JSON.parse(line) as JournalRecord;
    if (r.start < options.since || r.run !== undefined) return line;
    end = Math.max(end, r.end);
    const usage = { wallMs: r.end - r.start, via: "wait4", ...options.usage?.(r) } as JobUsage;
    return JSON.stringify({ ...r, usage, run: id, attempt: 1 });
  });
  writeFileSync(journal, stamped.join("\n"));
  const run: RunRecord = {
    id,
    wfc: "0.1.0",
    start: options.since,
    end: end + 1,
    outcome: options.outcome,
    argv: options.argv,
    cwd: dir,
    workflow: options.workflow,
    params: options.params ?? (options.plan as { params: Record<string, unknown> }).params,
    host: { hostname: hostname(), platform: process.platform, cpus: cpus().length, memoryBytes: totalmem(), node: process.version },
    plan: options.plan,
  };
  mkdirSync(join(dir, ".wfc", "runs"), { recursive: true });
  writeFileSync(join(dir, ".wfc", "runs", `${id}.json`), JSON.stringify(run));
  return id;
}
