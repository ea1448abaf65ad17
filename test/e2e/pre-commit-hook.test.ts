/**
 * The repository's `.pre-commit-hooks.yaml`: it parses as pre-commit expects,
 * its `files` pattern (a Python regex, searched in each path) picks workflow
 * files and nothing else, and its `entry` run on those files, as pre-commit
 * runs it (entry + file names, from the repository root), passes a valid
 * workflow and fails an invalid one with the located error. pre-commit
 * itself is not installed here, so the test plays its part.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { parse } from "yaml";
import { describe, expect, test } from "vitest";
import { fixture, repoRoot, wfc } from "./helpers.js";

interface Hook {
  id: string;
  name: string;
  entry: string;
  language: string;
  files: string;
  pass_filenames: boolean;
}

const hooks = parse(readFileSync(join(repoRoot, ".pre-commit-hooks.yaml"), "utf8")) as Hook[];
const hook = hooks.find((h) => h.id === "wfc-validate")!;

/** The paths pre-commit would pass: `re.search(files, path)` in Python, as pre-commit matches. */
async function selected(paths: readonly string[]): Promise<string[]> {
  const script =
    "import json, re, sys\nfiles, paths = json.loads(sys.stdin.read())\nprint(json.dumps([p for p in paths if re.search(files, p)]))";
  const result = await execa("python3", ["-c", script], { input: JSON.stringify([hook.files, paths]) });
  return JSON.parse(result.stdout) as string[];
}

describe(".pre-commit-hooks.yaml", () => {
  test("declares the wfc-validate hook: `wfc validate` on the file names, installed as a node package", () => {
    expect(hooks).toHaveLength(1);
    expect(hook).toMatchObject({ id: "wfc-validate", entry: "wfc validate", language: "node", pass_filenames: true });
    expect(typeof hook.name).toBe("string");
    // pre-commit installs a `language: node` hook with `npm install` + `npm pack`: the package must have a bin named as the entry.
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { bin: Record<string, string> };
    expect(Object.keys(pkg.bin)).toContain(hook.entry.split(" ")[0]);
  });

  test("its files pattern picks workflow files, not other YAML or TOML", async () => {
    const workflows = [
      "workflow.yaml",
      "samples/reads-split/workflow.toml",
      "pipelines/workflow.yml",
      "workflow.json",
      "ci/nightly.wfc.yaml",
      "a/b/chip.wfc.toml",
    ];
    const others = [
      "docker-compose.yaml",
      ".github/workflows/ci.yml",
      "my-workflow.yaml",
      "workflow.yaml.bak",
      "config.toml",
      "wfc.yaml",
      "samples/invalid/unknown-limit.yaml",
    ];
    expect(await selected([...workflows, ...others])).toEqual(workflows);
  });

  test("its entry, run as pre-commit runs it on the selected files: 0 when valid, 2 with the located error when not", async () => {
    const good = { wfc: 1, stages: { a: { run: "true" } } };
    const dir = fixture({
      "workflow.yaml": good,
      "jobs/nightly.wfc.toml": good,
      "jobs/broken.wfc.yaml": { wfc: 1, stages: { a: { run: "true", limit: "ftp" } } },
      "docker-compose.yaml": "services: {}\n",
    });
    const [command, ...args] = hook.entry.split(" ");
    expect(command).toBe("wfc");
    const files = await selected(["docker-compose.yaml", "jobs/broken.wfc.yaml", "jobs/nightly.wfc.toml", "workflow.yaml"]);
    expect(files).toEqual(["jobs/broken.wfc.yaml", "jobs/nightly.wfc.toml", "workflow.yaml"]);

    const valid = await wfc([...args, ...files.filter((f) => !f.includes("broken"))], { cwd: dir });
    expect(valid.exitCode, valid.stderr).toBe(0);
    expect(valid.stdout).toBe("jobs/nightly.wfc.toml: valid, 1 stage, 1 job\nworkflow.yaml: valid, 1 stage, 1 job");

    const invalid = await wfc([...args, ...files], { cwd: dir });
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toMatch(/^jobs\/broken\.wfc\.yaml:\d+:\d+: /);
    expect(invalid.stderr).toContain("error WFC202: unknown limit `ftp`");
  });
});
