import { posix } from "node:path";
import { describePathProblem, type GlobProblem } from "../../contract/paths.js";
import { shellQuote } from "../../contract/shell/quote.js";
import type { DataPath } from "../source/document.js";
import type { DiagnosticSink, ReportOptions } from "./sink.js";

/**
 * How to reach a folder outside the workflow's from inside it: for
 * `/data/reads/{s}.fq` or `../archive/run1.tar`, the link that brings the
 * folder in (`ln -s /data/reads reads`) and the path through it
 * (`reads/{s}.fq`). Undefined when the folder part is itself a pattern or a
 * template, or goes up and down (`a/../b`), where a suggestion would mislead.
 */
export function linkHint(path: string): { readonly command: string; readonly dir: string; readonly through: string } | undefined {
  const dir = posix.dirname(path);
  const name = posix.basename(dir);
  const segments = dir.split("/");
  const up = segments.findIndex((s) => s !== "..");
  const below = up === -1 ? [] : segments.slice(up);
  if (/[{}*?[\]]/.test(dir) || name === "" || name === "." || name === ".." || below.includes("..")) return undefined;
  return { command: `ln -s ${shellQuote(dir)} ${shellQuote(name)}`, dir, through: `${name}/${path.slice(dir.length + 1)}` };
}

/** WFC225: a glob (a foreach source or an input) that would search outside the workflow's folder. */
export function globOutside(
  subject: string,
  problem: GlobProblem,
  pattern: string,
  path: DataPath,
  sink: DiagnosticSink,
  options: { readonly input: boolean; readonly related?: ReportOptions["related"] },
): void {
  const hint = linkHint(pattern);
  const what = hint ? hint.dir : options.input ? "their folder" : "another folder";
  const how = hint ? `(\`${hint.command}\`) and glob \`${hint.through}\`` : "(`ln -s /data data`) and glob `data/...`";
  const help = options.input
    ? `list the files, or link ${what} into the workflow's folder ${how}`
    : `to search ${what}, link it into the workflow's folder ${how}`;
  sink.error("WFC225", `${subject} ${describePathProblem(problem)}, so it would search outside the workflow's folder`, path, {
    expected: "a pattern relative to the workflow's folder, without `..`",
    help,
    related: options.related ?? [],
  });
}
