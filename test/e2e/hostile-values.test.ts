/**
 * The hostile-value fuzz: over a thousand values built to break out of a
 * shell (quotes, `$(…)`, backticks, `;`, newlines, `..`, absolute-looking
 * text, non-ASCII, leading dashes, globs, `~`, `\`, `%`, braces, trailing
 * spaces, empty strings) go through foreach values (YAML and TOML), params
 * (in the file and on the command line, scalar and list), shell strings
 * (unquoted, "…", '…', $(…)), argv, `env` and a SLURM export run with bash; shell
 * strings run under bash in strict mode (the default) and under `shell: sh`.
 * Every job writes what it received, NUL-separated, to a file named by the
 * element's index (values are not used in paths); each must arrive byte for
 * byte, no canary may appear and `victim/` must survive.
 *
 * Few processes for many values: one workflow, `batch: 100`, three runs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { filesUnder, runArraysWithoutSlurm, withoutScontrol } from "../slurm/export-helpers.js";
import { fixture, wfc } from "./helpers.js";

/** Hand-written: each names a way out of naive quoting. */
const CORPUS = [
  "$(touch PWNED)",
  "`touch PWNED`",
  "; touch PWNED;",
  "'; touch PWNED; '",
  '"; touch PWNED; "',
  "\"'$(touch PWNED)'\"",
  "' \"$(touch PWNED)\" '",
  "$(rm -rf victim)",
  "\nrm -rf victim\n",
  "a\nrm -rf victim #",
  "| touch PWNED",
  "& touch PWNED &",
  "> PWNED",
  "$'\\x41' $\"x\"",
  "${HOME} $HOME $((1+1)) $[1+1]",
  "\\",
  "\\'",
  '\\"',
  "\\\n",
  "..",
  "../..",
  "a/../../b",
  "/etc/passwd",
  "/",
  "-n",
  "--help",
  "-rf",
  "*",
  "?",
  "[a-z]*",
  "~",
  "~root",
  "%s%d%n",
  "{}",
  "{v}",
  "{params.s}",
  "{{",
  "}}",
  "a b",
  "trailing space ",
  " leading space",
  "\ttab",
  "",
  " ",
  "naïve ☃ 日本語 🎉",
  "\u00a0nbsp",
  "line1\r\nline2",
  "\u0001\u001f\u007f",
  "#not a comment",
  "!event",
  "EOF",
  "a=b",
  "PATH=/tmp",
] as const;

const hostileChar = fc.constantFrom(..."'\"$`\\(){}[];&|<>*?~#!=%,.-/ \n\t\r");
const anyChar = fc.oneof(
  hostileChar,
  fc.constantFrom("a", "Z", "0", "é", "☃", "日", "🎉", "\u0001", "\u007f"),
  fc.string({ unit: "grapheme", maxLength: 1 }),
);
/** Random values: hostile characters, mixed with pieces of the corpus. */
const valueArb = fc
  .array(fc.oneof({ weight: 4, arbitrary: anyChar }, { weight: 1, arbitrary: fc.constantFrom(...CORPUS) }), { maxLength: 10 })
  .map((pieces) => pieces.join(""))
  // No argument or environment variable can hold a NUL.
  .filter((v) => !v.includes("\0") && Buffer.from(v, "utf8").toString("utf8") === v);

const VALUES: readonly string[] = [...CORPUS, ...fc.sample(valueArb, { seed: 11, numRuns: 1000 })];
/** List-param items: a few hundred, for the file; those without commas for `--param`. */
const ITEMS: readonly string[] = [...CORPUS, ...fc.sample(valueArb, { seed: 12, numRuns: 150 })];
const CLI_ITEMS: readonly string[] = ITEMS.filter((v) => !v.includes(","));
const FILE_PARAM = "$(touch PWNED) '\"`touch PWNED`\"' ; rm -rf victim\n";
const CLI_PARAM = "\"'; touch PWNED; '\" $(rm -rf victim) \\\n ";

/** `$(…)` drops the trailing newlines of what it captures, as it does for any command. */
const captured = (v: string) => v.replace(/\n+$/, "");

/**
 * `fileItems`: the list param as the file gives it (`items` when no `--param` replaces it);
 * `shell`: the workflow's `defaults.shell` (none: bash in strict mode).
 */
function workflow(values: readonly string[], items: readonly string[], fileItems = items, shell?: "sh"): Record<string, unknown> {
  const each = (n: number, source: unknown) => ({
    foreach: { i: { range: [0, n] }, v: source },
    zip: ["i", "v"],
    batch: 100,
  });
  return {
    wfc: 1,
    name: "hostile",
    params: { s: FILE_PARAM, ps: [...fileItems] },
    ...(shell !== undefined ? { defaults: { shell } } : {}),
    stages: {
      shell: {
        ...each(values.length, [...values]),
        outputs: "shell/{i}",
        run: `printf '%s\\000' {v} "{v}" 'x{v}y' "a$(printf %s {v})b" "$(printf '%s' "{v}")" {params.s} "{params.s}" '{params.s}' > {outputs}`,
      },
      argv: {
        ...each(values.length, [...values]),
        outputs: "argv/{i}",
        env: { V: "{v}", W: "x{v}y", S: "{params.s}" },
        // No shell of wfc's on the way: the inner sh only reads "$@" and the environment.
        run: ["sh", "-c", 'printf "%s\\000" "$@" "$V" "$W" "$S" > "$0"', "{outputs}", "{v}", "x{v}y", "{params.s}"],
      },
      items: {
        ...each(items.length, "{params.ps}"),
        outputs: "items/{i}",
        run: `printf '%s\\000' {v} '{v}' > {outputs}`,
      },
      list: {
        outputs: "list",
        run: `printf '%s\\000' {params.ps} "{params.ps}" > {outputs}`,
      },
    },
  };
}

/** Each job's file against what it must hold; a mismatch names the value. */
function expectArrived(dir: string, values: readonly string[], items: readonly string[], s: string): void {
  const read = (path: string) => readFileSync(join(dir, path), "utf8").split("\0").slice(0, -1);
  const mismatches: string[] = [];
  const check = (path: string, want: readonly string[], value: string) => {
    const got = read(path);
    if (JSON.stringify(got) !== JSON.stringify(want))
      mismatches.push(`${path} for ${JSON.stringify(value)}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  for (const [i, v] of values.entries()) {
    check(`shell/${i}`, [v, v, `x${v}y`, `a${captured(v)}b`, captured(v), s, s, s], v);
    check(`argv/${i}`, [v, `x${v}y`, s, v, `x${v}y`, s], v);
  }
  for (const [i, v] of items.entries()) check(`items/${i}`, [v, v], v);
  check("list", [...items, items.join(" ")], "the list param");
  expect(mismatches.slice(0, 5)).toEqual([]);
}

/** The `--trace` file (issue 16): one row of 17 cells per journal record, each element's identity as the journal has it, no formula. */
function expectTraceIntact(dir: string, file: string): void {
  const text = readFileSync(join(dir, file), "utf8");
  const rows = file.endsWith(".csv")
    ? parseCsv(text)
    : text
        .split("\n")
        .slice(0, -1)
        .map((l) => l.split("\t").map(unescapeTsv));
  const [header, ...body] = rows;
  expect(header).toHaveLength(17);
  expect(body.filter((cells) => cells.length !== 17).slice(0, 3)).toEqual([]);
  // A text cell starting like a formula has a leading `'`: a spreadsheet shows it and never evaluates it.
  const unguard = (cell: string) => (/^'['=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);
  expect(body.flatMap((cells) => cells.filter((c) => /^[=+@]/.test(c))).slice(0, 3)).toEqual([]);
  const journal = readFileSync(join(dir, ".wfc/journal.ndjson"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { stage: string; element: string });
  const key = (stage: string, element: string) => `${stage}\0${element}`;
  expect(body.map((cells) => key(cells[1]!, unguard(cells[2]!))).sort()).toEqual(journal.map((j) => key(j.stage, j.element)).sort());
}

/** TSV's escapes (runtime/run/trace.ts) undone. */
function unescapeTsv(cell: string): string {
  return cell.replace(/\\([\\tnr])/g, (_, c: string) => ({ "\\": "\\", t: "\t", n: "\n", r: "\r" })[c]!);
}

/** RFC 4180, as a spreadsheet reads it: quoted cells may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  return rows;
}

function expectNothingRan(dir: string): void {
  expect(filesUnder(dir).filter((f) => /PWNED/.test(f))).toEqual([]);
  expect(readFileSync(join(dir, "victim/keep.txt"), "utf8")).toBe("keep\n");
}

describe(`hostile values (${VALUES.length} foreach values, ${ITEMS.length} list items) arrive byte for byte and run nothing`, () => {
  test("YAML workflow, params from the file, run locally (with --trace as TSV)", async () => {
    const dir = fixture({ "wf.yaml": workflow(VALUES, ITEMS), "victim/keep.txt": "keep\n" });
    const r = await wfc(["run", "wf.yaml", "--trace", "trace.tsv"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expectNothingRan(dir);
    expectArrived(dir, VALUES, ITEMS, FILE_PARAM);
    expectTraceIntact(dir, "trace.tsv");
  });

  test("YAML workflow with `shell: sh` (plain /bin/sh instead of bash), run locally (with --trace as CSV)", async () => {
    const dir = fixture({ "wf.yaml": workflow(VALUES, ITEMS, ITEMS, "sh"), "victim/keep.txt": "keep\n" });
    const r = await wfc(["run", "wf.yaml", "--trace", "trace.csv"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expectNothingRan(dir);
    expectArrived(dir, VALUES, ITEMS, FILE_PARAM);
    expectTraceIntact(dir, "trace.csv");
  });

  test("TOML workflow, params from --param (a scalar and a comma-separated list), run locally", async () => {
    const dir = fixture({
      "wf.toml": workflow(
        VALUES,
        CLI_ITEMS,
        CLI_ITEMS.map(() => "from the file"),
      ),
      "victim/keep.txt": "keep\n",
    });
    const r = await wfc(["run", "wf.toml", "--param", `s=${CLI_PARAM}`, "--param", `ps=${CLI_ITEMS.join(",")}`], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expectNothingRan(dir);
    expectArrived(dir, VALUES, CLI_ITEMS, CLI_PARAM);
  });

  test("SLURM export, each array index run with bash as SLURM would", async () => {
    const dir = fixture({ "wf.yaml": workflow(VALUES, ITEMS), "victim/keep.txt": "keep\n" });
    const r = await wfc(["export", "slurm", "wf.yaml", "-o", "slurm"], { cwd: dir, env: withoutScontrol });
    expect(r.exitCode, r.stderr).toBe(0);
    const runs = await runArraysWithoutSlurm(join(dir, "slurm"), {}, dir);
    expect(runs.filter((x) => x.exitCode !== 0)).toEqual([]);
    expect(runs.length).toBe(2 * Math.ceil(VALUES.length / 100) + Math.ceil(ITEMS.length / 100) + 1);
    expectNothingRan(dir);
    expectArrived(dir, VALUES, ITEMS, FILE_PARAM);
    // Some 2,300 one-line steps, each now measured by the array script (a perl wait4 wrapper per step, issue 16:
    // a few ms each on a loaded 2-core machine): more room than the default minute.
  }, 180_000);
});
