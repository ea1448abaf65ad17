import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

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
 */
export class Journal {
  readonly #path: string;
  readonly #last = new Map<string, JournalRecord>();
  #fd: number | undefined;

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true });
    this.#path = join(stateDir, "journal.ndjson");
    // Logs without a journal are from a state that was deleted: they describe no job now.
    if (!existsSync(this.#path)) rmSync(join(stateDir, "logs"), { recursive: true, force: true });
    else {
      for (const line of readFileSync(this.#path, "utf8").split("\n")) {
        if (line.trim() === "") continue;
        try {
          const r = JSON.parse(line) as JournalRecord;
          this.#last.set(`${r.task}#${r.job}`, r);
        } catch {
          // A torn last line (killed mid-write) is skipped.
        }
      }
    }
  }

  get(task: string, job: number): JournalRecord | undefined {
    return this.#last.get(`${task}#${job}`);
  }

  /** Written before it returns (one write(2) on a file kept open), so a kill -9 right after loses nothing. */
  append(record: JournalRecord): void {
    this.#fd ??= openSync(this.#path, "a");
    writeSync(this.#fd, JSON.stringify(record) + "\n");
    this.#last.set(`${record.task}#${record.job}`, record);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
