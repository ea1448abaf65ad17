/**
 * Sizes wfc accepts from a workflow or a plan. Anything larger is refused
 * where it is written (the compiler) or when a plan is loaded (the runtime),
 * never discovered as a crash while allocating. They live in contract/ so
 * that the compiler and the runtime check the same numbers.
 */

/**
 * Elements (jobs before batching) of one stage or task. A run keeps a few
 * typed-array slots per element and per job (readiness counts, job states,
 * what released each job, start and end times) plus its bookkeeping, a few
 * hundred bytes in all: ten million elements is some gigabytes, ten times
 * the largest workflow the benchmarks compile, and far below the 2^31
 * element numbers an Int32Array can hold.
 */
export const MAX_STAGE_ELEMENTS = 10_000_000;

/** Elements of all stages together: a few stages at the per-stage limit, not thousands of them. */
export const MAX_WORKFLOW_ELEMENTS = 50_000_000;

/**
 * Bytes of one sample sheet. The whole sheet is parsed in memory and copied
 * into the plan; a sample sheet is kilobytes to megabytes, and a string in
 * Node cannot exceed about 512 MiB anyway.
 */
export const MAX_SHEET_BYTES = 256 * 1024 * 1024;

/**
 * The longest `timeout` a local run can enforce, in seconds: Node's timers
 * hold at most 2^31 - 1 ms (24.8 days) and fire at once beyond that, which
 * would kill every job the moment it starts.
 */
export const MAX_TIMEOUT_SECONDS = 24 * 86_400;

/**
 * The longest `time` or `expected` duration, in seconds: ten years is more
 * than any job asks for, and keeps critical-path sums (duration × elements
 * × chain length) finite, so a plan never holds an Infinity (which JSON
 * writes as null).
 */
export const MAX_DURATION_SECONDS = 10 * 365 * 86_400;

/**
 * Threads or processes one `fn` pool may start. `jobs` and `max` are caps,
 * so a pool of fewer workers still honours them; tinypool sets up every
 * worker id up front, and a cap of 1e308 would make it throw.
 */
export const MAX_POOL_WORKERS = 65_536;

/** `12345678` → `12,345,678`; other numbers (`1e+308`) as JavaScript writes them. */
export function grouped(n: number): string {
  return Number.isSafeInteger(n) ? String(n).replace(/\B(?=(\d{3})+$)/g, ",") : String(n);
}
