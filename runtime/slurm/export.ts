import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { Expander, UnsafePathError } from "../jobs/expand.js";
import { staleInputsMessage } from "../jobs/stale-inputs.js";
import { commandCpus } from "../../contract/cpus.js";
import { shellQuote } from "../../contract/shell/quote.js";
import { DECODE_STEPS, encodeSteps, stepScript } from "../jobs/step-script.js";
import type { Plan, PlanTask } from "../../contract/plan.js";
import { slurmJobName, type SlurmArray, type SlurmLayout } from "../../contract/slurm-layout.js";

/** The file that marks a folder as a wfc export, so a later export may replace it. */
export const EXPORT_MARKER = ".wfc-export";

export interface ExportOptions {
  /** The folder the plan's `workdir` is relative to (plan.json's). */
  readonly planDir: string;
  /** Where the export goes; replaced whole if it is an earlier export. */
  readonly dir: string;
  /** How to name `dir` in messages (default: `dir`): what the user typed. */
  readonly shown?: string;
  /** Told what the export's gathers leave out (files on disk no producer writes: stale-inputs.ts), one line per input. */
  readonly onWarning?: (message: string) => void;
  /**
   * Seconds a job waits, after its commands exit 0, for its declared outputs
   * to appear on the shared file system before it fails for want of them
   * (`--latency-wait`; default 5, as for `wfc run` on SLURM). `WFC_LATENCY_WAIT`
   * in the job's environment overrides it at submit time.
   */
  readonly latencyWait?: number;
}

/** The default `--latency-wait` of an export: `wfc run`'s on SLURM. */
export const EXPORT_LATENCY_WAIT = 5;

/** A user-facing reason the export cannot be written. */
export class ExportError extends Error {}

/**
 * Writes the export: `arrays/NAME.sh` per array, `tables/NAME.tbl` with
 * each array index's commands, `submit.sh`, and `logs/` for SLURM's output.
 *
 * Per-element values never appear in a script: each line of a table is the
 * base64 of that job's step scripts, NUL-separated, decoded on the node
 * into a bash array, so any byte a path or value can hold arrives as it was
 * written. The folder is written beside its destination and renamed into
 * place: an export is there whole, or not at all.
 */
export async function writeExport(plan: Plan, layout: SlurmLayout, options: ExportOptions): Promise<void> {
  const dir = resolve(options.dir);
  const shown = options.shown ?? options.dir;
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new ExportError(`\`${shown}\` is a file, not a folder; choose another -o`);
    if (readdirSync(dir).length > 0 && !existsSync(join(dir, EXPORT_MARKER)))
      throw new ExportError(`\`${shown}\` exists and is not a wfc export; choose another -o, or remove it`);
  }
  const workdir = resolve(options.planDir, plan.workdir);
  mkdirSync(dirname(dir), { recursive: true });
  const temp = join(dirname(dir), `.${basename(dir)}.wfc-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  try {
    mkdirSync(join(temp, "arrays"), { recursive: true });
    mkdirSync(join(temp, "tables"));
    mkdirSync(join(temp, "logs"));
    const warn = options.onWarning;
    const expander = new Expander(plan, workdir, {
      onStale: warn && ((stale) => warn(staleInputsMessage(stale))),
      // Every job runs on SLURM here, with the cpus it asks for.
      cpus: (task) => commandCpus(task, { slurm: plan.executors[task.executor]?.slurm ?? {} }),
    });
    const index = new Map(plan.tasks.map((t, i) => [t.id, i]));
    // Jobs run from the workflow's folder, found from the export's: the two may move together.
    const toWorkdir = relative(dir, workdir) || ".";
    for (const array of layout.arrays) {
      const t = index.get(array.task)!;
      const task = plan.tasks[t]!;
      const lines: string[] = [];
      for (let job = array.first; job < array.first + array.size; job++) {
        const scripts: string[] = [];
        const outputs = new Set<string>();
        for (let e = job * task.batch; e < Math.min(task.space.size, (job + 1) * task.batch); e++)
          for (const step of task.steps) {
            const command = await expander.step(t, step, e);
            scripts.push(stepScript(command, plan));
            for (const o of command.outputs) for (const p of o.paths) outputs.add(p);
          }
        // The job's declared outputs follow its steps after an empty entry (a step script is never empty).
        lines.push(encodeSteps([...scripts, "", ...outputs]));
      }
      writeFileSync(join(temp, "tables", `${array.name}.tbl`), lines.join("\n") + "\n");
      const script = join(temp, "arrays", `${array.name}.sh`);
      writeFileSync(script, arrayScript(plan, task, array, toWorkdir, options.latencyWait ?? EXPORT_LATENCY_WAIT));
      chmodSync(script, 0o755);
    }
    const submit = join(temp, "submit.sh");
    writeFileSync(submit, submitScript(plan, layout));
    chmodSync(submit, 0o755);
    writeFileSync(join(temp, EXPORT_MARKER), `${plan.name}\n`);
    const old = `${temp}.old`;
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(temp, dir);
    rmSync(old, { recursive: true, force: true });
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    // A hand-edited plan's job that would write outside the workflow's folder: the plan is bad input.
    throw error instanceof UnsafePathError ? new ExportError(error.message) : error;
  }
}

function arrayScript(plan: Plan, task: PlanTask, array: SlurmArray, toWorkdir: string, latencyWait: number): string {
  const directives = [
    `--job-name=${slurmJobName(plan, array.task)}`,
    `--array=0-${array.size - 1}${array.throttle !== null ? `%${array.throttle}` : ""}`,
    "--output=logs/%x_%A_%a.out",
    ...(array.licenses.length > 0 ? [`--licenses=${array.licenses.join(",")}`] : []),
    ...array.options,
  ];
  const what = task.stages.length > 1 ? `stages ${task.stages.join(" → ")}, fused` : `stage ${task.stages[0]}`;
  return `#!/bin/bash
# wfc export of \`${plan.name}\`: ${what}, jobs ${array.first}-${array.first + array.size - 1} of ${task.jobs}
# (array index i runs job ${array.first} + i). Submitted by submit.sh from this
# export's folder; each job runs its commands from the workflow's folder.
${directives.map((d) => `#SBATCH ${d}`).join("\n")}
set -uo pipefail

export_dir=\${SLURM_SUBMIT_DIR:-.}
table="$export_dir/tables/${array.name}.tbl"
if [ ! -r "$table" ]; then
  echo "wfc: cannot read $table: submit with submit.sh from the export's folder" >&2
  exit 2
fi
# The job's commands: base64 of NUL-terminated scripts, so no value is ever parsed by this shell;
# after them an empty entry, then the paths of its declared outputs.
${DECODE_STEPS}
outputs=()
for ((k = 0; k < \${#steps[@]}; k++)); do
  if [ -z "\${steps[k]}" ]; then
    outputs=("\${steps[@]:k+1}")
    steps=("\${steps[@]:0:k}")
    break
  fi
done
cd -- "$export_dir/"${shellQuote(toWorkdir)} || exit 2
for step in "\${steps[@]}"; do
  # Each step is a bash script: strict mode (set -euo pipefail), or /bin/sh where its stage says shell: sh.
  "$BASH" -c "$step" || exit
done
# Exit 0 is not success unless every declared output is there. A shared file system may
# show a file written here late elsewhere: look again each second, up to the latency wait.
latency_wait=\${WFC_LATENCY_WAIT:-${Math.ceil(latencyWait)}}
case $latency_wait in '' | *[!0-9]*) latency_wait=${Math.ceil(latencyWait)} ;; esac
waited=0
while :; do
  missing=()
  for path in "\${outputs[@]}"; do
    [ -e "$path" ] || missing+=("$path")
  done
  [ "\${#missing[@]}" -eq 0 ] && exit 0
  [ "$waited" -lt "$latency_wait" ] || break
  sleep 1
  waited=$((waited + 1))
done
# %q: a path is shown quoted, its control characters escaped, never run or sent raw to a terminal.
printf 'wfc: exit 0 but it did not write %s declared output(s) (after waiting %s s):' "\${#missing[@]}" "$waited" >&2
printf ' %q' "\${missing[@]}" >&2
echo >&2
exit 1
`;
}

function submitScript(plan: Plan, layout: SlurmLayout): string {
  const v = (name: string) => `id_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  const lines: string[] = [];
  const needed = new Set(layout.arrays.flatMap((a) => a.dependencies.map((d) => d.on)));
  for (const a of layout.arrays) {
    const dependency =
      a.dependencies.length === 0
        ? ""
        : ` "--dependency=${a.dependencies.map((d) => `${d.kind}:$${v(d.on)}`).join(",")}" --kill-on-invalid-dep=yes`;
    const call = `submit ${shellQuote(a.name)}${dependency} arrays/${shellQuote(a.name)}.sh`;
    // Only the ids something waits for are kept.
    lines.push(needed.has(a.name) ? `${v(a.name)}=$(${call})` : `${call} > /dev/null`);
  }
  const licenses = layout.licenses.length > 0 ? `Licenses=${layout.licenses.join(",")}` : "";
  const calls = layout.arrays.length;
  return `#!/bin/bash
# Submits the wfc export of \`${plan.name}\`: ${layout.arrays.length} job array${layout.arrays.length === 1 ? "" : "s"}, each after those it
# depends on, and records their ids in jobs.tsv. --dry-run prints the sbatch
# calls without submitting.${licenses ? `\n# The cluster's slurm.conf must have: ${licenses}` : ""}
set -euo pipefail
cd -- "$(dirname -- "$0")"

dry_run=false
if [ "\${1:-}" = "--dry-run" ]; then dry_run=true; fi
if [ "$dry_run" = false ]; then printf 'array\\tjob_id\\n' > jobs.tsv; fi

# submit NAME SBATCH-ARGS...: prints the new job's id.
submit() {
  local name=$1
  shift
  if [ "$dry_run" = true ]; then
    echo "sbatch --parsable $*" >&2
    echo "<$name>"
    return
  fi
  local id
  id=$(sbatch --parsable "$@")
  id=\${id%%;*}
  printf '%s\\t%s\\n' "$name" "$id" >> jobs.tsv
  echo "$id"
}

${lines.join("\n")}
if [ "$dry_run" = true ]; then
  echo ${shellQuote(`${plan.name}: ${calls} sbatch call${calls === 1 ? "" : "s"} (dry run, nothing submitted)`)} >&2
else
  echo ${shellQuote(`${plan.name}: ${calls} sbatch call${calls === 1 ? "" : "s"}, ids in jobs.tsv`)} >&2
fi
`;
}
