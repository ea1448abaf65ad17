import { randomBytes } from "node:crypto";
import { access, link, mkdir, rename, unlink, writeFile } from "node:fs/promises";
import { availableParallelism, homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import type { LoadConfigResult } from "../../compiler/config/config.js";
import { defaultConfigText } from "../../compiler/config/default-file.js";
import { loadConfig } from "../../compiler/config/load.js";
import { PROJECT_CONFIG } from "../../compiler/config/locations.js";
import { configJson, renderConfigText } from "../../compiler/config/show.js";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { formatDiagnostic, formatSummary, lookupIn } from "../../compiler/diagnostics/format.js";
import { detail, errorLine, ExitCode, isQuiet, status, useColor, type Io } from "../io.js";

/** What config commands read from the machine beyond `Io`; a parameter so tests fake it. */
export interface ConfigHost {
  readonly home: string;
  readonly cpus: number;
}

export function configHost(io: Io): ConfigHost {
  return { home: io.env.HOME || homedir(), cpus: availableParallelism() };
}

/** `--verbose`: every place a config file was looked for, and what was there. */
export function tellConfigLocations(io: Io, result: LoadConfigResult): void {
  for (const l of result.searched) detail(io, `config (${l.level}): ${l.path}: ${l.status}`);
}

export interface ConfigShowOptions {
  readonly config?: string | readonly string[] | undefined;
  readonly format: "text" | "json";
}

/** `wfc config show`: the merged config and where each value came from; 2 when a config file is invalid. */
export async function configShowCommand(options: ConfigShowOptions, io: Io, host: ConfigHost = configHost(io)): Promise<number> {
  const result = await loadConfig({ explicit: options.config, env: io.env, cwd: io.cwd, home: host.home });
  tellConfigLocations(io, result);
  if (options.format === "json") {
    io.stdout.write(JSON.stringify(configJson(result), null, 2) + "\n");
    return result.config === undefined ? ExitCode.invalid : ExitCode.ok;
  }
  printDiagnostics(result, io);
  if (result.config === undefined) return ExitCode.invalid;
  io.stdout.write(renderConfigText(result.config, result, host.cpus));
  return ExitCode.ok;
}

function printDiagnostics(result: LoadConfigResult, io: Io): void {
  const shown = isQuiet(io) ? result.diagnostics.filter((d) => d.severity === "error") : result.diagnostics;
  if (shown.length === 0) return;
  const lookup = lookupIn(result.documents);
  const color = useColor(io.stderr, io.env);
  io.stderr.write(shown.map((d) => formatDiagnostic(d, lookup, { color }) + "\n").join("\n"));
  // Warnings alone need no summary: the config follows on stdout.
  if (!hasErrors(result.diagnostics)) return;
  const files = [...new Set(result.diagnostics.map((d) => d.location?.file).filter((f) => f !== undefined))];
  io.stderr.write("\n" + formatSummary(result.diagnostics, files.length === 1 ? files[0]! : "the config files") + "\n");
}

export interface ConfigInitOptions {
  /** Where to write; default `./wfc.config.toml`. Relative to the current directory. */
  readonly path?: string | undefined;
  readonly force: boolean;
}

/**
 * `wfc config init`: writes the built-in default as a commented file. Never
 * overwrites without `--force`, and never leaves a half-written file: the
 * text goes to a temporary file beside the target, which then replaces it
 * in one step.
 */
export async function configInitCommand(options: ConfigInitOptions, io: Io, host: ConfigHost = configHost(io)): Promise<number> {
  const shown = options.path ?? `./${PROJECT_CONFIG}`;
  const target = resolve(io.cwd, shown);
  const fail = (message: string) => {
    io.stderr.write(errorLine(`${message}`));
    return ExitCode.invalid;
  };
  try {
    await mkdir(dirname(target), { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(
      code === "EEXIST" || code === "ENOTDIR"
        ? `cannot write \`${shown}\`: \`${dirname(shown)}\` is not a directory`
        : `cannot create the directory of \`${shown}\` (${code ?? (error as Error).message})`,
    );
  }
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temp, defaultConfigText(host.cpus), { flag: "wx" });
    if (options.force) await rename(temp, target);
    else await linkNoClobber(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    return fail(
      code === "EEXIST"
        ? `\`${shown}\` already exists; pass --force to overwrite it`
        : code === "EISDIR"
          ? `\`${shown}\` is a directory`
          : `cannot write \`${shown}\` (${code ?? (error as Error).message})`,
    );
  }
  status(io, `wrote ${shown}\n`);
  return ExitCode.ok;
}

/**
 * Moves `temp` to `target` unless `target` exists, with no window in which
 * another writer's file could be replaced: `link` fails with EEXIST instead
 * of overwriting, which `rename` would do. On a file system without hard
 * links, falls back to checking first.
 */
export async function linkNoClobber(temp: string, target: string): Promise<void> {
  try {
    await link(temp, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw error;
    const exists = await access(target).then(
      () => true,
      () => false,
    );
    if (exists) throw Object.assign(new Error("exists"), { code: "EEXIST" });
    await rename(temp, target);
    return;
  }
  await unlink(temp);
}
