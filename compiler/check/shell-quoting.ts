import type { DiagnosticCode } from "../diagnostics/codes.js";
import { unreachable } from "../../contract/unreachable.js";
import type { Workflow } from "../lower/ast.js";
import type { DiagnosticSink } from "../lower/sink.js";
import { refsOf } from "../lower/template.js";
import { shellContexts, type UnsafeContext, type UnsafeReason } from "../../contract/shell/context.js";

/**
 * A placeholder in a shell command must sit where wfc can quote its value:
 * unquoted, or inside the author's `"…"`, `'…'` or `$(…)`. Elsewhere no
 * quoting makes a value inert (backticks, here-documents, arithmetic, …):
 * each such placeholder is an error at its exact place in the string.
 * The runtime uses the same lexer to quote, so what passes here expands safely.
 */
export function checkShellQuoting(workflow: Workflow, sink: DiagnosticSink): void {
  for (const stage of workflow.stages.values()) {
    if (stage.action?.kind !== "shell") continue;
    const { template, path } = stage.action.command;
    // `{stage}` is a name wfc checked, pasted as text like the rest.
    const refs = refsOf(template).filter((r) => r.root !== "stage");
    const contexts = shellContexts(template.parts.map((p) => (p.kind === "text" ? p.text : p.root === "stage" ? stage.name : p)));
    contexts.forEach((context, i) => {
      if (context.kind !== "unsafe") return;
      const ref = refs[i]!;
      const shown = template.source.slice(ref.offset, ref.offset + ref.length);
      sink.error(codeOf(context.reason), `\`${shown}\` is ${context.detail}`, path, {
        within: { offset: ref.offset, length: ref.length, text: template.source },
        help: helpFor(context, shown),
      });
    });
  }
}

function codeOf(reason: UnsafeReason): DiagnosticCode {
  if (reason === "after-backslash" || reason === "after-dollar") return "WFC229";
  if (reason === "unfollowable") return "WFC230";
  return "WFC228";
}

function helpFor(context: UnsafeContext, shown: string): string {
  switch (context.reason) {
    case "backticks":
      return `use \`$(…)\` instead of backticks: wfc quotes \`${shown}\` inside it`;
    case "here-document":
      return `pass the value as an argument instead: \`printf '%s\\n' ${shown} | …\``;
    case "arithmetic":
      return `pass the value to a command that checks it, as in \`[ ${shown} -gt 0 ]\` (not \`[[ … ]]\`), or give a number in the workflow`;
    case "parameter-expansion":
      return `use \`${shown}\` as a word of its own, outside \`\${…}\``;
    case "comment":
      return "remove the placeholder from the comment";
    case "ansi-c-quote":
      return `use \`'…'\` or \`"…"\` around it (wfc quotes \`${shown}\` inside either), or no quotes`;
    case "evaluated":
      return "pass the value as an argument of the command itself, or through `env`, so that it is never code";
    case "after-backslash":
      return "remove the `\\`: wfc quotes the value, so nothing in it needs escaping";
    case "after-dollar":
      return `remove the \`$\`: \`${shown}\` is replaced by the value itself; for the shell variable, write \`\${${shown}}\``;
    case "unfollowable":
      return "simplify the command, or move the shell code into a script and pass the values as its arguments";
    default:
      return unreachable(context.reason);
  }
}
