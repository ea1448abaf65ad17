/**
 * What diagnostics print of untrusted text: terminal escape sequences, C1
 * controls and bidi overrides from a workflow, a sheet, a `--param` or a
 * file name are shown escaped, never raw (the marker still lines up); and
 * the content of a sheet outside the workflow's folder is never quoted.
 * Real runs of the built CLI.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "./helpers.js";

const ESC = "\x1b";
/** Anything a terminal would act on or that hides or reorders text. */
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("control characters and bidi overrides are shown escaped", () => {
  test("raw ESC sequences in a workflow line: escaped in the excerpt, the marker under the right character", async () => {
    const dir = fixture({ "wf.yaml": `wfc: 1\nname: "${ESC}[2J${ESC}]0;owned\x07" ]\n` });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr.split("\n").slice(0, 3)).toEqual([
      'wf.yaml:2:24: error WFC001: YAML syntax error: unexpected flow-seq-end token in YAML stream: "]"',
      ' 2 | name: "\\x1b[2J\\x1b]0;owned\\x07" ]',
      "   |                                 ^",
    ]);
  });

  test("a bidi override in a value: escaped in the message, the excerpt and the marker's width", async () => {
    const dir = fixture({
      "wf.yaml": [
        "wfc: 1",
        "limits: { ftp: 2 }",
        "stages:",
        "  a:",
        '    outputs: "o"',
        "    limit: ftp\u202eevil",
        '    run: "true"',
        "",
      ].join("\n"),
    });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr.split("\n").slice(0, 3)).toEqual([
      "wf.yaml:6:12: error WFC202: unknown limit `ftp\\u202eevil`",
      " 6 |     limit: ftp\\u202eevil",
      "   |            ^^^^^^^^^^^^^ expected one of the limits under `limits`: `ftp`",
    ]);
    // JSON keeps the same escaped message (JSON would escape ESC, not a bidi override).
    const json = await wfc(["validate", "wf.yaml", "--format", "json"], { cwd: dir });
    const report = JSON.parse(json.stdout) as { files: { diagnostics: { message: string }[] }[] };
    expect(report.files[0]!.diagnostics[0]!.message).toBe("unknown limit `ftp\\u202eevil`");
  });

  test("a sheet's column names with escapes are escaped where the diagnostic lists them", async () => {
    const dir = fixture({
      "samples.tsv": `id\t${ESC}[31mname\u009b2J\nA\tx\n`,
      "wf.yaml": [
        "wfc: 1",
        "stages:",
        "  a:",
        "    foreach: { s: { sheet: samples.tsv } }",
        '    outputs: "o/{s}"',
        '    run: "echo {s.nmae}"',
        "",
      ].join("\n"),
    });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr).toContain("expected one of `s.\\x1b[31mname\\x9b2J` or `s.id`");
  });

  test("a --param name with escapes is escaped in the diagnostic", async () => {
    const dir = fixture({ "wf.yaml": "wfc: 1\nparams: { n: 1 }\nstages:\n  a:\n    outputs: o\n    run: 'true'\n" });
    const r = await wfc(["validate", "wf.yaml", "--param", `n${ESC}[8m=2`], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr.split("\n")[0]).toBe("wfc: error WFC216: `--param n\\x1b[8m=…` names no param of this workflow");
  });

  test("a file name with escapes: escaped in the location and the summary", async () => {
    const name = `e${ESC}[1m\u202e.yaml`;
    const dir = fixture({ [name]: "wfc: 1\nstages: {}\nbogus: 1\n" });
    const r = await wfc(["validate", name], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr).toMatch(/^e\\x1b\[1m\\u202e\.yaml:\d+:\d+: error /);
    expect(r.stderr.split("\n").at(-1)).toMatch(/ in e\\x1b\[1m\\u202e\.yaml$/);
  });

  test("one-line CLI errors (wfc: error: …) escape the plan path", async () => {
    const dir = fixture({});
    const r = await wfc(["run", `p${ESC}[31m\r.json`], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("wfc: error: cannot read plan `p\\x1b[31m\\r.json`: no such file");
  });
});

describe("sheets outside the workflow's folder are not quoted", () => {
  /** A workflow in wf/ reading a sheet one folder up (or through a link in wf/). */
  function outside(sheet: string, content: string, stage: Record<string, string> = {}): string {
    const dir = fixture({ [`secret.${sheet.split(".").pop()}`]: content });
    mkdirSync(join(dir, "wf"));
    const lines = [
      "wfc: 1",
      "stages:",
      "  a:",
      `    foreach: { s: { sheet: ${sheet}${stage.key ? `, key: ${stage.key}` : ""} } }`,
      '    outputs: "o/{s}"',
      `    run: "${stage.run ?? "true"}"`,
      "",
    ];
    writeFileSync(join(dir, "wf", "wf.yaml"), lines.join("\n"));
    return dir;
  }

  test("a malformed line is located, not shown", async () => {
    const dir = outside("../secret.csv", 'user,pw\nroot,hunter2"x\n');
    const r = await wfc(["validate", "wf/wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toContain("hunter2");
    expect(r.stderr.split("\n")[0]).toBe(
      "wf/wf.yaml:4:28: error WFC242: sample sheet `../secret.csv` is malformed at line 2 (not quoted: the file is outside the workflow's folder)",
    );
  });

  test("a repeated key, a missing key column and an unknown column do not quote its cells or header", async () => {
    const twice = outside("../secret.tsv", "user\tpw\nroot\thunter2\nroot\tletmein\n");
    const r1 = await wfc(["validate", "wf/wf.yaml"], { cwd: twice });
    expect(r1.stderr).not.toMatch(/root|hunter2|letmein/);
    expect(r1.stderr.split("\n")[0]).toBe(
      "wf/wf.yaml:4:28: error WFC244: sample sheet `../secret.tsv` has a key twice (data rows 1 and 2)",
    );

    const key = outside("../secret.tsv", "user\tpw\nroot\thunter2\n", { key: "id" });
    const r2 = await wfc(["validate", "wf/wf.yaml"], { cwd: key });
    expect(r2.stderr).not.toMatch(/user|pw|root|hunter2/);
    expect(r2.stderr.split("\n").slice(0, 3)).toEqual([
      "wf/wf.yaml:4:48: error WFC243: sample sheet `../secret.tsv` has no column `id`",
      " 4 |     foreach: { s: { sheet: ../secret.tsv, key: id } }",
      "   |                                                ^^ expected a column of its header row (not quoted: the file is outside the workflow's folder)",
    ]);

    const column = outside("../secret.tsv", "user\tpassword\nroot\thunter2\n", { run: "echo {s.pasword}" });
    const r3 = await wfc(["validate", "wf/wf.yaml"], { cwd: column });
    expect(r3.exitCode).toBe(2);
    expect(r3.stderr).not.toMatch(/user|`s\.password`|root|hunter2/);
    expect(r3.stderr).toContain("expected a column of its header row (not quoted: the file is outside the workflow's folder)");
  });

  test("an output its values would take out of the folder does not quote those values", async () => {
    const dir = outside("../secret.tsv", "id\tpw\n../../hunter2\tx\n");
    const r = await wfc(["validate", "wf/wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toContain("hunter2");
    expect(r.stderr.split("\n")[0]).toBe(
      "wf/wf.yaml:5:14: error WFC223: output `o/{s}` of stage `a` resolves, with values from a sheet outside the workflow's folder (not quoted), to a path that uses `..`",
    );
  });

  test("a link inside the folder to a file outside counts as outside", async () => {
    const dir = outside("linked.tsv", "user\tpw\nroot\thunter2\nroot\tletmein\n");
    symlinkSync(join(dir, "secret.tsv"), join(dir, "wf", "linked.tsv"));
    const r = await wfc(["validate", "wf/wf.yaml"], { cwd: dir });
    expect(r.stderr).not.toMatch(/root|hunter2|letmein/);
    expect(r.stderr.split("\n")[0]).toBe("wf/wf.yaml:4:28: error WFC244: sample sheet `linked.tsv` has a key twice (data rows 1 and 2)");
  });

  test("a sheet inside the folder is still quoted, to help fix it", async () => {
    const dir = fixture({
      "samples.tsv": "id\tpw\nA\t1\nA\t2\n",
      "wf.yaml": 'wfc: 1\nstages:\n  a:\n    foreach: { s: { sheet: samples.tsv } }\n    outputs: "o/{s}"\n    run: "true"\n',
    });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.stderr.split("\n")[0]).toBe(
      "wf.yaml:4:28: error WFC244: sample sheet `samples.tsv` has the key `A` twice (data rows 1 and 2)",
    );
  });
});

describe("a run shows escapes from values and job output escaped too", () => {
  test("a failing job's command, its log tail and a dry run's commands: escaped, never raw", async () => {
    const dir = fixture({
      "wf.yaml": {
        wfc: 1,
        stages: {
          a: {
            foreach: { v: [`${ESC}[2Jred`] },
            outputs: "out/a.txt",
            run: `printf '%s\\n' {v}; exit 3`,
          },
        },
      },
    });
    const dry = await wfc(["run", "wf.yaml", "--dry-run"], { cwd: dir });
    expect(dry.stdout).not.toMatch(RAW);
    expect(dry.stdout).toContain("printf '%s\\n' '\\x1b[2Jred'; exit 3");
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(RAW);
    expect(r.stderr).toContain("  command: printf '%s\\n' '\\x1b[2Jred'; exit 3\n");
    expect(r.stderr).toContain("  | \\x1b[2Jred\n");
  });
});
