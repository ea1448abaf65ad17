import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { StateError, layoutProblem, stateProblem } from "./state-problem.js";
import type { JobUsage } from "./usage.js";

/**
 * One unit of work that ended, as a line of `.wfc/journal.ndjson`: one step
 * (stage) of one element, named by the element's identity (its variables'
 * values: contract/identity.ts), never by a job number, so that reordering
 * or dropping elements leaves the others' records valid, and each step of a
 * fused job counts on its own.
 */
export interface JournalRecord {
  readonly stage: string;
  /** The element's identity (`s=a,chunk=3`; empty for a stage without variables). */
  readonly element: string;
  readonly status: "done" | "failed" | "touched";
  /** SHA-256 of what the step runs for this element (its command, its shell, its paths): a change makes it out of date. */
  readonly hash: string;
  readonly start: number;
  readonly end: number;
  readonly exitCode?: number | null;
  /**
   * A step that decides variables (issue 14), when done: the rows it
   * decided, in order (the values of its pattern outputs' holes, per file).
   * An up-to-date step expands from them.
   */
  readonly decided?: readonly (readonly string[])[];
  /**
   * Its step's fingerprint when the record was written (run/fingerprint.ts):
   * while the step's is the same, the record vouches for the command's
   * hash without the command being built again. Absent for a step without one.
   */
  readonly fp?: string;
  /**
   * A step with a software environment (issue 15): the environment it ran
   * in (runtime/environments/environments.ts's environmentText), and its
   * image's digest when the engine could tell: another digest now makes
   * the step out of date (`environment changed`).
   */
  readonly environment?: string;
  readonly digest?: string;
  /** What the step's command used (issue 16; ./usage.ts), when it ran and was measured. */
  readonly usage?: JobUsage;
  /** The run that wrote it (`.wfc/runs/<run>.json`; ./usage.ts's RunRecord). */
  readonly run?: string;
  /** Which attempt wrote it, from 1, when the stage has retries. */
  readonly attempt?: number;
}

/**
 * An append-only journal: each finished unit (a step of an element) is one
 * line, written synchronously as its job ends, so a crash or kill -9 of wfc
 * loses nothing already done. The last line for a unit wins.
 *
 * Lines of the older format (one per `task` and job number) are ignored:
 * they name elements by position, which is what this format ends. After an
 * upgrade every job therefore runs once more.
 *
 * A line can be torn (wfc killed mid-write, a full disk): the next record
 * then starts on a new line rather than being glued to it, and a glued
 * line already on disk (written by an older wfc) still gives up the whole
 * record at its end.
 */
export class Journal {
  readonly #path: string;
  readonly #stateDir: string;
  readonly #last = new Map<string, JournalRecord>();
  #fd: number | undefined;
  /** The file may end mid-line: the next record starts with a newline. */
  #torn = false;
  /** Records in the file, the superseded ones too. */
  #lines = 0;

  /** Throws a StateError (with the path and the fix) when the journal cannot be read or its folder made. */
  constructor(stateDir: string) {
    this.#stateDir = stateDir;
    this.#path = join(stateDir, "journal.ndjson");
    const layout = layoutProblem(stateDir);
    if (layout !== undefined) throw new StateError(layout);
    let text: string | undefined;
    try {
      mkdirSync(stateDir, { recursive: true });
      text = readFileSync(this.#path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new StateError(stateProblem(error, this.#path, stateDir));
    }
    // Logs without a journal are from a state that was deleted: they describe no job now.
    if (text === undefined) rmSync(join(stateDir, "logs"), { recursive: true, force: true });
    else {
      for (const line of text.split("\n")) {
        const r = parseLine(line);
        if (r === undefined) continue;
        this.#last.set(unitKey(r.stage, r.element), r);
        this.#lines++;
      }
      this.#torn = text !== "" && !text.endsWith("\n");
    }
  }

  /**
   * Rewrites the file with only the last record of each unit when most of
   * its lines are superseded (every run appends what it ran, so a journal
   * only grows), by writing a new file and renaming it over the old one:
   * a crash leaves one or the other whole. Only under the run's lock, before
   * anything is appended. A failure changes nothing: the journal stays as it was.
   */
  compact(): void {
    const live = this.#last.size;
    if (this.#fd !== undefined || this.#lines - live < Math.max(live, MIN_SUPERSEDED)) return;
    const fresh = `${this.#path}.new`;
    let fd: number | undefined;
    try {
      fd = openSync(fresh, "w");
      let chunk: string[] = [];
      const flush = () => {
        const bytes = Buffer.from(chunk.join(""));
        for (let at = 0; at < bytes.length;) at += writeSync(fd!, bytes, at);
        chunk = [];
      };
      for (const r of this.#last.values()) {
        chunk.push(`${JSON.stringify(r)}\n`);
        if (chunk.length >= 4096) flush();
      }
      flush();
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(fresh, this.#path);
      this.#lines = live;
      this.#torn = false;
    } catch {
      if (fd !== undefined) closeSync(fd);
      rmSync(fresh, { force: true });
    }
  }

  /** The last record of a step (stage) of an element (its identity). */
  get(stage: string, element: string): JournalRecord | undefined {
    return this.#last.get(unitKey(stage, element));
  }

  /**
   * Written before it returns (write(2) on a file kept open, repeated after
   * a short write), so a kill -9 right after loses nothing; a job's records
   * go in one write. Throws a StateError naming the cause (disk full, …)
   * when they cannot be written; they are then not counted.
   */
  append(...records: readonly JournalRecord[]): void {
    if (records.length === 0) return;
    const line = Buffer.from(`${this.#torn ? "\n" : ""}${records.map((r) => `${JSON.stringify(r)}\n`).join("")}`);
    try {
      this.#fd ??= openSync(this.#path, "a");
      let at = 0;
      while (at < line.length) {
        // Whatever part got out before an error may end the file mid-line.
        this.#torn = true;
        at += writeSync(this.#fd, line, at);
      }
    } catch (error) {
      throw new StateError(stateProblem(error, this.#path, this.#stateDir));
    }
    this.#torn = false;
    this.#lines += records.length;
    for (const r of records) this.#last.set(unitKey(r.stage, r.element), r);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Superseded records a journal may hold before `compact` rewrites it (besides as many as it has live ones). */
const MIN_SUPERSEDED = 10_000;

/** Neither part holds a NUL (an identity is %-encoded; a stage is a name). */
function unitKey(stage: string, element: string): string {
  return `${stage}\0${element}`;
}

/** Records start with the `stage` key (JSON.stringify keeps the order of JournalRecord's fields); the older format's with `task`. */
const RECORD_START = '{"stage":';

/**
 * One line's record: the whole line, or, when an earlier record was torn
 * and this one glued to it, the last whole record in it. Undefined for a
 * line that holds none (blank, or only the torn part).
 */
export function parseLine(line: string): JournalRecord | undefined {
  if (line.trim() === "") return undefined;
  for (let at = 0; at !== -1; at = line.indexOf(RECORD_START, at + 1)) {
    const r = record(line.slice(at));
    if (r !== undefined) return r;
  }
  return undefined;
}

function record(text: string): JournalRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<JournalRecord> | null;
    // A record of the older format (`task`, `job`) has no `stage`: ignored (see Journal).
    if (typeof r?.stage === "string" && typeof r.element === "string" && typeof r.hash === "string" && typeof r.status === "string")
      return r as JournalRecord;
  } catch {
    // Not a whole record from here.
  }
  return undefined;
}
