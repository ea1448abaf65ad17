import type { Diagnostic } from "./diagnostics/diagnostic.js";
import { hasErrors, sortDiagnostics } from "./diagnostics/diagnostic.js";
import type { Workflow } from "./lower/ast.js";
import { lowerWorkflow, type LowerOptions } from "./lower/lower.js";
import { DiagnosticSink } from "./lower/sink.js";
import { checkCycles } from "./check/cycles.js";
import { checkDecides } from "./check/decides.js";
import { resolveDynamic, type DynamicSource } from "./graph/dynamic.js";
import { checkTempOutputs } from "./check/lifetimes.js";
import { checkOutputs } from "./check/outputs.js";
import { checkPaths } from "./check/paths.js";
import { checkPlaceholders } from "./check/placeholders.js";
import { checkReferences } from "./check/references.js";
import { checkShellQuoting } from "./check/shell-quoting.js";
import { inferDependencies, OutputIndex, type StageEdge } from "./graph/dependencies.js";
import { validateSchema } from "./schema/validate-schema.js";
import type { ParsedDocument } from "./source/document.js";
import { readSource } from "./source/parse.js";

export interface Validated {
  readonly workflow: Workflow;
  /** Stage-level dependencies, inferred and explicit. */
  readonly edges: readonly StageEdge[];
  /** The producer of each dynamic stage (one fanning out over values known at run time), by stage name. */
  readonly dynamic: ReadonlyMap<string, DynamicSource>;
}

export interface ValidateResult {
  /** The parsed document, when the file could be read (for printing source lines). */
  readonly document?: ParsedDocument;
  /** Present when there were no errors (warnings allowed). */
  readonly validated?: Validated;
  /** Every problem found, sorted by position. */
  readonly diagnostics: readonly Diagnostic[];
}

export type ValidateOptions = LowerOptions;

/**
 * Syntax → schema → AST → semantic checks. Each phase runs as far as the
 * input allows, so one run reports every problem in the file.
 */
export async function validateDocument(document: ParsedDocument, options: ValidateOptions = {}): Promise<ValidateResult> {
  if (document.diagnostics.length > 0 || document.data === undefined) {
    return { document, diagnostics: sortDiagnostics(document.diagnostics) };
  }
  if (document.data === null) {
    const diagnostic: Diagnostic = {
      severity: "error",
      code: "WFC103",
      message: "the file has no workflow in it",
      location: { file: document.file.path, span: { start: 0, end: 0 } },
      expected: "a map with `wfc: 1` and `stages`",
      help: "start from a sample: samples/scipion-steps/workflow.yaml is a short one",
    };
    return { document, diagnostics: [diagnostic] };
  }
  const schemaDiagnostics = validateSchema(document);
  const { workflow, diagnostics: lowerDiagnostics } = await lowerWorkflow(document, options);
  const sink = new DiagnosticSink(document);
  checkReferences(workflow, sink);
  checkPlaceholders(workflow, sink);
  checkPaths(workflow, sink);
  checkShellQuoting(workflow, sink);
  const index = new OutputIndex(workflow);
  checkOutputs(workflow, index, sink);
  const resolved = resolveDynamic(workflow, index, sink);
  const edges = [...inferDependencies(workflow, index), ...resolved.edges];
  checkDecides(workflow, edges, sink);
  checkCycles(workflow, edges, sink);
  checkTempOutputs(workflow, edges, sink);
  const diagnostics = sortDiagnostics([...schemaDiagnostics, ...lowerDiagnostics, ...sink.diagnostics]);
  return hasErrors(diagnostics)
    ? { document, diagnostics }
    : { document, validated: { workflow, edges, dynamic: resolved.sources }, diagnostics };
}

/**
 * Reads, parses and validates a workflow file. Never throws for bad input;
 * rejects with `options.signal`'s reason when it is aborted during a glob.
 */
export async function validateFile(path: string, options: ValidateOptions = {}): Promise<ValidateResult> {
  const read = await readSource(path);
  if (!read.ok) return { diagnostics: [read.diagnostic] };
  return validateDocument(read.document, options);
}
