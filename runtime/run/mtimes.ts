/**
 * The modification times a run's up-to-date checks read, each file looked
 * at once while nothing runs.
 *
 * A chunk a split wrote is an output of the split and an input of its map;
 * a mapped chunk is the map's output and the merge's input: without this,
 * a no-op re-run stats most files twice (140,000 stats for 80,000 files at
 * 10,000 samples). What a job may change is unknown until it ends (its
 * outputs, the files its pattern matched, a temp output removed after it),
 * so the cache is emptied whenever a job starts and whenever one ends
 * other than up to date: a check after any job has run looks again.
 */
import { statSync } from "node:fs";
import { isAbsolute, sep } from "node:path";

export class Mtimes {
  readonly #workdir: string;
  /** By path relative to the workdir (as plans write them); undefined: the file is not there. */
  #known = new Map<string, number | undefined>();

  constructor(workdir: string) {
    this.#workdir = workdir;
  }

  /** The file's mtime in ms, undefined when it is not there (or cannot be looked at). */
  get(path: string): number | undefined {
    if (this.#known.has(path)) return this.#known.get(path);
    // Plans write paths relative to the workdir; joining them by hand spares path.resolve's normalizing (the kernel does it).
    const m = mtimeOf(isAbsolute(path) ? path : `${this.#workdir}${sep}${path}`);
    this.#known.set(path, m);
    return m;
  }

  /** A job starts or ended: anything may have changed. */
  forget(): void {
    if (this.#known.size > 0) this.#known = new Map();
  }
}

/** A file's mtime in ms, looked at now; undefined when it is not there. */
export function mtimeOf(absolute: string): number | undefined {
  try {
    return statSync(absolute, { throwIfNoEntry: false })?.mtimeMs;
  } catch {
    return undefined;
  }
}
