import type { DiagnosticCode } from "../diagnostics/codes.js";
import { didYouMean, oneOf } from "../diagnostics/suggest.js";
import type { FanVar, LocatedTemplate, PathDecl, Stage, Workflow } from "../lower/ast.js";
import type { DiagnosticSink } from "../lower/sink.js";
import { decidedNames, isPatternOutput } from "../graph/dynamic.js";

/**
 * Every placeholder must resolve: `{var}` to a foreach variable of the stage,
 * `{var.col}` to a sheet column, `{params.x}` to a param, and (in commands and
 * env only) `{inputs...}`/`{outputs...}` to declared paths and `{cpus}` to the
 * cores the job may use (known where it runs: never part of a path, which
 * must name the same file on every machine).
 */
export function checkPlaceholders(workflow: Workflow, sink: DiagnosticSink): void {
  for (const stage of workflow.stages.values()) {
    const scope: Scope = {
      stage,
      workflow,
      sink,
      vars: new Map(stage.fanout.vars.map((v) => [v.name, v])),
      late: new Set(stage.fanout.dynamic.map((v) => v.name)),
      decided: new Set(decidedNames(stage)),
    };
    for (const decl of stage.inputs) check(decl, scope, "path", "an input");
    for (const decl of stage.outputs) check(decl, scope, "path", "output");
    for (const decl of stage.logs) check(decl, scope, "path", "a log");
    const action = stage.action;
    if (action?.kind === "shell") check(action.command, scope, "command", "the command");
    if (action?.kind === "argv") for (const arg of action.argv) check(arg, scope, "command", "the command");
    for (const value of stage.settings.env.values()) check(value, scope, "command", "`env`");
  }
}

interface Scope {
  readonly stage: Stage;
  readonly workflow: Workflow;
  readonly sink: DiagnosticSink;
  readonly vars: ReadonlyMap<string, FanVar>;
  /** Foreach variables known at run time (`from`, `lines`): values while the job runs, like any. */
  readonly late: ReadonlySet<string>;
  /** Variables the job decides: only outputs may name them. */
  readonly decided: ReadonlySet<string>;
}

function check(
  located: LocatedTemplate,
  { stage, workflow, sink, vars, late, decided }: Scope,
  where: "path" | "command",
  what: "an input" | "output" | "a log" | "the command" | "`env`",
): void {
  for (const ref of located.template.parts) {
    if (ref.kind !== "ref" || ((vars.has(ref.root) || late.has(ref.root)) && ref.field === undefined)) continue;
    if ((late.has(ref.root) || decided.has(ref.root)) && ref.field !== undefined) {
      sink.error(
        "WFC205",
        `\`{${ref.root}.${ref.field}}\`: \`${ref.root}\` is known only at run time, not from a sample sheet, so it has no columns`,
        located.path,
        {
          within: { offset: ref.offset, length: ref.length, text: located.template.source },
          expected: `\`{${ref.root}}\``,
        },
      );
      continue;
    }
    if (decided.has(ref.root) && ref.field === undefined) {
      if (what === "output") continue;
      sink.error(
        "WFC271",
        `\`{${ref.root}}\` in ${what} of stage \`${stage.name}\`: \`${stage.name}\` decides \`${ref.root}\`, so it has no value while the job runs`,
        located.path,
        {
          within: { offset: ref.offset, length: ref.length, text: located.template.source },
          expected: "a decided variable only in outputs",
          help:
            what === "the command" || what === "`env`"
              ? `pass the folder the files go to instead (the output's path up to \`{${ref.root}}\`); the job decides their names`
              : what === "a log"
                ? `a job writes one log: leave \`{${ref.root}}\` out of its path`
                : `a stage that reads one file per value takes the variable from this one: \`${ref.root}: { from: ${stage.name} }\``,
        },
      );
      continue;
    }
    if (where === "command" && ref.root === "outputs" && decided.size > 0) {
      const named = stage.outputs.filter((o) => ref.field === undefined || o.name === ref.field);
      const pattern = named.find((o) => isPatternOutput(stage, o));
      if (pattern !== undefined) {
        // The folder is the pattern up to the segment with its first decided variable.
        const source = pattern.template.source;
        const hole = Math.min(...[...decided].map((d) => source.indexOf(`{${d}}`)).filter((i) => i !== -1));
        const cut = source.lastIndexOf("/", hole);
        const folder = cut <= 0 ? undefined : source.slice(0, cut);
        sink.error(
          "WFC273",
          `\`{${ref.field === undefined ? "outputs" : `outputs.${ref.field}`}}\` in ${what} of stage \`${stage.name}\` stands for \`${pattern.template.source}\`, a pattern the job's files match, not a path`,
          located.path,
          {
            within: { offset: ref.offset, length: ref.length, text: located.template.source },
            expected: "outputs that are paths",
            help:
              folder !== undefined
                ? `write the folder the job writes into in the command instead: \`${folder}\``
                : "write the folder the job writes into in the command instead",
          },
        );
        continue;
      }
    }
    // A variable whose source was invalid is reported there, not at every use.
    if (stage.fanout.unresolved.includes(ref.root)) continue;
    const roots = [
      ...vars.keys(),
      ...late,
      "params",
      "stage",
      ...(where === "command" ? ["inputs", "outputs", ...(stage.logs.length > 0 ? ["log"] : []), "cpus"] : []),
    ];
    const text = located.template.source;
    const within = { offset: ref.offset, length: ref.length, text };
    const shown = `{${ref.field === undefined ? ref.root : `${ref.root}.${ref.field}`}}`;
    // WFC205 unless the placeholder names something that may not be used here.
    // `typo`: the word a did-you-mean `help` is about (the field, or the root of `{smaple}`), for its quick fix.
    const fail = (message: string, expected: string, help: string | undefined, code: DiagnosticCode = "WFC205", typo = ref.field) =>
      sink.error(code, message, located.path, { within, expected, help, ...(typo !== undefined ? { typo } : {}) });

    if (ref.root === "params") {
      if (ref.field === undefined) {
        fail("`{params}` needs a parameter name", "`{params.name}`", `one of ${oneOf(workflow.params.keys())}`);
        continue;
      }
      const param = workflow.params.get(ref.field);
      if (param === undefined) {
        fail(
          `\`${shown}\` refers to an unknown param \`${ref.field}\``,
          `one of ${oneOf(workflow.params.keys(), "no params are defined")}`,
          didYouMean(ref.field, workflow.params.keys()) ?? `define \`${ref.field}\` under \`params\``,
        );
      } else if (Array.isArray(param.value) && where === "path") {
        fail(
          `param \`${ref.field}\` is a list and cannot be part of a path`,
          "a scalar param",
          `to run once per value, fan out over it: \`foreach: { x: "{params.${ref.field}}" }\` and use \`{x}\``,
          "WFC248",
        );
      }
      continue;
    }
    if (ref.root === "stage") continue;
    if (ref.root === "cpus") {
      if (where === "path")
        fail(
          "`{cpus}` cannot be used in an input or output path",
          "foreach variables and `{params.name}`",
          "a path must name the same file wherever the job runs, and `{cpus}` depends on the machine; use it in the command",
          "WFC249",
        );
      else if (ref.field !== undefined) fail(`\`${shown}\` has no fields`, "`{cpus}`", undefined);
      continue;
    }
    if (ref.root === "inputs" || ref.root === "outputs" || ref.root === "log") {
      if (where === "path") {
        fail(`\`${shown}\` cannot be used in an input or output path`, "foreach variables and `{params.name}`", undefined, "WFC249");
        continue;
      }
      const decls: readonly PathDecl[] = ref.root === "inputs" ? stage.inputs : ref.root === "outputs" ? stage.outputs : stage.logs;
      if (decls.length === 0) {
        fail(
          `\`${shown}\` is used, but stage \`${stage.name}\` declares no ${ref.root}`,
          `a stage with \`${ref.root}\``,
          `declare \`${ref.root}\` on the stage`,
        );
      } else if (ref.field !== undefined) {
        const names = [...new Set(decls.map((d) => d.name).filter((n): n is string => n !== undefined))];
        if (!names.includes(ref.field)) {
          fail(
            `\`${shown}\` names no ${{ inputs: "input", outputs: "output", log: "log" }[ref.root]} of stage \`${stage.name}\``,
            names.length > 0
              ? `one of ${oneOf(names.map((n) => `${ref.root}.${n}`))}`
              : `\`{${ref.root}}\` (the ${ref.root} are not named)`,
            didYouMean(ref.field, names),
          );
        }
      }
      continue;
    }
    const v = vars.get(ref.root);
    if (v === undefined) {
      const owner = [...workflow.stages.values()].find((s) => s !== stage && s.fanout.vars.some((x) => x.name === ref.root));
      fail(
        `\`${shown}\` refers to nothing: stage \`${stage.name}\` has no foreach variable \`${ref.root}\``,
        `one of ${oneOf(roots.map((r) => (r === "params" ? "{params.name}" : `{${r}}`)))}`,
        portedHint(ref.root, ref.field, vars, workflow) ??
          didYouMean(ref.root, roots) ??
          (owner
            ? `\`${ref.root}\` belongs to stage \`${owner.name}\`; add it to this stage's \`foreach\` too`
            : `add \`${ref.root}\` to the stage's \`foreach\``),
        "WFC205",
        ref.root,
      );
    } else if (ref.field !== undefined) {
      if (v.sheet === undefined) {
        fail(
          `\`${shown}\`: foreach variable \`${v.name}\` comes from a ${v.source}, not a sample sheet, so it has no columns`,
          `\`{${v.name}}\``,
          undefined,
        );
      } else if (!v.sheet.columns.includes(ref.field)) {
        // The header of a sheet outside the workflow's folder is someone else's file: not quoted.
        fail(
          `\`${shown}\`: the sample sheet of \`${v.name}\` has no column \`${ref.field}\``,
          v.sheet.outside
            ? "a column of its header row (not quoted: the file is outside the workflow's folder)"
            : `one of ${oneOf(v.sheet.columns.map((c) => `${v.name}.${c}`))}`,
          v.sheet.outside ? undefined : didYouMean(ref.field, v.sheet.columns),
        );
      }
    }
  }
}

/**
 * Snakemake's placeholders, as a port brings them along, and what they are
 * in wfc: a suggestion to add `wildcards` to the foreach would mislead.
 */
function portedHint(root: string, field: string | undefined, vars: ReadonlyMap<string, FanVar>, workflow: Workflow): string | undefined {
  // `{input}`, `{output}`: did-you-mean already says `{inputs}`, `{outputs}`.
  if (root === "threads" && field === undefined)
    return "Snakemake's `{threads}` is `{cpus}` in wfc: the stage's `cpus`, as many as the executor gives";
  if (field === undefined) return undefined;
  if (root === "wildcards")
    return vars.has(field)
      ? `Snakemake's \`{wildcards.${field}}\` is \`{${field}}\` in wfc`
      : `Snakemake's \`{wildcards.${field}}\` is \`{${field}}\` in wfc: add \`${field}\` to the stage's \`foreach\``;
  if (root === "config")
    return workflow.params.has(field)
      ? `Snakemake's \`{config.${field}}\` is \`{params.${field}}\` in wfc`
      : `Snakemake's \`{config.${field}}\` is \`{params.${field}}\` in wfc: define \`${field}\` under \`params\``;
  return undefined;
}
