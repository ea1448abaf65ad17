/**
 * A trace as `wfc run --trace` writes it (runtime/run/trace.ts), TSV and
 * CSV, read back by `wfc suggest` (runtime/suggest/measurements.ts): any
 * element value (tabs, newlines, quotes, commas, `=cmd`, non-ASCII) keeps
 * its row whole, so each element is one measurement with its figures.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { traceHeader, traceRow, type TraceFormat } from "../../runtime/run/trace.js";
import { readMeasurements } from "../../runtime/suggest/measurements.js";

describe("a trace written by wfc run reads back in wfc suggest", () => {
  for (const format of ["tsv", "csv"] as const satisfies readonly TraceFormat[]) {
    test(`${format}: every element's row, with its wall, CPU and RSS, whatever its value`, () => {
      const dir = mkdtempSync(join(tmpdir(), "wfc-suggest-trace-"));
      let n = 0;
      fc.assert(
        fc.property(fc.uniqueArray(fc.string({ unit: "binary", maxLength: 12 }), { minLength: 1, maxLength: 8 }), (elements) => {
          const file = join(dir, `t${n++}.${format}`);
          const rows = elements.map((element, i) =>
            traceRow(
              {
                task: "align",
                stage: "align",
                element,
                job: i,
                attempt: 1,
                status: "done",
                exitCode: 0,
                start: 1_000,
                end: 2_000 + i,
                usage: { wallMs: 1000 * (i + 1), userMs: 500, sysMs: 250, maxRssKb: 1024 * (i + 1), via: "wait4" },
                log: `logs/${element}.log`,
              },
              format,
            ),
          );
          writeFileSync(file, traceHeader(format) + rows.join(""));
          const r = readMeasurements([file], "/");
          expect(r.problems).toEqual([]);
          expect(r.measurements).toHaveLength(elements.length);
          const walls = r.measurements.map((m) => m.usage.wallMs).sort((a, b) => a - b);
          expect(walls).toEqual(elements.map((_, i) => 1000 * (i + 1)));
          for (const m of r.measurements) {
            expect(m.stage).toBe("align");
            expect(m.usage.maxRssKb).toBe((m.usage.wallMs / 1000) * 1024);
            expect(m.usage.userMs).toBe(500);
            expect(m.usage.sysMs).toBe(250);
          }
        }),
        { numRuns: 200 },
      );
    });
  }
});
