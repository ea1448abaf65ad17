/**
 * A step's software environment in a SLURM job (issue 15): the lines of its
 * step script (runtime/jobs/step-script.ts) that check the environment on
 * the node and run the command in it, for `wfc export slurm` and the
 * `slurm` executor of `wfc run` alike.
 *
 * The command line is contract/environment.ts's, as for a local job: the
 * same container run (with the slurm executor's engine and options), the
 * same modules and conda script. Every value is shell-quoted into the step
 * script, which travels in the element table (base64), never through the
 * array script. The checks run in the job, where the job runs: a missing
 * engine, image, module or conda environment ends it with one line
 * (ENVIRONMENT_LINE) in its log, which `wfc run` also makes the failure's reason.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import {
  DEFAULT_CONDA_FRONTEND,
  DEFAULT_ENGINE,
  EnvironmentError,
  MODULES_INIT,
  condaCreateArgv,
  condaFilePrefix,
  describeConda,
  containerCommand,
  containerRemoveArgv,
  hostArgv,
  hostScript,
  isImageFile,
  type ContainerUser,
  type InnerCommand,
} from "../../contract/environment.js";
import type { CondaFrontend, ContainerEngine, Plan, PlanEnvironment } from "../../contract/plan.js";
import { shellQuote } from "../../contract/shell/quote.js";
import { SHELL_ARGV } from "../executors/job.js";
import { simpleCommandArgv } from "../executors/simple-command.js";
import type { StepCommand } from "../jobs/expand.js";

/** Where a SLURM job's steps run, and with what: what a step script needs to enter an environment. */
export interface JobEnvironment {
  /** The workflow's folder, absolute: the job's working directory, bound at the same path in a container. */
  readonly workdir: string;
  /** wfc's state folder (`.wfc`, absolute): conda file environments are created under it. */
  readonly stateDir: string;
  readonly engine: { readonly engine: ContainerEngine; readonly options: readonly string[] };
  readonly frontend: CondaFrontend;
  /** Who runs the job: the user who submits it (files a container writes are theirs). */
  readonly uid: number;
  readonly gid: number;
}

/** The start of the line a failed environment check writes to the job's log (`wfc run` reports the rest). */
export const ENVIRONMENT_LINE = "wfc: environment: ";

/** A step's executor's engine and conda frontend, from the plan (the slurm executor's default engine: apptainer). */
export function jobEnvironment(plan: Plan, executor: string, workdir: string, stateDir: string): JobEnvironment {
  const e = plan.executors[executor];
  const engine = e?.engines?.container ?? { engine: e?.type === "slurm" ? DEFAULT_ENGINE.slurm : DEFAULT_ENGINE.local, options: [] };
  const frontend = e?.engines?.conda?.frontend ?? DEFAULT_CONDA_FRONTEND;
  return {
    workdir: resolve(workdir),
    stateDir: resolve(stateDir),
    engine,
    frontend,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
  };
}

/**
 * The lines that check step `c`'s environment on the node and run its
 * command in it (the step's `k`-th script in its job: its container's
 * name). The step's variables are already exported by then.
 */
export function environmentLines(c: StepCommand, where: JobEnvironment, k: number): string[] {
  try {
    return scriptLines(c, where, k);
  } catch (error) {
    // Which stage's value it was: the export refuses, `wfc run` fails the job, with this.
    if (error instanceof EnvironmentError) throw new EnvironmentError(`stage \`${c.stage}\`: ${error.message}`);
    throw error;
  }
}

function scriptLines(c: StepCommand, where: JobEnvironment, k: number): string[] {
  const env = c.environment!;
  const inner: InnerCommand =
    c.kind === "argv" ? { kind: "argv", argv: c.argv! } : { kind: "shell", shell: c.shell ?? "sh", command: c.command! };
  const fail = failure(c.stage);
  // Its messages quote `code` and $NAMES in single quotes on purpose.
  const lines: string[] = ["# shellcheck disable=SC2016"];
  // The job must run where the command line binds: an export moved without the workflow's folder would bind another.
  lines.push(
    `if ! [ . -ef ${shellQuote(where.workdir)} ]; then`,
    `  ${fail(shellQuote(`the job's command binds the workflow's folder ${where.workdir}, but runs in `), `"$PWD"${shellQuote(": export the workflow again from where it is now")}`)}`,
    "fi",
  );
  let filePrefix: string | undefined;
  if (env.modules !== undefined && env.modules.length > 0) lines.push(...moduleChecks(env.modules, fail));
  if (env.conda !== undefined) {
    if (env.conda.kind === "file") filePrefix = condaFilePrefix(where.stateDir, env.conda.sha256);
    lines.push(...condaChecks(env, where, filePrefix, fail));
  }
  const conda = env.conda !== undefined ? { frontend: where.frontend, ...(filePrefix !== undefined ? { filePrefix } : {}) } : undefined;
  const host = hostArgv(env, inner, conda);
  if (env.container === undefined) {
    lines.push(`exec ${host!.map(shellQuote).join(" ")}`);
    return lines;
  }
  const { engine, options } = where.engine;
  lines.push(...imageChecks(engine, env.container, fail));
  const argv =
    host ?? (inner.kind === "argv" ? [...inner.argv] : (simpleCommandArgv(inner.command) ?? [...SHELL_ARGV[inner.shell], inner.command]));
  const readOnly = [...c.inputs, ...c.logs]
    .flatMap((i) => i.paths)
    .map((p) => resolve(where.workdir, p))
    .filter((p) => {
      const r = relative(where.workdir, p);
      return r === ".." || r.startsWith("../") || isAbsolute(r);
    });
  const user: ContainerUser =
    engine === "podman" && where.uid !== 0 ? { kind: "keep-id" } : { kind: "ids", uid: where.uid, gid: where.gid };
  const name = "wfc-name";
  const run = containerCommand(
    { engine, options, image: env.container, workdir: where.workdir, cwd: where.workdir, readOnly, env: c.env, name, user },
    argv,
  );
  for (const [k2, v] of Object.entries(run.env)) lines.push(`export ${k2}=${shellQuote(v)}`);
  // The container's name is the array element's: unique on the cluster, and removable by this script.
  const at = run.argv.indexOf("--name") + 1;
  const words = run.argv.map((w, i) => (at > 0 && i === at ? '"$container"' : shellQuote(w)));
  const remove = containerRemoveArgv(engine, name);
  if (remove === undefined) {
    // apptainer/singularity run the job as their own child: SLURM's signal ends both.
    lines.push(`exec ${words.join(" ")}`);
    return lines;
  }
  const removeWords = remove.map((w) => (w === name ? '"$container"' : shellQuote(w)));
  lines.push(
    `container="wfc-\${SLURM_ARRAY_JOB_ID:-\${SLURM_JOB_ID:-$$}}-\${SLURM_ARRAY_TASK_ID:-0}-${k}"`,
    // scancel or the time limit TERMs the job's processes: the engine's client may go before its container does.
    `trap '${removeWords.join(" ").replace(/'/g, `'\\''`)} >/dev/null 2>&1; exit 143' TERM INT`,
    `${words.join(" ")} &`,
    "wait $!",
  );
  return lines;
}

/** The one line a step's failed environment check wrote at the end of the job's log (without ENVIRONMENT_LINE), if it did. */
export function environmentLine(log: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(log, "utf8");
  } catch {
    return undefined;
  }
  const last = text.trimEnd().split("\n").at(-1) ?? "";
  return last.startsWith(ENVIRONMENT_LINE) ? last.slice(ENVIRONMENT_LINE.length) : undefined;
}

type Fail = (what: string, rest?: string) => string;

/**
 * A command that writes the one line (ENVIRONMENT_LINE, the stage, what is
 * wrong, the fix) to the job's log and ends the step. `what` and `rest` are
 * shell words (quoted text and `"$var"`s), joined without a space.
 */
function failure(stage: string): Fail {
  return (what, rest = "") => `{ printf '%s\\n' ${shellQuote(`${ENVIRONMENT_LINE}stage \`${stage}\`: `)}${what}${rest} >&2; exit 1; }`;
}

const HOST = '"${HOSTNAME:-this node}"';

function imageChecks(engine: ContainerEngine, image: string, fail: Fail): string[] {
  const q = shellQuote(image);
  const absent = (e: string) =>
    fail(
      shellQuote(`${e} is not installed on `),
      `${HOST}${shellQuote(` (not on PATH): install it there, or choose another engine (\`container_engine\` on the executor, or [containers] engine in the config)`)}`,
    );
  const lines = [`if ! command -v ${engine} >/dev/null 2>&1; then`, `  ${absent(engine)}`, "fi"];
  switch (engine) {
    case "podman":
    case "docker":
      // As before a local job: an image not here is pulled once; failing that, the cause.
      lines.push(
        `if ! ${engine} image inspect ${q} >/dev/null 2>&1 && ! pulled=$(${engine} pull ${q} 2>&1 >/dev/null); then`,
        `  ${fail(shellQuote(`${engine} has no image ${image} on `), `${HOST}' and could not pull it ('"$(printf '%s' "$pulled" | tail -n 1)"${shellQuote(`): build or pull it there first (${engine} pull ${image}), or name another image`)}`)}`,
        "fi",
      );
      break;
    case "apptainer":
    case "singularity":
      // A registry reference is the engine's to fetch (into its cache) when the job runs.
      if (isImageFile(image))
        lines.push(
          `if ! [ -f ${q} ]; then`,
          `  ${fail(shellQuote(`${engine} image file ${image} does not exist on `), `${HOST}${shellQuote(`: build it (${engine} build ${image} docker://…) or map the image to this site's copy ([containers.images] in the config)`)}`)}`,
          "fi",
        );
      break;
  }
  return lines;
}

function moduleChecks(modules: readonly string[], fail: Fail): string[] {
  return [
    "# shellcheck source=/dev/null",
    `${MODULES_INIT.replace(/; fi$/, " >/dev/null 2>&1; fi")}`,
    "if ! command -v module >/dev/null 2>&1; then",
    `  ${fail(shellQuote("environment modules are not installed on "), `${HOST}${shellQuote(" (no `module` command, no $MODULESHOME/init/bash): install them (apt-get install environment-modules) or load the tools another way")}`)}`,
    "fi",
    `modules=(${modules.map(shellQuote).join(" ")})`,
    'for module in "${modules[@]}"; do',
    '  if ! module is-avail "$module" >/dev/null 2>&1; then',
    `    ${fail(`'module "'"$module"'" is not available on '`, `${HOST}${shellQuote(" (module is-avail): see `module avail`, or add its folder to MODULEPATH (`module use DIR`)")}`)}`,
    "  fi",
    "done",
  ];
}

function condaChecks(env: PlanEnvironment, where: JobEnvironment, filePrefix: string | undefined, fail: Fail): string[] {
  const conda = env.conda!;
  const frontend = where.frontend;
  const needed = frontend === "micromamba" ? ["micromamba"] : frontend === "mamba" ? ["mamba", "conda"] : ["conda"];
  const lines: string[] = [];
  for (const p of needed)
    lines.push(
      `if ! command -v ${p} >/dev/null 2>&1; then`,
      `  ${fail(shellQuote(`conda: ${p} is not installed on `), `${HOST}${shellQuote(" (not on PATH): install it (Miniforge gives conda and mamba), or choose another frontend ([conda] frontend in the config)")}`)}`,
      "fi",
    );
  if (conda.kind === "file" && filePrefix !== undefined) {
    // Created once per content, by the first job that finds it missing (the others wait on the lock); complete only with its marker.
    const file = resolve(where.workdir, conda.path);
    const prefix = shellQuote(filePrefix);
    const create = condaCreateArgv(frontend, filePrefix, file).map(shellQuote).join(" ");
    lines.push(
      `if ! [ "$(sha256sum < ${shellQuote(file)} 2>/dev/null)" = ${shellQuote(`${conda.sha256}  -`)} ]; then`,
      `  ${fail(shellQuote(`conda environment file ${conda.path} is missing or changed since the plan was compiled: recompile the workflow (wfc compile)`))}`,
      "fi",
      `if ! [ -e ${shellQuote(`${filePrefix}.complete`)} ] || ! [ -e ${prefix} ]; then`,
      `  mkdir -p -- ${shellQuote(dirname(filePrefix))} || exit 1`,
      `  exec 9>>${shellQuote(`${filePrefix}.lock`)} && flock 9 || exit 1`,
      `  if ! [ -e ${shellQuote(`${filePrefix}.complete`)} ] || ! [ -e ${prefix} ]; then`,
      `    rm -rf -- ${prefix}`,
      `    if ! made=$(${create} 2>&1 >/dev/null); then`,
      `      rm -rf -- ${prefix}`,
      `      ${fail(shellQuote(`${frontend} could not create the conda environment from ${conda.path} (`), `"$(printf '%s' "$made" | tail -n 1)"${shellQuote("): fix the file, or create the environment yourself and name its prefix")}`)}`,
      "    fi",
      `    printf '%s\\n' ${shellQuote(file)} > ${shellQuote(`${filePrefix}.complete`)}`,
      "  fi",
      "  exec 9>&-",
      "fi",
    );
  }
  // The environment activates here, or the one line says why (the activation's own error last).
  const activate = hostScript(
    { conda },
    { kind: "argv", argv: ["true"] },
    { frontend, ...(filePrefix !== undefined ? { filePrefix } : {}) },
  )!;
  const which = describeConda(conda);
  lines.push(
    `if ! said=$(bash -euo pipefail -c ${shellQuote(activate)} 2>&1 >/dev/null); then`,
    `  ${fail(shellQuote(`${frontend} cannot activate the conda ${which} on `), `${HOST}' ('"$(printf '%s' "$said" | tail -n 1)"${shellQuote("): create it there, or give an environment file (conda: env.yaml)")}`)}`,
    "fi",
  );
  return lines;
}
