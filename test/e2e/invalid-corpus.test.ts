/**
 * The invalid corpus: every workflow in samples/invalid is run through the
 * built CLI, and what the user sees (stderr and the exit code) must match its
 * `.expected` file byte for byte. `UPDATE_EXPECTED=1` rewrites the files from
 * the actual output; read the diff before committing it.
 *
 * Needs `npm run build` first: it spawns dist/cli/bin.js, as a user would.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const corpus = "samples/invalid";
const bin = join(root, "dist/cli/bin.js");
const update = process.env.UPDATE_EXPECTED === "1";

const workflowExtensions = new Set([".yaml", ".yml", ".toml", ".json"]);
const cases = readdirSync(join(root, corpus))
  .filter((name) => workflowExtensions.has(extname(name)))
  .sort();

/** `NAME.args`: extra command-line arguments, one per line, passed after the file. */
function argsOf(name: string): string[] {
  const file = join(root, corpus, `${stem(name)}.args`);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "");
}

function stem(name: string): string {
  return name.slice(0, -extname(name).length);
}

async function validate(file: string, args: readonly string[]) {
  return execa("node", [bin, "validate", file, ...args], {
    cwd: root,
    env: { NO_COLOR: "1" },
    reject: false,
    stripFinalNewline: false,
  });
}

// One diagnostic per block; blocks are separated by a blank line and the
// last one is the summary ("2 errors in FILE").
const fileHeader = /^samples\/invalid\/[^:]+(:\d+:\d+)?: (error|warning) WFC\d{3}: /;
const commandLineHeader = /^wfc: (error|warning) WFC\d{3}: /;

describe("samples/invalid", () => {
  test("has at least 45 cases, at least 15 of them TOML", () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
    expect(cases.filter((c) => extname(c) === ".toml").length).toBeGreaterThanOrEqual(15);
  });

  test("no two cases share a name (they would share an .expected file)", () => {
    const stems = cases.map(stem);
    expect(stems.filter((s, i) => stems.indexOf(s) !== i)).toEqual([]);
  });

  // Concurrent: each case is a separate process, and there are many.
  test.concurrent.for(cases)("%s", async (name, { expect }) => {
    const file = `${corpus}/${name}`;
    const args = argsOf(name);
    const result = await validate(file, args);
    const stderr = String(result.stderr);
    const actual = `${stderr}exit: ${result.exitCode}\n`;
    const expectedFile = join(root, corpus, `${stem(name)}.expected`);
    if (update) writeFileSync(expectedFile, actual);

    expect(existsSync(expectedFile), `${stem(name)}.expected is missing; run with UPDATE_EXPECTED=1`).toBe(true);
    // Soft, so that a changed message still gets the checks below.
    expect.soft(actual).toBe(readFileSync(expectedFile, "utf8"));

    expect(result.stdout).toBe("");
    expect(result.exitCode).toBe(2);
    expect(stderr).not.toContain("    at ");
    expect(stderr).not.toContain("internal error");

    const blocks = stderr.replace(/\n$/, "").split("\n\n");
    const summary = blocks.pop();
    expect(summary).toMatch(new RegExp(`^\\d+ errors?(, \\d+ warnings?)? in ${file.replace(/[.]/g, "\\.")}$`));
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const header = block.split("\n")[0]!;
      // Only `--param` problems have no place in the file; they are located at `wfc`.
      const ok = fileHeader.test(header) || (args.length > 0 && commandLineHeader.test(header));
      expect(ok, `diagnostic header: ${header}`).toBe(true);
    }
  });

  test("--format json locates every diagnostic of a multi-error TOML file", async () => {
    const file = `${corpus}/several-errors-slurm.toml`;
    const result = await validate(file, ["--format", "json"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe("");
    const report = JSON.parse(String(result.stdout)) as JsonReport;
    expect(report.files).toHaveLength(1);
    const [only] = report.files;
    expect(only!.file).toBe(file);
    expect(only!.valid).toBe(false);
    const located = only!.diagnostics.map((d) => [
      d.code,
      d.range?.start.line,
      d.range?.start.column,
      d.range?.end.line,
      d.range?.end.column,
    ]);
    expect(located).toEqual(severalErrorsSlurm);
    for (const d of only!.diagnostics) {
      expect(d.severity).toBe("error");
      expect(d.file).toBe(file);
    }

    // The same diagnostics, at the same places, as the text output.
    const text = await validate(file, []);
    const headers = String(text.stderr)
      .split("\n")
      .filter((line) => line.startsWith(`${file}:`));
    expect(headers).toEqual(
      only!.diagnostics.map((d) => `${file}:${d.range!.start.line}:${d.range!.start.column}: ${d.severity} ${d.code}: ${d.message}`),
    );
  });
});

interface JsonReport {
  files: {
    file: string;
    valid: boolean;
    diagnostics: {
      severity: string;
      code: string;
      message: string;
      file: string;
      range: { start: { line: number; column: number }; end: { line: number; column: number } } | null;
    }[];
  }[];
}

/**
 * several-errors-slurm.toml: [code, start line, start column, end line, end
 * column] of each diagnostic, in order; each span covers exactly the
 * offending key or value (TOML values with their quotes).
 */
const severalErrorsSlurm: [string, number, number, number, number][] = [
  ["WFC102", 12, 1, 12, 9], // partiton
  ["WFC203", 18, 12, 18, 17], // "hcp"
  ["WFC202", 19, 9, 19, 15], // "disk"
  ["WFC106", 20, 7, 20, 13], // "lots"
  ["WFC205", 21, 25, 21, 39], // {params.genom}
  ["WFC207", 26, 11, 26, 35], // "peaks/peaks.narrowPeak"
  ["WFC201", 27, 19, 27, 26], // "dedup"
];
