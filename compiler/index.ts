// The compiler's library API, which the package's entry (../index.ts) re-exports with the runtime's: re-exports only (STYLE habit 13).
export { validateFile, validateDocument, type ValidateResult, type ValidateOptions, type Validated } from "./validate.js";
export type { Diagnostic, Location, Span, Severity, Related, Result } from "./diagnostics/diagnostic.js";
export { formatDiagnostic, formatLocation, formatSummary, lookupIn, type FileLookup } from "./diagnostics/format.js";
export { toJsonDiagnostic, type JsonDiagnostic } from "./diagnostics/json.js";
export { readSource, parseSource, formatOf } from "./source/parse.js";
export { SourceFile } from "./source/source-file.js";
export type { ParsedDocument, DataPath, SourceFormat } from "./source/document.js";
export type * from "./lower/ast.js";
export type { StageEdge } from "./graph/dependencies.js";
export { loadConfig } from "./config/load.js";
export { configLocations, PROJECT_CONFIG } from "./config/locations.js";
export { mergeConfigs, type ConfigLayer } from "./config/merge.js";
export { builtinWorkers } from "./config/executors.js";
export { defaultConfigText } from "./config/default-file.js";
export { renderConfigText, configJson, type ConfigJson, type JsonOrigin } from "./config/show.js";
export type * from "./config/config.js";
export { compileFile, compileDocument, type CompileOptions, type CompileResult } from "./compile.js";
export { canonicalJson } from "../contract/canonical-json.js";
export type {
  Plan,
  PlanTask,
  PlanStep,
  PlanPath,
  PlanDep,
  PlanAction,
  PlanExecutor,
  PlanGroup,
  PlanVar,
  IndexSpace,
  Part,
} from "../contract/plan.js";
export type { ElementEdge } from "./plan/element-edges.js";
export type { Note } from "./passes/executors.js";
export { PLAN_VERSION } from "../contract/plan.js";
