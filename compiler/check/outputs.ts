import type { Workflow } from "../lower/ast.js";
import type { DiagnosticSink } from "../lower/sink.js";
import { parseTemplate, refsOf } from "../lower/template.js";
import { findOutputCollisions, type OutputIndex } from "../graph/dependencies.js";

/**
 * Outputs must not collide: every fan-out variable appears in each output of
 * its stage (else elements overwrite each other), and no two stages write the
 * same file.
 */
export function checkOutputs(workflow: Workflow, index: OutputIndex, sink: DiagnosticSink): void {
  for (const stage of workflow.stages.values()) {
    const zip = new Set(stage.fanout.zip);
    // A log too: two jobs writing one log would mix their words.
    for (const decl of [...stage.outputs, ...stage.logs]) {
      const used = new Set(refsOf(decl.template).map((r) => r.root));
      // A placeholder that resolves to nothing is reported on its own; it is
      // most likely the misspelt variable, so don't also call it missing.
      const known = new Set([...stage.fanout.vars.map((v) => v.name), "params", "stage"]);
      if ([...used].some((r) => !known.has(r))) continue;
      // A malformed template (`{month.txt`) is reported as such; its variables can't be told.
      if (parseTemplate(decl.template.source).errors.length > 0) continue;
      if (stage.fanout.unresolved.length > 0) continue;
      const zipCovered = [...zip].some((z) => used.has(z));
      const missing = stage.fanout.vars
        .filter((v) => !used.has(v.name) && !(zip.has(v.name) && zipCovered))
        .filter((v) => v.values.kind !== "list" || v.values.items.length > 1 || stage.fanout.size > 1);
      if (missing.length === 0 || stage.fanout.size <= 1) continue;
      const names = missing.map((v) => `\`{${v.name}}\``).join(", ");
      sink.error(
        "WFC207",
        `${stage.logs.includes(decl) ? "log" : "output"} \`${decl.template.source}\` of stage \`${stage.name}\` does not use foreach variable${missing.length > 1 ? "s" : ""} ${names}`,
        decl.path,
        {
          expected: `a path containing ${names}`,
          help: `the ${stage.fanout.size} jobs of \`${stage.name}\` would all write the same file; add ${names} to the path`,
          related: missing.map((v) => ({ path: v.path, message: `\`${v.name}\` is defined here`, part: "key" as const })),
        },
      );
    }
  }
  for (const [first, second] of findOutputCollisions(workflow, index)) {
    sink.error(
      "WFC206",
      `stages \`${first.stage.name}\` and \`${second.stage.name}\` both write \`${second.decl.template.source}\``,
      second.decl.path,
      {
        help: "each file must have one producer; rename one of the outputs",
        related: [{ path: first.decl.path, message: `\`${first.stage.name}\` writes it here` }],
      },
    );
  }
}
