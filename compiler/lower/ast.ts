import { rangeSize, rangeValue } from "../../contract/elements.js";
import type { ContainerEngine, PlanConda, PlanShell } from "../../contract/plan.js";
import type { DataPath } from "../source/document.js";
import type { Template } from "./template.js";

/**
 * The workflow AST: what the user wrote, typed, defaults applied, fan-out
 * sources resolved to values, and every user reference carrying the data path
 * it came from so later phases can point at it (STYLE habit 7).
 */
export type Scalar = string | number | boolean;

/** A name the user wrote that refers to something else (a stage, limit, executor). */
export interface NameRef {
  readonly name: string;
  readonly path: DataPath;
}

export interface Param {
  readonly name: string;
  readonly value: Scalar | readonly Scalar[];
  readonly path: DataPath;
  /** True when `--param` replaced the file's value. */
  readonly overridden: boolean;
}

export interface LimitDef {
  readonly name: string;
  readonly capacity: number;
  readonly path: DataPath;
}

export type ExecutorType = "threads" | "processes" | "slurm";
export type StageKind = "run" | "fn";

export interface SlurmOptions {
  readonly partition?: string;
  readonly account?: string;
  readonly qos?: string;
  readonly time?: number;
  readonly mem?: number;
  readonly cpus?: number;
  readonly options: readonly string[];
  readonly licenses: boolean;
  readonly maxArraySize?: number;
}

export interface ExecutorDef {
  readonly name: string;
  readonly type: ExecutorType;
  readonly max?: number;
  /** Kinds of stage it accepts. */
  readonly runs: ReadonlySet<StageKind>;
  /** Undefined for the built-in executors, which come from no file. */
  readonly path?: DataPath;
  readonly slurm?: SlurmOptions;
  /** `container_engine`: the engine its jobs' containers run with; absent: the config's, else the built-in one. */
  readonly containerEngine?: ContainerEngine;
}

/** A template string and where it was written. */
export interface LocatedTemplate {
  readonly template: Template;
  readonly path: DataPath;
}

export type Action =
  | { readonly kind: "shell"; readonly command: LocatedTemplate; readonly path: DataPath }
  | { readonly kind: "argv"; readonly argv: readonly LocatedTemplate[]; readonly path: DataPath }
  | { readonly kind: "fn"; readonly module: string; readonly exportName: string; readonly path: DataPath };

/** One declared input or output template. */
export interface PathDecl extends LocatedTemplate {
  /** The key under a named map (`{inputs.reads}`), else undefined. */
  readonly name: string | undefined;
  /** Whether its literal text has glob syntax (`*`, `?`, `[`). */
  readonly glob: boolean;
  /** An output's `temp` or `protected` (lifetimes.ts); absent for an ordinary one. */
  readonly lifetime?: OutputLifetime;
}

/** `temp`: removed once every job that reads it succeeded; `protected`: made read-only after its job. */
export type OutputLifetime = "temp" | "protected";

export type VarValues =
  | { readonly kind: "list"; readonly items: readonly Scalar[] }
  | { readonly kind: "range"; readonly start: number; readonly stop: number; readonly step: number };

export type VarSource = "list" | "param" | "range" | "glob" | "sheet" | "lines";

/** One fan-out variable and its values. */
export interface FanVar {
  readonly name: string;
  readonly path: DataPath;
  readonly source: VarSource;
  readonly values: VarValues;
  /** For sheet variables: the columns (`{var.column}`) and the rows, in file order. */
  readonly sheet?: {
    readonly columns: readonly string[];
    readonly rows: readonly (readonly string[])[];
    readonly key: string;
    /** The sheet lies outside the workflow's folder: diagnostics name its columns only if the workflow wrote them. */
    readonly outside: boolean;
  };
}

/**
 * A fan-out variable whose values are known only at run time (issue 14):
 * `{ from: STAGE }`, the values a job of STAGE decided (its `decides`), or
 * `{ lines: TEMPLATE }` for a file some stage writes, one value per line.
 * (A `lines` file no stage writes is read at compile time and is a static
 * FanVar.) Kept apart from `vars`: everything that counts, numbers or
 * enumerates elements at compile time sees only the static variables, the
 * dynamic space's blocks.
 */
export interface DynamicVar {
  readonly name: string;
  readonly path: DataPath;
  readonly source: { readonly kind: "from"; readonly stage: NameRef } | { readonly kind: "lines"; readonly template: LocatedTemplate };
}

export interface FanOut {
  /** The static variables, in foreach order. */
  readonly vars: readonly FanVar[];
  /** The variables expanded at run time, in foreach order; their elements come after the static ones' in an identity. */
  readonly dynamic: readonly DynamicVar[];
  /** Variables paired element by element (`zip`); the rest are crossed. */
  readonly zip: readonly string[];
  /** Number of elements (jobs before batching). */
  readonly size: number;
  /** Variables whose source was invalid (already reported); their uses are not reported again. */
  readonly unresolved: readonly string[];
}

export type LimitUse =
  | {
      readonly kind: "named";
      readonly name: string;
      readonly weight: number;
      readonly path: DataPath;
      /** Where the name and the weight are written (the same as `path` for a bare name). */
      readonly namePath: DataPath;
      readonly weightPath: DataPath;
    }
  | { readonly kind: "cap"; readonly cap: number; readonly path: DataPath };

export interface StageSettings {
  readonly cpus: number;
  readonly mem?: number;
  readonly time?: number;
  readonly retries: number;
  readonly timeout?: number;
  readonly env: ReadonlyMap<string, LocatedTemplate>;
  readonly fuse: boolean;
  /** Which shell runs a `run` string (`shell`, default bash in strict mode). */
  readonly shell: PlanShell;
  readonly batch: number;
  readonly expected?: number;
}

/**
 * A stage's software environment (docs/environments.md), `defaults`
 * applied (to `run` stages only); each part remembers where it was written,
 * the stage or `defaults`, for diagnostics. Never both a container and
 * modules or conda (reported while lowering).
 */
export interface StageEnvironment {
  readonly container?: { readonly image: string; readonly path: DataPath };
  /** In load order. */
  readonly modules?: { readonly names: readonly string[]; readonly path: DataPath };
  readonly conda?: { readonly conda: PlanConda; readonly path: DataPath };
}

export interface Stage {
  readonly name: string;
  readonly path: DataPath;
  readonly description?: string;
  /** Undefined only when the file gave neither `run` nor `fn` (already reported). */
  readonly action: Action | undefined;
  readonly fanout: FanOut;
  readonly inputs: readonly PathDecl[];
  readonly outputs: readonly PathDecl[];
  /** `log`: files the job writes about itself, kept when it fails and not required to exist (`{log}` in commands). */
  readonly logs: readonly PathDecl[];
  /** `decides`: variables its job decides; an output naming one is a pattern (0..n files). */
  readonly decides: readonly NameRef[];
  readonly after: readonly NameRef[];
  readonly limits: readonly LimitUse[];
  /** The stage's own `executor`, else the workflow default's; undefined leaves it to config. */
  readonly executor?: NameRef;
  readonly labels: readonly string[];
  readonly settings: StageSettings;
  /** `container`, `modules`, `conda`; absent when the stage runs on the host as it is. */
  readonly environment?: StageEnvironment;
}

export interface Workflow {
  /** The workflow file as given (for diagnostics). */
  readonly file: string;
  /** Absolute directory of the workflow file: jobs' working directory. */
  readonly dir: string;
  readonly name: string;
  readonly description?: string;
  readonly params: ReadonlyMap<string, Param>;
  readonly jobs?: number;
  readonly limits: ReadonlyMap<string, LimitDef>;
  /** The workflow's executors plus the built-in `threads` and `processes` (unless redefined). */
  readonly executors: ReadonlyMap<string, ExecutorDef>;
  /** Limits and executors defined with an invalid value (already reported): references to them are fine. */
  readonly invalidDefinitions: ReadonlySet<string>;
  /** In the order the file lists them. */
  readonly stages: ReadonlyMap<string, Stage>;
}

/** Whether a foreach variable is known only at run time. */
export function isDynamicVar(v: FanVar | DynamicVar): v is DynamicVar {
  return typeof v.source === "object";
}

/** Number of values of a fan-out variable (a range's, as the plan's: contract/elements.ts). */
export function varSize(values: VarValues): number {
  return values.kind === "list" ? values.items.length : rangeSize(values.start, values.stop, values.step);
}

/** The i-th value of a fan-out variable. */
export function varValue(values: VarValues, i: number): Scalar {
  return values.kind === "list" ? values.items[i]! : rangeValue(values.start, values.step, i);
}
