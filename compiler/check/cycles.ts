import type { Workflow } from "../lower/ast.js";
import type { DiagnosticSink } from "../lower/sink.js";
import { findCycles } from "../graph/cycles.js";
import type { StageEdge } from "../graph/dependencies.js";

/** A 2,000-stage cycle is named in full in the message; its notes stop here. */
const MAX_NOTES = 20;

/** Reports each dependency cycle with its whole trail, one note per edge. */
export function checkCycles(workflow: Workflow, edges: readonly StageEdge[], sink: DiagnosticSink): void {
  for (const cycle of findCycles([...workflow.stages.keys()], edges)) {
    const first = cycle[0]!;
    const trail = [...cycle.map((e) => `\`${e.from}\``), `\`${first.from}\``].join(" → ");
    const why = (e: StageEdge) =>
      e.kind === "after"
        ? { path: e.ref.path, message: `\`${e.to}\` runs after \`${e.from}\` (\`after\`)` }
        : e.kind === "expand"
          ? { path: e.variable.path, message: `\`${e.to}\` fans out over \`${e.variable.name}\`, which \`${e.from}\` decides` }
          : { path: e.input.path, message: `\`${e.to}\` reads \`${e.input.template.source}\`, which \`${e.from}\` writes` };
    const self = cycle.length === 1;
    const head = why(cycle.at(-1)!);
    sink.error("WFC204", self ? `stage \`${first.from}\` depends on itself` : `dependency cycle: ${trail}`, head.path, {
      help: self
        ? first.kind === "after"
          ? "remove the stage from its own `after`"
          : "an input matches the stage's own output; make the output path distinct from the input"
        : `break the cycle: remove an \`after\`, or rename an output so a stage no longer reads it${cycle.length > MAX_NOTES ? ` (the first ${MAX_NOTES} of its ${cycle.length} links are noted)` : ""}`,
      related: self ? [] : cycle.slice(0, MAX_NOTES).map(why),
    });
  }
}
