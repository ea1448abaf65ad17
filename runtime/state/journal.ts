import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { StateError, layoutProblem, stateProblem } from "./state-problem.js";

/** One finished job, as a line of `.wfc/journal.ndjson`. */
export interface JournalRecord {
  readonly task: string;
  readonly job: number;
  readonly status: "done" | "failed" | "touched";
  /** SHA-256 of what the job runs: a changed command makes it out of date. */
  readonly hash: string;
  readonly start: number;
  readonly end: number;
  readonly exitCode?: number | null;
}

/**
 * An append-only journal: each finished job is one line, written
 * synchronously as it ends, so a crash or kill -9 of wfc loses nothing
 * already done. The last line for a job wins.
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
        if (r !== undefined) this.#last.set(`${r.task}#${r.job}`, r);
      }
      this.#torn = text !== "" && !text.endsWith("\n");
    }
  }

  get(task: string, job: number): JournalRecord | undefined {
    return this.#last.get(`${task}#${job}`);
  }

  /**
   * Written before it returns (write(2) on a file kept open, repeated after
   * a short write), so a kill -9 right after loses nothing. Throws a
   * StateError naming the cause (disk full, …) when it cannot be written;
   * the record is then not counted.
   */
  append(record: JournalRecord): void {
    const line = Buffer.from(`${this.#torn ? "\n" : ""}${JSON.stringify(record)}\n`);
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
    this.#last.set(`${record.task}#${record.job}`, record);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Records start with the `task` key (JSON.stringify keeps the order of JournalRecord's fields). */
const RECORD_START = '{"task":';

/**
 * One line's record: the whole line, or, when an earlier record was torn
 * and this one glued to it, the last whole record in it. Undefined for a
 * line that holds none (blank, or only the torn part).
 */
function parseLine(line: string): JournalRecord | undefined {
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
    if (typeof r?.task === "string" && typeof r.job === "number" && typeof r.hash === "string" && typeof r.status === "string")
      return r as JournalRecord;
  } catch {
    // Not a whole record from here.
  }
  return undefined;
}
