import { createHash } from "node:crypto";
import type { StepCommand } from "./expand.js";
import { patternText } from "../../contract/expansion.js";
import { environmentText } from "../environments/environments.js";

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

/**
 * SHA-256 of what one step runs for one element, which the journal keeps:
 * any change makes the step out of date. It covers the command as
 * `describeStep` shows it, the shell that runs it (`bash` strict mode and
 * `sh` can end the same string differently), and the paths it reads and
 * writes (a gather that gets another set of files is not the same step),
 * and the software environment it runs in.
 */
export function stepHash(c: StepCommand): string {
  // A pattern output (issue 14) by its pattern: renaming the files a step decides is another step.
  const paths = (list: StepCommand["inputs"]) => list.map((x) => (x.pattern === undefined ? x.paths : [patternText(x.pattern)]));
  // `{cpus}` counts as the stage declares it, not as scaled to this machine (expand.ts).
  const what = [c.kind, c.kind === "shell" ? (c.shell ?? "sh") : null, c.declared ?? describeStep(c), paths(c.inputs), paths(c.outputs)];
  // Its software environment (issue 15): image reference, modules in order, conda spec; absent before it, so older hashes hold.
  if (c.environment !== undefined) what.push(environmentText(c.environment)!);
  return createHash("sha256").update(JSON.stringify(what)).digest("hex");
}
