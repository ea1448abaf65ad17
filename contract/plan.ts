/**
 * plan.json: the one contract between compiler and runtime. Its shape is
 * schema/plan.schema.json; bump PLAN_VERSION on any incompatible change.
 * A fanned-out stage is one task with its index space, never one record per
 * job, so a plan grows with the number of stages, not jobs.
 */
export const PLAN_VERSION = 6;

/**
 * How the elements of a consumer depend on the elements of a producer,
 * derived symbolically from the two path templates (the project's own idea:
 * peers expand every job into a graph node; we unify two templates once).
 *
 * - `one-to-one`: element i waits for element i (the same index space).
 * - `all`: every element waits for every producer element (a barrier).
 * - `match`: element j waits for the producer elements whose variables
 *   `on[k][0]` equal j's variables `on[k][1]`, among those whose variables
 *   equal `where`, and only if j's variables equal `when`.
 * - `map`: an explicit index map (CSR: j's producers are
 *   `indices[offsets[j]..offsets[j+1])`), for templates that do not unify.
 */
export type ElementEdge =
  | { readonly kind: "one-to-one" }
  | { readonly kind: "all" }
  | {
      readonly kind: "match";
      readonly on: readonly (readonly [string, string])[];
      readonly where: Readonly<Record<string, string>>;
      readonly when: Readonly<Record<string, string>>;
    }
  | { readonly kind: "map"; readonly offsets: readonly number[]; readonly indices: readonly number[] }
  /**
   * `expand`: the consumer's space is dynamic (`IndexSpace.dynamic`) and
   * this producer decides it: a consumer element comes into being when its
   * producer element has ended and told its values, so it waits for
   * nothing more from that producer.
   */
  | { readonly kind: "expand" };

export type Scalar = string | number | boolean;

/**
 * A template, pre-parsed: text, or a reference. Params are substituted as
 * text in paths, argv and `env`, and kept as `{ param }` in shell commands,
 * where the runtime quotes them like any other value. `{ cpus }` (commands
 * and `env` only, never paths) is the task's `cpus` as the executor gives
 * them, known only at run time (contract/cpus.ts).
 */
export type Part =
  | string
  | { readonly var: string; readonly field?: string }
  | { readonly param: string }
  | { readonly inputs: true; readonly name?: string }
  | { readonly outputs: true; readonly name?: string }
  | { readonly log: true; readonly name?: string }
  | { readonly cpus: true };

export type PlanVar =
  | { readonly name: string; readonly values: readonly Scalar[] }
  | { readonly name: string; readonly range: readonly [number, number, number] }
  | {
      readonly name: string;
      readonly sheet: { readonly columns: readonly string[]; readonly key: string; readonly rows: readonly (readonly string[])[] };
    };

/**
 * Elements are numbered with the first variable varying slowest; `zip`
 * variables advance together. A dynamic space (`dynamic`) has `vars` for
 * its static variables only and `size` for their elements, its blocks: at
 * run time each block becomes one element per value (row) its producer
 * element decided, numbered in the order the blocks expand.
 */
export interface IndexSpace {
  readonly vars: readonly PlanVar[];
  readonly zip: readonly string[];
  readonly size: number;
  readonly dynamic?: DynamicSpace;
}

/**
 * Variables whose values a job decides (issue 14), known only when it has
 * run. `from` names the producer step's output that tells them: `files`,
 * the files its pattern matched (the step's `decides` variables are the
 * pattern's holes, contract/expansion.ts), or `lines`, one value per line
 * of that file (one variable). `per` are the producer's own variables,
 * which this space shares by name: block b expands with the producer
 * element whose values of `per` equal b's (none: the producer's one
 * element). An element's identity is its static variables' values, then
 * these (contract/identity.ts).
 */
export interface DynamicSpace {
  readonly vars: readonly string[];
  readonly from: { readonly kind: "files" | "lines"; readonly task: string; readonly step: string; readonly output: number };
  readonly per: readonly string[];
}

export interface PlanPath {
  readonly name: string | null;
  readonly template: readonly Part[];
  readonly glob: boolean;
  /** The outputs (task, step, output index) that can produce this input; empty for source files. */
  readonly from: readonly { readonly task: string; readonly step: string; readonly output: number }[];
  /**
   * An output's lifetime, absent for an ordinary one: `temp` is removed once
   * every job of the run that reads it has succeeded (and a missing one is
   * not rebuilt while what was made from it is up to date); `protected` is
   * made read-only after its job, and a run that would rebuild it stops.
   */
  readonly lifetime?: "temp" | "protected";
}

/**
 * Which shell runs a shell command: `bash` in strict mode (`set -euo
 * pipefail`: a failing command in a pipe fails the job, as in Snakemake),
 * or plain POSIX `sh` (`/bin/sh -c`, for machines without bash).
 */
export type PlanShell = "bash" | "sh";

export type PlanAction =
  | { readonly kind: "shell"; readonly command: readonly Part[]; readonly shell: PlanShell }
  | { readonly kind: "argv"; readonly argv: readonly (readonly Part[])[] }
  | { readonly kind: "fn"; readonly module: string; readonly export: string };

/** One original stage inside a task; a fused task runs its steps in order per element. */
export interface PlanStep {
  readonly stage: string;
  readonly action: PlanAction;
  readonly inputs: readonly PlanPath[];
  readonly outputs: readonly PlanPath[];
  /** Logs (`log`): written like outputs, but kept when the job fails and not required to exist; absent when none. */
  readonly logs?: readonly PlanPath[];
  readonly env: Readonly<Record<string, readonly Part[]>>;
  /**
   * Variables this step's job decides (`decides`): an output that names
   * one is a pattern the job may match 0..n times, not a path, and is not
   * required to exist; absent when none.
   */
  readonly decides?: readonly string[];
  /** The software the step runs in (`container`, `modules`, `conda`); absent when it runs on the host as it is. */
  readonly environment?: PlanEnvironment;
}

/**
 * A step's software environment (issue 15). At most one of `container`
 * and `modules`/`conda` kinds that the compiler allows together (see
 * docs/environments.md); the executor says which engine enters it.
 */
export interface PlanEnvironment {
  /** The image, after its executor's config mapped it: a registry reference, or a path to an image file (Apptainer's `.sif`). */
  readonly container?: string;
  /** Environment modules, loaded in this order before the command. */
  readonly modules?: readonly string[];
  readonly conda?: PlanConda;
}

/**
 * A conda environment: an environment file (relative to the workdir; wfc
 * creates it once, under `.wfc/conda/`), an existing prefix (a path), or
 * an existing environment by name.
 */
export type PlanConda =
  | { readonly kind: "file"; readonly path: string; readonly sha256: string }
  | { readonly kind: "prefix"; readonly path: string }
  | { readonly kind: "name"; readonly name: string };

export type ContainerEngine = "podman" | "docker" | "apptainer" | "singularity";
export type CondaFrontend = "conda" | "mamba" | "micromamba";

/** How an executor's jobs enter their steps' environments: present when one of its steps has a container or conda. */
export interface PlanEngines {
  /** The container engine and the extra options the config gives it. */
  readonly container?: { readonly engine: ContainerEngine; readonly options: readonly string[] };
  readonly conda?: { readonly frontend: CondaFrontend };
}

export interface PlanDep {
  readonly task: string;
  readonly edge: ElementEdge;
  /** Which input of which step it feeds; null for `after`. */
  readonly input: { readonly step: string; readonly index: number } | null;
}

export interface PlanTask {
  readonly id: string;
  readonly stages: readonly string[];
  readonly space: IndexSpace;
  readonly steps: readonly PlanStep[];
  readonly deps: readonly PlanDep[];
  readonly executor: string;
  readonly resources: { readonly cpus: number; readonly mem: number | null; readonly time: number | null };
  readonly retries: number;
  readonly timeout: number | null;
  /** Elements per job; `jobs` = ceil(size / batch); a dynamic space's task: batch 1 and `jobs` null (known at run time). */
  readonly batch: number;
  readonly jobs: number | null;
  /** Concurrency groups this task's jobs hold while they run. */
  readonly groups: readonly { readonly group: string; readonly weight: number }[];
  /** Critical-path seconds from the start of one of its elements to the end of the workflow. */
  readonly priority: number;
}

export interface PlanExecutor {
  readonly type: "threads" | "processes" | "slurm";
  /** Jobs at once on this executor; null for no cap of its own (SLURM). */
  readonly max: number | null;
  readonly runs: readonly ("run" | "fn")[];
  readonly slurm?: Readonly<Record<string, unknown>>;
  readonly engines?: PlanEngines;
}

export interface PlanGroup {
  readonly id: string;
  readonly capacity: number;
  /** `limit`: a named limit shared by its members; `cap`: one stage's own cap. */
  readonly kind: "limit" | "cap";
}

export interface Plan {
  readonly plan: typeof PLAN_VERSION;
  readonly wfc: string;
  readonly name: string;
  readonly source: { readonly file: string; readonly format: "yaml" | "toml" | "json"; readonly sha256: string };
  /** The workflow's folder (jobs' working directory), relative to the plan file's folder. */
  readonly workdir: string;
  readonly params: Readonly<Record<string, Scalar | readonly Scalar[]>>;
  /** Workflow-wide cap on running jobs; null for none (executors still cap). */
  readonly jobs: number | null;
  readonly executors: Readonly<Record<string, PlanExecutor>>;
  readonly groups: readonly PlanGroup[];
  /** In dependency order (ties by id). */
  readonly tasks: readonly PlanTask[];
}
