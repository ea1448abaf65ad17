// `--trace` rows (runtime/run/trace.ts) for any text in a value: one line,
// 17 cells, the value back when read as TSV (its escapes) or CSV (RFC
// 4180), and never a formula. The end-to-end run is in test/e2e/usage.test.ts
// and test/e2e/hostile-values.test.ts (element identities escape much of
// this already: here the row must hold without that help).
import fc from "fast-check";
import { expect, test } from "vitest";
import { TRACE_COLUMNS, traceRow } from "../../runtime/run/trace.js";
import type { UnitEnd } from "../../runtime/run/usage.js";

const HOSTILE = [
  "=cmd|' /C calc'!A0",
  "+1",
  "-2",
  "@SUM(A1)",
  "\tx",
  "\rx",
  'a"b',
  "a,b",
  "a\tb",
  "a\nb",
  "a\r\nb",
  "back\\slash",
  "\\t",
  "",
];
const text = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: "grapheme" }), fc.string());

function unit(value: string): UnitEnd {
  return {
    task: value,
    stage: value,
    element: value,
    job: 0,
    attempt: 1,
    status: "done",
    exitCode: 0,
    start: 0,
    end: 1,
    usage: { wallMs: 1, userMs: 1, sysMs: 0, maxRssKb: 2, via: "wait4" },
    log: value,
  };
}

/** What a spreadsheet shows of a guarded cell: the `'` is its "this is text" mark. */
const unguard = (cell: string) => (/^'['=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);
const unescapeTsv = (cell: string) => cell.replace(/\\([\\tnr])/g, (_, c: string) => ({ "\\": "\\", t: "\t", n: "\n", r: "\r" })[c]!);

function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      cells.push(cell);
      cell = "";
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

test("TSV: one line of 17 cells; each text value comes back, guarded against formulas", () => {
  fc.assert(
    fc.property(text, (value) => {
      const row = traceRow(unit(value), "tsv");
      expect(row.endsWith("\n")).toBe(true);
      expect(row.slice(0, -1)).not.toMatch(/[\n\r]/);
      const cells = row.slice(0, -1).split("\t");
      expect(cells).toHaveLength(TRACE_COLUMNS.length);
      for (const at of [0, 1, 2, 16]) {
        expect(cells[at]).not.toMatch(/^[=+\-@]/);
        expect(unguard(unescapeTsv(cells[at]!))).toBe(value);
      }
    }),
    { numRuns: 500 },
  );
});

test("CSV: 17 cells by RFC 4180 (line breaks only inside quotes); each text value comes back, guarded", () => {
  fc.assert(
    fc.property(text, (value) => {
      const row = traceRow(unit(value), "csv");
      const cells = parseCsvLine(row.slice(0, -1));
      expect(cells).toHaveLength(TRACE_COLUMNS.length);
      for (const at of [0, 1, 2, 16]) {
        expect(cells[at]).not.toMatch(/^[=+\-@]/);
        expect(unguard(cells[at]!)).toBe(value);
      }
    }),
    { numRuns: 500 },
  );
});
