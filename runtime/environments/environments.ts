/**
 * A run's software environments on this machine (issue 15): how a step's
 * command enters its container, modules or conda environment
 * (contract/environment.ts builds the command line), the checks made once
 * per environment before the first job that needs it starts (checks.ts),
 * the image digests the journal keeps, and the containers to remove when a
 * job is stopped.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import type { Command } from "../executors/job.js";
import { SHELL_ARGV } from "../executors/job.js";
import { simpleCommandArgv } from "../executors/simple-command.js";
import type { StepCommand } from "../jobs/expand.js";
import type { JournalRecord } from "../state/journal.js";
import {
  DEFAULT_CONDA_FRONTEND,
  DEFAULT_ENGINE,
  condaFilePrefix,
  containerCommand,
  containerRemoveArgv,
  hostArgv,
  type ContainerUser,
  type InnerCommand,
} from "../../contract/environment.js";
import type { CondaFrontend, ContainerEngine, Plan, PlanEnvironment, PlanTask } from "../../contract/plan.js";
import { checkEnvironment, imageDigest, onPath, removeContainer, type Check } from "./checks.js";

/** A step's environment in words, as the journal keeps it (`environment changed` compares them). */
export function environmentText(env: PlanEnvironment | undefined): string | undefined {
  if (env === undefined) return undefined;
  const conda = env.conda;
  return JSON.stringify({
    container: env.container,
    modules: env.modules,
    conda: conda === undefined ? undefined : conda.kind === "file" ? { file: conda.sha256 } : conda,
  });
}

/** A command wrapped for its environment, and the container to remove if it is stopped. */
export interface Wrapped {
  readonly command: Command;
  readonly container?: { readonly engine: ContainerEngine; readonly name: string };
}

export class RunEnvironments {
  readonly #plan: Plan;
  readonly #workdir: string;
  readonly #stateDir: string;
  /** Each environment's check, and the job (`task#job`) that made it. */
  readonly #checks = new Map<string, { readonly check: Promise<Check>; readonly owner: string }>();
  readonly #digests = new Map<string, string | undefined>();
  /** The lookups under way or done, one per engine and image: jobs that start together ask once. */
  readonly #lookups = new Map<string, Promise<void>>();
  /** Container names: unique to this run (`wfc-<run>-<n>`), so `rm -f` removes only this run's. */
  readonly #run = `${process.pid.toString(36)}${randomBytes(3).toString("hex")}`;
  #next = 0;
  readonly #user: ContainerUser;

  constructor(plan: Plan, workdir: string, stateDir: string) {
    this.#plan = plan;
    this.#workdir = resolve(workdir);
    this.#stateDir = resolve(stateDir);
    const uid = process.getuid?.() ?? 0;
    this.#user = { kind: "ids", uid, gid: process.getgid?.() ?? 0 };
    this.#rootless = uid !== 0;
  }

  /**
   * podman run by a user is rootless: its uid 0 inside is the user outside,
   * and `--userns=keep-id` makes the user's own uid the one inside too. Root's
   * podman and docker map ids 1:1, so `--user UID:GID` is the user.
   */
  readonly #rootless: boolean;

  /** The workflow's folder and the state folder, absolute (a SLURM job's step script needs them: job-script.ts). */
  get workdir(): string {
    return this.#workdir;
  }

  get stateDir(): string {
    return this.#stateDir;
  }

  /**
   * Whether this machine can check a step's environment: it has the engine,
   * the \`module\` command and the conda frontend the step needs. A SLURM
   * job's may not be here (a login node without them): its job checks on its node.
   */
  checkableHere(c: StepCommand, executor: string): boolean {
    const env = c.environment!;
    if (env.container !== undefined && !onPath(this.engine(executor).engine)) return false;
    if ((env.modules ?? []).length > 0 && !existsSync(join(process.env.MODULESHOME ?? "/usr/share/modules", "init", "bash"))) return false;
    if (env.conda !== undefined) {
      const frontend = this.frontend(executor);
      if (!onPath(frontend) || (frontend === "mamba" && !onPath("conda"))) return false;
    }
    return true;
  }

  /** The engine and options of an executor's containers. */
  engine(executor: string): { readonly engine: ContainerEngine; readonly options: readonly string[] } {
    const e = this.#plan.executors[executor];
    return e?.engines?.container ?? { engine: e?.type === "slurm" ? DEFAULT_ENGINE.slurm : DEFAULT_ENGINE.local, options: [] };
  }

  frontend(executor: string): CondaFrontend {
    return this.#plan.executors[executor]?.engines?.conda?.frontend ?? DEFAULT_CONDA_FRONTEND;
  }

  /**
   * Checks a step's environment, once per run (engine and image, module
   * list, conda environment): every job of that environment waits for the
   * same check. `first` says whether job `owner` made it (its retries too).
   */
  async check(c: StepCommand, executor: string, owner: string): Promise<{ readonly check: Check; readonly first: boolean }> {
    const env = c.environment!;
    const engine = env.container !== undefined ? this.engine(executor).engine : undefined;
    const frontend = env.conda !== undefined ? this.frontend(executor) : undefined;
    const key = JSON.stringify([engine, frontend, environmentText(env)]);
    const known = this.#checks.get(key);
    if (known !== undefined) return { check: await known.check, first: known.owner === owner };
    const made = checkEnvironment(c.stage, env, { engine, frontend, workdir: this.#workdir, stateDir: this.#stateDir }).then((check) => {
      if (check.ok && engine !== undefined && env.container !== undefined) this.#digests.set(`${engine} ${env.container}`, check.digest);
      return check;
    });
    this.#checks.set(key, { check: made, owner });
    return { check: await made, first: true };
  }

  /**
   * Looks up the digests of the images a task's steps use, once per run,
   * so `digestNow` can answer (an absent image has none: compared by reference).
   */
  async lookUpDigests(task: PlanTask): Promise<void> {
    const { engine } = this.engine(task.executor);
    for (const step of task.steps) {
      const image = step.environment?.container;
      if (image === undefined) continue;
      const key = `${engine} ${image}`;
      let lookup = this.#lookups.get(key);
      if (lookup === undefined) {
        lookup = imageDigest(engine, image, this.#workdir).then((digest) => {
          // A check that ran meanwhile (and maybe pulled the image) knows better.
          if (!this.#digests.has(key)) this.#digests.set(key, digest);
        });
        this.#lookups.set(key, lookup);
      }
      await lookup;
    }
  }

  /** The image digest of a task's step now, when known (after lookUpDigests or its check). */
  digestNow(task: PlanTask, stage: string): string | undefined {
    const image = task.steps.find((s) => s.stage === stage)?.environment?.container;
    return image === undefined ? undefined : this.#digests.get(`${this.engine(task.executor).engine} ${image}`);
  }

  /** What the journal keeps of a task's step's environment: its spec and its image digest. */
  record(task: PlanTask, stage: string): Pick<JournalRecord, "environment" | "digest"> {
    const text = environmentText(task.steps.find((s) => s.stage === stage)?.environment);
    if (text === undefined) return {};
    const digest = this.digestNow(task, stage);
    return digest === undefined ? { environment: text } : { environment: text, digest };
  }

  /** The command that runs a step in its environment (the runner's Command: an argv, its variables). */
  wrap(c: StepCommand, executor: string, cwd: string): Wrapped {
    const env = c.environment!;
    const inner: InnerCommand =
      c.kind === "argv" ? { kind: "argv", argv: c.argv! } : { kind: "shell", shell: c.shell ?? "sh", command: c.command! };
    const conda = env.conda !== undefined ? { frontend: this.frontend(executor), ...this.#filePrefix(env) } : undefined;
    const host = hostArgv(env, inner, conda);
    if (env.container === undefined) return { command: { kind: "argv", argv: host!, env: c.env } };
    const { engine, options } = this.engine(executor);
    const name = `wfc-${this.#run}-${this.#next++}`;
    const argv =
      host ?? (inner.kind === "argv" ? [...inner.argv] : (simpleCommandArgv(inner.command) ?? [...SHELL_ARGV[inner.shell], inner.command]));
    const readOnly = [...c.inputs, ...c.logs]
      .flatMap((i) => i.paths)
      .map((p) => resolve(this.#workdir, p))
      .filter((p) => {
        const r = relative(this.#workdir, p);
        return r === ".." || r.startsWith("../") || isAbsolute(r);
      });
    const user: ContainerUser = engine === "podman" && this.#rootless ? { kind: "keep-id" } : this.#user;
    const wrapped = containerCommand(
      { engine, options, image: env.container, workdir: this.#workdir, cwd: resolve(cwd), readOnly, env: c.env, name, user },
      argv,
    );
    return { command: { kind: "argv", argv: wrapped.argv, env: wrapped.env }, container: { engine, name } };
  }

  /** Removes containers of jobs that were stopped (their engine's client may be gone before them). */
  async remove(containers: readonly { readonly engine: ContainerEngine; readonly name: string }[]): Promise<void> {
    await Promise.all(
      containers.map((c) => {
        const argv = containerRemoveArgv(c.engine, c.name);
        return argv === undefined ? undefined : removeContainer(argv);
      }),
    );
  }

  #filePrefix(env: PlanEnvironment): { filePrefix?: string } {
    return env.conda?.kind === "file" ? { filePrefix: condaFilePrefix(this.#stateDir, env.conda.sha256) } : {};
  }
}
