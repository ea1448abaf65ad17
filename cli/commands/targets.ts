/**
 * Targets of `wfc run` (`TARGET…`, `--until`, `--forcerun`) turned into a
 * selection of the plan's jobs (runtime/run/select.ts), or diagnostics
 * with a stable code and a did-you-mean for the ones that name nothing.
 */
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { didYouMean, oneOf } from "../../compiler/diagnostics/suggest.js";
import type { Plan } from "../../contract/plan.js";
import { unreachable } from "../../contract/unreachable.js";
import { select, VALUES_SHOWN, type Selection, type SelectRequest, type TargetProblem } from "../../runtime/run/select.js";

export type TargetsResult =
  { readonly ok: true; readonly selection: Selection | undefined } | { readonly ok: false; readonly diagnostics: Diagnostic[] };

export function selectTargets(plan: Plan, request: SelectRequest): TargetsResult {
  const selected = select(plan, request);
  if (selected.ok) return selected;
  return { ok: false, diagnostics: selected.problems.map(targetDiagnostic) };
}

const FORMS = "a stage, `stage[var=value,…]` or a path a stage writes";

/** One problem as a diagnostic: the first line names the target as typed. */
export function targetDiagnostic(p: TargetProblem): Diagnostic {
  const what = p.option === "target" ? `target \`${p.text}\`` : `\`${p.option} ${p.text}\``;
  const help = (text: string | undefined) => (text === undefined ? {} : { help: text });
  switch (p.kind) {
    case "syntax":
      return {
        severity: "error",
        code: "WFC261",
        message: `${what} is malformed: ${p.message}`,
        expected: p.option === "--forcerun" ? "a stage name" : FORMS,
      };
    case "unknown-stage":
      return {
        severity: "error",
        code: "WFC262",
        message:
          p.option === "target" && p.stage === p.text
            ? `${what} names no stage of this workflow, nor an output of one`
            : `${what} names no stage of this workflow`,
        expected: `one of ${oneOf(p.stages, "no stages are defined")}`,
        ...help(didYouMean(p.stage, p.stages)),
      };
    case "unknown-variable":
      return {
        severity: "error",
        code: "WFC263",
        message: `${what}: stage \`${p.stage}\` has no variable \`${p.variable}\``,
        expected: p.variables.length === 0 ? "no values: the stage has no `foreach`" : `one of ${oneOf(p.variables)}`,
        ...help(didYouMean(p.variable, p.variables)),
      };
    case "unknown-value":
      return {
        severity: "error",
        code: "WFC264",
        message: `${what}: no element of stage \`${p.stage}\` has ${p.variable}=${JSON.stringify(p.value)}`,
        expected: `one of ${oneOf(p.values.slice(0, VALUES_SHOWN))}${p.values.length > VALUES_SHOWN ? " (and more)" : ""}`,
        ...help(didYouMean(p.value, p.values)),
      };
    case "no-element":
      return {
        severity: "error",
        code: "WFC264",
        message: `${what}: no element of stage \`${p.stage}\` has all of these values`,
        help: "zipped variables go together: give one of them, or values of the same element",
      };
    case "unknown-path":
      return {
        severity: "error",
        code: "WFC265",
        message: `${what} is no output of any stage`,
        expected: FORMS,
        help:
          didYouMean(p.text.replace(/^\.\//, ""), p.outputs) ??
          "a path is relative to the workflow's folder, as the stage's `outputs` write it",
      };
    default:
      return unreachable(p);
  }
}
