import type { StepCommand } from "./expand.js";

/**
 * A step's command as the user reads it (`--dry-run`, the summary, a
 * failure's `command`) and as a job's hash covers it: the shell string, the
 * argv with quotes only where a word needs them, or the `fn` call with its
 * argument.
 */
export function describeStep(c: StepCommand): string {
  if (c.kind === "shell") return c.command!;
  if (c.kind === "argv") return c.argv!.map((a) => (/^[\w./:=@%+,-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
  return `fn ${c.fn!.module}#${c.fn!.export} ${JSON.stringify({ inputs: c.inputs, outputs: c.outputs, vars: c.vars })}`;
}
