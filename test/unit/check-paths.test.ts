/**
 * compiler/check/paths.ts on workflows written inline: every element's
 * output is checked, by value rather than by element, so zipped and crossed
 * variables, sheets and params are judged as the jobs would see them.
 */
import { describe, expect, test } from "vitest";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import { validateDocument } from "../../compiler/validate.js";

/** The WFC223–WFC225 messages for a YAML workflow (no files on disk are read). */
async function pathErrors(text: string): Promise<string[]> {
  const result = await validateDocument(parseSource(new SourceFile("wf.yaml", text), "yaml"));
  return result.diagnostics.filter((d) => /^WFC22[345]$/.test(d.code)).map((d) => `${d.code} ${d.message}`);
}

const stage = (foreach: string, outputs: string, extra = "") =>
  `wfc: 1\n${extra}stages:\n  s:\n    foreach: ${foreach}\n    outputs: "${outputs}"\n    run: "true"\n`;

describe("outputs, element by element", () => {
  test("a million-element range fan-out is fine, and is never enumerated", async () => {
    expect(await pathErrors(stage("{ a: { range: [0, 1000] }, b: { range: [0, 1000] } }", "out/{a}/{b}.txt"))).toEqual([]);
  });

  test("the first bad element in index order is reported, with its values", async () => {
    expect(await pathErrors(stage('{ a: [x, y], b: [one, ".", ".."] }', "{b}/{a}.txt"))).toEqual([
      'WFC223 output `{b}/{a}.txt` of stage `s` resolves to "../x.txt" (with {b} = "..", {a} = "x"), which uses `..`',
    ]);
  });

  test("values that only together make `..`: `{a}{b}` crossed is bad, zipped as (x, .) and (., x) is not", async () => {
    const crossed = stage('{ a: [x, "."], b: [x, "."] }', "{a}{b}/f");
    expect(await pathErrors(crossed)).toEqual([
      'WFC223 output `{a}{b}/f` of stage `s` resolves to "../f" (with {a} = ".", {b} = "."), which uses `..`',
    ]);
    expect(await pathErrors(crossed.replace("    outputs", "    zip: [a, b]\n    outputs").replace('b: [x, "."]', 'b: [".", x]'))).toEqual(
      [],
    );
  });

  test("values with `/` and values starting with `.` are judged whole: `a/..` is bad, `.hidden` and `a/b` are not", async () => {
    expect(await pathErrors(stage('{ v: [".hidden", "a/b", "..."] }', "out/{v}"))).toEqual([]);
    expect(await pathErrors(stage('{ v: [".hidden", "a/.."] }', "out/{v}"))).toEqual([
      'WFC223 output `out/{v}` of stage `s` resolves to "out/a/.." (with {v} = "a/.."), which uses `..`',
    ]);
  });

  test("empty, the folder itself, .wfc/ and absolute, from values", async () => {
    expect(await pathErrors(stage('{ v: [""] }', "{v}"))).toEqual([
      'WFC223 output `{v}` of stage `s` resolves to "" (with {v} = ""), which is empty',
    ]);
    expect(await pathErrors(stage('{ v: ["."] }', "./{v}/"))).toEqual([
      'WFC223 output `./{v}/` of stage `s` resolves to "././" (with {v} = "."), which is the workflow\'s folder itself',
    ]);
    expect(await pathErrors(stage('{ v: [a, ".wfc"] }', "{v}/log"))).toEqual([
      'WFC223 output `{v}/log` of stage `s` resolves to ".wfc/log" (with {v} = ".wfc"), which is inside `.wfc/`, where wfc keeps its journal and logs',
    ]);
    expect(await pathErrors(stage("{ v: [a] }", "{params.root}/{v}", 'params: { root: "/scratch" }\n'))).toEqual([
      'WFC224 output `{params.root}/{v}` of stage `s` resolves to "/scratch/a" (with {params.root} = "/scratch", {v} = "a"), which is absolute',
    ]);
  });

  test("`{stage}` is a value too", async () => {
    expect(await pathErrors(stage("{ v: [a] }", "{stage}/{v}"))).toEqual([]);
  });

  test("a stage with no elements writes nothing, so nothing is reported", async () => {
    expect(await pathErrors(stage('{ v: [], w: [".."] }', "{w}/{v}"))).toEqual([]);
  });
});

describe("input globs", () => {
  test("an input glob from a param that is absolute, or uses `..`", async () => {
    const wf = (dir: string) =>
      `wfc: 1\nparams: { dir: "${dir}" }\nstages:\n  s:\n    inputs: "{params.dir}/*.fa"\n    outputs: "out.txt"\n    run: "true"\n`;
    expect(await pathErrors(wf("data"))).toEqual([]);
    expect(await pathErrors(wf("/data"))).toEqual([
      'WFC225 input glob `{params.dir}/*.fa` of stage `s` resolves to "/data/*.fa" (with {params.dir} = "/data"), which is absolute, so it would search outside the workflow\'s folder',
    ]);
  });

  test("absolute and `..` inputs that are not globs are fine: they are only read", async () => {
    const text = 'wfc: 1\nstages:\n  s:\n    inputs: ["/data/ref.fa", "../shared/x.txt"]\n    outputs: "out.txt"\n    run: "true"\n';
    expect(await pathErrors(text)).toEqual([]);
  });
});
