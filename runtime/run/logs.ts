import { createHash } from "node:crypto";
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

/**
 * A job's log's file name in `.wfc/logs/<task>/`, from its elements'
 * identities (contract/identity.ts), never their numbers: `s=a.log` for one
 * element, `s=a+2.log` for a batch of it and 2 more, `_.log` for a stage
 * without variables. An identity is already a safe name (its values are
 * %-encoded: no `/`, no newline, never `.` or `..`); one too long for a file
 * name becomes its start, `~` and a hash of all of it. `+` and `~` never
 * occur in an identity, so no two jobs' names collide.
 */
export function logFileName(first: string, count: number): string {
  let name = first === "" ? "_" : first;
  if (name.length > MAX_IDENTITY_IN_NAME)
    name = `${name.slice(0, MAX_IDENTITY_IN_NAME - 34)}~${createHash("sha256").update(first).digest("hex").slice(0, 32)}`;
  return `${name}${count > 1 ? `+${count - 1}` : ""}.log`;
}

/** Well under NAME_MAX (255 bytes) with the batch count and `.log` added. */
const MAX_IDENTITY_IN_NAME = 200;
