import type { ParsedDocument } from "../source/document.js";
import type { CondaFrontend, ContainerEngine } from "../../contract/plan.js";
import { parseDuration, parseMemory } from "../lower/units.js";
import type { ConfigExecutor, ConfigMapping, ConfigResources, Configured, MergedConfig, Origin } from "./config.js";
import { builtinExecutorTables, lowerConfigExecutor } from "./executors.js";

type Obj = Readonly<Record<string, unknown>>;

/** One config file's checked data, with the document it came from. */
export interface ConfigLayer {
  readonly document: ParsedDocument;
  /** The file's top-level table (an empty file is an empty table). */
  readonly data: Obj;
}

/**
 * Merges config files, highest precedence first, over the built-in default.
 * Per executor name the whole definition comes from the first file that
 * defines it (merging fields of two definitions would build an executor
 * neither file describes); per mapping key, the first file's value; the
 * same for `[containers]` and `[conda]`: `engine` and `frontend` from the
 * first file that sets them, each engine's `options` and each image of
 * `images` on its own; each stage of `[resources]` whole from the first
 * file that has it (like an executor: what you read in one file is what
 * the stage gets).
 */
export function mergeConfigs(layers: readonly ConfigLayer[]): MergedConfig {
  const executors = new Map<string, ConfigExecutor>();
  const stageMap = new Map<string, ConfigMapping>();
  const labelMap = new Map<string, ConfigMapping>();
  let engine: Configured<ContainerEngine> | undefined;
  let frontend: Configured<CondaFrontend> | undefined;
  const options = new Map<ContainerEngine, Configured<readonly string[]>>();
  const images = new Map<string, Configured<string>>();
  const resources = new Map<string, ConfigResources>();
  for (const { document, data } of layers) {
    const origin = (path: readonly string[]): Origin => ({ kind: "file", file: document.file.path, span: document.locate(path, "key") });
    for (const [name, table] of entries(data.executors)) {
      if (executors.has(name)) continue;
      const def = lowerConfigExecutor(name, table, true);
      if (def !== undefined) executors.set(name, { def, table: table as Obj, origin: origin(["executors", name]) });
    }
    const map = isObject(data.map) ? data.map : {};
    for (const [key, into] of [
      ["stages", stageMap],
      ["labels", labelMap],
    ] as const) {
      for (const [name, executor] of entries(map[key])) {
        if (!into.has(name) && typeof executor === "string") into.set(name, { executor, origin: origin(["map", key, name]) });
      }
    }
    const containers = isObject(data.containers) ? data.containers : {};
    if (engine === undefined && typeof containers.engine === "string")
      engine = { value: containers.engine as ContainerEngine, origin: origin(["containers", "engine"]) };
    for (const [name, list] of entries(containers.options)) {
      if (!options.has(name as ContainerEngine) && Array.isArray(list))
        options.set(name as ContainerEngine, {
          value: list.filter((o): o is string => typeof o === "string"),
          origin: origin(["containers", "options", name]),
        });
    }
    for (const [image, mapped] of entries(containers.images)) {
      if (!images.has(image) && typeof mapped === "string")
        images.set(image, { value: mapped, origin: origin(["containers", "images", image]) });
    }
    for (const [stage, table] of entries(data.resources)) {
      if (resources.has(stage) || !isObject(table)) continue;
      const mem = typeof table.mem === "number" || typeof table.mem === "string" ? parseMemory(table.mem) : undefined;
      const time = typeof table.time === "number" || typeof table.time === "string" ? parseDuration(table.time) : undefined;
      const cpus = typeof table.cpus === "number" ? table.cpus : undefined;
      const at = origin(["resources", stage]);
      const span = at.kind === "file" ? at.span : undefined;
      resources.set(stage, {
        ...(mem !== undefined ? { mem } : {}),
        ...(time !== undefined ? { time } : {}),
        ...(cpus !== undefined ? { cpus } : {}),
        table,
        origin: at,
        ...(span !== undefined ? { line: document.file.lines.position(span.start).line } : {}),
      });
    }
    const conda = isObject(data.conda) ? data.conda : {};
    if (frontend === undefined && typeof conda.frontend === "string")
      frontend = { value: conda.frontend as CondaFrontend, origin: origin(["conda", "frontend"]) };
  }
  for (const [name, table] of builtinExecutorTables()) {
    if (executors.has(name)) continue;
    executors.set(name, { def: lowerConfigExecutor(name, table, false)!, table, origin: { kind: "built-in" } });
  }
  return {
    executors: sorted(executors),
    stageMap: sorted(stageMap),
    labelMap: sorted(labelMap),
    containers: { ...(engine !== undefined ? { engine } : {}), options: sorted(options), images: sorted(images) },
    conda: { frontend: frontend ?? { value: "conda", origin: { kind: "built-in" } } },
    resources: sorted(resources),
    files: layers.map((layer) => layer.document.file.path),
  };
}

function entries(value: unknown): [string, unknown][] {
  return isObject(value) ? Object.entries(value) : [];
}

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sorted<K extends string, V>(map: Map<K, V>): Map<K, V> {
  return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
