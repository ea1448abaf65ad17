import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { Expander, UnsafePathError } from "../jobs/expand.js";
import { staleInputsMessage } from "../jobs/stale-inputs.js";
import { commandCpus } from "../../contract/cpus.js";
import { shellQuote } from "../../contract/shell/quote.js";
import { DECODE_STEPS, encodeSteps, stepScript } from "../jobs/step-script.js";
import { MEASURE_FUNCTION } from "./measure-script.js";
import type { Plan, PlanStep, PlanTask } from "../../contract/plan.js";
import { slurmJobName, type SlurmArray, type SlurmExpansion, type SlurmLayout } from "../../contract/slurm-layout.js";
import { packageRoot } from "../../contract/package-root.js";
import { jobEnvironment } from "../environments/job-script.js";
import { EnvironmentError } from "../../contract/environment.js";

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

/**
 * What an expansion job (expand-job.ts) needs besides plan.json, written
 * beside it in the export's folder as `expansion.json`.
 */
export interface ExpansionSettings {
  /** The workflow's folder, relative to the export's. */
  readonly workdir: string;
  readonly maxArraySize: number;
  readonly licenses: boolean;
  readonly latencyWait: number;
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
  const fused = fusedPatternRead(plan);
  if (fused !== undefined) throw new ExportError(fused);
  const workdir = resolve(options.planDir, plan.workdir);
  mkdirSync(dirname(dir), { recursive: true });
  const temp = join(dirname(dir), `.${basename(dir)}.wfc-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  try {
    mkdirSync(join(temp, "arrays"), { recursive: true });
    mkdirSync(join(temp, "tables"));
    mkdirSync(join(temp, "logs"));
    // What each job's steps used (issue 16): a file per array index, written by the array script.
    mkdirSync(join(temp, "usage"));
    const warn = options.onWarning;
    const expander = new Expander(plan, workdir, {
      onStale: warn && ((stale) => warn(staleInputsMessage(stale))),
      // Every job runs on SLURM here, with the cpus it asks for.
      cpus: (task) => commandCpus(task, { slurm: plan.executors[task.executor]?.slurm ?? {} }),
    });
    // Jobs run from the workflow's folder, found from the export's: the two may move together.
    const toWorkdir = relative(dir, workdir) || ".";
    const latencyWait = options.latencyWait ?? EXPORT_LATENCY_WAIT;
    for (const array of layout.arrays) await writeArray(plan, array, expander, temp, toWorkdir, latencyWait, undefined, workdir);
    if (layout.expansions.length > 0) writeExpansions(plan, layout, temp, toWorkdir, latencyWait);
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
    // A value an environment's command line cannot carry (contract/environment.ts) too.
    throw error instanceof UnsafePathError || error instanceof EnvironmentError ? new ExportError(error.message) : error;
  }
}

/**
 * A step that gathers the files a step fused before it decides: the job
 * lists them between its steps under `wfc run`, but an exported job's
 * commands are all written beforehand. Undefined when there is none.
 */
function fusedPatternRead(plan: Plan): string | undefined {
  for (const task of plan.tasks)
    for (const step of task.steps)
      for (const input of step.inputs)
        for (const from of input.from) {
          if (from.task !== task.id) continue;
          const producer = task.steps.find((s) => s.stage === from.step);
          if (producer !== undefined && isPattern(producer, from.output))
            return `stage \`${step.stage}\` gathers the files stage \`${from.step}\` decides, fused into one job: an exported job's commands are written before it runs; set \`fuse: false\` on \`${step.stage}\` to export it`;
        }
  return undefined;
}

/**
 * One array's table (a line per array index: its jobs' step scripts, then
 * its declared outputs) and script, into the export folder `dir`; written at
 * export time, or by an expansion job (expand-job.ts) for what becomes known later.
 */
export async function writeArray(
  plan: Plan,
  array: SlurmArray,
  expander: Expander,
  dir: string,
  toWorkdir: string,
  latencyWait: number,
  size: (task: number) => number = (t) => plan.tasks[t]!.space.size,
  workdir: string = resolve(dir, toWorkdir),
): Promise<void> {
  const t = plan.tasks.findIndex((x) => x.id === array.task);
  const task = plan.tasks[t]!;
  // A step in a software environment binds the workflow's folder by its path, and makes conda file environments in its .wfc/.
  const where = jobEnvironment(plan, task.executor, workdir, join(workdir, ".wfc"));
  const lines: string[] = [];
  for (let job = array.first; job < array.first + array.size; job++) {
    const scripts: string[] = [];
    const outputs = new Set<string>();
    for (let e = job * task.batch; e < Math.min(size(t), (job + 1) * task.batch); e++)
      for (const step of task.steps) {
        const command = await expander.step(t, step, e);
        scripts.push(stepScript(command, plan, undefined, { where, k: scripts.length }));
        // A pattern output (a step's `decides`) is not a path: the job writes 0..n files matching it.
        for (const [k, o] of command.outputs.entries()) if (!isPattern(step, k)) for (const p of o.paths) outputs.add(p);
      }
    // The job's declared outputs follow its steps after an empty entry (a step script is never empty).
    lines.push(encodeSteps([...scripts, "", ...outputs]));
  }
  writeFileSync(join(dir, "tables", `${array.name}.tbl`), lines.join("\n") + "\n");
  const script = join(dir, "arrays", `${array.name}.sh`);
  writeFileSync(script, arrayScript(plan, task, array, toWorkdir, latencyWait, Math.ceil(size(t) / task.batch)));
  chmodSync(script, 0o755);
}

/**
 * For a task whose steps decide a dynamic space: the array script marks
 * when its job started (`started/TASK.JOB`), so its expansion uses only the
 * files matching a pattern that the job made or changed (their ctime, which
 * no copy or archive can set back, is not before the mark) and reports the
 * others, left by an earlier run, without using them. Nothing for other tasks.
 */
function startMark(task: PlanTask, array: SlurmArray): string {
  if (!task.steps.some((s) => s.outputs.some((_, k) => isPattern(s, k)))) return "";
  return `# Files matching its pattern outputs that are older than this mark were not written by this job.
mark=$export_dir/started/${shellQuote(`${array.task}.`)}$((${array.first} + SLURM_ARRAY_TASK_ID))
mkdir -p -- "$export_dir/started" && touch -- "$mark" || exit 2
`;
}

/** Whether output `k` of a step names a variable the step decides (a pattern, contract/expansion.ts). */
function isPattern(step: PlanStep, k: number): boolean {
  const decides = step.decides ?? [];
  return decides.length > 0 && step.outputs[k]!.template.some((p) => typeof p !== "string" && "var" in p && decides.includes(p.var));
}

/**
 * For a plan with dynamic spaces: the plan and the settings the expansion
 * jobs lay out the rest with, `expand/PRODUCER.sh` per expansion, and
 * `elements/` for the element tables they write.
 */
function writeExpansions(plan: Plan, layout: SlurmLayout, dir: string, toWorkdir: string, latencyWait: number): void {
  mkdirSync(join(dir, "expand"));
  mkdirSync(join(dir, "elements"));
  writeFileSync(join(dir, "plan.json"), `${JSON.stringify(plan, null, 2)}\n`);
  const settings: ExpansionSettings = { workdir: toWorkdir, maxArraySize: layout.maxArraySize, licenses: layout.usesLicenses, latencyWait };
  writeFileSync(join(dir, "expansion.json"), `${JSON.stringify(settings, null, 2)}\n`);
  // The wfc that wrote the export runs its expansions, with this node: absolute paths, as the nodes see the same file system.
  writeFileSync(join(dir, "README.txt"), expansionReadme(plan, layout));
  const bin = join(packageRoot(), "dist", "cli", "bin.js");
  const wfc = existsSync(bin) ? bin : resolve(process.argv[1] ?? "wfc");
  for (const e of layout.expansions) {
    const script = join(dir, "expand", `${e.producer}.sh`);
    writeFileSync(script, expansionScript(plan, e, process.execPath, wfc));
    chmodSync(script, 0o755);
  }
}

/** What an export with expansion jobs needs of the cluster, and what happens without it. */
function expansionReadme(plan: Plan, layout: SlurmLayout): string {
  const waves = layout.expansions.map(
    (e) =>
      `  ${e.name}: after ${e.producers.join(", ")}; submits ${e.tasks.join(", ")}${e.submittedBy === null ? "" : ` (submitted by ${e.submittedBy})`}`,
  );
  return `wfc export of \`${plan.name}\`

Submit with ./submit.sh (--dry-run prints the sbatch calls). Some stages fan out
over what an earlier stage wrote, so their jobs are not known until it has run:
submit.sh submits what is known, and an expansion job (expand/PRODUCER.sh) after
each such producer lists what it wrote, writes the tables of the stages that
follow (tables/, arrays/, and elements/TASK.tsv: which element each array index
runs) and submits them, with their dependencies, from the cluster:

${waves.join("\n")}

The expansion jobs run in this order, each submitted by the one before it.

What the cluster must allow:
- sbatch from compute nodes (the expansion job submits the next arrays), and
- Node.js 20 on them, to run wfc: the one that wrote this export, at the paths in
  expand/*.sh; set WFC_NODE (node) and WFC_BIN (wfc's dist/cli/bin.js) when you
  run submit.sh to use others.
Where it does not, the expansion job fails and its log (logs/${slurmJobName(plan, "expand")}.PRODUCER_JOBID.out) says why:
nothing after that producer is submitted, and nothing downstream runs. Its
arrays' job ids are in jobs.tsv, the expansion jobs' too.

An expansion job asks for no time limit or resources of its own (only the
producer's partition, account and qos): it gets the partition's defaults, and
runs for seconds. An array it submits may wait for one
submit.sh submitted; SLURM must still know that job (MinJobAge, 300 s by
default, after it ended), else sbatch refuses and the expansion job fails saying so.
`;
}

/**
 * An expansion job: checks that this node can do what it must (sbatch, a
 * Node.js 20 to run wfc), so that where it cannot its log says why, then
 * runs `wfc __slurm-expand` (cli/commands/slurm-expand.ts).
 */
function expansionScript(plan: Plan, e: SlurmExpansion, node: string, wfc: string): string {
  const slurm = plan.executors[plan.tasks.find((t) => t.id === e.producer)!.executor]?.slurm ?? {};
  const where = ["partition", "account", "qos"].flatMap((k) => (typeof slurm[k] === "string" ? [`--${k}=${slurm[k] as string}`] : []));
  const directives = [`--job-name=${slurmJobName(plan, e.name)}`, "--output=logs/%x_%j.out", ...where];
  const after = e.producers.map((p) => `\`${p}\``).join(", ");
  const nothing = shellQuote(`nothing after ${e.producers.join(", ")} was submitted`);
  return `#!/bin/bash
# wfc export of \`${plan.name}\`: once ${after} ${e.producers.length === 1 ? "has" : "have"} run, lists what ${e.producers.length === 1 ? "it" : "they"} wrote, writes
# the tables of ${e.tasks.map((t) => `\`${t}\``).join(", ")} and submits them${e.submittedBy === null ? "" : ` (submitted by ${e.submittedBy})`}.
# It runs wfc on a compute node, which must be allowed to submit jobs (sbatch)
# and must have Node.js 20: WFC_NODE and WFC_BIN at submit time name others.
${directives.map((d) => `#SBATCH ${d}`).join("\n")}
set -uo pipefail

export_dir=\${SLURM_SUBMIT_DIR:-.}
node=\${WFC_NODE:-${shellQuote(node)}}
wfc=\${WFC_BIN:-${shellQuote(wfc)}}
host=\${HOSTNAME:-this node}
if ! command -v sbatch > /dev/null 2>&1; then
  echo "wfc: ${e.name}: there is no sbatch on $host: the cluster must allow submitting jobs from compute nodes;" ${nothing} >&2
  exit 1
fi
if ! "$node" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' > /dev/null 2>&1; then
  echo "wfc: ${e.name}: cannot run Node.js 20 as $node on $host (set WFC_NODE when you submit);" ${nothing} >&2
  exit 1
fi
if [ ! -r "$wfc" ]; then
  echo "wfc: ${e.name}: cannot read wfc at $wfc on $host (set WFC_BIN when you submit);" ${nothing} >&2
  exit 1
fi
exec "$node" "$wfc" __slurm-expand "$export_dir" ${shellQuote(e.producer)}
`;
}

function arrayScript(plan: Plan, task: PlanTask, array: SlurmArray, toWorkdir: string, latencyWait: number, jobs: number): string {
  const directives = [
    `--job-name=${slurmJobName(plan, array.task)}`,
    `--array=0-${array.size - 1}${array.throttle !== null ? `%${array.throttle}` : ""}`,
    "--output=logs/%x_%A_%a.out",
    ...(array.licenses.length > 0 ? [`--licenses=${array.licenses.join(",")}`] : []),
    ...array.options,
  ];
  const what = task.stages.length > 1 ? `stages ${task.stages.join(" → ")}, fused` : `stage ${task.stages[0]}`;
  return `#!/bin/bash
# wfc export of \`${plan.name}\`: ${what}, jobs ${array.first}-${array.first + array.size - 1} of ${jobs}
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
# What each step used (issue 16): a line per step in usage/NAME_INDEX (see wfc's runtime/slurm/measure-script.ts).
${MEASURE_FUNCTION}
usage=$export_dir/usage/${shellQuote(`${array.name}_`)}$SLURM_ARRAY_TASK_ID
: 2> /dev/null > "$usage" || true
${startMark(task, array)}cd -- "$export_dir/"${shellQuote(toWorkdir)} || exit 2
for step in "\${steps[@]}"; do
  # Each step is a bash script: strict mode (set -euo pipefail), or /bin/sh where its stage says shell: sh.
  wfc_measured "$usage" "$BASH" -c "$step" || { code=$?; rm -f -- "$usage.part"; exit "$code"; }
done
rm -f -- "$usage.part"
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
  const first = layout.expansions.filter((e) => e.submittedBy === null);
  const needed = new Set([...layout.arrays, ...first].flatMap((a) => a.dependencies.map((d) => d.on)));
  const jobs = [
    ...layout.arrays.map((a) => ({ name: a.name, dependencies: a.dependencies, script: `arrays/${shellQuote(a.name)}.sh` })),
    ...first.map((e) => ({ name: e.name, dependencies: e.dependencies, script: `expand/${shellQuote(e.producer)}.sh` })),
  ];
  for (const a of jobs) {
    const dependency =
      a.dependencies.length === 0
        ? ""
        : ` "--dependency=${a.dependencies.map((d) => `${d.kind}:$${v(d.on)}`).join(",")}" --kill-on-invalid-dep=yes`;
    const call = `submit ${shellQuote(a.name)}${dependency} ${a.script}`;
    // Only the ids something waits for are kept.
    lines.push(needed.has(a.name) ? `${v(a.name)}=$(${call})` : `${call} > /dev/null`);
  }
  const licenses = layout.licenses.length > 0 ? `Licenses=${layout.licenses.join(",")}` : "";
  const calls = jobs.length;
  const later =
    layout.expansions.length === 0
      ? ""
      : `\n# Then ${first.map((e) => e.name).join(", ")} (expand/) lists what its producer wrote and submits what follows from a
# compute node (the cluster must allow sbatch there, and wfc needs Node.js 20 there): see README.txt.`;
  return `#!/bin/bash
# Submits the wfc export of \`${plan.name}\`: ${layout.arrays.length} job array${layout.arrays.length === 1 ? "" : "s"}${first.length > 0 ? ` and ${first.length} expansion job${first.length === 1 ? "" : "s"}` : ""}, each after those it
# depends on, and records their ids in jobs.tsv. --dry-run prints the sbatch
# calls without submitting.${later}${licenses ? `\n# The cluster's slurm.conf must have: ${licenses}` : ""}
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
