export { ProcessPool, type ProcessPoolOptions } from "./process-pool.js";
export type { WorkerProgram } from "./worker-program.js";
export { SpawnRunner } from "./spawn-runner.js";
export type { BoundedRunnerOptions } from "./bounded-runner.js";
export type { Command, JobEvents, JobResult, JobRunner, JobSpec } from "./job.js";
export { SHELL_ARGV } from "./job.js";
