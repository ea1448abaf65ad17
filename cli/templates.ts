import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../contract/package-root.js";

/** The template `wfc init` writes without one named: the smallest sample with a stage per element and a step after all of them. */
export const DEFAULT_TEMPLATE = "scipion-steps";

/**
 * The samples shipped in the package that can start a project (`wfc init`):
 * each folder of samples/ with a workflow.yaml, the broken corpus aside. Kept
 * apart from the command so `--help` can list them without loading it.
 */
export function templateNames(): string[] {
  const samples = join(packageRoot(), "samples");
  if (!existsSync(samples)) return [];
  return readdirSync(samples, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== "invalid" && existsSync(join(samples, e.name, "workflow.yaml")))
    .map((e) => e.name)
    .sort();
}
