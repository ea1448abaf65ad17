/**
 * What a job's command used, as measured by the code that waited for it
 * (issue 16). The journal keeps it on each record (`JournalRecord.usage`),
 * `job-end` events carry it, `--trace` writes it as a row, and `wfc report`
 * and `wfc suggest` read it back. Every field but `wallMs` is optional: a
 * platform or executor that cannot tell leaves it out rather than guessing.
 */
export interface JobUsage {
  /** Wall-clock time of the step's command, from start to reaped. */
  readonly wallMs: number;
  /** CPU time in user and kernel mode of the command and every descendant it waited for. */
  readonly userMs?: number;
  readonly sysMs?: number;
  /** Peak resident set size, in KiB (the largest of the process and its waited-for descendants, as wait4 reports it). */
  readonly maxRssKb?: number;
  /** Bytes read from and written to storage, where the platform counts them. */
  readonly readBytes?: number;
  readonly writeBytes?: number;
  /**
   * How many elements one command served (a batched job): the figures are
   * that command's, shared by that many records. Absent for one.
   */
  readonly shared?: number;
  /** Who measured: the pool worker's wait4, /proc, SLURM accounting, the array script, Node's worker for `fn`. */
  readonly via: "wait4" | "proc" | "sacct" | "script" | "worker";
}

/**
 * One run of `wfc run`, as `.wfc/runs/<id>.json`: what `wfc report`
 * draws besides the journal's records (which name their run by `id`).
 * Written at the start (with `end: null`) and again at the end; wfc keeps
 * the last 20.
 */
export interface RunRecord {
  /** Sortable and unique: `20261203T223600.123Z-<pid>`. */
  readonly id: string;
  /** wfc's version. */
  readonly wfc: string;
  readonly start: number;
  readonly end: number | null;
  /** How the run ended; null while it runs (or when it was killed). */
  readonly outcome: "ok" | "failed" | "interrupted" | null;
  /** wfc's own command line, after `wfc`. */
  readonly argv: readonly string[];
  readonly cwd: string;
  /** The workflow file or plan.json the run was given. */
  readonly workflow: string;
  /** The plan's params, as the run used them. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly host: {
    readonly hostname: string;
    readonly platform: string;
    readonly cpus: number;
    readonly memoryBytes: number;
    readonly node: string;
  };
  /** The plan the run ran (contract/plan.ts's Plan), for its graph and executors. */
  readonly plan: unknown;
}
