// The package's entry, "wfc" (and "wfc/compiler", as before): the compiler's
// library API and, for running plans, the runtime's (see runtime/index.ts).
// Re-exports only (STYLE habit 13). It sits above both so that compiler/
// need not import runtime/ (test/runtime/boundary.test.ts).
export * from "./compiler/index.js";
export {
  run,
  RunError,
  loadPlan,
  type RunOptions,
  type RunConfig,
  type RunEvent,
  type RunSummary,
  type RunFailure,
  type PathStep,
  type LimitUse,
  type LoadPlanResult,
} from "./runtime/index.js";
