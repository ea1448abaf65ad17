export { ProcessPool, type ProcessPoolOptions, type WorkerProgram } from "./process-pool.js";
export { SpawnRunner } from "./spawn-runner.js";
export type { BoundedRunnerOptions } from "./bounded-runner.js";
export type { Command, JobEvents, JobResult, JobRunner, JobSpec } from "./job.js";
