import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, repoRoot, wfc } from "./helpers.js";

/** Every file under a folder, relative, sorted. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

const schema = join(repoRoot, "schema/workflow.schema.json");
const templates = ["environments", "qiime-search", "reads-split", "ruffus-jobs-limit", "scipion-steps"];

describe("wfc init", () => {
  test("no template: the scipion-steps sample with its module and the schema line, which validates and runs", async () => {
    const dir = fixture({});
    const r = await wfc(["init"], { cwd: dir });
    expect(r).toEqual({
      exitCode: 0,
      stdout: "wrote workflow.yaml, tasks/protocol.mjs (template scipion-steps)\nnext: wfc run workflow.yaml",
      stderr: "",
    });
    expect(tree(dir)).toEqual(["tasks/protocol.mjs", "workflow.yaml"]);
    const text = readFileSync(join(dir, "workflow.yaml"), "utf8");
    // wfc runs from this checkout, not from a project's node_modules: the schema by its absolute path.
    expect(text.split("\n")[0]).toBe(`# yaml-language-server: $schema=${schema}`);
    // The rest is the sample as it is.
    const sample = readFileSync(join(repoRoot, "samples/scipion-steps/workflow.yaml"), "utf8");
    expect(text.split("\n").slice(1)).toEqual(sample.split("\n").slice(1));
    expect(readFileSync(join(dir, "tasks/protocol.mjs"), "utf8")).toBe(
      readFileSync(join(repoRoot, "samples/scipion-steps/tasks/protocol.mjs"), "utf8"),
    );

    expect(await wfc(["validate", "workflow.yaml"], { cwd: dir })).toMatchObject({ exitCode: 0 });
    const run = await wfc(["run", "workflow.yaml"], { cwd: dir });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(readFileSync(join(dir, "results/output.txt"), "utf8")).toMatch(/^micrograph\tmean\t/);
  });

  test.for(templates)("template %s: the workflow and every file it needs, YAML and TOML, both valid", async (name) => {
    const dir = fixture({});
    const yaml = await wfc(["init", name], { cwd: dir });
    expect(yaml.exitCode, yaml.stderr).toBe(0);
    const toml = await wfc(["init", name, "-o", "toml/workflow.toml"], { cwd: dir });
    expect(toml.exitCode, toml.stderr).toBe(0);
    expect(readFileSync(join(dir, "toml/workflow.toml"), "utf8").split("\n")[0]).toBe(`#:schema ${schema}`);
    // The sample's files but its README, its other form and what runs left.
    const sampleDir = join(repoRoot, "samples", name);
    const needed = tree(sampleDir).filter((f) => !/^(workflow\.(yaml|toml)|README\.(md|txt)|\.gitignore)$|^(\.wfc|work|results)\//.test(f));
    expect(tree(dir)).toEqual([...needed, ...needed.map((f) => `toml/${f}`), "toml/workflow.toml", "workflow.yaml"].sort());
    for (const f of needed) expect(statSync(join(dir, f)).mode & 0o777).toBe(statSync(join(sampleDir, f)).mode & 0o777);
    expect(yaml.stdout).toBe(`wrote ${["workflow.yaml", ...needed].join(", ")} (template ${name})\nnext: wfc run workflow.yaml`);
    // Valid where it was written: sample sheets, scripts and modules are found next to it.
    const v = await wfc(["validate", "workflow.yaml", "toml/workflow.toml"], { cwd: dir });
    expect(v.stderr).toBe("");
    expect(v.exitCode).toBe(0);
  });

  test("an unknown template: exit 2 with the list and a did-you-mean, nothing written", async () => {
    const dir = fixture({});
    const r = await wfc(["init", "scipion-step"], { cwd: dir });
    expect(r).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        "wfc: error: unknown template `scipion-step`; expected `environments`, `qiime-search`, `reads-split`, `ruffus-jobs-limit` or `scipion-steps`; did you mean `scipion-steps`?",
    });
    expect(tree(dir)).toEqual([]);
  });

  test("files in the way: exit 2 naming them, nothing written; --force replaces only the template's files", async () => {
    const dir = fixture({ "tasks/protocol.mjs": "// mine\n", "notes.txt": "keep\n" });
    const r = await wfc(["init"], { cwd: dir });
    expect(r).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        "wfc: error: `tasks/protocol.mjs` already exists; nothing was written. Pass --force to replace it (only the files of the template), or -o to write the workflow in another folder",
    });
    expect(tree(dir)).toEqual(["notes.txt", "tasks/protocol.mjs"]);
    expect(readFileSync(join(dir, "tasks/protocol.mjs"), "utf8")).toBe("// mine\n");

    const forced = await wfc(["init", "--force"], { cwd: dir });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(tree(dir)).toEqual(["notes.txt", "tasks/protocol.mjs", "workflow.yaml"]);
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("keep\n");
    expect(readFileSync(join(dir, "tasks/protocol.mjs"), "utf8")).not.toBe("// mine\n");
  });

  test("a folder where a file goes: exit 2 even with --force, nothing written", async () => {
    const dir = fixture({ "workflow.yaml/keep": "x" });
    const r = await wfc(["init", "--force"], { cwd: dir });
    expect(r).toEqual({ exitCode: 2, stdout: "", stderr: "wfc: error: cannot write `workflow.yaml`: it is a directory" });
    expect(tree(dir)).toEqual(["workflow.yaml/keep"]);
  });

  test("a file where a folder goes: exit 2 with the cause, and what it wrote before is taken back", async () => {
    const dir = fixture({ tasks: "a file, not a folder\n" });
    const r = await wfc(["init"], { cwd: dir });
    expect(r).toEqual({ exitCode: 2, stdout: "", stderr: "wfc: error: cannot write `tasks/protocol.mjs`: a folder on its path is a file" });
    expect(tree(dir)).toEqual(["tasks"]);
  });

  test.for([
    ["flow.json", "wfc: error: cannot write the workflow as `flow.json`: init writes YAML (.yaml, .yml) or TOML (.toml)"],
    ["tasks/protocol.mjs", "wfc: error: cannot write the workflow as `tasks/protocol.mjs`: init writes YAML (.yaml, .yml) or TOML (.toml)"],
  ])("-o %s: exit 2, nothing written", async ([output, message]) => {
    const dir = fixture({});
    expect(await wfc(["init", "-o", output!], { cwd: dir })).toEqual({ exitCode: 2, stdout: "", stderr: message });
    expect(tree(dir)).toEqual([]);
  });

  test("-o in another folder: the files go next to the workflow; the next command names it", async () => {
    const dir = fixture({});
    writeFileSync(join(dir, "workflow.yaml"), "mine\n");
    const r = await wfc(["init", "ruffus-jobs-limit", "-o", "my project/flow.yaml"], { cwd: dir });
    expect(r).toEqual({
      exitCode: 0,
      stdout: "wrote my project/flow.yaml, my project/scripts/job.sh (template ruffus-jobs-limit)\nnext: wfc run 'my project/flow.yaml'",
      stderr: "",
    });
    expect(readFileSync(join(dir, "workflow.yaml"), "utf8")).toBe("mine\n");
    expect(existsSync(join(dir, "my project/scripts/job.sh"))).toBe(true);
    expect(await wfc(["validate", "my project/flow.yaml"], { cwd: dir })).toMatchObject({ exitCode: 0, stderr: "" });
  });

  test("--help lists the templates", async () => {
    const r = await wfc(["init", "--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`Templates: ${templates.join(", ")} (default scipion-steps)`);
  });
});
