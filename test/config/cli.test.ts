import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { configInitCommand, configShowCommand } from "../../cli/commands/config.js";
import type { Io } from "../../cli/io.js";
import { defaultConfigText } from "../../compiler/config/default-file.js";
import { builtinWorkers } from "../../compiler/config/executors.js";
import { fixture, wfc } from "../e2e/helpers.js";

/** Environment for the built CLI that keeps it inside `dir` (no real ~/.config, /etc/xdg or $WFC_CONFIG). */
function hermetic(dir: string, env: Record<string, string> = {}) {
  return { cwd: dir, env: { HOME: dir, XDG_CONFIG_HOME: "", XDG_CONFIG_DIRS: join(dir, "site"), WFC_CONFIG: "", ...env } };
}

/** The commands in-process, with captured streams and a fake 8-CPU machine. */
function inProcess(dir: string, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    env: { XDG_CONFIG_DIRS: join(dir, "site"), ...env },
    cwd: dir,
  };
  const host = { home: dir, cpus: 8 };
  return {
    show: async (options: { config?: string; format?: "text" | "json" } = {}) => {
      const code = await configShowCommand({ config: options.config, format: options.format ?? "text" }, io, host);
      return { code, stdout: out.splice(0).join(""), stderr: err.splice(0).join("") };
    },
    init: async (options: { path?: string; force?: boolean } = {}) => {
      const code = await configInitCommand({ path: options.path, force: options.force ?? false }, io, host);
      return { code, stdout: out.splice(0).join(""), stderr: err.splice(0).join("") };
    },
  };
}

const cluster = [
  "[executors.cluster]",
  'type = "slurm"',
  'partition = "short"',
  'time = "01:00:00"',
  'options = ["--constraint=avx2", "--exclusive"]',
  "",
  "[map.stages]",
  'search = "cluster"',
  "",
].join("\n");

const user = [
  "[executors.threads]",
  'type = "threads"',
  "max = 2",
  "",
  "[map.stages]",
  'search = "threads"',
  'report = "threads"',
  "",
  "[map.labels]",
  'io = "threads"',
  "",
].join("\n");

describe("wfc config show", () => {
  test("the merged config as TOML, every value with where it came from", async () => {
    const dir = fixture({ "wfc.config.toml": cluster, ".config/wfc/config.toml": user });
    const r = await inProcess(dir).show();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const userFile = join(dir, ".config/wfc/config.toml");
    const site = join(dir, "site/wfc/config.toml");
    const w = userFile.length;
    expect(r.stdout).toBe(
      [
        "# wfc config: every config file merged; the first file to set a value wins.",
        "# Searched, highest precedence first:",
        "#   --config           (not given)",
        "#   $WFC_CONFIG        (not set)",
        `#   current directory  ${"./wfc.config.toml".padEnd(w)}  loaded`,
        `#   user               ${userFile}  loaded`,
        `#   site               ${site.padEnd(w)}  not found`,
        "#   built-in           threads and processes, 7 workers each",
        "",
        "[executors.cluster]                             # from ./wfc.config.toml:1",
        'type = "slurm"                                  # from ./wfc.config.toml:2',
        'partition = "short"                             # from ./wfc.config.toml:3',
        'time = "01:00:00"                               # from ./wfc.config.toml:4',
        'options = ["--constraint=avx2", "--exclusive"]  # from ./wfc.config.toml:5',
        "# container_engine: apptainer, built-in for slurm executors",
        "",
        "[executors.processes]  # built-in",
        'type = "processes"     # built-in',
        "# container_engine: podman, built-in for processes executors",
        "",
        `[executors.threads]  # from ${userFile}:1`,
        `type = "threads"     # from ${userFile}:2`,
        `max = 2              # from ${userFile}:3`,
        "# container_engine: podman, built-in for threads executors",
        "",
        "[containers]  # engine not set: built-in podman for threads and processes, apptainer for slurm",
        "",
        "[containers.options]  # no extra options for any engine",
        "",
        "[containers.images]  # no image mapped to this site's copy",
        "",
        "[conda]",
        'frontend = "conda"  # built-in',
        "",
        "[map.stages]",
        `report = "threads"  # from ${userFile}:7`,
        'search = "cluster"  # from ./wfc.config.toml:8',
        "",
        "[map.labels]",
        `io = "threads"  # from ${userFile}:10`,
        "",
      ].join("\n"),
    );
  });

  test("its output is a config file that pins the same merged config", async () => {
    const dir = fixture({ "wfc.config.toml": cluster, ".config/wfc/config.toml": user });
    const first = await inProcess(dir).show({ format: "json" });
    const pinned = fixture({ "pinned.toml": (await inProcess(dir).show()).stdout });
    const again = await inProcess(pinned).show({ format: "json", config: "pinned.toml" });
    expect(again.stderr).toBe("");
    const values = (json: string) => {
      const { executors, map } = JSON.parse(json) as {
        executors: Record<string, { definition: unknown }>;
        map: Record<string, Record<string, { executor: string }>>;
      };
      return {
        executors: Object.fromEntries(Object.entries(executors).map(([k, v]) => [k, v.definition])),
        map: Object.fromEntries(
          Object.entries(map).map(([k, m]) => [k, Object.fromEntries(Object.entries(m).map(([n, v]) => [n, v.executor]))]),
        ),
      };
    };
    expect(values(again.stdout)).toEqual(values(first.stdout));
  });

  test("--config takes precedence, and warnings go to stderr while the config still prints", async () => {
    const dir = fixture({ "wfc.config.toml": cluster, "hpc.toml": '[map.stages]\nsearch = "gpu"\n' });
    const r = await wfc(["config", "show", "--config", "hpc.toml"], hermetic(dir));
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe(
      [
        "hpc.toml:2:10: warning WFC303: executor `gpu` is defined in no config file; it must come from the workflow",
        ' 2 | search = "gpu"',
        "   |          ^^^^^",
        "   = help: define `executors.gpu` in a config file, or in the workflow's `executors`",
      ].join("\n"),
    );
    expect(r.stdout).toContain("#   --config           hpc.toml");
    expect(r.stdout).toContain('search = "gpu"  # from hpc.toml:2');
    expect(r.stdout).toContain('partition = "short"                             # from ./wfc.config.toml:3');
  });

  test("--format json: files searched, values and origins with 1-based positions", async () => {
    const dir = fixture({ "wfc.config.toml": cluster });
    const r = await wfc(["config", "show", "--format", "json"], hermetic(dir, { WFC_CONFIG: "wfc.config.toml" }));
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      files: [
        { level: "$WFC_CONFIG", path: "wfc.config.toml", status: "loaded" },
        { level: "current directory", path: "./wfc.config.toml", status: "duplicate" },
        { level: "user", path: join(dir, ".config/wfc/config.toml"), status: "missing" },
        { level: "site", path: join(dir, "site/wfc/config.toml"), status: "missing" },
      ],
      executors: {
        cluster: {
          definition: { type: "slurm", partition: "short", time: "01:00:00", options: ["--constraint=avx2", "--exclusive"] },
          from: { file: "wfc.config.toml", line: 1, column: 12 },
          container_engine: { value: "apptainer", from: "built-in" },
        },
        processes: { definition: { type: "processes" }, from: "built-in", container_engine: { value: "podman", from: "built-in" } },
        threads: { definition: { type: "threads" }, from: "built-in", container_engine: { value: "podman", from: "built-in" } },
      },
      map: { stages: { search: { executor: "cluster", from: { file: "wfc.config.toml", line: 8, column: 1 } } }, labels: {} },
      containers: { engine: null, builtin: { threads: "podman", processes: "podman", slurm: "apptainer" }, options: {}, images: {} },
      conda: { frontend: { value: "conda", from: "built-in" } },
      resources: {},
      diagnostics: [],
    });
  });

  test("with no config file anywhere, the built-in default with this machine's CPUs − 1", async () => {
    const dir = fixture({});
    const r = await wfc(["config", "show"], hermetic(dir));
    const workers = builtinWorkers(availableParallelism());
    expect(r.exitCode).toBe(0);
    const builtin = (code: string, width: number) => `${code.padEnd(width)}  # built-in`;
    expect(r.stdout.split("\n").slice(-22)).toEqual([
      `#   built-in           threads and processes, ${workers} worker${workers === 1 ? "" : "s"} each`,
      "",
      builtin("[executors.processes]", 21),
      builtin('type = "processes"', 21),
      "# container_engine: podman, built-in for processes executors",
      "",
      builtin("[executors.threads]", 19),
      builtin('type = "threads"', 19),
      "# container_engine: podman, built-in for threads executors",
      "",
      "[containers]  # engine not set: built-in podman for threads and processes, apptainer for slurm",
      "",
      "[containers.options]  # no extra options for any engine",
      "",
      "[containers.images]  # no image mapped to this site's copy",
      "",
      "[conda]",
      'frontend = "conda"  # built-in',
      "",
      "[map.stages]  # none mapped by name",
      "",
      "[map.labels]  # none mapped by label",
    ]);
  });
});

describe("wfc config init", () => {
  test("writes the commented default to ./wfc.config.toml, and it loads back clean", async () => {
    const dir = fixture({});
    const r = await wfc(["config", "init"], hermetic(dir));
    expect(r).toEqual({ exitCode: 0, stdout: "wrote ./wfc.config.toml", stderr: "" });
    expect(readFileSync(join(dir, "wfc.config.toml"), "utf8")).toBe(defaultConfigText(availableParallelism()));
    // Nothing else: no temp file left behind.
    expect(readdirSync(dir)).toEqual(["wfc.config.toml"]);
    const shown = await wfc(["config", "show"], hermetic(dir));
    expect(shown.exitCode).toBe(0);
    expect(shown.stderr).toBe("");
    expect(shown.stdout).toContain('type = "threads"     # from ./wfc.config.toml:');
  });

  test("the file explains every key and states this machine's CPU count", () => {
    const text = defaultConfigText(8);
    expect(text).toContain("# This machine has 8 CPUs, so the built-in executors get 7 workers each.");
    for (const key of [
      "type",
      "max",
      "runs",
      "description",
      "partition",
      "time",
      "mem",
      "cpus",
      "options",
      "licenses",
      "max_array_size",
      "[map.stages]",
      "[map.labels]",
      "container_engine",
      "[containers]",
      "[containers.options]",
      "[containers.images]",
      "[conda]",
      "frontend",
    ]) {
      expect(text).toMatch(new RegExp(`^#.*${key.replace(/[[\].]/g, "\\$&")}`, "m"));
    }
    expect(defaultConfigText(1)).toContain("# This machine has 1 CPU, so the built-in executors get 1 worker each.");
  });

  test("refuses to overwrite an existing file without --force, and leaves it as it was", async () => {
    const dir = fixture({ "wfc.config.toml": "# mine\n" });
    const r = await wfc(["config", "init"], hermetic(dir));
    expect(r).toEqual({ exitCode: 2, stdout: "", stderr: "wfc: error: `./wfc.config.toml` already exists; pass --force to overwrite it" });
    expect(readFileSync(join(dir, "wfc.config.toml"), "utf8")).toBe("# mine\n");
    expect(readdirSync(dir)).toEqual(["wfc.config.toml"]);
  });

  test("--force overwrites", async () => {
    const dir = fixture({ "wfc.config.toml": "# mine\n" });
    const r = await inProcess(dir).init({ force: true });
    expect(r).toEqual({ code: 0, stdout: "wrote ./wfc.config.toml\n", stderr: "" });
    expect(readFileSync(join(dir, "wfc.config.toml"), "utf8")).toBe(defaultConfigText(8));
    expect(readdirSync(dir)).toEqual(["wfc.config.toml"]);
  });

  test("--path writes elsewhere, creating its directory, and `show --config` reads it back", async () => {
    const dir = fixture({});
    const p = inProcess(dir);
    expect(await p.init({ path: "conf/laptop.toml" })).toEqual({ code: 0, stdout: "wrote conf/laptop.toml\n", stderr: "" });
    expect(readdirSync(dir)).toEqual(["conf"]);
    const shown = await p.show({ config: "conf/laptop.toml" });
    expect(shown.stderr).toBe("");
    expect(shown.stdout).toContain("[executors.processes]  # from conf/laptop.toml:36");
    expect(shown.stdout).toContain('type = "processes"     # from conf/laptop.toml:37');
  });

  test("a path that cannot be written is a clear error", async () => {
    const dir = fixture({ "file.txt": "" });
    const r = await inProcess(dir).init({ path: "file.txt/wfc.config.toml" });
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: "wfc: error: cannot write `file.txt/wfc.config.toml`: `file.txt` is not a directory\n",
    });
  });

  test("never writes a file unasked: show reads only", async () => {
    const dir = fixture({});
    await wfc(["config", "show"], hermetic(dir));
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("wfc config without a subcommand", () => {
  test("prints its help and exits 2", async () => {
    const dir = fixture({});
    const r = await wfc(["config"], hermetic(dir));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("show [options]  print the merged config and where each value came from");
    expect(r.stderr).toContain("init [options]  write the built-in default config");
  });
});
