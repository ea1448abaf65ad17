// The runtime's library API (`import { run } from "wfc/runtime"`, also
// re-exported by "wfc"): re-exports only (STYLE habit 13).
export { run, RunError, type RunOptions, type RunConfig, type RunEvent, type RunSummary, type RunFailure } from "./run/run.js";
export type { PathStep, LimitUse } from "./run/stats.js";
export { select, type Selection, type SelectRequest, type TargetProblem } from "./run/select.js";
export { loadPlan, type LoadPlanResult } from "./load-plan.js";
export { PLAN_VERSION } from "../contract/plan.js";
export type * from "../contract/plan.js";
