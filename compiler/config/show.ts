import { lookupIn } from "../diagnostics/format.js";
import { toJsonDiagnostic, type JsonDiagnostic } from "../diagnostics/json.js";
import type { ConfigExecutor, ConfigLevel, LoadConfigResult, LocationStatus, MergedConfig, Origin, SearchedLocation } from "./config.js";
import { builtinEngine, builtinWorkers } from "./executors.js";
import type { ExecutorType } from "../lower/ast.js";
import { tomlKey, tomlValue } from "./toml-text.js";

/** Finds a config file's text by the path diagnostics use, for source lines and line numbers. */
const statusWords: Record<LocationStatus, string> = {
  loaded: "loaded",
  missing: "not found",
  error: "not loaded: has errors",
  duplicate: "same file as above",
};

/**
 * The merged config as TOML, every value followed by a comment saying where
 * it came from (`# from ./wfc.config.toml:4` or `# built-in`), under a
 * header listing the files searched. The output is itself a valid config
 * file: `wfc config show > wfc.config.toml` pins the merged result.
 */
export function renderConfigText(config: MergedConfig, result: Pick<LoadConfigResult, "documents" | "searched">, cpus: number): string {
  const documents = new Map(result.documents.map((d) => [d.file.path, d]));
  const where = (origin: Origin, path: readonly string[]): string => {
    if (origin.kind === "built-in") return "# built-in";
    const document = documents.get(origin.file);
    // A field's own line when it can be found, else the line the origin points at.
    const span = path.length > 0 && document ? document.locate(path, "key") : origin.span;
    const line = span && document ? document.file.lines.position(span.start).line : undefined;
    return `# from ${origin.file}${line === undefined ? "" : `:${line}`}`;
  };

  const out: string[] = [...searchedHeader(result.searched, cpus)];
  for (const [name, executor] of config.executors) {
    const rows: [string, string][] = [[`[executors.${tomlKey(name)}]`, where(executor.origin, [])]];
    const { type, ...rest } = executor.table;
    for (const [key, value] of Object.entries({ type, ...rest })) {
      rows.push([`${tomlKey(key)} = ${tomlValue(value)}`, where(executor.origin, ["executors", name, key])]);
    }
    out.push("", ...aligned(rows));
    // Which engine its containers run with when the table does not say: a comment, so the output stays this config.
    if (executor.def.containerEngine === undefined) {
      const engine = config.containers.engine;
      out.push(
        `# container_engine: ${engine?.value ?? builtinEngine(executor.def.type)}, ${
          engine === undefined
            ? `built-in for ${executor.def.type} executors`
            : where(engine.origin, []).replace(/^# /, "[containers] engine ")
        }`,
      );
    }
  }
  out.push("", ...containersText(config, where));
  for (const [key, map] of [
    ["stages", config.stageMap],
    ["labels", config.labelMap],
  ] as const) {
    const rows: [string, string][] = [[`[map.${key}]`, map.size === 0 ? `# none mapped by ${key === "stages" ? "name" : "label"}` : ""]];
    for (const [name, mapping] of map) rows.push([`${tomlKey(name)} = ${tomlValue(mapping.executor)}`, where(mapping.origin, [])]);
    out.push("", ...aligned(rows));
  }
  // Only a config that sets resources has the tables (`wfc suggest -o` writes them), so other configs show as they did.
  for (const [stage, entry] of config.resources) {
    const rows: [string, string][] = [[`[resources.${tomlKey(stage)}]`, where(entry.origin, [])]];
    for (const [key, value] of Object.entries(entry.table))
      rows.push([`${tomlKey(key)} = ${tomlValue(value)}`, where(entry.origin, ["resources", stage, key])]);
    out.push("", ...aligned(rows));
  }
  return out.join("\n") + "\n";
}

/** `[containers]` and `[conda]`, each value with its origin; what is not set says what applies instead. */
function containersText(config: MergedConfig, where: (origin: Origin, path: readonly string[]) => string): string[] {
  const { engine, options, images } = config.containers;
  const out: string[] = [];
  out.push(
    ...aligned(
      engine === undefined
        ? [["[containers]", `# engine not set: built-in ${builtinEngineWords()}`]]
        : [
            ["[containers]", ""],
            [`engine = ${tomlValue(engine.value)}`, where(engine.origin, [])],
          ],
    ),
  );
  for (const [key, map, none] of [
    ["options", options, "# no extra options for any engine"],
    ["images", images, "# no image mapped to this site's copy"],
  ] as const) {
    const rows: [string, string][] = [[`[containers.${key}]`, map.size === 0 ? none : ""]];
    for (const [name, { value, origin }] of map as ReadonlyMap<string, { value: unknown; origin: Origin }>)
      rows.push([`${tomlKey(name)} = ${tomlValue(value)}`, where(origin, [])]);
    out.push("", ...aligned(rows));
  }
  const frontend = config.conda.frontend;
  out.push(
    "",
    ...aligned([
      ["[conda]", ""],
      [`frontend = ${tomlValue(frontend.value)}`, where(frontend.origin, [])],
    ]),
  );
  return out;
}

const EXECUTOR_TYPES: readonly ExecutorType[] = ["threads", "processes", "slurm"];

/** `podman for threads and processes, apptainer for slurm`. */
function builtinEngineWords(): string {
  const byEngine = new Map<string, ExecutorType[]>();
  for (const type of EXECUTOR_TYPES) byEngine.set(builtinEngine(type), [...(byEngine.get(builtinEngine(type)) ?? []), type]);
  return [...byEngine].map(([engine, types]) => `${engine} for ${types.join(" and ")}`).join(", ");
}

function searchedHeader(searched: readonly SearchedLocation[], cpus: number): string[] {
  const rows: [string, string, string][] = [];
  const has = (level: ConfigLevel) => searched.some((s) => s.level === level);
  if (!has("--config")) rows.push(["--config", "(not given)", ""]);
  if (!has("$WFC_CONFIG")) rows.push(["$WFC_CONFIG", "(not set)", ""]);
  // Keep the search order: the two rows above come first, as their levels do.
  for (const s of searched) rows.push([s.level, s.path, statusWords[s.status]]);
  const workers = builtinWorkers(cpus);
  rows.push(["built-in", `threads and processes, ${workers} worker${workers === 1 ? "" : "s"} each`, ""]);
  rows.sort((a, b) => levelRank(a[0]) - levelRank(b[0]));
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.filter((r) => r[2] !== "").map((r) => r[1].length), 0);
  return [
    "# wfc config: every config file merged; the first file to set a value wins.",
    "# Searched, highest precedence first:",
    ...rows.map(([level, path, status]) => `#   ${level.padEnd(w0)}  ${status === "" ? path : `${path.padEnd(w1)}  ${status}`}`.trimEnd()),
  ];
}

const levelOrder: readonly string[] = ["--config", "$WFC_CONFIG", "current directory", "user", "site", "built-in"];
function levelRank(level: string): number {
  return levelOrder.indexOf(level);
}

/** Rows of `code  # comment`, the comments lined up within a table. */
function aligned(rows: readonly [string, string][]): string[] {
  const width = Math.max(...rows.map(([code]) => code.length));
  return rows.map(([code, comment]) => (comment === "" ? code : `${code.padEnd(width)}  ${comment}`));
}

/** Where a value came from, in `--format json`: a 1-based position in a file, or `"built-in"`. */
export type JsonOrigin = { file: string; line: number | null; column: number | null } | "built-in";

/** `wfc config show --format json`. */
export interface ConfigJson {
  files: { level: ConfigLevel; path: string; status: LocationStatus }[];
  /** Absent when a config file has errors. */
  executors?: Record<
    string,
    { definition: Record<string, unknown>; from: JsonOrigin; container_engine: { value: string; from: JsonOrigin } }
  >;
  map?: {
    stages: Record<string, { executor: string; from: JsonOrigin }>;
    labels: Record<string, { executor: string; from: JsonOrigin }>;
  };
  containers?: {
    /** Null when no file sets it: each executor then has its type's built-in engine (`builtin`). */
    engine: { value: string; from: JsonOrigin } | null;
    builtin: Record<ExecutorType, string>;
    options: Record<string, { value: readonly string[]; from: JsonOrigin }>;
    images: Record<string, { value: string; from: JsonOrigin }>;
  };
  conda?: { frontend: { value: string; from: JsonOrigin } };
  /** `[resources.STAGE]`: the table as written and where it came from (a stage's entry is taken whole from one file). */
  resources?: Record<string, { value: Record<string, unknown>; from: JsonOrigin }>;
  diagnostics: JsonDiagnostic[];
}

/** The same information as `renderConfigText`, as data. */
export function configJson(result: LoadConfigResult): ConfigJson {
  const lookup = lookupIn(result.documents);
  const from = (origin: Origin): JsonOrigin => {
    if (origin.kind === "built-in") return "built-in";
    const file = lookup(origin.file);
    const position = file && origin.span ? file.lines.position(origin.span.start) : undefined;
    return { file: origin.file, line: position?.line ?? null, column: position?.column ?? null };
  };
  const json: ConfigJson = {
    files: result.searched.map((s) => ({ level: s.level, path: s.path, status: s.status })),
    diagnostics: result.diagnostics.map((d) => toJsonDiagnostic(d, lookup)),
  };
  const config = result.config;
  if (config === undefined) return json;
  const mappings = (map: MergedConfig["stageMap"]) =>
    Object.fromEntries([...map].map(([name, m]) => [name, { executor: m.executor, from: from(m.origin) }]));
  const valued = <T>(map: ReadonlyMap<string, { value: T; origin: Origin }>) =>
    Object.fromEntries([...map].map(([key, v]) => [key, { value: v.value, from: from(v.origin) }]));
  const { engine } = config.containers;
  const engineOf = (e: ConfigExecutor) =>
    e.def.containerEngine !== undefined
      ? { value: e.def.containerEngine, from: from(e.origin) }
      : engine !== undefined
        ? { value: engine.value, from: from(engine.origin) }
        : { value: builtinEngine(e.def.type), from: "built-in" as const };
  return {
    files: json.files,
    executors: Object.fromEntries(
      [...config.executors].map(([name, e]) => [name, { definition: { ...e.table }, from: from(e.origin), container_engine: engineOf(e) }]),
    ),
    map: { stages: mappings(config.stageMap), labels: mappings(config.labelMap) },
    containers: {
      engine: engine === undefined ? null : { value: engine.value, from: from(engine.origin) },
      builtin: Object.fromEntries(EXECUTOR_TYPES.map((type) => [type, builtinEngine(type)])) as Record<ExecutorType, string>,
      options: valued(config.containers.options),
      images: valued(config.containers.images),
    },
    conda: { frontend: { value: config.conda.frontend.value, from: from(config.conda.frontend.origin) } },
    resources: Object.fromEntries([...config.resources].map(([stage, r]) => [stage, { value: { ...r.table }, from: from(r.origin) }])),
    diagnostics: json.diagnostics,
  };
}
