/**
 * What a run's up-to-date checks read of the file system: modification
 * times, each file looked at once while nothing runs, and (through the
 * same object) the folders listed, the files read and the globs walked,
 * recorded while the run could still turn out to be a no-op, so that the
 * next run can ask the same questions and, given the same answers, skip
 * the checks (memo.ts).
 *
 * A chunk a split wrote is an output of the split and an input of its map;
 * a mapped chunk is the map's output and the merge's input: without this,
 * a no-op re-run stats most files twice (140,000 stats for 80,000 files at
 * 10,000 samples). What a job may change is unknown until it ends (its
 * outputs, the files its pattern matched, a temp output removed after it),
 * so the cache is emptied whenever a job starts and whenever one ends
 * other than up to date: a check after any job has run looks again.
 */
import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, statSync, type Stats } from "node:fs";
import { isAbsolute, sep } from "node:path";
import { walkGlob } from "../../contract/glob.js";

/** One question a check asked besides an mtime, and its answer in a form that compares (see `answer` below). */
export interface Probe {
  readonly kind: "lstat" | "readdir" | "read" | "glob";
  /** An absolute path, or for `glob` the pattern (relative to the workdir). */
  readonly what: string;
  readonly answer: string;
}

/** The reads of the file system that decisions may make, besides mtimes: what listPattern and friends need. */
export interface FsReads {
  lstat(absolute: string): Stats | undefined;
  /** Throws as readdirSync does. */
  readdir(absolute: string): string[];
  /** Throws as readFileSync does. */
  readText(absolute: string): string;
}

export class Mtimes implements FsReads {
  readonly #workdir: string;
  /** By path relative to the workdir (as plans write them); undefined: the file is not there. */
  #known = new Map<string, number | undefined>();
  /** The other questions asked while no job has started; undefined once one has. */
  #probes: Probe[] | undefined = [];

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

  /** A job starts or ended: anything may have changed, and this run is no no-op. */
  forget(): void {
    this.#probes = undefined;
    if (this.#known.size > 0) this.#known = new Map();
  }

  lstat(absolute: string): Stats | undefined {
    const stat = lstatOf(absolute);
    this.#probes?.push({ kind: "lstat", what: absolute, answer: lstatAnswer(stat) });
    return stat;
  }

  readdir(absolute: string): string[] {
    return this.#asked(
      "readdir",
      absolute,
      () => readdirSync(absolute),
      (names) => digest(names.join("\0")),
    );
  }

  readText(absolute: string): string {
    return this.#asked("read", absolute, () => readFileSync(absolute, "utf8"), digest);
  }

  /** The paths under the workdir a glob matches, sorted (contract/glob.ts walkGlob). */
  async glob(pattern: string, signal: AbortSignal | undefined): Promise<string[]> {
    const found = await walkGlob(pattern, this.#workdir, signal);
    this.#probes?.push({ kind: "glob", what: pattern, answer: digest(found.join("\0")) });
    return found;
  }

  /**
   * Everything this run's checks read, when no job has started (nothing
   * it read can have been changed by it): each mtime as first read, and
   * every other question in the order asked. Undefined once a job started.
   */
  recorded(): { readonly mtimes: ReadonlyMap<string, number | undefined>; readonly probes: readonly Probe[] } | undefined {
    return this.#probes === undefined ? undefined : { mtimes: this.#known, probes: this.#probes };
  }

  /** Asks again: the answer a probe gets now (what `recorded` would say of it). */
  async answer(probe: Pick<Probe, "kind" | "what">, signal?: AbortSignal): Promise<string> {
    switch (probe.kind) {
      case "lstat":
        return lstatAnswer(lstatOf(probe.what));
      case "readdir":
        return tryAnswer(() => digest(readdirSync(probe.what).join("\0")));
      case "read":
        return tryAnswer(() => digest(readFileSync(probe.what, "utf8")));
      case "glob":
        return digest((await walkGlob(probe.what, this.#workdir, signal)).join("\0"));
    }
  }

  #asked<T>(kind: Probe["kind"], absolute: string, read: () => T, answer: (value: T) => string): T {
    let value: T;
    try {
      value = read();
    } catch (error) {
      this.#probes?.push({ kind, what: absolute, answer: failed(error) });
      throw error;
    }
    this.#probes?.push({ kind, what: absolute, answer: answer(value) });
    return value;
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

/** The file system itself, for callers outside a run (the SLURM side's listing). */
export const plainFs: FsReads = {
  lstat: lstatOf,
  readdir: (absolute) => readdirSync(absolute),
  readText: (absolute) => readFileSync(absolute, "utf8"),
};

function lstatOf(absolute: string): Stats | undefined {
  try {
    return lstatSync(absolute, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** Everything of an lstat a check may use (its kind, its times, its size): equal answers, equal checks. */
function lstatAnswer(stat: Stats | undefined): string {
  if (stat === undefined) return "-";
  const kind = stat.isDirectory() ? "d" : stat.isSymbolicLink() ? "l" : stat.isFile() ? "f" : "o";
  return `${kind}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.size}:${stat.ino}`;
}

function tryAnswer(answer: () => string): string {
  try {
    return answer();
  } catch (error) {
    return failed(error);
  }
}

function failed(error: unknown): string {
  return `!${(error as NodeJS.ErrnoException).code ?? "error"}`;
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("base64");
}
