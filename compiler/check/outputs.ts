import type { Workflow } from "../lower/ast.js";
import type { DiagnosticSink } from "../lower/sink.js";
import { parseTemplate, refsOf } from "../lower/template.js";
import { OutputIndex, findLogCollisions, findOutputCollisions } from "../graph/dependencies.js";
import { decidedNames } from "../graph/dynamic.js";

/**
 * Outputs must not collide: every fan-out variable appears in each output of
 * its stage (else elements overwrite each other), no two stages write the
 * same file, and a log is no other job's log and no output.
 */
export function checkOutputs(workflow: Workflow, index: OutputIndex, sink: DiagnosticSink): void {
  for (const stage of workflow.stages.values()) {
    const zip = new Set(stage.fanout.zip);
    // A log too: two jobs writing one log would mix their words.
    for (const decl of [...stage.outputs, ...stage.logs]) {
      const used = new Set(refsOf(decl.template).map((r) => r.root));
      // A placeholder that resolves to nothing is reported on its own; it is
      // most likely the misspelt variable, so don't also call it missing.
      const late = stage.fanout.dynamic;
      const known = new Set([
        ...stage.fanout.vars.map((v) => v.name),
        ...late.map((v) => v.name),
        ...decidedNames(stage),
        "params",
        "stage",
      ]);
      if ([...used].some((r) => !known.has(r))) continue;
      // A malformed template (`{month.txt`) is reported as such; its variables can't be told.
      if (parseTemplate(decl.template.source).errors.length > 0) continue;
      if (stage.fanout.unresolved.length > 0) continue;
      const zipCovered = [...zip].some((z) => used.has(z));
      const missingStatic = stage.fanout.vars
        .filter((v) => !used.has(v.name) && !(zip.has(v.name) && zipCovered))
        .filter((v) => v.values.kind !== "list" || v.values.items.length > 1 || stage.fanout.size > 1);
      // A run-time variable may have many values per block, however few blocks there are.
      const missingLate = late.filter((v) => !used.has(v.name));
      const missing = [...(stage.fanout.size > 1 || missingLate.length > 0 ? missingStatic : []), ...missingLate];
      if (missing.length === 0) continue;
      const names = missing.map((v) => `\`{${v.name}}\``).join(", ");
      sink.error(
        "WFC207",
        `${stage.logs.includes(decl) ? "log" : "output"} \`${decl.template.source}\` of stage \`${stage.name}\` does not use foreach variable${missing.length > 1 ? "s" : ""} ${names}`,
        decl.path,
        {
          expected: `a path containing ${names}`,
          help:
            missingLate.length > 0
              ? `the jobs of \`${stage.name}\` would write the same file; add ${names} to the path`
              : `the ${stage.fanout.size} jobs of \`${stage.name}\` would all write the same file; add ${names} to the path`,
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
  const logs = new OutputIndex(workflow, (stage) => stage.logs);
  for (const { log, other, otherIs } of findLogCollisions(workflow, index, logs)) {
    const [name, otherName] = [log.stage.name, other.stage.name];
    const source = log.decl.template.source;
    const apart = `e.g. \`logs/{stage}/…\``;
    if (otherIs === "log")
      sink.error(
        "WFC251",
        name === otherName
          ? `stage \`${name}\` writes the log \`${source}\` twice`
          : `stages \`${otherName}\` and \`${name}\` both write the log \`${source}\``,
        log.decl.path,
        {
          help: `two jobs writing one log would mix their lines; give each its own log path (${apart})`,
          related: [{ path: other.decl.path, message: `\`${otherName}\` declares it here` }],
        },
      );
    else
      sink.error(
        "WFC251",
        `the log \`${source}\` of stage \`${name}\` is also ${name === otherName ? "one of its outputs" : `an output of stage \`${otherName}\``}`,
        log.decl.path,
        {
          help: `a failed job's log is kept and its outputs removed, and no stage depends on a log: keep logs apart from outputs (${apart})`,
          related: [{ path: other.decl.path, message: `\`${otherName}\` writes it here` }],
        },
      );
  }
}
