import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { copySample, repoRoot } from "../e2e/helpers.js";

const FIXTURE = join(repoRoot, "test/fixtures/qiime-search-static");

/**
 * A copy of samples/qiime-search in its static form from before issue 14
 * (`n_chunks` fixed up front, one split job per chunk): the SLURM export
 * tests use it for the shape of a static chunked fan-out, aftercorr for the
 * chunks and afterok for the gather. The sample itself now lets its split
 * decide how many chunks there are, which exports as an expansion job.
 */
export function copyStaticQiime(): string {
  const dir = copySample("qiime-search");
  copyFileSync(join(FIXTURE, "workflow.yaml"), join(dir, "workflow.yaml"));
  copyFileSync(join(FIXTURE, "split-chunk.mjs"), join(dir, "scripts/split-chunk.mjs"));
  return dir;
}

/** A fresh copy of a sample as the SLURM export tests know it: qiime-search in its static form (copyStaticQiime). */
export const copyExportSample = (sample: string): string => (sample === "qiime-search" ? copyStaticQiime() : copySample(sample));
