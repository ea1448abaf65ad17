import { dirname, resolve } from "node:path";
import type { Plan } from "../../contract/plan.js";
import { SHELL_ARGV } from "../executors/job.js";
import { simpleCommandArgv } from "../executors/simple-command.js";
import type { StepCommand } from "./expand.js";
import { shellQuote } from "../../contract/shell/quote.js";
import { patternFolder, patternText } from "../../contract/expansion.js";
import { environmentLines, type JobEnvironment } from "../environments/job-script.js";

/** The one argument an `fn` step's function receives: inputs, outputs (and logs, if any) in their declared shape, params, vars, env. */
export function fnArgs(c: StepCommand, plan: Plan): Record<string, unknown> {
  const shape = (list: StepCommand["inputs"]) => {
    // A pattern output (issue 14) is its pattern, `{var}` for each hole: the function writes the files it decides.
    const one = (x: StepCommand["inputs"][number]) =>
      x.pattern !== undefined ? patternText(x.pattern) : x.many || x.paths.length !== 1 ? x.paths : x.paths[0];
    if (list.length > 0 && list.every((x) => x.name !== null)) return Object.fromEntries(list.map((x) => [x.name, one(x)]));
    return list.length === 1 ? one(list[0]!) : list.map(one);
  };
  const log = c.logs.length > 0 ? { log: shape(c.logs) } : {};
  return { inputs: shape(c.inputs), outputs: shape(c.outputs), ...log, params: plan.params, vars: c.vars, env: c.env, stage: c.stage };
}

/**
 * One step of one element as a self-contained bash script, for places
 * without wfc's runner (a SLURM node, whose runner runs it with `bash -c`):
 * make the outputs' folders, export the step's environment, run the
 * command. A shell string runs as it does locally: a `shell: bash` one
 * (the default) in strict mode (`set -euo pipefail` first), a `shell: sh`
 * one with `exec /bin/sh -c COMMAND`, and one without shell syntax as it
 * is (strict mode could not change how it ends). An argv step becomes
 * quoted words (no shell interpretation, as locally); an `fn` step calls
 * `wfc fn` (`$WFC`, default `wfc` on PATH) with its argument as JSON.
 * A step with a software environment (issue 15) checks it on the node and
 * runs its command in it (environments/job-script.ts): `environment` says
 * where the job runs and with which engine, `k` is the step's place in its job.
 */
export function stepScript(
  c: StepCommand,
  plan: Plan,
  codeDir?: string,
  environment?: { readonly where: JobEnvironment; readonly k: number },
): string {
  const lines: string[] = [];
  const simple = c.kind !== "shell" || simpleCommandArgv(c.command!) !== null;
  const shell = c.shell ?? "sh";
  const wrapped = c.environment !== undefined && c.kind !== "fn";
  // A step must never run outside its environment.
  if (wrapped && environment === undefined) throw new Error(`stage \`${c.stage}\`: a step script with an environment needs where it runs`);
  if (!wrapped && !simple && shell === "bash") lines.push(`set ${SHELL_ARGV.bash.slice(1, -1).join(" ")}`);
  const folders = (o: StepCommand["outputs"][number]) => [
    ...o.paths.map((p) => dirname(p)),
    ...(o.pattern ? [patternFolder(o.pattern)] : []),
  ];
  const dirs = [...new Set([...c.outputs, ...c.logs].flatMap(folders))].filter((d) => d !== ".").sort();
  if (dirs.length > 0) lines.push(`mkdir -p -- ${dirs.map(shellQuote).join(" ")} || exit`);
  for (const [k, v] of Object.entries(c.env).sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`export ${k}=${shellQuote(v)}`);
  // shellcheck reads a directive before the first command as the whole script's.
  if (wrapped) {
    const [directive, ...rest] = environmentLines(c, environment!.where, environment!.k);
    return [directive!, ...lines, ...rest].join("\n");
  }
  const command = (text: string) => (simple || shell === "bash" ? text : `exec ${[...SHELL_ARGV.sh, text].map(shellQuote).join(" ")}`);
  if (c.kind === "shell") lines.push(command(c.command!));
  else if (c.kind === "argv") lines.push(c.argv!.map(shellQuote).join(" "));
  else {
    // The module is the workflow's, wherever the jobs run (`--directory`): absolute when its folder is known.
    const module = codeDir === undefined ? c.fn!.module : resolve(codeDir, c.fn!.module);
    lines.push(`"\${WFC:-wfc}" fn ${shellQuote(`${module}#${c.fn!.export}`)} ${shellQuote(JSON.stringify(fnArgs(c, plan)))}`);
  }
  return lines.join("\n");
}

/**
 * One job's step scripts as one line of a table for a SLURM array: the
 * base64 of the scripts, each NUL-terminated. Decoded on the node with
 * DECODE_STEPS, so no value is ever parsed by the shell that reads the table.
 */
export function encodeSteps(scripts: readonly string[]): string {
  return Buffer.from(scripts.map((s) => `${s}\0`).join(""), "utf8").toString("base64");
}

/** bash: reads line SLURM_ARRAY_TASK_ID + 1 of "$table" into the array `steps` (see encodeSteps). */
export const DECODE_STEPS = `line=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1)){p;q}" "$table")
mapfile -d '' -t steps < <(printf '%s' "$line" | base64 -d)`;
