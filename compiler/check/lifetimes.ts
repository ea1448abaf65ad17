import type { StageEdge } from "../graph/dependencies.js";
import type { PathDecl, Workflow } from "../lower/ast.js";
import type { DiagnosticSink } from "../lower/sink.js";

/**
 * A `temp` output that no stage reads is removed by nothing: it stays like
 * any other output, which is not what `temp` says. A warning, located at it.
 */
export function checkTempOutputs(workflow: Workflow, edges: readonly StageEdge[], sink: DiagnosticSink): void {
  const read = new Set<PathDecl>();
  for (const edge of edges) if (edge.kind === "data") read.add(edge.output);
  for (const stage of workflow.stages.values()) {
    for (const decl of stage.outputs) {
      if (decl.lifetime !== "temp" || read.has(decl)) continue;
      sink.warning("WFC254", `\`temp\` output \`${decl.template.source}\` of stage \`${stage.name}\` is read by no stage`, decl.path, {
        help: "wfc removes a temp output once the jobs that read it have succeeded, so this one stays: drop it from `temp`, or read it in a later stage",
      });
    }
  }
}
