/**
 * The expansion job of a SLURM export (`wfc __slurm-expand DIR PRODUCER`,
 * run on a compute node by expand/PRODUCER.sh once the producer's arrays
 * have ended ok): the part of `wfc export slurm` that could not be done at
 * export time. It lists what the producers' elements decided (decided.ts),
 * writes each dynamic task's element table, lays the workflow out again
 * with those counts (contract/slurm-layout.ts: the same arrays, `%k`,
 * licenses and dependencies a static plan of that shape would get), writes
 * the tables and scripts of this wave's arrays with the same Expander and
 * encoding as the export, submits them after the job ids in jobs.tsv, then
 * the next expansion. Its output is the job's log.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { commandCpus } from "../../contract/cpus.js";
import type { Plan } from "../../contract/plan.js";
import { dynamicWaves, patternSources, slurmLayout } from "../../contract/slurm-layout.js";
import { RunElements, type TaskElements } from "../scheduler/elements.js";
import { Expander, UnsafePathError } from "../jobs/expand.js";
import { staleInputsMessage } from "../jobs/stale-inputs.js";
import { loadPlan } from "../load-plan.js";
import { parseSbatchId } from "./parse.js";
import { decidedRows, DecidedError, type DecisionSource } from "./decided.js";
import { writeArray, type ExpansionSettings } from "./export.js";

/** What one expansion decided, for the expansions after it: `elements/expand.PRODUCER.json`. */
interface WaveFile {
  /** What each listed producer element's pattern output held (RunElements.setDecided). */
  readonly decided: { readonly task: number; readonly element: number; readonly step: string; readonly rows: string[][] }[];
  /** Each dynamic task's rows, per block. */
  readonly blocks: Record<string, string[][][]>;
}

export interface ExpandResult {
  readonly ok: boolean;
  /** What it did or why it failed, line by line, for the job's log. */
  readonly lines: readonly string[];
}

/** Runs the expansion of `producer`'s wave in the export `dir`. Never throws for a problem a user can fix. */
export async function expandWave(
  dir: string,
  producer: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<ExpandResult> {
  const lines: string[] = [];
  const fail = (why: string): ExpandResult => ({ ok: false, lines: [...lines, `wfc: expand.${producer}: ${why}`] });
  const loaded = await loadPlan(join(dir, "plan.json"));
  if (!loaded.ok) return fail(loaded.message);
  const plan = loaded.plan;
  let settings: ExpansionSettings;
  try {
    settings = JSON.parse(readFileSync(join(dir, "expansion.json"), "utf8")) as ExpansionSettings;
  } catch (error) {
    return fail(`cannot read expansion.json: ${(error as Error).message}`);
  }
  const { waves } = dynamicWaves(plan);
  const w = waves.findIndex((x) => x.producer === producer);
  if (w === -1) return fail(`no expansion follows \`${producer}\` in this export`);
  const wave = waves[w]!;
  const workdir = resolve(dir, settings.workdir);
  const index = new Map(plan.tasks.map((t, i) => [t.id, i]));
  const elements = new RunElements(plan);
  const apply = (file: WaveFile) => {
    for (const d of file.decided) elements.setDecided(d.task, d.element, d.step, d.rows);
    for (const [task, blocks] of Object.entries(file.blocks)) {
      const dyn = elements.dynamic(index.get(task)!)!;
      blocks.forEach((rows, b) => {
        if (!dyn.expanded[b]) dyn.expand(b, rows);
      });
    }
  };

  // What the earlier expansions decided, then this one's, listed now.
  const mine: WaveFile = { decided: [], blocks: {} };
  const leftAlone = new Map<string, string[]>();
  try {
    for (const earlier of waves.slice(0, w))
      apply(JSON.parse(readFileSync(join(dir, "elements", `expand.${earlier.producer}.json`), "utf8")) as WaveFile);
  } catch (error) {
    return fail(`cannot read what the earlier expansions decided: ${(error as Error).message}`);
  }
  try {
    for (const source of sourcesOf(plan, wave.tasks)) {
      const p = index.get(source.task.id)!;
      const ps = elements.of(p);
      const left = leftAlone.get(source.task.id) ?? [];
      leftAlone.set(source.task.id, left);
      const rowsOf: string[][][] = [];
      for (let k = 0; k < ps.size; k++) {
        const rows = await decidedRows(plan, source, k, ps.bindings(k), { workdir, exportDir: dir }, left);
        rowsOf.push(rows);
        if (source.kind === "files") mine.decided.push({ task: p, element: k, step: source.step, rows });
      }
      for (const d of source.dynamic) {
        const dyn = elements.dynamic(index.get(d)!)!;
        const per = dyn.dynamic.per;
        const byKey = new Map<string, number>();
        for (let k = 0; k < ps.size; k++) byKey.set(per.map((v) => ps.value(k, v) ?? "").join("\u0000"), k);
        const blocks: string[][][] = [];
        for (let b = 0; b < dyn.blocks.size; b++) {
          const k = byKey.get(per.map((v) => dyn.blocks.value(b, v) ?? "").join("\u0000"));
          // A block no producer element has the values of expands empty (as in `wfc run`).
          blocks.push(k === undefined ? [] : rowsOf[k]!);
        }
        mine.blocks[d] = blocks;
      }
    }
  } catch (error) {
    if (error instanceof DecidedError) return fail(error.message);
    throw error;
  }
  apply(mine);
  for (const [from, paths] of leftAlone) {
    if (paths.length === 0) continue;
    const shown = paths.slice(0, 5).map((x) => JSON.stringify(x));
    lines.push(
      `warning: ${paths.length} file${paths.length === 1 ? "" : "s"} matching the outputs of \`${from}\` ${paths.length === 1 ? "was" : "were"} there before its job and not written by it: left alone, not used: ${shown.join(", ")}${paths.length > 5 ? `, and ${paths.length - 5} more` : ""}`,
    );
  }
  writeFileSync(join(dir, "elements", `expand.${producer}.json`), `${JSON.stringify(mine)}\n`);
  const counts = new Map<string, number>();
  for (const earlier of waves.slice(0, w + 1))
    for (const t of earlier.tasks) if (elements.dynamic(index.get(t)!) !== undefined) counts.set(t, elements.of(index.get(t)!).size);
  for (const t of wave.tasks) {
    const n = counts.get(t);
    if (n !== undefined) lines.push(`${t}: ${n} element${n === 1 ? "" : "s"}`);
  }

  const layout = slurmLayout(plan, { maxArraySize: settings.maxArraySize, licenses: settings.licenses, expanded: counts });
  const name = `expand.${producer}`;
  const arrays = layout.arrays.filter((a) => a.wave === name);
  const warnings: string[] = [];
  const expander = new Expander(plan, workdir, {
    elements,
    onStale: (stale) => warnings.push(staleInputsMessage(stale)),
    cpus: (task) => commandCpus(task, { slurm: plan.executors[task.executor]?.slurm ?? {} }),
  });
  try {
    mkdirSync(join(dir, "tables"), { recursive: true });
    mkdirSync(join(dir, "arrays"), { recursive: true });
    for (const array of arrays)
      await writeArray(plan, array, expander, dir, settings.workdir, settings.latencyWait, (t) => elements.of(t).size);
  } catch (error) {
    if (error instanceof UnsafePathError) return fail(error.message);
    throw error;
  }
  for (const t of wave.tasks) {
    const i = index.get(t)!;
    if (elements.dynamic(i) !== undefined)
      writeFileSync(join(dir, "elements", `${t}.tsv`), elementTable(t, elements.of(i), layout.maxArraySize));
  }
  for (const warning of warnings) lines.push(`warning: ${warning}`);

  // Submit this wave's arrays, then the next expansion, each after the ids it waits for.
  const ids = jobIds(dir);
  const submit = async (
    job: string,
    dependencies: readonly { kind: string; on: string }[],
    script: string,
  ): Promise<string | undefined> => {
    const args = ["--parsable"];
    if (dependencies.length > 0) {
      const missing = dependencies.find((d) => !ids.has(d.on));
      if (missing !== undefined) {
        lines.push(`wfc: ${name}: jobs.tsv has no job id for ${missing.on}, which ${job} waits for`);
        return undefined;
      }
      args.push(`--dependency=${dependencies.map((d) => `${d.kind}:${ids.get(d.on)!}`).join(",")}`, "--kill-on-invalid-dep=yes");
    }
    args.push(script);
    const r = await execa("sbatch", args, {
      cwd: dir,
      env: submitEnv(env),
      extendEnv: false,
      reject: false,
      timeout: 60_000,
      stdin: "ignore",
    });
    const id = r.exitCode === 0 ? parseSbatchId(String(r.stdout)) : undefined;
    if (id === undefined) {
      const said = String(r.stderr).trim() || String(r.stdout).trim() || (r.shortMessage ?? "no output");
      lines.push(`wfc: ${name}: sbatch ${args.join(" ")} failed: ${said}`);
      if (r.exitCode === undefined || /not found|ENOENT/.test(said))
        lines.push("  (the cluster must allow submitting jobs from compute nodes: see the export's README.txt)");
      return undefined;
    }
    ids.set(job, id);
    appendFileSync(join(dir, "jobs.tsv"), `${job}\t${id}\n`);
    lines.push(`sbatch ${args.join(" ")}: ${id}`);
    return id;
  };
  for (const a of arrays)
    if ((await submit(a.name, a.dependencies, `arrays/${a.name}.sh`)) === undefined) return fail("nothing more was submitted");
  const next = layout.expansions.find((e) => e.submittedBy === name);
  if (next !== undefined && (await submit(next.name, next.dependencies, `expand/${next.producer}.sh`)) === undefined)
    return fail("nothing more was submitted");
  const known = wave.tasks.filter((t) => (counts.get(t) ?? 1) > 0);
  lines.push(
    `${name}: ${arrays.length} job array${arrays.length === 1 ? "" : "s"} submitted (${known.join(", ") || "nothing to run"})${next ? `, then ${next.name}` : ""}`,
  );
  return { ok: true, lines };
}

/**
 * What a wave's tasks read of producers' decisions, one entry per producer
 * output (in plan order): a dynamic space's source, or a pattern output a
 * task gathers; with the dynamic tasks it decides.
 */
function sourcesOf(plan: Plan, tasks: readonly string[]): (DecisionSource & { dynamic: string[] })[] {
  const out: (DecisionSource & { dynamic: string[] })[] = [];
  const add = (kind: "files" | "lines", task: string, step: string, output: number, dynamic?: string) => {
    let s = out.find((x) => x.task.id === task && x.step === step && x.output === output);
    if (s === undefined) out.push((s = { kind, task: plan.tasks.find((t) => t.id === task)!, step, output, dynamic: [] }));
    if (dynamic !== undefined) s.dynamic.push(dynamic);
  };
  for (const id of tasks) {
    const task = plan.tasks.find((t) => t.id === id)!;
    const dyn = task.space.dynamic;
    if (dyn !== undefined) add(dyn.from.kind, dyn.from.task, dyn.from.step, dyn.from.output, id);
    for (const from of patternSources(plan, task)) add("files", from.task, from.step, from.output);
  }
  const order = new Map(plan.tasks.map((t, i) => [t.id, i]));
  return out.sort((a, b) => order.get(a.task.id)! - order.get(b.task.id)!);
}

/** Array name → job id, from jobs.tsv (submit.sh's and the expansions' before this one). */
function jobIds(dir: string): Map<string, string> {
  const path = join(dir, "jobs.tsv");
  if (!existsSync(path)) return new Map();
  const rows = readFileSync(path, "utf8").trimEnd().split("\n").slice(1);
  return new Map(rows.map((r) => r.split("\t") as [string, string]));
}

/**
 * The environment the arrays are submitted with: this job's, without what
 * SLURM set for it (`SLURM_*` but the cluster's `SLURM_CONF`), so the
 * arrays get the environment submit.sh ran in, and sbatch reads no option
 * of this job (its memory, its cpus) as one of theirs.
 */
function submitEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && (!k.startsWith("SLURM_") || k === "SLURM_CONF")) out[k] = v;
  return out;
}

/** `elements/TASK.tsv`: which element (by identity, contract/identity.ts) each array index runs. */
function elementTable(task: string, elements: TaskElements, maxArraySize: number): string {
  const rows = ["array\tindex\telement"];
  for (let i = 0; i < elements.size; i++)
    rows.push(`${task}.${Math.floor(i / maxArraySize)}\t${i % maxArraySize}\t${elements.identity(i)}`);
  return rows.join("\n") + "\n";
}
