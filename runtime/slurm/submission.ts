/**
 * The folder of one array submitted by `wfc run` (`.wfc/slurm/TASK.CHUNK.N/`):
 * what wfc writes before sbatch (each index's step scripts and log path, the
 * script every element runs) and what the elements write back (when they
 * started, how they ended).
 */
import { mkdirSync, readFileSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../../contract/shell/quote.js";
import { DECODE_STEPS, encodeSteps } from "../jobs/step-script.js";
import { MEASURE_FUNCTION } from "./measure-script.js";

/** Writes a submission's folder: line i of `table` and `logs` for array index i (empty for indices not in it), and `job.sh`. */
export function writeSubmission(
  dir: string,
  workdir: string,
  byIndex: ReadonlyMap<number, { readonly scripts: readonly string[]; readonly log: string }>,
): void {
  for (const sub of ["status", "started", "steps", "out", "usage"]) mkdirSync(join(dir, sub), { recursive: true });
  const last = Math.max(...byIndex.keys());
  const perIndex = (line: (w: { readonly scripts: readonly string[]; readonly log: string }) => string) =>
    Array.from({ length: last + 1 }, (_, i) => (byIndex.has(i) ? line(byIndex.get(i)!) : "")).join("\n") + "\n";
  writeFileSync(
    join(dir, "table"),
    perIndex((w) => encodeSteps(w.scripts)),
  );
  // Log paths in base64 too: a folder name may hold anything but NUL.
  writeFileSync(
    join(dir, "logs"),
    perIndex((w) => Buffer.from(w.log).toString("base64")),
  );
  writeFileSync(join(dir, "job.sh"), elementScript(dir, workdir));
}

export interface Status {
  readonly start: number;
  readonly end: number;
  readonly code: number;
  readonly step: number;
}

/** When an element started, from its `started/INDEX` file (seconds since the epoch). */
export function readStarted(file: string): number | null {
  try {
    const at = Number(readFileSync(file, "utf8").trim());
    return Number.isFinite(at) && at > 0 ? at * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * How many of an element's steps succeeded, from its `steps/INDEX` file
 * (written after each step of a job of several): the step SLURM stopped it
 * in when it wrote no status line. 0 when it says nothing.
 */
export function readStepsDone(file: string): number {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** The status line an element writes when its commands are done: `start end code step` (seconds since the epoch). */
export function readStatus(file: string): Status | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return null;
  }
  const [start, end, code, step] = text.trim().split(" ").map(Number);
  if (![start, end, code, step].every((n) => Number.isFinite(n))) return null;
  return { start: start! * 1000, end: end! * 1000, code: code!, step: step! };
}

/**
 * The script every element of a submission runs: its output goes to wfc's
 * per-job log (listed per index in `logs`), its commands come from `table`,
 * its result goes to `status/INDEX`, written whole (rename) at the end.
 */
export function elementScript(dir: string, workdir: string): string {
  return `#!/bin/bash
# Written by \`wfc run\` for one SLURM array: element i runs line i + 1 of ./table.
# shellcheck disable=SC2016 # the folders below are single-quoted on purpose
set -uo pipefail
submission=${shellQuote(dir)}
i=$SLURM_ARRAY_TASK_ID
log=$(sed -n "$((i + 1)){p;q}" "$submission/logs" | base64 -d)
exec >>"$log" 2>&1
start=$(date +%s.%N)
printf '%s\\n' "$start" > "$submission/started/$i"
table="$submission/table"
${DECODE_STEPS}
# What each step used (issue 16): a line per step in usage/INDEX (see runtime/slurm/measure-script.ts).
${MEASURE_FUNCTION}
usage="$submission/usage/$i"
: > "$usage"
cd -- ${shellQuote(workdir)} || exit 2
# SLURM ending the element (scancel, its time limit) signals this script and its step alike: a step killed that way
# is no result of its own, so no status line is written (the script ends by the signal, as without the trap, once the
# step has) and wfc asks SLURM how the element ended.
ended=0
trap 'ended=1' TERM
code=0
step=0
for script in "\${steps[@]}"; do
  wfc_measured "$usage" "$BASH" -c "$script" || { code=$?; break; }
  step=$((step + 1))
  # How many steps succeeded, for an element SLURM ends before its status line (a fused job keeps those steps).
  if [ "\${#steps[@]}" -gt 1 ]; then printf '%s\\n' "$step" > "$submission/steps/$i"; fi
done
rm -f -- "$usage.part"
if [ "$code" -eq 0 ]; then step=0; fi
# A step killed by a signal may be SLURM ending the element, whose TERM reaches this script a moment later (the
# cluster signals the element's processes one by one): wait for it (the trap cuts the wait short) before writing a result.
if [ "$code" -gt 128 ] && [ "$ended" -eq 0 ]; then
  sleep 2 &
  wait $! || true
fi
if [ "$ended" -eq 1 ]; then trap - TERM; kill -TERM $$; fi
printf '%s %s %s %s\\n' "$start" "$(date +%s.%N)" "$code" "$step" > "$submission/status/.$i"
mv -f "$submission/status/.$i" "$submission/status/$i"
exit "$code"
`;
}

/** Array indices as SLURM's compact list: `0-3,7,9-10`. */
export function indexList(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * Where the file system tells (inotify: a local or cluster-local disk), an
 * element's start and end are seen the moment its script writes them;
 * polling stays for everything else (and for NFS, which does not tell).
 */
export function watchSubmission(dir: string, onFile: (sub: "started" | "status", index: number) => void): FSWatcher[] {
  const watchers: FSWatcher[] = [];
  try {
    for (const sub of ["started", "status"] as const) {
      const watcher = watch(join(dir, sub), (_event, name) => {
        // `.INDEX` is a status line being written (renamed into place when whole).
        if (typeof name !== "string" || name.startsWith(".")) return;
        onFile(sub, Number(name));
      });
      watcher.on("error", () => watcher.close());
      watcher.unref();
      watchers.push(watcher);
    }
  } catch {
    // No watching here: polling sees everything, a little later.
  }
  return watchers;
}

/** Why an element failed when it wrote no status line: SLURM's state for it, or that SLURM forgot it. */
export function endedWithoutStatus(id: string, state: string | null, exit: { readonly signal: number } | null): string {
  return state === null
    ? `SLURM job ${id} left the queue without a result (purged before wfc saw it end, or its node lost it)`
    : `SLURM job ${id} ended ${state}${exit && exit.signal !== 0 ? ` (signal ${exit.signal})` : ""}`;
}
