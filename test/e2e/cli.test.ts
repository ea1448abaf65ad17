import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, repoRoot, wfc } from "./helpers.js";

const pipeline = {
  wfc: 1,
  name: "pipeline",
  params: { samples: ["a", "b", "c"], n: 4 },
  limits: { ftp: 2 },
  stages: {
    fetch: {
      foreach: { sample: "{params.samples}" },
      outputs: "raw/{sample}.fa",
      limit: "ftp",
      run: "fetch {sample} > {outputs}",
    },
    chunk: {
      foreach: { sample: "{params.samples}", i: { range: [0, "{params.n}"] } },
      inputs: "raw/{sample}.fa",
      outputs: "chunks/{sample}/{i}.fa",
      run: ["split", "{inputs}", "{i}", "{outputs}"],
    },
    report: {
      inputs: "chunks/*/*.fa",
      outputs: "report.txt",
      run: "cat {inputs} > {outputs}",
    },
  },
};

describe("wfc validate", () => {
  test("a valid workflow: exit 0, a one-line summary on stdout, nothing on stderr", async () => {
    const dir = fixture({ "wf.yaml": pipeline });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r).toEqual({ exitCode: 0, stdout: "wf.yaml: valid, 3 stages, 16 jobs", stderr: "" });
  });

  test("the same workflow in TOML and JSON is valid too", async () => {
    const dir = fixture({ "wf.toml": pipeline, "wf.json": pipeline });
    const r = await wfc(["validate", "wf.toml", "wf.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n")).toEqual(["wf.toml: valid, 3 stages, 16 jobs", "wf.json: valid, 3 stages, 16 jobs"]);
  });

  test("--param overrides change the fan-out", async () => {
    const dir = fixture({ "wf.yaml": pipeline });
    const r = await wfc(["validate", "wf.yaml", "--param", "n=10", "--param", "samples=x,y"], { cwd: dir });
    expect(r.stdout).toBe("wf.yaml: valid, 3 stages, 23 jobs");
  });

  test("a bad --param is reported without a file location", async () => {
    const dir = fixture({ "wf.yaml": pipeline });
    const r = await wfc(["validate", "wf.yaml", "--param", "m=3"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        "wfc: error WFC216: `--param m=…` names no param of this workflow",
        "   = expected: one of `n` or `samples`",
        "   = help: did you mean `n`?",
        "",
        "1 error in wf.yaml",
      ].join("\n"),
    );
  });

  test("every error in one run, sorted by position, and one file's errors do not hide another's", async () => {
    const broken = structuredClone(pipeline) as typeof pipeline & { stages: { fetch: { limit: string }; report: { after?: string[] } } };
    broken.stages.fetch.limit = "ftpp";
    broken.stages.report.after = ["fech"];
    const dir = fixture({ "bad.yaml": broken, "good.yaml": pipeline });
    const r = await wfc(["validate", "bad.yaml", "good.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("good.yaml: valid, 3 stages, 16 jobs");
    const heads = r.stderr.split("\n").filter((l) => l.startsWith("bad.yaml:"));
    expect(heads).toEqual([
      "bad.yaml:16:12: error WFC202: unknown limit `ftpp`",
      "bad.yaml:37:9: error WFC201: unknown stage `fech` in `after` of stage `report`",
    ]);
    expect(r.stderr).toContain("   = help: did you mean `fetch`?");
    expect(r.stderr.trimEnd().endsWith("2 errors in bad.yaml")).toBe(true);
  });

  test("--format json gives 1-based ranges, codes, suggestions and their quick fixes", async () => {
    const dir = fixture({ "wf.yaml": "wfc: 1\nlimits: { ftp: 3 }\nstages:\n  a:\n    limit: ftpp\n    run: echo\n" });
    const r = await wfc(["validate", "--format", "json", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      files: [
        {
          file: "wf.yaml",
          valid: false,
          diagnostics: [
            {
              severity: "error",
              code: "WFC202",
              message: "unknown limit `ftpp`",
              file: "wf.yaml",
              range: { start: { line: 5, column: 12, offset: 50 }, end: { line: 5, column: 16, offset: 54 } },
              expected: "one of the limits under `limits`: `ftp`",
              help: "did you mean `ftp`?",
              related: [],
              // The suggestion as an edit, for editors and CI: replace the range with `newText`.
              fixes: [
                {
                  title: "change `ftpp` to `ftp`",
                  edits: [
                    { range: { start: { line: 5, column: 12, offset: 50 }, end: { line: 5, column: 16, offset: 54 } }, newText: "ftp" },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
  });

  test("a missing file and an unknown extension are clear errors, not crashes", async () => {
    const dir = fixture({ "wf.txt": "wfc: 1\n" });
    const r = await wfc(["validate", "nope.yaml", "wf.txt"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("nope.yaml: error WFC005: no such file `nope.yaml`");
    expect(r.stderr).toContain("wf.txt: error WFC006: cannot tell the format of `wf.txt` from its extension");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  test("maps with toString or valueOf keys in a list are type errors, not a crash in the schema check", async () => {
    const dir = fixture({ "wf.yaml": 'wfc: 1\nstages:\n  a:\n    run: "true"\n    after: [{}, {toString: ""}, {valueOf: 1}]\n' });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("wf.yaml:5:17: error WFC101: `after[1]` of stage `a` must be a string, not a map");
    expect(r.stderr).toContain("wf.yaml:5:33: error WFC101: `after[2]` of stage `a` must be a string, not a map");
    expect(r.stderr).not.toContain("internal error");
  });

  test("usage errors exit 2", async () => {
    expect((await wfc(["validate"])).exitCode).toBe(2);
    expect((await wfc(["frobnicate"])).exitCode).toBe(2);
    const r = await wfc(["validate", "x.yaml", "--param", "novalue"]);
    expect(r).toMatchObject({ exitCode: 2, stderr: "wfc: error: --param expects name=value, got `novalue`" });
  });

  test("warnings alone keep the file valid", async () => {
    const dir = fixture({ "wf.yaml": { wfc: 1, limits: { spare: 2 }, stages: { a: { run: "true" } } } });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("wf.yaml: valid, 1 stage, 1 job (0 errors, 1 warning)");
    expect(r.stderr).toContain("wf.yaml:3:3: warning WFC219: limit `spare` is not used by any stage");
  });
});

describe("fan-out sources", () => {
  test("globs capture their variable, sheets give one element per row, zip pairs, ranges count", async () => {
    const dir = fixture({
      "data/s1.fa": ">a\nACGT\n",
      "data/s2.fa": ">b\nACGT\n",
      "data/notes.txt": "not a fasta\n",
      "samples.csv": "id,reads,condition\nr1,r1.fq,ctl\nr2,r2.fq,trt\nr3,r3.fq,trt\n",
      "wf.yaml": {
        wfc: 1,
        stages: {
          index: {
            foreach: { sample: { glob: "data/{sample}.fa" } },
            inputs: "data/{sample}.fa",
            outputs: "idx/{sample}.idx",
            run: "index {inputs} {outputs}",
          },
          align: {
            foreach: { row: { sheet: "samples.csv" }, sample: { glob: "data/{sample}.fa" } },
            inputs: { reads: "{row.reads}", index: "idx/{sample}.idx" },
            outputs: "bam/{row}/{sample}.{row.condition}.bam",
            run: "align {inputs.index} {inputs.reads} > {outputs}",
          },
          pair: { foreach: { a: [1, 2, 3], b: ["x", "y", "z"] }, zip: ["a", "b"], outputs: "pair/{a}-{b}", run: "touch {outputs}" },
          count: { foreach: { i: { range: [10, 0, -3] } }, outputs: "count/{i}", run: "touch {outputs}" },
        },
      },
    });
    const r = await wfc(["validate", "wf.yaml"], { cwd: dir });
    // index 2 (s1, s2) + align 3 rows × 2 samples + pair 3 + count 4 (10, 7, 4, 1)
    expect(r).toEqual({ exitCode: 0, stdout: "wf.yaml: valid, 4 stages, 15 jobs", stderr: "" });
  });
});

describe("wfc schema", () => {
  test("prints the workflow schema byte for byte", async () => {
    const r = await wfc(["schema"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout + "\n").toBe(readFileSync(join(repoRoot, "schema/workflow.schema.json"), "utf8"));
    expect(JSON.parse(r.stdout)).toMatchObject({ $schema: "https://json-schema.org/draft/2020-12/schema" });
  });
});
