/**
 * Values are never code: params in shell strings are quoted like foreach
 * values (locally, in `env` and in a SLURM export), `--param` values arrive
 * byte for byte, and a placeholder inside the author's own quotes keeps its
 * quoting, while one where no quoting can hold is a located error. Real runs
 * of the built CLI with real shells; each run leaves a canary to find and a
 * folder to delete if a value ever ran.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { filesUnder, runArraysWithoutSlurm, withoutScontrol } from "../slurm/export-helpers.js";
import { fixture, wfc } from "./helpers.js";

/** A fixture with a `victim/` folder that a value running as code would delete. */
function withVictim(files: Record<string, unknown>): string {
  return fixture({ ...files, "victim/keep.txt": "keep\n" });
}

/** Nothing ran: no canary anywhere under `dir`, and `victim/` is intact. */
function expectNothingRan(dir: string): void {
  expect(filesUnder(dir).filter((f) => f.includes("PWNED"))).toEqual([]);
  expect(readFileSync(join(dir, "victim/keep.txt"), "utf8")).toBe("keep\n");
}

const HOSTILE_PARAM = "$(touch PWNED); rm -rf victim; `touch PWNED2` ' \" ;touch PWNED3";

/** A param used unquoted, in both kinds of author quotes, in `$(…)`, in `env` and in argv. */
const paramWorkflow = {
  wfc: 1,
  name: "params",
  params: { x: "harmless" },
  stages: {
    shell: {
      outputs: "out/shell.txt",
      run: `printf '%s|' {params.x} "{params.x}" 'q{params.x}q' "$(printf %s {params.x})" > {outputs}`,
    },
    env: { outputs: "out/env.txt", env: { X: "{params.x}" }, run: 'printf %s "$X" > {outputs}' },
    argv: { outputs: "out/argv.txt", run: ["sh", "-c", 'printf %s "$1" > "$0"', "{outputs}", "{params.x}"] },
  },
};

function expectParamArrived(dir: string, value: string): void {
  expect(readFileSync(join(dir, "out/shell.txt"), "utf8")).toBe(`${value}|${value}|q${value}q|${value}|`);
  expect(readFileSync(join(dir, "out/env.txt"), "utf8")).toBe(value);
  expect(readFileSync(join(dir, "out/argv.txt"), "utf8")).toBe(value);
}

describe("params in shell strings are quoted like foreach values", () => {
  test("--param with shell code in it runs nothing: the value arrives byte for byte", async () => {
    const dir = withVictim({ "wf.yaml": paramWorkflow });
    const r = await wfc(["run", "wf.yaml", "--param", `x=${HOSTILE_PARAM}`], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expectNothingRan(dir);
    expectParamArrived(dir, HOSTILE_PARAM);
  });

  test("a param from the workflow file (TOML) with shell code in it runs nothing", async () => {
    const dir = withVictim({ "wf.toml": { ...paramWorkflow, params: { x: HOSTILE_PARAM } } });
    const r = await wfc(["run", "wf.toml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expectNothingRan(dir);
    expectParamArrived(dir, HOSTILE_PARAM);
  });

  test("the SLURM export quotes params too: the array scripts, run with bash, run nothing", async () => {
    const dir = withVictim({ "wf.yaml": paramWorkflow });
    const r = await wfc(["export", "slurm", "wf.yaml", "-o", "slurm", "--param", `x=${HOSTILE_PARAM}`], { cwd: dir, env: withoutScontrol });
    expect(r.exitCode, r.stderr).toBe(0);
    const runs = await runArraysWithoutSlurm(join(dir, "slurm"), {}, dir);
    expect(runs.filter((x) => x.exitCode !== 0)).toEqual([]);
    expect(runs).toHaveLength(3);
    expectNothingRan(dir);
    expectParamArrived(dir, HOSTILE_PARAM);
  });

  test("a hand-edited plan whose command names a param it does not define is refused at load", async () => {
    const dir = withVictim({ "wf.yaml": paramWorkflow });
    const compiled = await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir });
    expect(compiled.exitCode, compiled.stderr).toBe(0);
    const plan = readFileSync(join(dir, "plan.json"), "utf8");
    expect(plan).toContain('"param": "x"');
    writeFileSync(join(dir, "plan.json"), plan.replace('"param": "x"', '"param": "nope"'));
    const r = await wfc(["run", "plan.json"], { cwd: dir });
    expect(r).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        "wfc: error: `plan.json` is not a valid wfc plan: step `shell` uses `{params.nope}`, which the plan does not define; recompile it with `wfc compile`",
    });
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  test("a list param is one quoted word per item unquoted, one word of them all inside quotes", async () => {
    const items = ["a b", "$(touch PWNED)", "it's", ""];
    const dir = withVictim({
      "wf.yaml": {
        wfc: 1,
        params: { xs: items },
        stages: { s: { outputs: "out.txt", run: `printf '[%s]' {params.xs} "{params.xs}" > {outputs}` } },
      },
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expectNothingRan(dir);
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe(`${items.map((i) => `[${i}]`).join("")}[${items.join(" ")}]`);
  });
});

describe("--param values arrive byte for byte", () => {
  const strings = {
    spaced: "  two  words  ",
    quoted: '"quoted"',
    single: "'single'",
    yaml: "a: b",
    pipe: "|",
    list: "[a, b]",
    lines: "line1\nline2\n",
    hash: "#not a comment",
    empty: "",
    tilde: "~",
    nul: "null",
  };
  const workflow = {
    wfc: 1,
    params: { ...Object.fromEntries(Object.keys(strings).map((k) => [k, "default"])), n: 1, flag: false, xs: ["a"], ns: [1] },
    stages: {
      strings: {
        foreach: { k: Object.keys(strings) },
        outputs: "out/{k}.txt",
        // One job per param, each writing only its own: the whole table is in one run.
        run: `case {k} in ${Object.keys(strings)
          .map((k) => `${k}) printf %s {params.${k}} ;;`)
          .join(" ")} esac > {outputs}`,
      },
      typed: {
        outputs: "out/typed.txt",
        run: "printf '%s|' {params.n} {params.flag} {params.xs} {params.ns} > {outputs}",
      },
    },
  };

  test("string params get exactly the text after `=`: no trimming, no quote stripping, no YAML", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const args = Object.entries(strings).flatMap(([k, v]) => ["--param", `${k}=${v}`]);
    const r = await wfc(["run", "wf.yaml", ...args, "--param", "n=-2.5e3", "--param", "flag=true"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    for (const [k, v] of Object.entries(strings)) expect(readFileSync(join(dir, "out", `${k}.txt`), "utf8"), k).toBe(v);
    expect(readFileSync(join(dir, "out/typed.txt"), "utf8")).toBe("-2500|true|a|1|");
  });

  test("list params are comma-separated, each item byte for byte and typed like the declared items", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["run", "wf.yaml", "--param", "xs= a b ,[c],,'d'", "--param", "ns=3,-1,0.5"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "out/typed.txt"), "utf8")).toBe("1|false| a b |[c]||'d'|3|-1|0.5|");
  });

  test("a number param given a non-number is WFC247, pointing at the param's declaration", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["validate", "wf.yaml", "--param", "n= 4"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        "wfc: error WFC247: `--param n= 4`: ` 4` is not a number",
        "   = expected: a number, like `4` or `0.5`",
        "   = note: wf.yaml:14:6: `n` is declared here as a number",
        "",
        "1 error in wf.yaml",
      ].join("\n"),
    );
  });

  test("booleans are `true` or `false` only, and list items are checked one by one", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["validate", "wf.yaml", "--param", "flag=yes", "--param", "ns=1,two"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("wfc:"))).toEqual([
      "wfc: error WFC247: `--param flag=yes`: `yes` is not a boolean",
      "wfc: error WFC247: `--param ns=1,two`: item 2 of the list, `two`, is not a number",
    ]);
  });
});

/** Values that break out of naive quoting in every way a shell offers. */
const HOSTILE = [
  "$(touch PWNED)",
  "`touch PWNED`",
  '"; touch PWNED; "',
  "'; touch PWNED; '",
  "\"'$(touch PWNED)'\"",
  "\\",
  "\\'",
  '\\"',
  "a\nrm -rf victim\n",
  " spaced ",
  "",
  "$HOME ${HOME} $((1+1))",
  "*",
  "~",
  "it's",
  "ünï ☃",
];

describe("placeholders inside the author's quotes keep their quoting", () => {
  test('"{v}", \'{v}\', "x{v}y", "$(… "{v}" …)" and x{v}y: every value arrives byte for byte, none runs', async () => {
    const dir = withVictim({
      "wf.yaml": {
        wfc: 1,
        stages: {
          s: {
            foreach: { i: { range: [0, HOSTILE.length] }, v: HOSTILE },
            zip: ["i", "v"],
            outputs: "out/{i}.txt",
            run: `printf '%s|' "{v}" '{v}' "x{v}y" 'x{v}y' "$(printf %s "{v}")" "a$(printf %s 'b{v}c' "{v}")d" x{v}y > {outputs}`,
          },
        },
      },
    });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expectNothingRan(dir);
    for (const [i, v] of HOSTILE.entries()) {
      const sub = v.replace(/\n+$/, ""); // `$(…)` drops trailing newlines, as it does for any command
      const subBoth = `b${v}c${v}`.replace(/\n+$/, "");
      expect(readFileSync(join(dir, "out", `${i}.txt`), "utf8"), JSON.stringify(v)).toBe(
        `${v}|${v}|x${v}y|x${v}y|${sub}|a${subBoth}d|x${v}y|`,
      );
    }
  });

  test("a placeholder after a backslash, in backticks, in arithmetic or in a comment is an error at its exact place (YAML with escapes)", async () => {
    // Escapes before the placeholders shift the file's offsets from the string's.
    const yaml = [
      "wfc: 1",
      "stages:",
      "  s:",
      '    foreach: { v: ["1"] }',
      '    run: "echo \\"\\\\{v}\\" `echo {v}` $(( {v} + 1 )) # {v}"',
      "",
    ].join("\n");
    const dir = fixture({ "wf.yaml": yaml });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        "wf.yaml:5:20: error WFC229: `{v}` is right after a backslash, which would escape the quote wfc puts around the value",
        ' 5 |     run: "echo \\"\\\\{v}\\" `echo {v}` $(( {v} + 1 )) # {v}"',
        "   |                    ^^^",
        "   = help: remove the `\\`: wfc quotes the value, so nothing in it needs escaping",
        "",
        "wf.yaml:5:32: error WFC228: `{v}` is inside backticks, where quotes do not nest",
        ' 5 |     run: "echo \\"\\\\{v}\\" `echo {v}` $(( {v} + 1 )) # {v}"',
        "   |                                ^^^",
        "   = help: use `$(…)` instead of backticks: wfc quotes `{v}` inside it",
        "",
        "wf.yaml:5:41: error WFC228: `{v}` is inside shell arithmetic (`$((…))`, `((…))`, `$[…]` or a `[[ … ]]` comparing numbers), which bash evaluates as code",
        ' 5 |     run: "echo \\"\\\\{v}\\" `echo {v}` $(( {v} + 1 )) # {v}"',
        "   |                                         ^^^",
        "   = help: pass the value to a command that checks it, as in `[ {v} -gt 0 ]` (not `[[ … ]]`), or give a number in the workflow",
        "",
        "wf.yaml:5:54: error WFC228: `{v}` is in a shell comment, which a newline in the value would end",
        ' 5 |     run: "echo \\"\\\\{v}\\" `echo {v}` $(( {v} + 1 )) # {v}"',
        "   |                                                      ^^^",
        "   = help: remove the placeholder from the comment",
        "",
        "4 errors in wf.yaml",
      ].join("\n"),
    );
  });

  test("a hand-edited plan with a placeholder in backticks is refused at load: one line, exit 2, nothing run", async () => {
    const dir = withVictim({
      "wf.yaml": { wfc: 1, stages: { s: { foreach: { v: ["$(touch PWNED)"] }, run: "echo {v} > out.txt" } } },
    });
    const compiled = await wfc(["compile", "wf.yaml", "-o", "plan.json"], { cwd: dir });
    expect(compiled.exitCode, compiled.stderr).toBe(0);
    const plan = readFileSync(join(dir, "plan.json"), "utf8");
    writeFileSync(join(dir, "plan.json"), plan.replace('"echo "', '"echo `echo "').replace('" > out.txt"', '"` > out.txt"'));
    const r = await wfc(["run", "plan.json"], { cwd: dir });
    expect({ exitCode: r.exitCode, stdout: r.stdout }).toEqual({ exitCode: 2, stdout: "" });
    expect(r.stderr).toBe(
      "wfc: error: `plan.json` is not a valid wfc plan: step `s`: `{v}` is inside backticks, where quotes do not nest: no quoting of its value is safe there; recompile it with `wfc compile`",
    );
    expect(existsSync(join(dir, "out.txt"))).toBe(false);
    expectNothingRan(dir);
  });
});
