import type { Part, Plan } from "../../contract/plan.js";
import { shellContexts, type ShellContext, type UnsafeContext } from "../../contract/shell/context.js";

/** The contexts of a shell template's placeholders, worked out once per template. */
const contextCache = new WeakMap<readonly Part[], ShellContext[]>();
export function contextsOf(parts: readonly Part[]): ShellContext[] {
  let contexts = contextCache.get(parts);
  if (contexts === undefined) contextCache.set(parts, (contexts = shellContexts(parts)));
  return contexts;
}

/** How a placeholder was written in the workflow: `{sample}`, `{params.n}`, `{inputs.reads}`. */
export function placeholderText(p: Exclude<Part, string>): string {
  if ("var" in p) return p.field === undefined ? `{${p.var}}` : `{${p.var}.${p.field}}`;
  if ("param" in p) return `{params.${p.param}}`;
  if ("cpus" in p) return "{cpus}";
  const root = "inputs" in p ? "inputs" : "outputs" in p ? "outputs" : "log";
  return p.name === undefined ? `{${root}}` : `{${root}.${p.name}}`;
}

export function describeUnsafe(p: Exclude<Part, string>, context: UnsafeContext): string {
  return `\`${placeholderText(p)}\` is ${context.detail}: no quoting of its value is safe there`;
}

/**
 * What makes a plan's commands unsafe to run, in one line, or undefined: a
 * placeholder where no quoting can hold (the compiler refuses these; a plan
 * edited by hand may still have one), or a param reference that is not in a
 * shell command (the compiler substitutes params as text everywhere else) or
 * names a param the plan does not define.
 */
export function unsafeCommand(plan: Plan): string | undefined {
  for (const task of plan.tasks) {
    for (const step of task.steps) {
      const shell = step.action.kind === "shell" ? step.action.command : [];
      const templates = [
        shell,
        ...(step.action.kind === "argv" ? step.action.argv : []),
        ...step.inputs.map((i) => i.template),
        ...step.outputs.map((o) => o.template),
        ...(step.logs ?? []).map((o) => o.template),
        ...Object.values(step.env),
      ];
      for (const parts of templates) {
        for (const p of parts) {
          if (typeof p === "string" || !("param" in p)) continue;
          if (parts !== shell) return `step \`${step.stage}\` has \`{params.${p.param}}\` outside its shell command`;
          if (!Object.hasOwn(plan.params, p.param))
            return `step \`${step.stage}\` uses \`{params.${p.param}}\`, which the plan does not define`;
        }
      }
      if (step.action.kind !== "shell") continue;
      const parts = step.action.command;
      const holes = parts.filter((p): p is Exclude<Part, string> => typeof p !== "string");
      const contexts = contextsOf(parts);
      const bad = contexts.findIndex((c) => c.kind === "unsafe");
      if (bad !== -1) return `step \`${step.stage}\`: ${describeUnsafe(holes[bad]!, contexts[bad] as UnsafeContext)}`;
    }
  }
  return undefined;
}
