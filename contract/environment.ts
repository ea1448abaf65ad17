/**
 * How a step runs in its software environment (issue 15): the command line
 * that enters a container (podman, docker, apptainer, singularity), the bash
 * script that loads environment modules and activates a conda environment
 * first, and the command that creates a conda environment from its file.
 *
 * Pure: the runtime (`wfc run` on this machine) and the SLURM export build
 * their jobs with the same functions. Every value (an image, a path, a
 * module, a variable) is its own argv item or is shell-quoted
 * (shell/quote.ts); a value that no quoting can carry (a bind path with the
 * engine's own separator in it) is refused with an EnvironmentError.
 */
import type { CondaFrontend, ContainerEngine, PlanConda, PlanEnvironment } from "./plan.js";
import { shellQuote } from "./shell/quote.js";

/** A value the environment's command line cannot carry (say which and why); the job does not start. */
export class EnvironmentError extends Error {}

/** The engine when neither the executor nor the config names one. */
export const DEFAULT_ENGINE = { local: "podman", slurm: "apptainer" } as const satisfies Record<string, ContainerEngine>;

export const DEFAULT_CONDA_FRONTEND: CondaFrontend = "conda";

/** bash in strict mode, as a `shell: bash` step runs (runtime/executors/job.ts's SHELL_ARGV). */
const BASH = ["bash", "-euo", "pipefail", "-c"] as const;

/** What a step runs, before any environment: a shell string for bash or sh, or an argv. */
export type InnerCommand =
  | { readonly kind: "shell"; readonly shell: "bash" | "sh"; readonly command: string }
  | { readonly kind: "argv"; readonly argv: readonly string[] };

/**
 * The `module` command where it may not be defined yet (a non-interactive
 * bash reads no profile): Environment Modules' own init script.
 */
export const MODULES_INIT = `if ! command -v module >/dev/null 2>&1; then . "\${MODULESHOME:-/usr/share/modules}/init/bash"; fi`;

/**
 * The script that enters a host environment (modules, then conda) and runs
 * the command: modules load in their order, the conda environment is
 * activated, then the command runs as it would without them (a `shell:
 * bash` string in strict mode, a `shell: sh` one under /bin/sh, an argv as
 * its words). Strict mode's `-u` is off while they load: both init scripts
 * read variables that may be unset. `condaPrefix` is where a `file`
 * environment was created (see condaFilePrefix). Undefined when the step
 * has neither.
 */
export function hostScript(
  env: PlanEnvironment,
  command: InnerCommand,
  conda: { readonly frontend: CondaFrontend; readonly filePrefix?: string } = { frontend: DEFAULT_CONDA_FRONTEND },
): string | undefined {
  const modules = env.modules ?? [];
  if (modules.length === 0 && env.conda === undefined) return undefined;
  const lines = ["set +u"];
  if (modules.length > 0) {
    modules.forEach((m) => checkWord("module", m));
    lines.push(MODULES_INIT, `module load ${modules.map(shellQuote).join(" ")}`);
  }
  if (env.conda !== undefined) lines.push(...condaActivation(conda.frontend, env.conda, conda.filePrefix));
  lines.push("set -u");
  switch (command.kind) {
    case "shell":
      lines.push(command.shell === "bash" ? command.command : `exec /bin/sh -c ${shellQuote(command.command)}`);
      break;
    case "argv":
      lines.push(`exec ${command.argv.map(shellQuote).join(" ")}`);
      break;
  }
  return lines.join("\n");
}

/** The argv of a command in its host environment (modules, conda): bash in strict mode running `hostScript`; undefined without one. */
export function hostArgv(
  env: PlanEnvironment,
  command: InnerCommand,
  conda?: { readonly frontend: CondaFrontend; readonly filePrefix?: string },
): string[] | undefined {
  const script = hostScript(env, command, conda);
  return script === undefined ? undefined : [...BASH, script];
}

/** The lines that make conda's `activate` work in a non-interactive bash and activate the environment. */
export function condaActivation(frontend: CondaFrontend, conda: PlanConda, filePrefix?: string): string[] {
  const which = condaTarget(conda, filePrefix);
  switch (frontend) {
    case "conda":
    case "mamba":
      // mamba (1.x) activates through conda's own shell function.
      return ['eval "$(conda shell.bash hook)"', `conda activate ${shellQuote(which)}`];
    case "micromamba":
      return ['eval "$(micromamba shell hook --shell bash)"', `micromamba activate ${shellQuote(which)}`];
    default:
      return unknownFrontend(frontend);
  }
}

/** What `activate` gets: a prefix (a path) or a name; a file environment's prefix where wfc created it. */
export function condaTarget(conda: PlanConda, filePrefix?: string): string {
  switch (conda.kind) {
    case "prefix":
      return checkWord("conda prefix", conda.path);
    case "name":
      return checkWord("conda environment", conda.name);
    case "file":
      if (filePrefix === undefined)
        throw new EnvironmentError(`conda environment file ${JSON.stringify(conda.path)}: no prefix to create it in`);
      return checkWord("conda prefix", filePrefix);
  }
}

/** A conda environment as a failure line names it: `environment NAME`, `prefix PATH`, `environment from FILE`. */
export function describeConda(conda: PlanConda): string {
  switch (conda.kind) {
    case "name":
      return `environment ${conda.name}`;
    case "prefix":
      return `prefix ${conda.path}`;
    case "file":
      return `environment from ${conda.path}`;
  }
}

/** Where wfc creates a file environment: one prefix per file content, under the state folder. */
export function condaFilePrefix(stateDir: string, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new EnvironmentError(`conda environment file: ${JSON.stringify(sha256)} is not a SHA-256`);
  return `${stateDir.replace(/\/+$/, "")}/conda/${sha256.slice(0, 16)}`;
}

/** The argv that creates a file environment at `prefix` (wfc writes its marker after it exits 0). */
export function condaCreateArgv(frontend: CondaFrontend, prefix: string, file: string): string[] {
  checkWord("conda prefix", prefix);
  checkWord("conda environment file", file);
  switch (frontend) {
    case "conda":
    case "mamba":
      return [frontend, "env", "create", "-p", prefix, "-f", file];
    case "micromamba":
      return ["micromamba", "create", "-y", "-p", prefix, "-f", file];
    default:
      return unknownFrontend(frontend);
  }
}

/** Who the job runs as inside a podman/docker container. */
export type ContainerUser =
  /** `--user UID:GID`: docker, and podman run by root (the container's ids are the host's). */
  | { readonly kind: "ids"; readonly uid: number; readonly gid: number }
  /** `--userns=keep-id`: rootless podman, whose uid 0 inside is the user outside. */
  | { readonly kind: "keep-id" };

/** One step's container run: where, as whom, with what. */
export interface ContainerRun {
  readonly engine: ContainerEngine;
  /** The config's extra options for this engine, placed right before the image. */
  readonly options: readonly string[];
  readonly image: string;
  /** The workflow's folder: bound at the same path, read-write. */
  readonly workdir: string;
  /** The job's working directory (inside the workflow's folder). */
  readonly cwd: string;
  /** Absolute paths the job reads outside the workflow's folder: bound read-only at the same path. */
  readonly readOnly: readonly string[];
  /** The step's environment variables. */
  readonly env: Readonly<Record<string, string>>;
  /** podman/docker: the container's name, so wfc can remove it (`rm -f`) if the job is stopped. */
  readonly name: string;
  /** podman/docker: who runs the job (files it writes are owned by the user). */
  readonly user: ContainerUser;
}

/**
 * The command that runs `inner` in a container: its argv, and variables for
 * the engine's own process (apptainer/singularity take the step's variables
 * as `APPTAINERENV_K` / `SINGULARITYENV_K`: their `--env` splits its value
 * at commas, which a variable's value may contain).
 */
export interface ContainerCommand {
  readonly argv: string[];
  readonly env: Readonly<Record<string, string>>;
}

export function containerCommand(run: ContainerRun, inner: readonly string[]): ContainerCommand {
  checkWord("image", run.image);
  const env = Object.entries(run.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k] of env)
    if (!ENV_NAME.test(k)) throw new EnvironmentError(`environment variable name ${JSON.stringify(k)} cannot be passed into a container`);
  const readOnly = boundReadOnly(run.workdir, run.readOnly);
  switch (run.engine) {
    case "podman":
    case "docker": {
      const bind = (p: string, ro: boolean) => ["-v", `${bindPath(run.engine, p, ":")}:${p}${ro ? ":ro" : ""}`];
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(run.name))
        throw new EnvironmentError(`container name ${JSON.stringify(run.name)} is not valid`);
      const user =
        run.user.kind === "keep-id" && run.engine === "podman"
          ? ["--userns=keep-id"]
          : run.user.kind === "ids"
            ? ["--user", `${run.user.uid}:${run.user.gid}`]
            : [];
      const argv = [
        ...[run.engine, "run", "--rm", "--init", "--name", run.name, "--network=host"],
        ...user,
        ...bind(run.workdir, false),
        ...["-w", checkPath(run.cwd)],
        ...readOnly.flatMap((p) => bind(p, true)),
        ...env.flatMap(([k, v]) => ["-e", `${k}=${v}`]),
        ...run.options,
        run.image,
        ...inner,
      ];
      return { argv, env: {} };
    }
    case "apptainer":
    case "singularity": {
      const bind = (p: string, ro: boolean) => ["-B", `${bindPath(run.engine, p, ":,")}:${p}${ro ? ":ro" : ""}`];
      const prefix = run.engine === "apptainer" ? "APPTAINERENV_" : "SINGULARITYENV_";
      const argv = [
        ...[run.engine, "exec", "--pwd", checkPath(run.cwd)],
        ...bind(run.workdir, false),
        ...readOnly.flatMap((p) => bind(p, true)),
        ...run.options,
        apptainerImage(run.image),
        ...inner,
      ];
      return { argv, env: Object.fromEntries(env.map(([k, v]) => [`${prefix}${k}`, v])) };
    }
    default:
      throw new EnvironmentError(`unknown container engine ${JSON.stringify(run.engine)}`);
  }
}

/** Whether an image names a file (Apptainer's `.sif`): a path, not a registry reference. */
export function isImageFile(image: string): boolean {
  return /^(\/|\.\.?\/)/.test(image) || /\.(sif|simg|img)$/.test(image);
}

/** apptainer/singularity: a registry reference without a scheme (`docker.io/x:1`) is a `docker://` one. */
export function apptainerImage(image: string): string {
  return isImageFile(image) || /^[a-z][a-z0-9+.-]*:\/\//.test(image) ? image : `docker://${image}`;
}

/**
 * The command that stops a job's container for good (Ctrl-C, a timeout): the
 * engine's client may die before the container does. apptainer/singularity
 * run the job as the client's own child: killing its process group is enough.
 */
export function containerRemoveArgv(engine: ContainerEngine, name: string): string[] | undefined {
  switch (engine) {
    case "podman":
      return ["podman", "rm", "-f", "--time", "0", "--ignore", name];
    case "docker":
      return ["docker", "rm", "-f", name];
    case "apptainer":
    case "singularity":
      return undefined;
  }
}

/**
 * The folders and files outside the workflow's folder to bind read-only:
 * absolute, sorted, each once, none inside the workflow's folder or inside
 * another one bound.
 */
function boundReadOnly(workdir: string, paths: readonly string[]): string[] {
  const inside = (p: string, folder: string) => p === folder || p.startsWith(folder.endsWith("/") ? folder : `${folder}/`);
  const sorted = [...new Set(paths)].sort();
  const kept: string[] = [];
  for (const p of sorted) {
    checkPath(p);
    if (inside(p, workdir) || kept.some((k) => inside(p, k))) continue;
    kept.push(p);
  }
  return kept;
}

/** An absolute path without NUL. */
function checkPath(p: string): string {
  if (!p.startsWith("/")) throw new EnvironmentError(`path ${JSON.stringify(p)} is not absolute`);
  if (p.includes("\0")) throw new EnvironmentError(`path ${JSON.stringify(p)} contains a NUL character`);
  return p;
}

/** A path the engine's bind option can carry: its separators (`:`, and `,` for apptainer's -B) cannot be quoted there. */
function bindPath(engine: ContainerEngine, p: string, separators: string): string {
  checkPath(p);
  const bad = [...separators].find((c) => p.includes(c));
  if (bad !== undefined)
    throw new EnvironmentError(
      `${engine} cannot bind ${JSON.stringify(p)} into a container: its bind option splits paths at ${JSON.stringify(bad)}; move or rename it`,
    );
  return p;
}

/** A value passed as one word to a command (an image, a module, an environment): not empty, no NUL, not read as an option. */
function checkWord(what: string, value: string): string {
  if (value === "" || value.includes("\0") || value.startsWith("-"))
    throw new EnvironmentError(`${what} ${JSON.stringify(value)} is empty, contains a NUL character or starts with "-"`);
  return value;
}

function unknownFrontend(frontend: never): never {
  throw new EnvironmentError(`unknown conda frontend ${JSON.stringify(frontend)}`);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
