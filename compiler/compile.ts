import { createHash } from "node:crypto";
import { dirname, relative, resolve } from "node:path";
import type { Diagnostic } from "./diagnostics/diagnostic.js";
import { hasErrors, sortDiagnostics } from "./diagnostics/diagnostic.js";
import { DiagnosticSink } from "./lower/sink.js";
import { resolveEnvironments, type EnvironmentConfig } from "./passes/environments.js";
import { assignExecutors, type ExecutorConfig, type Note } from "./passes/executors.js";
import { fuse } from "./passes/fusion.js";
import { concurrencyGroups } from "./passes/groups.js";
import { priorities } from "./passes/priorities.js";
import { applyResources, type ResourcesConfig } from "./passes/resources.js";
import { dynamicNotes, slurmShape } from "./passes/slurm-shape.js";
import { initialTasks, topologicalOrder } from "./passes/tasks.js";
import { buildPlan } from "./plan/build.js";
import type { Plan } from "../contract/plan.js";
import { wfcVersion } from "./schema/assets.js";
import type { ParsedDocument } from "./source/document.js";
import { readSource } from "./source/parse.js";
import { validateDocument, type ValidateOptions } from "./validate.js";

export interface CompileOptions extends ValidateOptions {
  /** Executors and mappings from config files, `[containers]`, `[conda]` and `[resources]`. */
  readonly config?: ExecutorConfig & EnvironmentConfig & ResourcesConfig;
  /** Where plan.json will be written: `workdir` is recorded relative to it (default: the current directory). */
  readonly planPath?: string;
  /** `--jobs N`: a workflow-wide cap on running jobs, replacing the workflow's `jobs`. */
  readonly jobs?: number;
}

export interface CompileResult {
  readonly document?: ParsedDocument;
  readonly plan?: Plan;
  readonly notes: readonly Note[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Workflow file → validated AST → optimization passes → plan. Never throws for bad input. */
export async function compileFile(path: string, options: CompileOptions = {}): Promise<CompileResult> {
  const read = await readSource(path);
  if (!read.ok) return { notes: [], diagnostics: [read.diagnostic] };
  return compileDocument(read.document, options);
}

export async function compileDocument(document: ParsedDocument, options: CompileOptions = {}): Promise<CompileResult> {
  // Config files' executors (not the built-ins, which every workflow has) join the workflow's for validation.
  const extra = options.config
    ? new Map([...options.config.executors].filter(([, e]) => e.origin.kind === "file").map(([name, { def }]) => [name, def]))
    : undefined;
  const validation = await validateDocument(document, { ...options, ...(extra ? { executors: extra } : {}) });
  const validated = validation.validated;
  if (validated === undefined) return { document, notes: [], diagnostics: validation.diagnostics };
  const { edges, dynamic } = validated;
  // The config's `[resources.STAGE]` before any pass: fusion compares resources.
  const resources = applyResources(validated.workflow, options.config);
  const workflow = resources.workflow;

  const assigned = assignExecutors(initialTasks(workflow, edges, dynamic), workflow, options.config);
  const fused = fuse(assigned.tasks);
  const ordered = topologicalOrder(fused.tasks);
  const groups = concurrencyGroups(ordered, workflow);
  const prio = priorities(ordered, groups);
  // Which engine runs a container is known only with the config, so its checks are the compiler's, not `wfc validate`'s.
  const environmentSink = new DiagnosticSink(document);
  const environments = resolveEnvironments(ordered, assigned.executors, options.config, environmentSink);
  const diagnostics = sortDiagnostics([...validation.diagnostics, ...resources.diagnostics, ...environmentSink.diagnostics]);
  if (hasErrors(diagnostics)) return { document, notes: [], diagnostics };

  const planDir = resolve(options.planPath === undefined ? "." : dirname(options.planPath));
  const plan = buildPlan({
    workflow,
    ordered,
    executors: assigned.executors,
    groups,
    priority: prio.priority,
    dynamic,
    environments,
    source: {
      file: relative(planDir, resolve(document.file.path)) || document.file.path,
      format: document.format,
      sha256: createHash("sha256").update(document.file.text).digest("hex"),
    },
    workdir: relative(planDir, workflow.dir) || ".",
    version: wfcVersion(),
    jobs: options.jobs ?? workflow.jobs,
  });
  const batchNotes: Note[] = plan.tasks
    .filter((t) => t.batch > 1)
    .map((t) => ({
      topic: "batch",
      message: `\`${t.id}\`: ${t.space.size} elements in ${t.jobs} jobs of ${t.batch}, each asking for the resources of one element`,
    }));
  const notes = [
    ...dynamicNotes(plan),
    ...resources.notes,
    ...fused.notes,
    ...groups.notes,
    ...assigned.notes,
    ...environments.notes,
    ...batchNotes,
    ...prio.notes,
    ...slurmShape(plan),
  ];
  return { document, plan, notes, diagnostics };
}
