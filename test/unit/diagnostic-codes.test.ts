/**
 * The closed set of diagnostic codes (`compiler/diagnostics/codes.ts`) against
 * what users read and what the project emits and tests: docs/errors.md lists
 * exactly these codes with the same one-line meanings, every code is emitted
 * somewhere, and every code is exercised by a test or an invalid sample.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { CODES, type DiagnosticCode } from "../../compiler/diagnostics/codes.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const codes = Object.keys(CODES) as DiagnosticCode[];

/**
 * Codes no test or invalid sample shows yet. Known gaps to close, not a
 * place to park new codes: an entry that gets covered fails the test below
 * until it is removed here.
 */
const untested: ReadonlyMap<DiagnosticCode, string> = new Map<DiagnosticCode, string>([
  [
    "WFC100",
    "the fallback for a schema keyword validate-schema.ts does not map; every keyword the current schemas use is mapped, so no input reaches it",
  ],
]);

interface DocRow {
  readonly code: string;
  readonly severity: string;
  readonly meaning: string;
  readonly line: number;
}

/** The rows of every code table in docs/errors.md: `| WFCnnn | severity | meaning |`. */
function docRows(): DocRow[] {
  const lines = readFileSync(join(root, "docs/errors.md"), "utf8").split("\n");
  const rows: DocRow[] = [];
  lines.forEach((text, i) => {
    const cells = /^\|\s*(WFC\d{3})\s*\|\s*([^|]*?)\s*\|\s*(.*?)\s*\|\s*$/.exec(text);
    if (cells === null) return;
    rows.push({ code: cells[1]!, severity: cells[2]!, meaning: cells[3]!, line: i + 1 });
  });
  return rows;
}

/** Files under `dir` (relative to the repo root) whose name passes `keep`, sorted. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const entries = readdirSync(join(root, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && keep(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

/** The `WFCnnn` codes mentioned in these files. */
function codesIn(files: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const file of files) for (const m of readFileSync(join(root, file), "utf8").matchAll(/WFC\d{3}/g)) found.add(m[0]);
  return found;
}

describe("diagnostic codes", () => {
  test("each code is WFC and three digits, in ascending order", () => {
    for (const code of codes) expect(code).toMatch(/^WFC\d{3}$/);
    expect(codes).toEqual([...codes].sort());
  });

  test("docs/errors.md lists every code once, with the meaning given in codes.ts", () => {
    const rows = docRows();
    const live = rows.filter((r) => r.severity !== "retired");
    const listed = rows.map((r) => r.code);
    expect(
      listed.filter((c, i) => listed.indexOf(c) !== i),
      "listed twice",
    ).toEqual([]);
    expect(
      codes.filter((c) => !listed.includes(c)),
      "missing from docs/errors.md",
    ).toEqual([]);
    expect(
      live.filter((r) => !(r.code in CODES)).map((r) => `${r.code} (line ${r.line})`),
      "listed in docs/errors.md but not in codes.ts (mark a retired code `retired`)",
    ).toEqual([]);
    for (const row of live) {
      expect(row.severity, `${row.code} (line ${row.line})`).toMatch(/^(error|warning)$/);
      expect(row.meaning, `${row.code} (line ${row.line})`).toBe(CODES[row.code as DiagnosticCode]);
    }
  });

  test("a code docs/errors.md marks retired is not in codes.ts", () => {
    // Codes are never reused: a retired code keeps its row and leaves the union.
    const retired = docRows().filter((r) => r.severity === "retired");
    expect(retired.filter((r) => r.code in CODES).map((r) => r.code)).toEqual([]);
  });

  test("every code is emitted by the compiler or the CLI", () => {
    const sources = [...filesUnder("compiler", (n) => n.endsWith(".ts")), ...filesUnder("cli", (n) => n.endsWith(".ts"))].filter(
      (f) => f !== join("compiler", "diagnostics", "codes.ts"),
    );
    const emitted = new Set<string>();
    for (const file of sources) for (const m of readFileSync(join(root, file), "utf8").matchAll(/"(WFC\d{3})"/g)) emitted.add(m[1]!);
    expect(codes.filter((c) => !emitted.has(c))).toEqual([]);
  });

  test("every code appears in a test or a samples/invalid/*.expected file, except the known gaps", () => {
    const self = relative(root, fileURLToPath(import.meta.url));
    const tests = filesUnder("test", (n) => n.endsWith(".ts")).filter((f) => f !== self);
    const expected = filesUnder("samples/invalid", (n) => n.endsWith(".expected"));
    const seen = codesIn([...tests, ...expected]);
    expect(
      codes.filter((c) => !seen.has(c) && !untested.has(c)),
      "no test or invalid sample shows these codes",
    ).toEqual([]);
    expect(
      [...untested.keys()].filter((c) => seen.has(c)),
      "covered now: remove from `untested`",
    ).toEqual([]);
  });
});
