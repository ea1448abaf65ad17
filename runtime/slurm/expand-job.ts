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
import { ElementSpace, type Elements } from "../../contract/elements.js";
import { commandCpus } from "../../contract/cpus.js";
import { dynamicWaves, slurmLayout } from "../../contract/slurm-layout.js";
import { Expander, UnsafePathError } from "../jobs/expand.js";
import { staleInputsMessage } from "../jobs/stale-inputs.js";
import { loadPlan } from "../load-plan.js";
import { parseSbatchId } from "./parse.js";
import { decidedRows, DecidedError, DynamicElements } from "./decided.js";
import { writeArray, type ExpansionSettings } from "./export.js";

/** A dynamic task's rows per block, as an expansion writes them for the ones after it: `elements/TASK.json`. */
interface ElementsFile {
  readonly blocks: string[][][];
}

export interface ExpandResult {
  readonly ok: boolean;
  /** What it did or why it failed, line by line, for the job's log. */
  readonly lines: readonly string[];
}

/** Runs the expansion of `producer`'s wave in the export `dir`. Never throws for a problem a user can fix. */
export async function expandWave(dir: string, producer: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<ExpandResult> {
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
  const workdir = resolve(dir, settings.workdir);
  const byId = new Map(plan.tasks.map((t) => [t.id, t]));

  // Rows of the dynamic tasks of earlier waves (their expansions wrote them), then this wave's, listed now.
  const rows = new Map<string, string[][][]>();
  const reported = new Set<string>();
  try {
    for (const wave of waves.slice(0, w))
      for (const t of wave.tasks)
        if (byId.get(t)!.space.dynamic !== undefined)
          rows.set(t, (JSON.parse(readFileSync(join(dir, "elements", `${t}.json`), "utf8")) as ElementsFile).blocks);
    for (const t of waves[w]!.tasks) {
      if (byId.get(t)!.space.dynamic === undefined) continue;
      const { blocks, leftAlone } = await decidedRows(plan, byId.get(t)!, workdir, dir);
      rows.set(t, blocks);
      const from = byId.get(t)!.space.dynamic!.from.task;
      if (leftAlone.length > 0 && !reported.has(from)) {
        reported.add(from);
        const shown = leftAlone.slice(0, 5).map((p) => JSON.stringify(p));
        lines.push(
          `warning: ${leftAlone.length} file${leftAlone.length === 1 ? "" : "s"} matching the outputs of \`${from}\` ${leftAlone.length === 1 ? "was" : "were"} there before its job and not written by it: left alone, not used: ${shown.join(", ")}${leftAlone.length > 5 ? `, and ${leftAlone.length - 5} more` : ""}`,
        );
      }
    }
  } catch (error) {
    if (error instanceof DecidedError) return fail(error.message);
    return fail(`cannot read what the earlier expansions wrote: ${(error as Error).message}`);
  }
  const spaces: Elements[] = plan.tasks.map((t) => {
    if (t.space.dynamic === undefined) return new ElementSpace(t.space);
    const known = rows.get(t.id);
    // A later wave's task: nothing of this wave reads it.
    return known === undefined ? { size: 0, bindings: () => new Map(), value: () => undefined } : new DynamicElements(t.space, known);
  });
  const counts = new Map([...rows.keys()].map((t) => [t, spaces[plan.tasks.findIndex((x) => x.id === t)]!.size]));
  for (const t of waves[w]!.tasks) {
    const elements = spaces[plan.tasks.findIndex((x) => x.id === t)]!;
    if (elements instanceof DynamicElements) {
      writeFileSync(join(dir, "elements", `${t}.json`), `${JSON.stringify({ blocks: rows.get(t)! } satisfies ElementsFile)}\n`);
      lines.push(`${t}: ${elements.size} element${elements.size === 1 ? "" : "s"}`);
    }
  }

  const layout = slurmLayout(plan, { maxArraySize: settings.maxArraySize, licenses: settings.licenses, expanded: counts });
  const name = `expand.${producer}`;
  const mine = layout.arrays.filter((a) => a.wave === name);
  const warnings: string[] = [];
  const expander = new Expander(plan, workdir, {
    spaces,
    onStale: (stale) => warnings.push(staleInputsMessage(stale)),
    cpus: (task) => commandCpus(task, { slurm: plan.executors[task.executor]?.slurm ?? {} }),
  });
  try {
    mkdirSync(join(dir, "tables"), { recursive: true });
    mkdirSync(join(dir, "arrays"), { recursive: true });
    for (const array of mine)
      await writeArray(plan, array, expander, dir, settings.workdir, settings.latencyWait, (t) => spaces[t]!.size);
  } catch (error) {
    if (error instanceof UnsafePathError) return fail(error.message);
    throw error;
  }
  for (const t of waves[w]!.tasks) {
    const elements = spaces[plan.tasks.findIndex((x) => x.id === t)]!;
    if (elements instanceof DynamicElements) writeFileSync(join(dir, "elements", `${t}.tsv`), elementTable(t, elements, layout.maxArraySize));
  }
  for (const warning of warnings) lines.push(`warning: ${warning}`);

  // Submit this wave's arrays, then the next expansion, each after the ids it waits for.
  const ids = jobIds(dir);
  const submit = async (job: string, dependencies: readonly { kind: string; on: string }[], script: string): Promise<string | undefined> => {
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
    const r = await execa("sbatch", args, { cwd: dir, env: submitEnv(env), extendEnv: false, reject: false, timeout: 60_000, stdin: "ignore" });
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
  for (const a of mine) if ((await submit(a.name, a.dependencies, `arrays/${a.name}.sh`)) === undefined) return fail("nothing more was submitted");
  const next = layout.expansions.find((e) => e.submittedBy === name);
  if (next !== undefined && (await submit(next.name, next.dependencies, `expand/${next.producer}.sh`)) === undefined)
    return fail("nothing more was submitted");
  const known = waves[w]!.tasks.filter((t) => byId.get(t)!.space.dynamic === undefined || counts.get(t)! > 0);
  lines.push(
    `${name}: ${mine.length} job array${mine.length === 1 ? "" : "s"} submitted (${known.join(", ") || "nothing to run"})${next ? `, then ${next.name}` : ""}`,
  );
  return { ok: true, lines };
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
function elementTable(task: string, elements: DynamicElements, maxArraySize: number): string {
  const rows = ["array\tindex\telement"];
  for (let i = 0; i < elements.size; i++) rows.push(`${task}.${Math.floor(i / maxArraySize)}\t${i % maxArraySize}\t${elements.identity(i)}`);
  return rows.join("\n") + "\n";
}

