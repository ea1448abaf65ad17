/**
 * The checks made once per software environment per run, before the first
 * job that needs it starts (issue 15): the engine is installed and has the
 * image (podman/docker pull it once when absent), the modules are
 * available, the conda environment exists (a file environment is created
 * here). A failure is one line naming the stage, the engine (or module,
 * conda), what is missing and the fix.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, createReadStream, existsSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import {
  EnvironmentError,
  MODULES_INIT,
  condaCreateArgv,
  condaFilePrefix,
  describeConda,
  containerRemoveArgv,
  hostArgv,
  isImageFile,
} from "../../contract/environment.js";
import type { CondaFrontend, ContainerEngine, PlanEnvironment } from "../../contract/plan.js";

/** How a check ended: the image's digest when the engine can tell, or the one line that says what is wrong. */
export type Check = { readonly ok: true; readonly digest?: string } | { readonly ok: false; readonly reason: string };

export interface CheckContext {
  /** The engine of the step's executor, when it has a container. */
  readonly engine: ContainerEngine | undefined;
  readonly frontend: CondaFrontend | undefined;
  readonly workdir: string;
  readonly stateDir: string;
}

export async function checkEnvironment(stage: string, env: PlanEnvironment, ctx: CheckContext): Promise<Check> {
  const fail = (reason: string): Check => ({ ok: false, reason: `stage \`${stage}\`: ${reason}` });
  try {
    let digest: string | undefined;
    if (env.container !== undefined) {
      const image = await checkImage(ctx.engine!, env.container, ctx.workdir);
      if (typeof image === "object") return fail(image.problem);
      digest = image;
    }
    if (env.modules !== undefined && env.modules.length > 0) {
      const problem = await checkModules(env.modules, ctx.workdir);
      if (problem !== undefined) return fail(problem);
    }
    if (env.conda !== undefined) {
      const problem = await checkConda(env, ctx.frontend!, ctx);
      if (problem !== undefined) return fail(problem);
    }
    return digest === undefined ? { ok: true } : { ok: true, digest };
  } catch (error) {
    if (error instanceof EnvironmentError) return fail(error.message);
    throw error;
  }
}

/** The image's digest (podman/docker: its Id; apptainer: the SHA-256 of its file) when it is here now; undefined otherwise. */
export async function imageDigest(engine: ContainerEngine, image: string, workdir: string): Promise<string | undefined> {
  switch (engine) {
    case "podman":
    case "docker": {
      if (!onPath(engine)) return undefined;
      const r = await exec([engine, "image", "inspect", "--format", "{{.Id}}", image], workdir);
      const id = r.stdout.trim();
      return r.code === 0 && id !== "" ? (id.startsWith("sha256:") ? id : `sha256:${id}`) : undefined;
    }
    case "apptainer":
    case "singularity": {
      const file = resolve(workdir, image);
      return isImageFile(image) && isFile(file) ? `sha256:${await fileSha256(file)}` : undefined;
    }
  }
}

/** The engine is installed and has the image (pulled once if not); its digest, or what is missing. */
async function checkImage(engine: ContainerEngine, image: string, workdir: string): Promise<string | undefined | { problem: string }> {
  if (!onPath(engine)) {
    const how =
      engine === "podman" || engine === "docker"
        ? `install it (apt-get install ${engine === "docker" ? "docker.io" : "podman"})`
        : "install it";
    return {
      problem: `${engine} is not installed (not on PATH): ${how}, or choose another engine (\`container_engine\` on the executor, or [containers] engine in the config)`,
    };
  }
  switch (engine) {
    case "podman":
    case "docker": {
      const here = await imageDigest(engine, image, workdir);
      if (here !== undefined) return here;
      const pull = await exec([engine, "pull", image], workdir, PULL_TIMEOUT_MS);
      const pulled = pull.code === 0 ? await imageDigest(engine, image, workdir) : undefined;
      if (pulled !== undefined) return pulled;
      return {
        problem: `${engine} has no image ${image} and could not pull it (${lastLine(pull.stderr) || `exit ${pull.code}`}): build or pull it first (${engine} pull ${image}), or name another image`,
      };
    }
    case "apptainer":
    case "singularity": {
      // A registry reference is the engine's to fetch (into its cache) when the job runs.
      if (!isImageFile(image)) return undefined;
      const file = resolve(workdir, image);
      if (!isFile(file))
        return {
          problem: `${engine} image file ${image} does not exist: build it (${engine} build ${image} docker://…) or map the image to this site's copy ([containers.images] in the config)`,
        };
      return `sha256:${await fileSha256(file)}`;
    }
  }
}

/** Each module is available (`module is-avail`), in the environment the jobs get. */
async function checkModules(modules: readonly string[], workdir: string): Promise<string | undefined> {
  // The names travel as bash's positional parameters, never inside the script.
  const script = `${MODULES_INIT} 2>/dev/null\ncommand -v module >/dev/null 2>&1 || exit 3\nfor m; do module is-avail "$m" >/dev/null 2>&1 || printf '%s\\0' "$m"; done`;
  const r = await exec(["bash", "-c", script, "bash", ...modules], workdir);
  if (r.code === 3 || r.code === 127 || (r.code !== 0 && r.stdout === ""))
    return "environment modules are not installed (no `module` command, no $MODULESHOME/init/bash): install them (apt-get install environment-modules) or load the tools another way";
  const missing = r.stdout.split("\0").filter((m) => m !== "");
  if (missing.length === 0) return undefined;
  const names = missing.map((m) => JSON.stringify(m)).join(", ");
  return `module ${names} ${missing.length === 1 ? "is" : "are"} not available (module is-avail): see \`module avail\`, or add its folder to MODULEPATH (\`module use DIR\`)`;
}

/** The frontend is installed and the environment activates (a file environment is created first, once per content). */
async function checkConda(env: PlanEnvironment, frontend: CondaFrontend, ctx: CheckContext): Promise<string | undefined> {
  const conda = env.conda!;
  // conda and mamba activate through conda's shell function (contract/environment.ts).
  const needed = frontend === "micromamba" ? ["micromamba"] : frontend === "mamba" ? ["mamba", "conda"] : ["conda"];
  const absent = needed.find((p) => !onPath(p));
  if (absent !== undefined)
    return `conda: ${absent} is not installed (not on PATH): install it (Miniforge gives conda and mamba), or choose another frontend ([conda] frontend in the config)`;
  let filePrefix: string | undefined;
  if (conda.kind === "file") {
    // The environment is made once per content: a file edited since the plan was compiled would be made under the old one's name.
    const file = resolve(ctx.workdir, conda.path);
    if (!isFile(file)) return `conda environment file ${conda.path} does not exist: restore it, or recompile the workflow`;
    if ((await fileSha256(file)) !== conda.sha256)
      return `conda environment file ${conda.path} changed since the plan was compiled: recompile the workflow (wfc compile)`;
    filePrefix = condaFilePrefix(ctx.stateDir, conda.sha256);
    const problem = await createFileEnvironment(frontend, filePrefix, resolve(ctx.workdir, conda.path), ctx.workdir);
    if (problem !== undefined) return problem;
  }
  const activate = hostArgv(
    { conda },
    { kind: "argv", argv: ["true"] },
    { frontend, ...(filePrefix !== undefined ? { filePrefix } : {}) },
  )!;
  const r = await exec(activate, ctx.workdir);
  if (r.code === 0) return undefined;
  const which = describeConda(conda);
  const fix =
    conda.kind === "name"
      ? `create it (${frontend} create -n ${conda.name})`
      : conda.kind === "prefix"
        ? `create it (${frontend} create -p ${conda.path})`
        : "remove it under .wfc/conda/ and run again";
  return `${frontend} cannot activate the conda ${which} (${lastLine(r.stderr) || `exit ${r.code}`}): ${fix}, or give an environment file (conda: env.yaml)`;
}

/**
 * A file environment, created once: complete only when its marker is
 * written after the frontend succeeded. A prefix without a marker is an
 * earlier attempt of wfc's (it is under .wfc/conda/), removed and made again.
 */
async function createFileEnvironment(frontend: CondaFrontend, prefix: string, file: string, workdir: string): Promise<string | undefined> {
  const marker = `${prefix}.complete`;
  if (existsSync(marker) && existsSync(prefix)) return undefined;
  rmSync(prefix, { recursive: true, force: true });
  rmSync(marker, { force: true });
  mkdirSync(resolve(prefix, ".."), { recursive: true });
  const r = await exec(condaCreateArgv(frontend, prefix, file), workdir, CREATE_TIMEOUT_MS);
  if (r.code !== 0) {
    rmSync(prefix, { recursive: true, force: true });
    return `${frontend} could not create the conda environment from ${file} (${lastLine(r.stderr) || `exit ${r.code}`}): fix the file, or create the environment yourself and name its prefix`;
  }
  writeFileSync(marker, `${file}\n`);
  return undefined;
}

/** `ENGINE rm -f NAME`, whatever it says (the container may be gone already). */
export async function removeContainer(argv: readonly string[]): Promise<void> {
  await exec(argv, "/", REMOVE_TIMEOUT_MS);
}

/**
 * Removes containers a run that died left (runtime/state/running-jobs.ts),
 * by the names wfc gave them; returns how many were there. An engine that
 * is not installed any more has none to remove.
 */
export async function removeLeftoverContainers(containers: readonly { readonly engine: string; readonly name: string }[]): Promise<number> {
  let removed = 0;
  for (const { engine, name } of containers) {
    if ((engine !== "podman" && engine !== "docker") || !onPath(engine)) continue;
    const exists = await exec([engine, "container", "inspect", "--format", "{{.Id}}", name], "/", REMOVE_TIMEOUT_MS);
    if (exists.code !== 0) continue;
    await removeContainer(containerRemoveArgv(engine, name)!);
    removed++;
  }
  return removed;
}

/** Whether a program is on PATH (as the jobs' runner would find it). */
export function onPath(program: string): boolean {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      if (statSync(join(dir, program)).isFile()) return true;
    } catch {
      // Not in this folder.
    }
  }
  return false;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function fileSha256(path: string): Promise<string> {
  return new Promise((done, failed) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => done(hash.digest("hex")))
      .on("error", failed);
  });
}

interface Exec {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function exec(argv: readonly string[], cwd: string, timeout = CHECK_TIMEOUT_MS): Promise<Exec> {
  return new Promise((done) => {
    execFile(argv[0]!, argv.slice(1), { cwd, timeout, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      done({ code, stdout, stderr: stderr || (error !== null && typeof error.code !== "number" ? String(error.message) : "") });
    });
  });
}

/** The last non-empty line of a command's stderr: its error, for the one line. */
function lastLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .at(-1) ?? ""
  ).slice(0, 300);
}

const CHECK_TIMEOUT_MS = 60_000;
const PULL_TIMEOUT_MS = 600_000;
const CREATE_TIMEOUT_MS = 3_600_000;
const REMOVE_TIMEOUT_MS = 30_000;
