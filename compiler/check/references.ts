import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { didYouMean, oneOf } from "../diagnostics/suggest.js";
import type { Workflow } from "../lower/ast.js";
import type { DiagnosticSink } from "../lower/sink.js";

/** Names that must refer to something: `after` stages, limits, executors, `fn` modules. */
export function checkReferences(workflow: Workflow, sink: DiagnosticSink): void {
  const usedLimits = new Set<string>();
  // Names defined under `limits`, including those with an invalid value, for suggestions.
  const limitNames = [
    ...workflow.limits.keys(),
    ...[...workflow.invalidDefinitions].filter((d) => d.startsWith("limit:")).map((d) => d.slice(6)),
  ];
  for (const stage of workflow.stages.values()) {
    for (const ref of stage.after) {
      if (workflow.stages.has(ref.name)) continue;
      sink.error("WFC201", `unknown stage \`${ref.name}\` in \`after\` of stage \`${stage.name}\``, ref.path, {
        expected: `one of ${oneOf(
          [...workflow.stages.keys()].filter((s) => s !== stage.name),
          "no other stages exist",
        )}`,
        help: didYouMean(ref.name, workflow.stages.keys()),
        typo: ref.name,
      });
    }

    for (const use of stage.limits) {
      if (use.kind !== "named") continue;
      usedLimits.add(use.name);
      const limit = workflow.limits.get(use.name);
      // A limit defined with an invalid value is reported at its definition.
      if (limit === undefined && workflow.invalidDefinitions.has(`limit:${use.name}`)) continue;
      if (limit === undefined) {
        sink.error("WFC202", `unknown limit \`${use.name}\``, use.namePath, {
          expected: `one of the limits under \`limits\`: ${oneOf(limitNames, "none are defined")}`,
          help:
            didYouMean(use.name, limitNames) ??
            `define it: \`limits: { ${use.name}: 1 }\`, or give the stage its own cap with \`limit: 2\``,
          typo: use.name,
        });
      } else if (use.weight > limit.capacity) {
        sink.error(
          "WFC215",
          `stage \`${stage.name}\` takes ${use.weight} slots of limit \`${use.name}\`, which has only ${limit.capacity}`,
          use.weightPath,
          {
            expected: `a weight of at most ${limit.capacity}`,
            help: "its jobs could never start; lower the weight or raise the limit",
            related: [{ path: limit.path, message: `\`${use.name}\` is defined here`, part: "key" }],
          },
        );
      }
    }

    const action = stage.action;
    if (stage.executor !== undefined) {
      const executor = workflow.executors.get(stage.executor.name);
      if (executor === undefined && workflow.invalidDefinitions.has(`executor:${stage.executor.name}`)) {
        // Defined with an invalid value, reported there.
      } else if (executor === undefined) {
        sink.error("WFC203", `unknown executor \`${stage.executor.name}\``, stage.executor.path, {
          expected: `one of ${oneOf(workflow.executors.keys())}`,
          help:
            didYouMean(stage.executor.name, workflow.executors.keys()) ??
            "define it under `executors`, or use a built-in one: `threads` or `processes`",
          typo: stage.executor.name,
        });
      } else if (action !== undefined) {
        const kind = action.kind === "fn" ? "fn" : "run";
        if (!executor.runs.has(kind)) {
          sink.error("WFC208", `executor \`${executor.name}\` cannot run \`${kind}\` stages like \`${stage.name}\``, stage.executor.path, {
            expected: `an executor whose \`runs\` includes \`${kind}\``,
            help: `its \`runs\` is [${[...executor.runs].join(", ")}]; choose another executor or add \`${kind}\` there`,
            related: executor.path ? [{ path: [...executor.path, "runs"], message: `\`${executor.name}\` accepts only this` }] : [],
          });
        }
      }
    }

    if (action?.kind === "fn" && !existsSync(resolve(workflow.dir, action.module))) {
      sink.error("WFC214", `fn module \`${action.module}\` not found`, action.path, {
        expected: "a JavaScript module relative to the workflow file",
        help: `looked for ${relative(process.cwd(), resolve(workflow.dir, action.module))}`,
      });
    }
  }
  // An unknown limit is most likely a misspelt defined one: don't also call that one unused.
  const misspelt = sink.diagnostics.some((d) => d.code === "WFC202");
  for (const limit of workflow.limits.values()) {
    if (usedLimits.has(limit.name) || misspelt) continue;
    sink.warning("WFC219", `limit \`${limit.name}\` is not used by any stage`, limit.path, {
      part: "key",
      help: "name it in a stage's `limit`, or remove it",
    });
  }
}
