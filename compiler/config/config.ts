import type { Diagnostic, Span } from "../diagnostics/diagnostic.js";
import type { ExecutorDef } from "../lower/ast.js";
import type { ParsedDocument } from "../source/document.js";
import type { CondaFrontend, ContainerEngine } from "../../contract/plan.js";

/**
 * Config files: executors, and which stages run on them. Several files are
 * merged, first wins (see `locations.ts` for the search path); every merged
 * value remembers where it came from, for `wfc config show` and for
 * diagnostics that point back at a config file.
 */

/** Where a merged value came from: a config file (and where in it), or wfc itself. */
export type Origin = { readonly kind: "file"; readonly file: string; readonly span?: Span } | { readonly kind: "built-in" };

/** One executor of the merged config. */
export interface ConfigExecutor {
  /** The executor, lowered as a workflow's executors are (`path` is inside the config file). */
  readonly def: ExecutorDef;
  /** The executor's table as written (for built-ins, as `wfc config init` writes it). */
  readonly table: Readonly<Record<string, unknown>>;
  readonly origin: Origin;
}

/** One entry of `[map.stages]` or `[map.labels]`. */
export interface ConfigMapping {
  /** The executor's name. */
  readonly executor: string;
  readonly origin: Origin;
}

/** A value of the merged config and where it came from. */
export interface Configured<T> {
  readonly value: T;
  readonly origin: Origin;
}

/** `[containers]`: how `container` stages run (docs/environments.md). */
export interface ContainersConfig {
  /** `engine`: every executor's that sets no `container_engine`; absent: the built-in one per executor type. */
  readonly engine?: Configured<ContainerEngine>;
  /** `[containers.options]`: extra options per engine, each engine's list from the first file that sets it. */
  readonly options: ReadonlyMap<ContainerEngine, Configured<readonly string[]>>;
  /** `[containers.images]`: a workflow's image → this site's, each from the first file that maps it. */
  readonly images: ReadonlyMap<string, Configured<string>>;
}

/** `[conda]`. */
export interface CondaConfig {
  /** `frontend`, built-in `conda`. */
  readonly frontend: Configured<CondaFrontend>;
}

/**
 * `[resources.STAGE]`: what a stage's jobs request, replacing the stage's own
 * `mem`, `time` and `cpus` (and `defaults`'). Taken whole from the first file
 * that has the stage, like an executor.
 */
export interface ConfigResources {
  /** Megabytes. */
  readonly mem?: number;
  /** Seconds per element. */
  readonly time?: number;
  readonly cpus?: number;
  /** The table as written, for `wfc config show`. */
  readonly table: Readonly<Record<string, unknown>>;
  readonly origin: Origin;
  /** The 1-based line of its `[resources.STAGE]` header, for `--explain`. */
  readonly line?: number;
}

/** Every config file merged with the built-in default. Maps are sorted by key. */
export interface MergedConfig {
  readonly executors: ReadonlyMap<string, ConfigExecutor>;
  /** Stage name → executor. */
  readonly stageMap: ReadonlyMap<string, ConfigMapping>;
  /** Label → executor. */
  readonly labelMap: ReadonlyMap<string, ConfigMapping>;
  readonly containers: ContainersConfig;
  readonly conda: CondaConfig;
  /** Stage name → its resources. */
  readonly resources: ReadonlyMap<string, ConfigResources>;
  /** The config files read, highest precedence first, as shown in diagnostics. */
  readonly files: readonly string[];
}

/** A level of the search path, highest precedence first. */
export type ConfigLevel = "--config" | "$WFC_CONFIG" | "current directory" | "user" | "site";

/** One place a config file may be. */
export interface ConfigLocation {
  readonly level: ConfigLevel;
  /** The path as shown to the user: as given for `--config` and `$WFC_CONFIG`, else `./wfc.config.toml` or absolute. */
  readonly path: string;
  /** The absolute path that is read. */
  readonly absolute: string;
  /** Whether a missing file is an error (`--config`, `$WFC_CONFIG`) rather than a level that is skipped. */
  readonly required: boolean;
}

/**
 * What became of a location: read; not there; there but unreadable or
 * unparsable (see the diagnostics); or the same file as a
 * higher-precedence location, so not read twice.
 */
export type LocationStatus = "loaded" | "missing" | "error" | "duplicate";

export interface SearchedLocation extends ConfigLocation {
  readonly status: LocationStatus;
}

/** The machine and environment config loading depends on: parameters, so tests never see the real home or /etc. */
export interface ConfigEnvironment {
  /** `--config FILE`, relative to `cwd`; given more than once, the first wins. */
  readonly explicit?: string | readonly string[] | undefined;
  /** Environment variables: `WFC_CONFIG`, `XDG_CONFIG_HOME`, `XDG_CONFIG_DIRS`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The current directory (for `./wfc.config.toml` and relative paths). */
  readonly cwd: string;
  /** The user's home directory (for the default `$XDG_CONFIG_HOME`). */
  readonly home: string;
}

export interface LoadConfigResult {
  /** Present when no config file has errors (warnings allowed). */
  readonly config?: MergedConfig;
  /** Every problem in every config file, sorted. */
  readonly diagnostics: readonly Diagnostic[];
  /** The parsed config files (for printing source lines and locating origins). */
  readonly documents: readonly ParsedDocument[];
  /** Every location searched, highest precedence first, and what was found there. */
  readonly searched: readonly SearchedLocation[];
}
