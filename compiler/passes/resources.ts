import type { ConfigResources } from "../config/config.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import type { Stage, Workflow } from "../lower/ast.js";
import type { Note } from "./executors.js";

/** What config files contribute to a stage's resources: `[resources.STAGE]`. */
export interface ResourcesConfig {
  readonly resources?: ReadonlyMap<string, ConfigResources>;
}

/**
 * `[resources.STAGE]` replaces the stage's own `mem`, `time` and `cpus` (and
 * `defaults`'): a value measured by `wfc suggest` beats the guess written in
 * the workflow. Applied before fusion, which compares resources, so stages
 * the config gives the same values still fuse. A stage the workflow does
 * not have is a warning (WFC304) at the config's table: the file may be
 * meant for another workflow, or the stage renamed.
 */
export function applyResources(
  workflow: Workflow,
  config: ResourcesConfig | undefined,
): { workflow: Workflow; notes: Note[]; diagnostics: Diagnostic[] } {
  const notes: Note[] = [];
  const diagnostics: Diagnostic[] = [];
  const entries = config?.resources ?? new Map<string, ConfigResources>();
  if (entries.size === 0) return { workflow, notes, diagnostics };
  for (const [name, entry] of entries) {
    if (workflow.stages.has(name) || entry.origin.kind !== "file") continue;
    const help = didYouMean(name, workflow.stages.keys());
    diagnostics.push({
      severity: "warning",
      code: "WFC304",
      message: `\`[resources.${name}]\` names no stage of workflow \`${workflow.name}\`; it is ignored`,
      location: { file: entry.origin.file, ...(entry.origin.span !== undefined ? { span: entry.origin.span } : {}) },
      help: help ?? `remove the table, or name one of the workflow's stages (\`wfc suggest\` writes them for the workflow it measured)`,
    });
  }
  const stages = new Map<string, Stage>();
  for (const [name, stage] of workflow.stages) {
    const entry = entries.get(name);
    if (entry === undefined) {
      stages.set(name, stage);
      continue;
    }
    const { settings } = stage;
    const set: string[] = [];
    for (const key of ["mem", "time", "cpus"] as const) {
      const value = entry[key];
      if (value === undefined) continue;
      const before = settings[key];
      set.push(
        `${key} ${shown(key, value)}${before === value ? "" : ` (the workflow's: ${before === undefined ? "none" : shown(key, before)})`}`,
      );
    }
    if (set.length === 0) {
      stages.set(name, stage);
      continue;
    }
    const where =
      entry.origin.kind === "file" ? `${entry.origin.file}${entry.line === undefined ? "" : `:${entry.line}`}` : "the built-in config";
    notes.push({ topic: "resources", message: `\`${name}\`: ${set.join(", ")}, from ${where}` });
    stages.set(name, {
      ...stage,
      settings: {
        ...settings,
        ...(entry.mem !== undefined ? { mem: entry.mem } : {}),
        ...(entry.time !== undefined ? { time: entry.time } : {}),
        ...(entry.cpus !== undefined ? { cpus: entry.cpus } : {}),
      },
    });
  }
  return { workflow: { ...workflow, stages }, notes, diagnostics };
}

/** A request as a config file writes it: `384M`, `4G`, `2m`, `1h30m`, `45s`, `2` (mem in MB, time in seconds). */
export function shown(key: "mem" | "time" | "cpus", value: number): string {
  if (key === "cpus") return String(value);
  if (key === "mem") return value % 1024 === 0 ? `${value / 1024}G` : `${value}M`;
  let rest = Math.round(value);
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (rest >= size) parts.push(`${Math.floor(rest / size)}${unit}`);
    rest %= size;
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`);
  return parts.join("");
}
