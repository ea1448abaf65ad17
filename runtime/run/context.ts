import type { Backend } from "../backends/backend.js";
import type { Expander } from "../jobs/expand.js";
import type { Plan } from "../../contract/plan.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import type { Journal } from "../state/journal.js";
import type { RunEvent, RunFailure } from "./events.js";
import type { StepFingerprints } from "./fingerprint.js";
import type { Folders } from "./folders.js";
import type { TempOutputs } from "./lifetimes.js";
import type { RunConfig } from "./options.js";
import type { Mtimes } from "./mtimes.js";
import type { RunStats } from "./stats.js";
import type { UnitEnd } from "./usage.js";
import type { RunEnvironments } from "../environments/environments.js";

/** What every job of a run shares: made once by the run's lifecycle (run.ts), read by each job's execution. */
export interface RunContext {
  readonly plan: Plan;
  readonly config: RunConfig;
  /** The workflow's folder: jobs run in it, their paths are relative to it. */
  readonly workdir: string;
  /** Its `.wfc/`. */
  readonly stateDir: string;
  readonly scheduler: Scheduler;
  readonly journal: Journal;
  readonly expander: Expander;
  /** Per step, what its commands depend on but the element: the journal vouches for commands it has seen (fingerprint.ts). */
  readonly fingerprints: StepFingerprints;
  readonly folders: Folders;
  readonly stats: RunStats;
  readonly emit: (event: RunEvent) => void;
  /** Jobs that ended cancelled (Ctrl-C), and `--dry-run`'s jobs that would run: buckets of the summary the scheduler does not keep. */
  readonly tally: { cancelled: number; wouldRun: number };
  /** Every failure so far, in the order they were settled. */
  readonly failures: RunFailure[];
  /** `--dry-run`: the outputs jobs would write, which make their consumers out of date. */
  readonly wouldWrite: Set<string>;
  /** The modification times up-to-date checks read, each file once while no job runs (mtimes.ts). */
  readonly mtimes: Mtimes;
  /** Aborted on Ctrl-C (or a signal the caller gave). */
  readonly signal: AbortSignal;
  /** The plan's temp outputs: who reads them, which may stay gone (undefined: it has none). */
  readonly temps: TempOutputs | undefined;
  /** Says something on stderr (or to the caller's `onWarning`) that is not a job's end. */
  readonly warn: (message: string) => void;
  /** The backend a task's jobs run on. */
  readonly backendFor: (task: number) => Backend;
  /** The run's id (`.wfc/runs/<id>.json`), which its journal records carry; undefined when it keeps no run record (a dry run). */
  readonly runId?: string | undefined;
  /** Each unit that ended (journal records and the step Ctrl-C stopped), for `--trace`. */
  readonly unitsEnded?: ((units: readonly UnitEnd[]) => void) | undefined;
  /** The run's software environments (issue 15): image digests for freshness and the journal; undefined when no step has one. */
  readonly environments?: RunEnvironments | undefined;
}
