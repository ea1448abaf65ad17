import { mkdirSync, rmdirSync } from "node:fs";

/**
 * The folders a run writes into: made sure of once each (a fan-out of
 * 100,000 writes into a handful of them), with the ones this run created
 * remembered, since whatever is in those was made by this run's jobs.
 */
export class Folders {
  readonly #made = new Set<string>();
  readonly #created = new Set<string>();
  /** Log folders written to: one left empty (every job succeeded silently) is removed at the end. */
  readonly #logDirs = new Set<string>();

  /** Makes `dir` (and its parents) unless this run already did. */
  ensure(dir: string): void {
    if (this.#made.has(dir)) return;
    if (mkdirSync(dir, { recursive: true }) !== undefined) this.#created.add(dir);
    this.#made.add(dir);
  }

  /** Whether this run created `dir`: nothing in it was there before the run. */
  created(dir: string): boolean {
    return this.#created.has(dir);
  }

  ensureLogDir(dir: string): void {
    this.ensure(dir);
    this.#logDirs.add(dir);
  }

  /** Removes the log folders left empty. */
  tidy(): void {
    for (const dir of this.#logDirs) {
      try {
        rmdirSync(dir);
      } catch {
        // not empty, or gone: either way nothing to do
      }
    }
  }
}
