import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { LoadConfigResult, MergedConfig, Origin } from "../../compiler/config/config.js";
import { defaultConfigText } from "../../compiler/config/default-file.js";
import { builtinWorkers } from "../../compiler/config/executors.js";
import { loadConfig } from "../../compiler/config/load.js";
import { fixture } from "../e2e/helpers.js";

/**
 * A hermetic machine in a temp dir: `project/` is the current directory,
 * `home/` the home directory, `site1/` and `site2/` the XDG config dirs.
 * Nothing outside it is read.
 */
function machine(files: Record<string, unknown>) {
  const root = fixture({ "project/.keep": "", "home/.keep": "", ...files });
  return {
    root,
    cwd: join(root, "project"),
    home: join(root, "home"),
    user: join(root, "home/.config/wfc/config.toml"),
    site1: join(root, "site1/wfc/config.toml"),
    site2: join(root, "site2/wfc/config.toml"),
    load(options: { explicit?: string; env?: Record<string, string> } = {}): Promise<LoadConfigResult> {
      return loadConfig({
        explicit: options.explicit,
        env: { XDG_CONFIG_DIRS: `${root}/site1:${root}/site2`, ...options.env },
        cwd: join(root, "project"),
        home: join(root, "home"),
      });
    },
  };
}

/** Where a value came from, as `file:line` or `built-in`. */
function where(result: LoadConfigResult, origin: Origin | undefined): string {
  if (origin === undefined) return "(none)";
  if (origin.kind === "built-in") return "built-in";
  const doc = result.documents.find((d) => d.file.path === origin.file);
  return `${origin.file}:${doc!.file.lines.position(origin.span!.start).line}`;
}

function ok(result: LoadConfigResult): MergedConfig {
  expect(result.diagnostics).toEqual([]);
  expect(result.config).toBeDefined();
  return result.config!;
}

const executorX = (max: number) => ({ executors: { x: { type: "processes", max } }, map: { stages: { s: `e${max}` } } });

describe("precedence: the first file to set a value wins", () => {
  // Six levels, each setting executor `x` to its own `max` and mapping stage `s` to its own executor.
  const levels = ["--config", "$WFC_CONFIG", "current directory", "user", "site 1", "site 2"];
  for (let top = 0; top < levels.length; top++) {
    test(`${levels[top]} wins over every level below it`, async () => {
      const files: Record<string, unknown> = {};
      const paths = ["project/explicit.toml", "env/config.toml", "project/wfc.config.toml", "home/.config/wfc/config.toml"];
      paths.push("site1/wfc/config.toml", "site2/wfc/config.toml");
      for (let level = top; level < levels.length; level++) files[paths[level]!] = executorX(level + 1);
      const m = machine(files);
      const result = await m.load({
        ...(top === 0 ? { explicit: "explicit.toml" } : {}),
        env: top <= 1 ? { WFC_CONFIG: join(m.root, "env/config.toml") } : {},
      });
      // The mappings name executors no file defines: warnings, one per file.
      expect(result.diagnostics.map((d) => [d.severity, d.code])).toEqual(levels.slice(top).map(() => ["warning", "WFC303"]));
      const config = result.config!;
      expect(config.executors.get("x")!.def.max).toBe(top + 1);
      expect(config.stageMap.get("s")!.executor).toBe(`e${top + 1}`);
      const shown = ["explicit.toml", join(m.root, "env/config.toml"), "./wfc.config.toml", m.user, m.site1, m.site2].slice(top);
      expect(config.files).toEqual(shown);
      expect(where(result, config.executors.get("x")!.origin)).toBe(`${shown[0]}:1`);
      expect(where(result, config.stageMap.get("s")!.origin)).toBe(`${shown[0]}:6`);
    });
  }

  test("with no file anywhere, the built-in default: threads and processes, sized by the machine that runs the plan", async () => {
    const m = machine({});
    const result = await m.load();
    const config = ok(result);
    expect([...config.executors].map(([name, e]) => [name, e.def.type, e.def.max, [...e.def.runs], e.origin])).toEqual([
      ["processes", "processes", undefined, ["run", "fn"], { kind: "built-in" }],
      ["threads", "threads", undefined, ["run", "fn"], { kind: "built-in" }],
    ]);
    expect(config.files).toEqual([]);
    expect(result.searched.map((s) => [s.level, s.status])).toEqual([
      ["current directory", "missing"],
      ["user", "missing"],
      ["site", "missing"],
      ["site", "missing"],
    ]);
  });

  test("built-in workers are CPUs − 1, at least 1, even on one CPU", () => {
    expect([1, 2, 3, 64].map(builtinWorkers)).toEqual([1, 1, 2, 63]);
  });

  test("a config file replaces a built-in executor of the same name", async () => {
    const m = machine({ "home/.config/wfc/config.toml": { executors: { threads: { type: "threads", max: 2, runs: ["fn"] } } } });
    const config = ok(await m.load());
    expect(config.executors.get("threads")!.def).toEqual({
      name: "threads",
      type: "threads",
      runs: new Set(["fn"]),
      path: ["executors", "threads"],
      max: 2,
    });
    expect(config.executors.get("processes")!.origin).toEqual({ kind: "built-in" });
  });
});

describe("merging", () => {
  test("an executor comes whole from one file; mappings merge key by key; every value knows its origin", async () => {
    const m = machine({
      "site1/wfc/config.toml": [
        "[executors.cluster]",
        'type = "slurm"',
        'partition = "long"',
        'time = "2d"',
        "",
        "[map.stages]",
        'a = "cluster"',
        'b = "cluster"',
        "",
        "[map.labels]",
        'gpu = "cluster"',
        "",
      ].join("\n"),
      "home/.config/wfc/config.toml": [
        "[executors.cluster]",
        'type = "slurm"',
        'partition = "short"',
        'mem = "4G"',
        "",
        "[map.stages]",
        'b = "threads"',
        'c = "threads"',
        "",
      ].join("\n"),
      "project/wfc.config.toml": ["[map.stages]", 'c = "processes"', ""].join("\n"),
    });
    const result = await m.load();
    const config = ok(result);
    const cluster = config.executors.get("cluster")!;
    // The user's definition, not a mix: no `time` from the site's.
    expect(cluster.def.slurm).toEqual({ partition: "short", mem: 4096, options: [], licenses: true });
    expect(cluster.table).toEqual({ type: "slurm", partition: "short", mem: "4G" });
    expect(where(result, cluster.origin)).toBe(`${m.user}:1`);
    expect([...config.stageMap].map(([k, v]) => [k, v.executor, where(result, v.origin)])).toEqual([
      ["a", "cluster", `${m.site1}:7`],
      ["b", "threads", `${m.user}:7`],
      ["c", "processes", "./wfc.config.toml:2"],
    ]);
    expect([...config.labelMap].map(([k, v]) => [k, v.executor, where(result, v.origin)])).toEqual([["gpu", "cluster", `${m.site1}:11`]]);
    expect(config.files).toEqual(["./wfc.config.toml", m.user, m.site1]);
  });

  test("SLURM settings are lowered as a workflow's are", async () => {
    const m = machine({
      "project/wfc.config.toml": {
        executors: {
          hpc: {
            type: "slurm",
            description: "the cluster",
            max: 50,
            runs: ["run"],
            account: "lab",
            qos: "normal",
            time: "01:30:00",
            mem: 2048,
            cpus: 4,
            options: ["--constraint=avx2"],
            licenses: false,
            max_array_size: 1000,
          },
        },
      },
    });
    const def = ok(await m.load()).executors.get("hpc")!.def;
    expect(def).toEqual({
      name: "hpc",
      type: "slurm",
      max: 50,
      runs: new Set(["run"]),
      path: ["executors", "hpc"],
      slurm: {
        account: "lab",
        qos: "normal",
        time: 5400,
        mem: 2048,
        cpus: 4,
        options: ["--constraint=avx2"],
        licenses: false,
        maxArraySize: 1000,
      },
    });
  });

  test("a mapping to an executor defined in another config file is fine; to one defined nowhere, a located warning", async () => {
    const text = ["[map.stages]", 'a = "cluster"', 'b = "threads"', 'c = "from_workflow"', 'd = "clustr"', ""].join("\n");
    const m = machine({ "site1/wfc/config.toml": { executors: { cluster: { type: "slurm" } } }, "project/wfc.config.toml": text });
    const result = await m.load();
    const at = (value: string) => ({ start: text.indexOf(value), end: text.indexOf(value) + value.length });
    expect(result.config).toBeDefined();
    expect(result.diagnostics).toEqual([
      {
        severity: "warning",
        code: "WFC303",
        message: "executor `from_workflow` is defined in no config file; it must come from the workflow",
        location: { file: "./wfc.config.toml", span: at('"from_workflow"') },
        help: "define `executors.from_workflow` in a config file, or in the workflow's `executors`",
      },
      {
        severity: "warning",
        code: "WFC303",
        message: "executor `clustr` is defined in no config file; it must come from the workflow",
        location: { file: "./wfc.config.toml", span: at('"clustr"') },
        help: "did you mean `cluster`?",
        // The quick fix edits the name inside the quotes.
        fixes: [{ title: "change `clustr` to `cluster`", edits: [{ span: at("clustr"), newText: "cluster" }] }],
      },
    ]);
  });
});

describe("which files must exist", () => {
  test("a missing --config is an error, and the rest is still searched", async () => {
    const m = machine({ "project/wfc.config.toml": "" });
    const result = await m.load({ explicit: "nope.toml" });
    expect(result.config).toBeUndefined();
    expect(result.diagnostics).toEqual([
      {
        severity: "error",
        code: "WFC301",
        message: "no such config file `nope.toml`",
        location: { file: "nope.toml" },
        help: "check the path (it is relative to the current directory), or write a default one with `wfc config init --path nope.toml`",
      },
    ]);
    expect(result.searched.map((s) => s.status)).toEqual(["error", "loaded", "missing", "missing", "missing"]);
  });

  test("$WFC_CONFIG pointing nowhere is an error", async () => {
    const result = await machine({}).load({ env: { WFC_CONFIG: "gone.toml" } });
    expect(result.config).toBeUndefined();
    expect(result.diagnostics.map((d) => [d.code, d.message, d.help])).toEqual([
      ["WFC301", "no such config file `gone.toml` (named by `$WFC_CONFIG`)", "point `WFC_CONFIG` at a readable config file, or unset it"],
    ]);
  });

  test("an empty $WFC_CONFIG counts as unset", async () => {
    const result = await machine({}).load({ env: { WFC_CONFIG: "" } });
    expect(result.searched.map((s) => s.level)).not.toContain("$WFC_CONFIG");
    ok(result);
  });

  test("a directory where a config file should be is an error, even on the search path", async () => {
    const m = machine({});
    mkdirSync(join(m.cwd, "wfc.config.toml"));
    const result = await m.load();
    expect(result.diagnostics.map((d) => [d.code, d.message, d.location])).toEqual([
      ["WFC301", "config file `./wfc.config.toml` is a directory", { file: "./wfc.config.toml" }],
    ]);
  });

  test("--config with an extension wfc cannot read is an error", async () => {
    const m = machine({ "project/wfc.ini": "[executors]" });
    const result = await m.load({ explicit: "wfc.ini" });
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["WFC302", "cannot tell the format of config file `wfc.ini` from its extension"],
    ]);
  });

  test("one file reached two ways is read once", async () => {
    const m = machine({ "project/wfc.config.toml": ["[map.labels]", 'io = "nowhere"', ""].join("\n") });
    const result = await m.load({ explicit: "wfc.config.toml" });
    expect(result.searched.map((s) => [s.level, s.status])).toEqual([
      ["--config", "loaded"],
      ["current directory", "duplicate"],
      ["user", "missing"],
      ["site", "missing"],
      ["site", "missing"],
    ]);
    // One warning, not one per way of reaching the file.
    expect(result.diagnostics.map((d) => `${d.location?.file} ${d.code}`)).toEqual(["wfc.config.toml WFC303"]);
    expect(result.config!.files).toEqual(["wfc.config.toml"]);
  });

  test("YAML and JSON config files, empty ones included, are read through --config and $WFC_CONFIG", async () => {
    const m = machine({
      "project/c.yaml": "executors:\n  y: { type: threads, max: 3 }\n",
      "project/c.json": JSON.stringify({ executors: { j: { type: "processes" } }, map: { labels: { io: "y" } } }),
      "project/empty.yaml": "",
    });
    const config = ok(await m.load({ explicit: "c.yaml", env: { WFC_CONFIG: "c.json" } }));
    expect([...config.executors.keys()]).toEqual(["j", "processes", "threads", "y"]);
    expect(config.labelMap.get("io")!.executor).toBe("y");
    ok(await m.load({ explicit: "empty.yaml" }));
  });

  test("every invalid file is reported in one run, and then there is no config", async () => {
    const m = machine({
      "project/wfc.config.toml": '[executors.a]\ntype = "thread"\n',
      "home/.config/wfc/config.toml": "[map.stages]\nx = 1\n",
      "site2/wfc/config.toml": "[executors\n",
    });
    const result = await m.load();
    expect(result.config).toBeUndefined();
    expect(result.diagnostics.map((d) => `${d.location?.file} ${d.code}`).sort()).toEqual(
      [`./wfc.config.toml WFC104`, `${m.user} WFC101`, `${m.site2} WFC002`].sort(),
    );
    expect(result.searched.map((s) => s.status)).toEqual(["error", "error", "missing", "error"]);
  });
});

describe("wfc config init's file", () => {
  test("loads back as exactly the built-in default, with no diagnostics", async () => {
    for (const cpus of [1, 2, 8]) {
      const m = machine({ "project/wfc.config.toml": defaultConfigText(cpus) });
      const result = await m.load();
      const config = ok(result);
      const builtin = ok(await machine({}).load());
      // The same executors; only where they come from differs.
      const strip = (c: MergedConfig) =>
        [...c.executors].map(([name, e]) => [name, Object.fromEntries(Object.entries(e.def).filter(([key]) => key !== "path")), e.table]);
      expect(strip(config)).toEqual(strip(builtin));
      expect([...config.executors.values()].map((e) => where(result, e.origin))).toEqual(["./wfc.config.toml:36", "./wfc.config.toml:32"]);
      expect(config.stageMap.size + config.labelMap.size).toBe(0);
    }
  });

  test("its commented-out examples are valid too, once uncommented", async () => {
    const text = defaultConfigText(8)
      .split("\n")
      .map((line) => (/^# (\[[a-z.]+\]$|[a-z_]+ = )/.test(line) ? line.slice(2) : line))
      .join("\n");
    const m = machine({});
    writeFileSync(join(m.cwd, "wfc.config.toml"), text);
    const config = ok(await m.load());
    expect([...config.executors.keys()]).toEqual(["cluster", "processes", "threads"]);
    expect(config.stageMap.get("search")!.executor).toBe("processes");
    expect(config.labelMap.get("gpu")!.executor).toBe("cluster");
  });
});
