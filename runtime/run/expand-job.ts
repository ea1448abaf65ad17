/**
 * A producer job's end, for the dynamic spaces it feeds (issue 14): per
 * element, what each deciding step decided (listed after it ran, or from
 * its journal record when up to date) and each `lines` file's values; then,
 * when the job settles, the dynamic tasks' blocks expand into elements
 * (Scheduler.expand), an `expand` event per block, and warnings for files
 * the producer did not write and elements that are gone since last time.
 */
import type { DynamicSpace } from "../../contract/plan.js";
import type { JobRef } from "../scheduler/scheduler.js";
import type { RunContext } from "./context.js";
import { decidedByLines, decidedByRecord, sourceKey, sourcesOf, type Decided } from "./expansion.js";
import type { Checked } from "./freshness.js";
import { RunSelection } from "./run-selection.js";
import { selectedIn } from "./select.js";

/** What settling a producer job adds: `apply` expands, reports and emits, once, right before the job finishes. */
export interface JobExpansion {
  apply(): void;
}

export type ExpansionResult =
  { readonly ok: true; readonly value: JobExpansion | undefined } | { readonly ok: false; readonly reason: string };

/** How many producer elements' unused files are reported one by one before the rest are only counted. */
const STALE_REPORTS = 5;

/**
 * The expansion of a job that ended well: `ran` holds what its deciding
 * units that ran decided (the rest come from the journal); `previously`,
 * what those units had decided before (their records before this run).
 */
export function expansionOf(
  run: RunContext,
  ref: JobRef,
  units: readonly Checked[],
  ran: ReadonlyMap<Checked, Decided>,
  previously: ReadonlyMap<Checked, readonly (readonly string[])[] | undefined> = new Map(),
): ExpansionResult {
  const task = run.plan.tasks[ref.task]!;
  const deciding = task.steps.filter((s) => s.decides !== undefined);
  const sources = sourcesOf(run.plan.tasks, task);
  if (deciding.length === 0 && sources.length === 0) return { ok: true, value: undefined };
  const perElement: { element: number; steps: Map<string, string[][]>; sources: Map<string, string[][]> }[] = [];
  const notes: string[] = [];
  for (let e = ref.first; e < ref.end; e++) {
    const identity = run.expander.identity(ref.task, e);
    const unitOf = (stage: string) => units.find((u) => u.stage === stage && u.index === e);
    // A step a partial run leaves out of this element (select.ts) decides nothing in this run: what it would
    // expand is left out too (run-selection.ts), and an old record is no reason to make elements.
    const leftOut = (stage: string) => run.config.selection !== undefined && unitOf(stage) === undefined;
    const steps = new Map<string, string[][]>();
    for (const step of deciding) {
      if (leftOut(step.stage)) continue;
      const unit = unitOf(step.stage);
      const record = run.journal.get(step.stage, identity);
      let d = unit === undefined ? undefined : ran.get(unit);
      if (d === undefined) {
        if (record?.decided === undefined)
          return {
            ok: false,
            reason: `step \`${step.stage}\` of ${identity || "its element"} has no record of what it decided: run it again (--forcerun ${step.stage})`,
          };
        d =
          unit === undefined
            ? { ok: true, rows: record.decided.map((r) => [...r]), stale: [] }
            : decidedByRecord(run.workdir, unit, record.decided, record.end, run.mtimes);
      }
      if (!d.ok) return { ok: false, reason: d.reason };
      steps.set(step.stage, d.rows);
      const where = `${step.stage}${identity === "" ? "" : `[${identity}]`}`;
      if (d.stale.length > 0) notes.push(staleNote(where, d.stale));
      const before = unit === undefined ? undefined : previously.get(unit);
      if (before !== undefined) {
        const now = new Set(d.rows.map((r) => JSON.stringify(r)));
        const gone = before.filter((r) => !now.has(JSON.stringify(r)));
        if (gone.length > 0) notes.push(goneNote(where, step.decides!, gone));
      }
    }
    const bySource = new Map<string, string[][]>();
    for (const from of sources) {
      if (leftOut(from.step)) continue;
      if (from.kind === "files") {
        bySource.set(sourceKey(from), steps.get(from.step) ?? []);
        continue;
      }
      const unit = unitOf(from.step);
      const path = unit?.outputs[from.output]?.paths[0];
      if (path === undefined)
        return { ok: false, reason: `the lines of step \`${from.step}\`'s output ${from.output} are not known for ${identity}` };
      const d = decidedByLines(run.workdir, path, run.mtimes);
      if (!d.ok) return { ok: false, reason: d.reason };
      bySource.set(sourceKey(from), d.rows);
    }
    perElement.push({ element: e, steps, sources: bySource });
  }
  let applied = false;
  return {
    ok: true,
    value: {
      apply: () => {
        if (applied) return;
        applied = true;
        const elements = run.scheduler.elements;
        for (const note of notes) report(run, note);
        for (const { element, steps, sources: bySource } of perElement) {
          for (const [stage, rows] of steps) {
            elements.setDecided(ref.task, element, stage, rows);
            const decides = task.steps.find((st) => st.stage === stage)?.decides ?? [];
            if (run.config.selection instanceof RunSelection) run.config.selection.decided(ref.task, element, stage, decides, rows);
          }
          const added = run.scheduler.expand(ref.task, element, (dyn: DynamicSpace) => bySource.get(sourceKey(dyn.from)));
          const identity = run.expander.identity(ref.task, element);
          for (const a of added)
            run.emit({
              type: "expand",
              time: Date.now(),
              task: run.plan.tasks[a.task]!.id,
              from: task.id,
              element: identity,
              jobs: selectedIn(run.config.selection, a.task, a.first, a.end),
              elements: [a.first, a.end],
              more: (elements.dynamic(a.task)?.unexpanded ?? 0) > 0,
            });
        }
      },
    },
  };
}

/** Reports a note, the first few of a run one by one. */
function report(run: RunContext, note: string): void {
  const n = (reported.get(run.failures) ?? 0) + 1;
  reported.set(run.failures, n);
  if (n <= STALE_REPORTS) run.warn(note);
  else if (n === STALE_REPORTS + 1) run.warn("more producer elements left files unused or elements gone; not listed one by one");
}

/** Notes so far, per run (its failures list stands for it: the context is copied, the list is not). */
const reported = new WeakMap<object, number>();

function staleNote(where: string, stale: readonly string[]): string {
  const shown = stale.slice(0, 5).map((p) => JSON.stringify(p));
  if (stale.length > 5) shown.push(`and ${stale.length - 5} more`);
  const what = stale.length === 1 ? "a file matches" : `${stale.length} files match`;
  return `${where}: ${what} its output pattern that it did not write in this run: ${shown.join(", ")}; not used, left in place`;
}

function goneNote(where: string, vars: readonly string[], gone: readonly (readonly string[])[]): string {
  const shown = gone.slice(0, 5).map((r) => r.map((v, i) => `${vars[i]}=${JSON.stringify(v)}`).join(","));
  if (gone.length > 5) shown.push(`and ${gone.length - 5} more`);
  return `${where} decided fewer elements than last time: ${shown.join("; ")} ${gone.length === 1 ? "is" : "are"} gone; what was made from ${gone.length === 1 ? "it" : "them"} is left in place and never gathered`;
}
