import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";

/**
 * The built CLI in a hermetic temp dir: home, XDG dirs and `$WFC_CONFIG`
 * all point inside it (or nowhere), so the real ~/.config and /etc/xdg are
 * never read.
 */
function hermetic(dir: string, env: Record<string, string> = {}) {
  return { cwd: dir, env: { HOME: dir, XDG_CONFIG_HOME: "", XDG_CONFIG_DIRS: join(dir, "site"), WFC_CONFIG: "", ...env } };
}

async function show(files: Record<string, string>, args: readonly string[], env: Record<string, string> = {}) {
  const dir = fixture(files);
  return { dir, ...(await wfc(["config", "show", ...args], hermetic(dir, env))) };
}

/** Bad config files and exactly what `wfc config show` says about them. */
const cases: { name: string; file: string; text: string; stderr: string[] }[] = [
  {
    name: "TOML: a key of another executor type, a wrong type and a typo in `type`, all in one run",
    file: "wfc.config.toml",
    text: [
      "[executors.htex]",
      'type = "processes"',
      'max = "four"',
      'partition = "short"',
      "",
      "[executors.gpu]",
      'type = "slurmm"',
      "",
    ].join("\n"),
    stderr: [
      "./wfc.config.toml:3:7: error WFC101: `max` of executor `htex` must be an integer, not a string",
      ' 3 | max = "four"',
      "   |       ^^^^^^ expected an integer",
      "",
      "./wfc.config.toml:4:1: error WFC102: unknown key `partition` in executor `htex`",
      ' 4 | partition = "short"',
      "   | ^^^^^^^^^ expected one of `container_engine`, `description`, `max`, `runs` or `type`",
      "   = help: remove `partition`, or check the spelling against the language reference",
      "",
      './wfc.config.toml:7:8: error WFC104: `type` of executor `gpu` cannot be "slurmm"',
      ' 7 | type = "slurmm"',
      "   |        ^^^^^^^^ expected one of `threads`, `processes`, `slurm`",
      "   = help: did you mean `slurm`?",
      "",
      "3 errors in ./wfc.config.toml",
    ],
  },
  {
    name: "TOML: a misspelt `[map.stages]` table",
    file: "wfc.config.toml",
    text: ["[map.stage]", 'search = "threads"', ""].join("\n"),
    stderr: [
      "./wfc.config.toml:1:6: error WFC102: unknown key `stage` in `map`",
      " 1 | [map.stage]",
      "   |      ^^^^^ expected one of `labels` or `stages`",
      "   = help: did you mean `stages`?",
      "",
      "1 error in ./wfc.config.toml",
    ],
  },
  {
    name: "TOML: a bad memory size and an executor name with a space",
    file: "wfc.config.toml",
    text: ['[executors."big mem"]', 'type = "slurm"', 'mem = "4X"', ""].join("\n"),
    stderr: [
      "./wfc.config.toml:1:12: error WFC106: invalid name `big mem` in `executors`",
      ' 1 | [executors."big mem"]',
      "   |            ^^^^^^^^^ expected letters, digits, `_` and `-`, starting with a letter or `_`",
      "",
      './wfc.config.toml:3:7: error WFC106: `mem` of executor `big mem` has an invalid format: "4X"',
      ' 3 | mem = "4X"',
      "   |       ^^^^ expected a size like `512M` or `4G`, or megabytes as an integer",
      "",
      "2 errors in ./wfc.config.toml",
    ],
  },
  {
    name: "TOML: a table defined twice",
    file: "wfc.config.toml",
    text: ["[executors.a]", 'type = "threads"', "[executors.a]", "max = 2", ""].join("\n"),
    stderr: [
      "./wfc.config.toml:3:2: error WFC004: duplicate table `[executors.a]`",
      " 3 | [executors.a]",
      "   |  ^^^^^^^^^^^",
      "   = help: each table may be defined once; merge the two sections",
      "   = note: ./wfc.config.toml:1:2: `[executors.a]` is first defined here",
      "",
      "1 error in ./wfc.config.toml",
    ],
  },
  {
    name: "YAML: an unknown top-level key, a mapping that is not a name, and a warning about the mapping after it",
    file: "local.yaml",
    text: ["executor:", "  htex: {type: processes}", "map:", "  stages:", "    search: 3", "    fetch: clusterr", ""].join("\n"),
    stderr: [
      "local.yaml:1:1: error WFC102: unknown key `executor` in the config file",
      " 1 | executor:",
      "   | ^^^^^^^^ expected one of `conda`, `containers`, `executors`, `map` or `resources`",
      "   = help: did you mean `executors`?",
      "",
      "local.yaml:5:13: error WFC101: `map.stages.search` must be a string, not an integer",
      " 5 |     search: 3",
      "   |             ^ expected a string",
      "",
      "local.yaml:6:12: warning WFC303: executor `clusterr` is defined in no config file; it must come from the workflow",
      " 6 |     fetch: clusterr",
      "   |            ^^^^^^^^",
      "   = help: define `executors.clusterr` in a config file, or in the workflow's `executors`",
      "",
      "2 errors, 1 warning in local.yaml",
    ],
  },
  {
    name: "YAML: an executor without `type`, a bad sbatch option, a repeated `runs` item",
    file: "local.yaml",
    text: [
      "executors:",
      "  a:",
      "    max: 2",
      "  b:",
      "    type: slurm",
      "    options: [constraint=avx2]",
      "    runs: [run, run]",
      "",
    ].join("\n"),
    stderr: [
      "local.yaml:2:3: error WFC103: executor `a` is missing the required key `type`",
      " 2 |   a:",
      "   |   ^",
      "   = help: add `type`: the kind of executor",
      "",
      'local.yaml:6:15: error WFC106: `options[0]` of executor `b` has an invalid format: "constraint=avx2"',
      " 6 |     options: [constraint=avx2]",
      "   |               ^^^^^^^^^^^^^^^ expected an sbatch option starting with `-`, like `--constraint=avx2`",
      "",
      'local.yaml:7:12: error WFC108: `runs` of executor `b` lists "run" twice',
      " 7 |     runs: [run, run]",
      "   |            ^^^",
      "   = help: remove the repeated item",
      "",
      "3 errors in local.yaml",
    ],
  },
  {
    name: "YAML: a list instead of a map",
    file: "local.yaml",
    text: "- threads\n- processes\n",
    stderr: [
      "local.yaml:1:1: error WFC101: the config file must be a map, not a list",
      " 1 | - threads",
      "   | ^^^^^^^^^ expected a map",
      "",
      "1 error in local.yaml",
    ],
  },
  {
    name: "YAML: a syntax error",
    file: "local.yaml",
    text: "executors:\n  a: {type: threads\n",
    stderr: [
      "local.yaml:2:6: error WFC001: YAML syntax error: unclosed `{`: expected `}`",
      " 2 |   a: {type: threads",
      "   |      ^",
      "",
      "1 error in local.yaml",
    ],
  },
];

describe("config errors are located like workflow errors", () => {
  for (const c of cases) {
    test(c.name, async () => {
      const args = c.file === "wfc.config.toml" ? [] : ["--config", c.file];
      const r = await show({ [c.file]: c.text }, args);
      expect(r.stderr).toBe(c.stderr.join("\n"));
      expect(r.stdout).toBe("");
      expect(r.exitCode).toBe(2);
    });
  }

  test("an error in the user config is located by its absolute path", async () => {
    const r = await show({ ".config/wfc/config.toml": "[executors.a]\ntype = 3\n" }, []);
    const file = join(r.dir, ".config/wfc/config.toml");
    expect(r.stderr.split("\n")).toEqual([
      `${file}:2:8: error WFC104: \`type\` of executor \`a\` cannot be 3`,
      " 2 | type = 3",
      "   |        ^ expected one of `threads`, `processes`, `slurm`",
      "",
      `1 error in ${file}`,
    ]);
    expect(r.exitCode).toBe(2);
  });

  test("errors in several files are all reported", async () => {
    const r = await show({ "wfc.config.toml": "[executors.a]\n", "site/wfc/config.toml": "[executors\n" }, []);
    expect(r.stderr.split("\n").filter((l) => /error WFC/.test(l))).toEqual([
      "./wfc.config.toml:1:12: error WFC103: executor `a` is missing the required key `type`",
      `${join(r.dir, "site/wfc/config.toml")}:1:11: error WFC002: TOML syntax error: unclosed table header: expected \`]\``,
    ]);
    expect(r.stderr.split("\n").at(-1)).toBe("2 errors in the config files");
  });

  test("a missing --config, a $WFC_CONFIG pointing nowhere, an unknown extension", async () => {
    const missing = await show({}, ["--config", "nope.toml"]);
    expect(missing.stderr).toBe(
      [
        "nope.toml: error WFC301: no such config file `nope.toml`",
        "   = help: check the path (it is relative to the current directory), or write a default one with `wfc config init --path nope.toml`",
        "",
        "1 error in nope.toml",
      ].join("\n"),
    );
    expect(missing.exitCode).toBe(2);

    const env = await show({}, [], { WFC_CONFIG: "gone.toml" });
    expect(env.stderr).toBe(
      [
        "gone.toml: error WFC301: no such config file `gone.toml` (named by `$WFC_CONFIG`)",
        "   = help: point `WFC_CONFIG` at a readable config file, or unset it",
        "",
        "1 error in gone.toml",
      ].join("\n"),
    );
    expect(env.exitCode).toBe(2);

    const ini = await show({ "wfc.ini": "" }, ["--config", "wfc.ini"]);
    expect(ini.stderr).toBe(
      [
        "wfc.ini: error WFC302: cannot tell the format of config file `wfc.ini` from its extension",
        "   = expected: a file ending in .toml, .yaml, .yml or .json",
        "   = help: rename it with the extension of its format (it was named by `--config`)",
        "",
        "1 error in wfc.ini",
      ].join("\n"),
    );
    expect(ini.exitCode).toBe(2);
  });

  test("--format json reports the same diagnostics with 1-based ranges, and no config", async () => {
    const r = await show({ "wfc.config.toml": '[executors.a]\ntype = "thread"\n' }, ["--format", "json"]);
    expect(r.exitCode).toBe(2);
    const json = JSON.parse(r.stdout) as { executors?: unknown; diagnostics: unknown[] };
    expect(json.executors).toBeUndefined();
    expect(json.diagnostics).toEqual([
      {
        severity: "error",
        code: "WFC104",
        message: '`type` of executor `a` cannot be "thread"',
        file: "./wfc.config.toml",
        range: { start: { line: 2, column: 8, offset: 21 }, end: { line: 2, column: 16, offset: 29 } },
        expected: "one of `threads`, `processes`, `slurm`",
        help: "did you mean `threads`?",
        related: [],
        // The suggestion as an edit of the word inside the quotes.
        fixes: [
          {
            title: "change `thread` to `threads`",
            edits: [{ range: { start: { line: 2, column: 9, offset: 22 }, end: { line: 2, column: 15, offset: 28 } }, newText: "threads" }],
          },
        ],
      },
    ]);
  });
});
