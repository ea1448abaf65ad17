import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
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

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true });
    this.#path = join(stateDir, "journal.ndjson");
    if (existsSync(this.#path)) {
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

  append(record: JournalRecord): void {
    appendFileSync(this.#path, JSON.stringify(record) + "\n");
    this.#last.set(`${record.task}#${record.job}`, record);
  }
}
