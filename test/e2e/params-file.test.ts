/**
 * `--params-file FILE` (Snakemake's --configfile): param values from a YAML,
 * TOML or JSON file replace the workflow's, `--param` replaces them in turn,
 * and every problem in the file is located there, with the declaration it
 * contradicts. Real runs of the built CLI.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "./helpers.js";

const workflow = `wfc: 1
params:
  samples: [A, B]
  greeting: hello
  n: 2
stages:
  say:
    foreach: { s: "{params.samples}" }
    outputs: "out/{s}.txt"
    run: "echo {params.greeting} {s} {params.n} > {outputs}"
`;

/** The outputs of a run, by file name. */
function outputs(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(join(dir, "out")).map((f) => [f, readFileSync(join(dir, "out", f), "utf8")]));
}

describe("wfc run --params-file", () => {
  test("a YAML file's values replace the workflow's, a list param included (its fan-out follows)", async () => {
    const dir = fixture({ "wf.yaml": workflow, "p.yaml": "samples: [X, Y, Z]\ngreeting: hi\n" });
    const r = await wfc(["run", "wf.yaml", "--params-file", "p.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(outputs(dir)).toEqual({ "X.txt": "hi X 2\n", "Y.txt": "hi Y 2\n", "Z.txt": "hi Z 2\n" });
  });

  test("a TOML or JSON file works the same, and --param overrides the file", async () => {
    const dir = fixture({ "wf.yaml": workflow, "p.toml": 'samples = ["Q"]\nn = 5\n', "p.json": '{ "samples": ["J"], "greeting": "hey" }' });
    const toml = await wfc(["run", "wf.yaml", "--params-file", "p.toml", "--param", "n=7"], { cwd: dir });
    expect(toml.exitCode, toml.stderr).toBe(0);
    expect(outputs(dir)).toEqual({ "Q.txt": "hello Q 7\n" });
    const json = await wfc(["compile", "wf.yaml", "--params-file", "p.json"], { cwd: dir });
    expect(json.exitCode, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).params).toEqual({ samples: ["J"], greeting: "hey", n: 2 });
  });

  test("an unknown name, a value of another type and a YAML number for a string param: located in the params file", async () => {
    const dir = fixture({ "wf.yaml": workflow, "bad.yaml": "greeting: 001\nsampels: [A]\nn: [1]\n" });
    const r = await wfc(["validate", "wf.yaml", "--params-file", "bad.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        "bad.yaml:1:11: error WFC247: the params file gives `greeting` a number, but it is declared as a string",
        " 1 | greeting: 001",
        "   |           ^^^ expected a string",
        '   = help: quote it to keep it as text: `greeting: "001"`',
        "   = note: wf.yaml:4:13: `greeting` is declared here as a string",
        "",
        "bad.yaml:2:1: error WFC216: the params file sets `sampels`, which is no param of this workflow",
        " 2 | sampels: [A]",
        "   | ^^^^^^^ expected one of `greeting`, `n` or `samples`",
        "   = help: did you mean `samples`?",
        "",
        "bad.yaml:3:4: error WFC247: the params file gives `n` a list, but it is declared as a number",
        " 3 | n: [1]",
        "   |    ^^^ expected a number",
        "   = note: wf.yaml:5:6: `n` is declared here as a number",
        "",
        "3 errors in wf.yaml",
      ].join("\n"),
    );
  });

  test("a file that is not a map of plain values: WFC250 at the value, and nothing runs", async () => {
    const dir = fixture({ "wf.yaml": workflow, "list.yaml": "- a\n", "nested.toml": "[samples]\nfirst = 'A'\n" });
    const list = await wfc(["run", "wf.yaml", "--params-file", "list.yaml"], { cwd: dir });
    expect(list.exitCode).toBe(2);
    expect(list.stderr).toContain("list.yaml:1:1: error WFC250: a params file must map param names to values");
    const nested = await wfc(["run", "wf.yaml", "--params-file", "nested.toml"], { cwd: dir });
    expect(nested.exitCode).toBe(2);
    expect(nested.stderr).toContain("nested.toml:1:2: error WFC250: param `samples` is given a table");
    expect(readdirSync(dir).sort()).toEqual(["list.yaml", "nested.toml", "wf.yaml"]);
  });

  test("a missing params file is WFC005, exit 2", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["export", "slurm", "wf.yaml", "-o", "out", "--params-file", "nope.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("nope.yaml: error WFC005: no such file `nope.yaml`");
  });
});

describe("a params file's values are values, never code", () => {
  test("a hostile value from the file arrives byte for byte, in a shell string and a path; nothing runs", async () => {
    const hostile = "$(touch PWNED); rm -rf victim; `touch PWNED2` ' \" ;touch PWNED3";
    const dir = fixture({
      "wf.yaml": `wfc: 1
params:
  x: harmless
  names: [a]
stages:
  say:
    foreach: { n: "{params.names}" }
    outputs: "out/{n}.txt"
    run: "printf '%s|%s' {params.x} {n} > {outputs}"
`,
      "p.json": JSON.stringify({ x: hostile, names: [hostile.replaceAll("/", "_")] }),
      "victim/keep.txt": "keep\n",
    });
    const r = await wfc(["run", "wf.yaml", "--params-file", "p.json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const [written] = readdirSync(join(dir, "out"));
    expect(readFileSync(join(dir, "out", written!), "utf8")).toBe(`${hostile}|${hostile.replaceAll("/", "_")}`);
    expect(readdirSync(dir).filter((f) => f.includes("PWNED"))).toEqual([]);
    expect(readFileSync(join(dir, "victim/keep.txt"), "utf8")).toBe("keep\n");
  });
});
