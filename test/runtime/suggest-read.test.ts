/**
 * What `wfc suggest` reads (runtime/suggest/measurements.ts), from real
 * files: each element's last measured run across inputs, torn journal
 * lines, records that are not measurements, and that reading creates
 * nothing.
 */
import { readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { readMeasurements } from "../../runtime/suggest/measurements.js";
import { fixture } from "../e2e/helpers.js";

function line(stage: string, element: string, end: number, usage?: Record<string, unknown>, status = "done"): string {
  return JSON.stringify({
    stage,
    element,
    status,
    hash: "h",
    start: end - 1,
    end,
    ...(usage ? { usage: { via: "wait4", ...usage } } : {}),
  });
}

describe("readMeasurements", () => {
  test("the last measured run of each element wins, across journals and traces, by when it ended", () => {
    const header =
      "task\tstage\telement\tjob\tattempt\tstatus\texit\tstart\tend\twall_s\tcpu_pct\tuser_s\tsys_s\tpeak_rss_kb\tread_bytes\twrite_bytes\tlog";
    const dir = fixture({
      "a/.wfc/journal.ndjson":
        [
          line("s", "i=1", 1000, { wallMs: 1 }),
          line("s", "i=1", 3000, { wallMs: 3 }),
          // Touched and unmeasured records are no measurement; the one before them stays.
          line("s", "i=2", 1000, { wallMs: 2 }),
          line("s", "i=2", 5000, undefined),
          line("s", "i=3", 9000, undefined, "touched"),
          // A stage that is not a name (a hand-edited journal) is not read.
          line("bad stage", "i=1", 1000, { wallMs: 1 }),
        ].join("\n") +
        // A torn write: the glued record after it still counts.
        `\n{"stage":"s","elem${line("s", "i=4", 1000, { wallMs: 4 })}\n`,
      "t.tsv": `${header}\ns\ts\ti=1\t0\t1\tdone\t0\t\t1970-01-01T00:00:02.000Z\t7.000\t\t\t\t\t\t\t\n`,
    });
    const r = readMeasurements(["a", "t.tsv"], dir);
    expect(r.problems).toEqual([]);
    expect(r.sources).toEqual([
      { kind: "journal", path: "a/.wfc/journal.ndjson", measured: 4 },
      { kind: "trace", path: "t.tsv", measured: 1 },
    ]);
    expect(r.measurements.map((m) => [m.element, m.usage.wallMs])).toEqual([
      ["i=1", 3], // the journal's at 3 s beats the trace's at 2 s
      ["i=2", 2],
      ["i=4", 4],
    ]);
    // Read only: no `.wfc/` made where there was none, nothing added where there was.
    expect(readdirSync(dir).sort()).toEqual(["a", "t.tsv"]);
    expect(readdirSync(`${dir}/a/.wfc`)).toEqual(["journal.ndjson"]);
  });
});
