import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SourceFormat } from "../../compiler/source/document.js";

/** The repository's `samples/` folder, wherever vitest runs from. */
export const SAMPLES_DIR = fileURLToPath(new URL("../../samples/", import.meta.url));

/** The sample workflows the property tests mutate. */
export const SAMPLE_NAMES = ["qiime-search", "reads-split", "ruffus-jobs-limit", "scipion-steps"] as const;

export interface SampleFile {
  /** `qiime-search/workflow.yaml`, for test names. */
  readonly label: string;
  /** The sample's folder: files it names (`fn` modules, data) resolve here. */
  readonly dir: string;
  /** Absolute path of the workflow file. */
  readonly path: string;
  readonly format: Extract<SourceFormat, "yaml" | "toml">;
  readonly text: string;
}

/**
 * Reads the sample workflows that exist right now. Samples are written by
 * another engineer while these tests are; a missing one is skipped, so the
 * callers require at least one.
 */
export function loadSampleFiles(names: readonly string[] = SAMPLE_NAMES): SampleFile[] {
  const out: SampleFile[] = [];
  for (const name of names) {
    const dir = join(SAMPLES_DIR, name);
    for (const format of ["yaml", "toml"] as const) {
      const path = join(dir, `workflow.${format}`);
      if (!existsSync(path)) continue;
      out.push({ label: `${name}/workflow.${format}`, dir, path, format, text: readFileSync(path, "utf8") });
    }
  }
  return out;
}

/** Every folder under `samples/` that has both a `workflow.yaml` and a `workflow.toml`. */
export function samplesWithBothFormats(): string[] {
  if (!existsSync(SAMPLES_DIR)) return [];
  return readdirSync(SAMPLES_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .filter((name) => existsSync(join(SAMPLES_DIR, name, "workflow.yaml")) && existsSync(join(SAMPLES_DIR, name, "workflow.toml")))
    .sort();
}
