import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Plan } from "../../contract/plan.js";
import { schemaValidator } from "../../contract/schema-validators.js";
import { planProblem } from "../load-plan.js";
import { parseLine, type JournalRecord } from "../state/journal.js";
import type { RunRecord } from "../state/usage.js";

/** A run as `wfc report` reads it: its RunRecord, the journal records it wrote, and how many steps it did not run. */
export interface LoadedRun {
  readonly run: RunRecord;
  /** The run's plan (`run.plan`), checked like a plan.json. */
  readonly plan: Plan;
  /** Every record this run wrote (`run === id`), retried attempts too, in journal order. */
  readonly records: readonly JournalRecord[];
  /** Steps (stage, element) in the journal that this run wrote nothing for: up to date, or not selected. */
  readonly notRun: number;
  /** The runs recorded in the folder, oldest first (for the message when `--run` names none of them). */
  readonly runs: readonly string[];
}

/** Why a run cannot be reported: a sentence naming the path, and what to do. */
export interface LoadProblem {
  readonly message: string;
  readonly suggestion: string;
}

export type LoadResult = { readonly ok: true; readonly value: LoadedRun } | { readonly ok: false; readonly problem: LoadProblem };

/** What a run record's file is called (runtime/state/usage.ts: `20261203T223600.123Z-<pid>`); nothing else in the folder is read. */
const RUN_FILE = /^(\d{8}T\d{6}(?:\.\d+)?Z-\d+)\.json$/;

/**
 * Reads `stateDir/runs/<id>.json` (the newest when `id` is undefined) and
 * the journal's records of that run. Reads only; never creates or removes
 * anything (the Journal class, which a run opens, tidies logs up).
 */
export function loadRun(stateDir: string, id: string | undefined): LoadResult {
  const runsDir = join(stateDir, "runs");
  let runs: string[];
  try {
    runs = readdirSync(runsDir)
      .map((f) => RUN_FILE.exec(f)?.[1])
      .filter((f): f is string => f !== undefined)
      .toSorted();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR")
      return fail(`cannot read ${runsDir}: ${code ?? String(error)}`, "check the folder's permissions");
    runs = [];
  }
  if (runs.length === 0)
    return fail(`no run recorded in ${runsDir}`, "run the workflow first (`wfc run workflow.yaml`), then `wfc report` in its folder");
  const chosen = id ?? runs.at(-1)!;
  if (!runs.includes(chosen))
    return fail(
      `no run \`${chosen}\` in ${runsDir}`,
      `the runs recorded there are: ${runs.slice(-5).join(", ")}${runs.length > 5 ? ` (and ${runs.length - 5} older)` : ""}`,
    );
  const path = join(runsDir, `${chosen}.json`);
  let run: RunRecord;
  try {
    run = JSON.parse(readFileSync(path, "utf8")) as RunRecord;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(`cannot read ${path}: ${code ?? (error as Error).message}`, "the file is damaged; report another run with `--run ID`");
  }
  const shape = runRecordProblem(run, chosen);
  if (shape !== undefined)
    return fail(`${path}: ${shape}`, "the file is damaged or from another program; report another run with `--run ID`");

  const journal = join(stateDir, "journal.ndjson");
  let text = "";
  try {
    text = readFileSync(journal, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") return fail(`cannot read ${journal}: ${code ?? String(error)}`, "check the file's permissions");
  }
  const records: JournalRecord[] = [];
  const ran = new Set<string>();
  const units = new Set<string>();
  for (const line of text.split("\n")) {
    const r = parseLine(line);
    if (r === undefined) continue;
    const unit = `${r.stage}\0${r.element}`;
    units.add(unit);
    if (r.run !== chosen) continue;
    records.push(r);
    ran.add(unit);
  }
  return { ok: true, value: { run, plan: run.plan as Plan, records, notRun: units.size - ran.size, runs } };
}

function fail(message: string, suggestion: string): LoadResult {
  return { ok: false, problem: { message, suggestion } };
}

/** What a RunRecord lacks that the report needs; undefined when it has it. */
function runRecordProblem(run: unknown, id: string): string | undefined {
  if (typeof run !== "object" || run === null) return "not a run record (expected a JSON object)";
  const r = run as Partial<Record<keyof RunRecord, unknown>>;
  if (r.id !== id) return `its id is ${JSON.stringify(r.id)}, not ${JSON.stringify(id)}`;
  if (typeof r.start !== "number") return "it has no `start` time";
  if (!Array.isArray(r.argv) || typeof r.host !== "object" || r.host === null || typeof r.params !== "object" || r.params === null)
    return "it lacks `argv`, `host` or `params`";
  const validate = schemaValidator("plan.schema.json");
  if (!validate(r.plan)) return "its `plan` is not a valid wfc plan (of this wfc's plan version)";
  const broken = planProblem(r.plan as Plan);
  return broken === undefined ? undefined : `its \`plan\` is not a valid wfc plan: ${broken}`;
}
