// The public library API: re-exports only (STYLE habit 13).
export { validateFile, validateDocument, type ValidateResult, type ValidateOptions, type Validated } from "./validate.js";
export type { Diagnostic, Location, Span, Severity, Related, Result } from "./diagnostics/diagnostic.js";
export { formatDiagnostic, formatLocation, formatSummary, type FileLookup } from "./diagnostics/format.js";
export { toJsonDiagnostic, type JsonDiagnostic } from "./diagnostics/json.js";
export { readSource, parseSource, formatOf } from "./source/parse.js";
export { SourceFile } from "./source/source-file.js";
export type { ParsedDocument, DataPath, SourceFormat } from "./source/document.js";
export type * from "./lower/ast.js";
export type { StageEdge } from "./graph/dependencies.js";
