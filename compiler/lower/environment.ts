import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { PlanConda } from "../../contract/plan.js";
import type { DataPath } from "../source/document.js";
import type { StageEnvironment } from "./ast.js";
import { readPlainFile } from "./sheet-file.js";
import type { DiagnosticSink } from "./sink.js";

/**
 * A stage's software environment (`container`, `modules`, `conda`), from the
 * stage or else `defaults`. The rules (docs/environments.md): a container
 * holds its own software, so modules (loaded on the host) and a conda
 * environment cannot join it; `fn` stages run in wfc's own Node worker, so
 * they take none, and `defaults` apply to `run` stages only; a conda file is
 * read now, its SHA-256 pinning what the plan means.
 */

type Obj = Readonly<Record<string, unknown>>;

export const ENVIRONMENT_KEYS = ["container", "modules", "conda"] as const;

/** One key's value and where it was written; `false` for `container: false`. */
interface Written<T> {
  readonly value: T;
  readonly path: DataPath;
}

/** `defaults`' environment, read once for the whole workflow (so a bad conda file there is reported once). */
export interface DefaultEnvironment {
  readonly container?: Written<string | false>;
  readonly modules?: Written<readonly string[]>;
  /** `value` undefined: a conda file that cannot be read (reported); the key still counts for the combination rules. */
  readonly conda?: Written<PlanConda | undefined>;
}

/**
 * Reads `defaults`' environment keys, reporting into the workflow's sink
 * what is wrong with `defaults` itself: both a container and modules or
 * conda (every `run` stage would inherit the conflict), a conda file that
 * cannot be read.
 */
export async function lowerDefaultEnvironment(defaults: Obj, dir: string, sink: DiagnosticSink): Promise<DefaultEnvironment> {
  const env = await readKeys(defaults, ["defaults"], dir, sink);
  const container = env.container?.value;
  if (typeof container === "string") {
    for (const other of ["modules", "conda"] as const) {
      if (env[other] === undefined) continue;
      conflict(
        sink,
        other,
        ["defaults", other],
        `\`defaults\` sets both \`container\` and \`${other}\``,
        [{ path: ["defaults", "container"], message: "the container is set here", part: "key" }],
        "move one of them from `defaults` to the stages that use it",
      );
    }
  }
  return env;
}

/**
 * The environment of one stage, or undefined for none. Reports into the
 * stage's sink: an environment key on an `fn` stage, a container with
 * modules or conda where one of them is the stage's own, the stage's
 * unreadable conda file.
 */
export async function lowerStageEnvironment(
  name: string,
  raw: Obj,
  isFn: boolean,
  defaults: DefaultEnvironment,
  dir: string,
  sink: DiagnosticSink,
): Promise<StageEnvironment | undefined> {
  const path: DataPath = ["stages", name];
  if (isFn) {
    for (const key of ENVIRONMENT_KEYS) {
      if (!(key in raw) || (key === "container" && raw[key] === false)) continue;
      sink.error("WFC292", `stage \`${name}\` runs a JavaScript function (\`fn\`), which cannot have \`${key}\``, [...path, key], {
        part: "key",
        help: `\`fn\` stages run in wfc's own Node worker; make it a \`run\` stage that calls node or python ${key === "modules" ? "after the modules load" : key === "conda" ? "in the environment" : "in the container"}`,
      });
    }
    return undefined;
  }
  const own = await readKeys(raw, path, dir, sink);
  const container = own.container ?? defaults.container;
  const modules = own.modules ?? defaults.modules;
  const conda = own.conda ?? defaults.conda;
  const image = typeof container?.value === "string" ? (container as Written<string>) : undefined;
  if (image !== undefined) {
    for (const [key, other] of [
      ["modules", modules],
      ["conda", conda],
    ] as const) {
      if (other === undefined) continue;
      const ownContainer = own.container !== undefined;
      const ownOther = own[key] !== undefined;
      // Both from `defaults`: reported once there.
      if (!ownContainer && !ownOther) continue;
      const related = [
        ownContainer
          ? { path: image.path, message: "the container is set here", part: "key" as const }
          : { path: image.path, message: "the container comes from `defaults` here", part: "key" as const },
      ];
      if (!ownOther) related.push({ path: other.path, message: `\`${key}\` comes from \`defaults\` here`, part: "key" });
      const at = ownOther ? other.path : image.path;
      conflict(
        sink,
        key,
        at,
        `stage \`${name}\` has both \`container\` and \`${key}\``,
        ownOther ? related : related.slice(1),
        "set `container: false` on this stage",
      );
    }
    return { container: { image: image.value, path: image.path } };
  }
  const env: StageEnvironment = {
    ...(modules !== undefined ? { modules: { names: modules.value, path: modules.path } } : {}),
    ...(conda?.value !== undefined ? { conda: { conda: conda.value, path: conda.path } } : {}),
  };
  return env.modules === undefined && env.conda === undefined ? undefined : env;
}

function conflict(
  sink: DiagnosticSink,
  key: "modules" | "conda",
  at: DataPath,
  message: string,
  related: readonly { path: DataPath; message: string; part: "key" }[],
  orElse: string,
): void {
  sink.error(key === "modules" ? "WFC290" : "WFC291", message, at, {
    part: "key",
    expected: `either \`container\` or \`${key}\``,
    help:
      key === "modules"
        ? `modules load on the host and are not inside a container: build the tools into the image, or ${orElse}`
        : `a container does not see the host's conda environments: build the environment into the image, or ${orElse}`,
    related,
  });
}

/** The environment keys of one table (a stage or `defaults`) whose values have the right shape (the schema reported the rest). */
async function readKeys(table: Obj, at: DataPath, dir: string, sink: DiagnosticSink): Promise<DefaultEnvironment> {
  const container = table.container;
  const modules = table.modules;
  const conda = table.conda;
  const validContainer = container === false || (typeof container === "string" && /^[^\s{}]+$/.test(container));
  const validModules =
    Array.isArray(modules) &&
    modules.length > 0 &&
    modules.every((m) => typeof m === "string" && /^\S+$/.test(m)) &&
    new Set(modules).size === modules.length;
  const validConda = typeof conda === "string" && conda !== "";
  const spec = validConda ? await condaSpec(conda, [...at, "conda"], dir, sink) : undefined;
  return {
    ...(validContainer ? { container: { value: container as string | false, path: [...at, "container"] } } : {}),
    ...(validModules ? { modules: { value: modules as string[], path: [...at, "modules"] } } : {}),
    ...(validConda ? { conda: { value: spec, path: [...at, "conda"] } } : {}),
  };
}

/** Which kind of conda environment a `conda` value names: a `.yaml`/`.yml` file, a prefix (a path), else a name. */
async function condaSpec(value: string, path: DataPath, dir: string, sink: DiagnosticSink): Promise<PlanConda | undefined> {
  if (!/\.ya?ml$/.test(value)) return value.includes("/") ? { kind: "prefix", path: value } : { kind: "name", name: value };
  const read = await readPlainFile(resolve(dir, value));
  if (read.kind === "bytes") return { kind: "file", path: value, sha256: createHash("sha256").update(read.bytes).digest("hex") };
  const why =
    read.kind === "unreadable"
      ? read.code === "ENOENT" || read.code === "ENOTDIR"
        ? "no such file"
        : read.code
      : read.kind === "too-large"
        ? `${read.bytes} bytes, more than a conda environment file can be`
        : `it is ${read.what}`;
  sink.error("WFC293", `cannot read conda environment file \`${value}\` (${why})`, path, {
    expected: "an environment file, relative to the workflow's folder",
    help:
      read.kind === "unreadable" && (read.code === "ENOENT" || read.code === "ENOTDIR")
        ? "check the path (it is relative to the workflow's folder); an existing environment is named by its prefix (a path with `/`) or its name"
        : "name a plain environment file (`conda env export > env.yaml` writes one)",
  });
  return undefined;
}
