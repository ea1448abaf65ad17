/** What `run()` takes: how to run (`wfc run`'s flags) and what to tell. */
import type { Backend } from "../backends/backend.js";
import type { JobRunner } from "../executors/index.js";
import type { RunEvent } from "./events.js";
import type { Selection } from "./select.js";
import type { UnitEnd } from "./usage.js";

/** How to run: what `wfc run`'s flags set. */
export interface RunConfig {
  /** At most this many jobs at once (`--jobs`); default: the plan's `jobs`, else no workflow-wide cap. */
  readonly jobs?: number;
  /** Run everything not downstream of a failure (`--keep-going`); default: stop starting jobs at the first. */
  readonly keepGoing?: boolean;
  /** Run every job, up to date or not (`--force`). */
  readonly force?: boolean;
  /** Run nothing; report what would run and why (`--dry-run`). */
  readonly dryRun?: boolean;
  /** Mark out-of-date jobs up to date without running them (`--touch`). */
  readonly touch?: boolean;
  /**
   * Seconds to wait, after a job exits 0, for its declared outputs to appear
   * before it fails for want of them (`--latency-wait`): a shared file system
   * may show a node's files late. Default: 5 on SLURM, 0 locally.
   */
  readonly latencyWait?: number;
  /** This machine's cores (default: os.availableParallelism()). */
  readonly cores?: number;
  /**
   * Run only these jobs, steps and elements, and force some (targets,
   * `--until`, `--forcerun`: `select()` in select.ts); default: every job.
   */
  readonly selection?: Selection;
}

export interface RunOptions {
  /** The folder the plan's `workdir` is relative to: plan.json's (default: the current directory, or the plan file's folder). */
  readonly planDir?: string;
  /** Run the jobs in this folder instead of the one the plan's `workdir` names (`wfc run --directory`). */
  readonly workdir?: string;
  /** Aborting it stops the run as Ctrl-C does: running jobs are killed, the summary says `interrupted`. */
  readonly signal?: AbortSignal;
  /** Aborting it stops the run too, and SIGKILLs every running job's process group at once (a second Ctrl-C). */
  readonly kill?: AbortSignal;
  readonly config?: RunConfig;
  /** Every event of the run, as `--json` prints them (schema/events.schema.json). */
  readonly onEvent?: (event: RunEvent) => void;
  /** Runs commands; default: a pool of persistent worker processes (a plain spawner where none can start). */
  readonly runner?: JobRunner;
  /** What the user should know besides events, one line each: a stale lock taken over, a dead run's jobs stopped (default: stderr). */
  readonly onWarning?: (message: string) => void;
  /** Each step of an element that ended (a journal record written, or the step Ctrl-C stopped), as it ends: `--trace`. */
  readonly onUnitEnd?: (units: readonly UnitEnd[]) => void;
  /**
   * What the run record (`.wfc/runs/<id>.json`) says ran it: wfc's arguments,
   * the folder they are relative to and the file given (default: none, the
   * process's working directory, "").
   */
  readonly invocation?: { readonly argv: readonly string[]; readonly cwd: string; readonly workflow: string };
  /**
   * Runs every job instead of the backends the plan names (the tests' fake
   * backend, whose jobs end when the test says so). The caller closes it.
   */
  readonly backend?: Backend;
}
