import { RESERVED_NAMES } from "../lower/fanout.js";
import type { Workflow } from "../lower/ast.js";
import type { DiagnosticSink } from "../lower/sink.js";
import { refsOf } from "../lower/template.js";
import type { StageEdge } from "../graph/dependencies.js";
import { decidedNames, tellingOutput } from "../graph/dynamic.js";

/**
 * A producer's side of data-dependent fan-out: each decided variable is a
 * new name (no foreach variable, nothing reserved) that some output names,
 * one output names them all (its listing tells the rows), and no stage
 * reads the pattern, or a run-time stage's outputs, with static values of
 * a variable known only at run time. Where a decided variable is
 * used (outputs only) is check/placeholders.ts's.
 */
export function checkDecides(workflow: Workflow, edges: readonly StageEdge[], sink: DiagnosticSink): void {
  for (const stage of workflow.stages.values()) {
    if (stage.decides.length === 0) continue;
    for (const d of stage.decides) {
      const own = stage.fanout.vars.find((v) => v.name === d.name) ?? stage.fanout.dynamic.find((v) => v.name === d.name);
      if (own !== undefined) {
        sink.error("WFC272", `stage \`${stage.name}\` decides \`${d.name}\`, which is also one of its foreach variables`, d.path, {
          expected: "a variable the job's outputs tell, not one it is given",
          help: `a foreach variable has its values before the job runs; rename the decided one (e.g. \`${d.name}_part\`) in \`decides\` and in the output`,
          related: [{ path: own.path, message: `\`${d.name}\` is a foreach variable here`, part: "key" }],
        });
      } else if (RESERVED_NAMES.includes(d.name)) {
        sink.error("WFC272", `\`${d.name}\` is reserved and cannot be a decided variable`, d.path, {
          help: `rename the variable; \`{${d.name}...}\` already means something in templates`,
        });
      }
    }
    const decided = decidedNames(stage);
    const named = new Set(stage.outputs.flatMap((o) => refsOf(o.template).map((r) => r.root)));
    for (const d of stage.decides) {
      if (!decided.includes(d.name) || named.has(d.name)) continue;
      sink.error("WFC270", `stage \`${stage.name}\` decides \`${d.name}\`, but no output names \`{${d.name}}\``, d.path, {
        expected: `an output like \`work/${stage.name}/{${d.name}}.txt\``,
        help: `the values of \`${d.name}\` are read from the files the job writes: name \`{${d.name}}\` in the output they match, or remove it from \`decides\``,
      });
    }
    if (decided.length > 1 && decided.every((d) => named.has(d)) && tellingOutput(stage) === -1) {
      sink.error(
        "WFC270",
        `no one output of stage \`${stage.name}\` names every decided variable (${decided.map((d) => `\`{${d}}\``).join(", ")})`,
        [...stage.path, "outputs"],
        {
          part: "key",
          help: "the values are read together from the files one output matches; name them all in one output",
        },
      );
    }
  }
  // A static `foreach` over a variable a producer decides: its values would be guessed, not read.
  const reported = new Set<string>();
  for (const edge of edges) {
    if (edge.kind !== "data") continue;
    const producer = workflow.stages.get(edge.from)!;
    const consumer = workflow.stages.get(edge.to)!;
    const written = new Set(refsOf(edge.output.template).map((r) => r.root));
    // The variables of the output with no values now: decided by its job, or its own run-time ones (then the origin is theirs).
    const late = [
      ...decidedNames(producer).map((name) => ({ name, origin: producer.name, decided: true })),
      ...producer.fanout.dynamic.map((v) => ({
        name: v.name,
        origin: v.source.kind === "from" ? v.source.stage.name : undefined,
        decided: false,
      })),
    ].filter((l) => written.has(l.name));
    if (late.length === 0) continue;
    const read = new Set(refsOf(edge.input.template).map((r) => r.root));
    for (const { name, origin, decided } of late) {
      const v = consumer.fanout.vars.find((x) => x.name === name);
      if (v === undefined || !read.has(name) || reported.has(`${consumer.name}\u0000${name}`)) continue;
      reported.add(`${consumer.name}\u0000${name}`);
      const source = origin === undefined ? "the same `lines` file" : `{ from: ${origin} }`;
      sink.error(
        "WFC279",
        decided
          ? `\`${name}\` of stage \`${consumer.name}\` has values given now, but \`${producer.name}\` decides \`${name}\` when it runs`
          : `\`${name}\` of stage \`${consumer.name}\` has values given now, but \`${producer.name}\` has its values only at run time`,
        v.path,
        {
          part: "value",
          expected: `\`${source}\``,
          help:
            origin === undefined
              ? `take \`${name}\` from the same \`lines\` file as \`${producer.name}\`: one element per line, however many there are`
              : `write \`${name}: { from: ${origin} }\`: one element per file \`${origin}\` wrote, however many there are`,
          related: [{ path: edge.output.path, message: `\`${producer.name}\` writes \`${edge.output.template.source}\` here` }],
        },
      );
    }
  }
}
