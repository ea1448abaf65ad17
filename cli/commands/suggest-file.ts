import { tomlKey, tomlValue } from "../../compiler/config/toml-text.js";
import { visible } from "../../compiler/diagnostics/visible.js";
import type { Source } from "../../runtime/suggest/measurements.js";
import { isSuggested, RULES, type Suggestion } from "../../runtime/suggest/rules.js";
import { shown as shownValue } from "../../compiler/passes/resources.js";

/**
 * The first line of every file `wfc suggest -o` writes: a file that starts
 * otherwise was not written by wfc, and is never overwritten without `--force`.
 */
export const SUGGEST_MARKER = "# Written by wfc suggest";

/**
 * The config file of suggestions: a header saying what it was measured
 * from, the rules and the date, then one `[resources.STAGE]` per stage
 * with a suggested value (every stage of a fused task gets the task's
 * values, so the stages still fuse), each value commented with its
 * measured figure and what the plan requested before.
 */
export function suggestedConfigText(
  suggestions: readonly Suggestion[],
  from: { readonly sources: readonly Source[]; readonly planFrom: string | undefined; readonly now: Date },
): string {
  // Paths are the user's: one line each, escaped, so none can end a comment and start TOML.
  const out = [
    `${SUGGEST_MARKER}: the resources each stage's jobs need, from what they used.`,
    "# wfc suggest -o may replace this file; it never replaces one without the line above.",
    "# Measured from:",
    ...from.sources.map((s) => `#   ${visible(s.path)} (${s.kind}, ${s.measured} measured record${s.measured === 1 ? "" : "s"})`),
    `# Requests before: ${from.planFrom === undefined ? "unknown" : visible(from.planFrom)}`,
    "# Rules:",
    `#   mem  = ${RULES.mem}`,
    `#   time = ${RULES.time}, per element`,
    `#   cpus = ${RULES.cpus}`,
    `# Date: ${from.now.toISOString()}`,
    "# These replace each stage's own mem, time and cpus. Stack this file on another config:",
    "#   wfc export slurm WORKFLOW --config THIS_FILE --config site.toml   (the first --config wins)",
  ];
  for (const s of suggestions) {
    const rows: [string, string][] = [];
    for (const key of ["mem", "time", "cpus"] as const) {
      const value = s[key];
      if (!isSuggested(value)) continue;
      const before = s.current === undefined ? "unknown" : s.current[key] === null ? "none" : shownValue(key, s.current[key]);
      const figure =
        key === "mem"
          ? `p95 peak RSS ${(value.p95 / 1024).toFixed(1)}M`
          : key === "time"
            ? `p95 wall ${value.p95.toFixed(2)}s`
            : `p95 CPU/wall ${value.p95.toFixed(2)}`;
      rows.push([
        `${key} = ${tomlValue(key === "cpus" ? value.value : shownValue(key, value.value))}`,
        `# ${figure} over ${value.measured} jobs; was ${before}`,
      ]);
    }
    if (rows.length === 0) {
      out.push("", `# ${s.stages.join(", ")}: too few measurements (${s.jobs} jobs), nothing suggested`);
      continue;
    }
    const width = Math.max(...rows.map(([code]) => code.length));
    for (const stage of s.stages) {
      out.push("", `[resources.${tomlKey(stage)}]${s.stages.length > 1 ? `  # fused in task ${s.task}: one request for the job` : ""}`);
      for (const [code, comment] of rows) out.push(`${code.padEnd(width)}  ${comment}`);
    }
  }
  return out.join("\n") + "\n";
}
