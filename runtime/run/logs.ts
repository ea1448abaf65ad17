import { readFileSync, writeFileSync } from "node:fs";

/** Appends a line to a job's log; a log that cannot be written (a full disk) loses the line, not the run. */
export function appendLog(log: string, text: string): void {
  try {
    writeFileSync(log, text, { flag: "a" });
  } catch {
    // The summary and the job-end event still say it.
  }
}

/** The last lines of a job's log: its own words, for the summary. */
export function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, "utf8")
      .split("\n")
      .slice(-lines - 1)
      .join("\n")
      .trimEnd();
  } catch {
    return "";
  }
}
