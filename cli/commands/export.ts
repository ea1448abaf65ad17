import { relative, resolve } from "node:path";
import type { Plan } from "../../contract/plan.js";
import { ExportError, writeExport } from "../../runtime/slurm/export.js";
import { clusterMaxArraySize } from "../../runtime/slurm/cluster.js";
import { slurmLayout, type SlurmLayout } from "../../contract/slurm-layout.js";
import { errorLine, ExitCode, isQuiet, status, warningLine, type Io } from "../io.js";
import { planFor, type PlanSource } from "./plan-for.js";

export interface ExportCommandOptions extends PlanSource {
  readonly output?: string;
  readonly dryRun: boolean;
  readonly maxArraySize?: number;
  readonly licenses: boolean;
  /** `--latency-wait`: seconds a job waits for its outputs once its commands exit 0. */
  readonly latencyWait?: number;
}

/** `wfc export slurm FILE -o DIR`: the whole workflow as chained job arrays. */
export async function exportSlurmCommand(file: string, options: ExportCommandOptions, io: Io): Promise<number> {
  if (options.output === undefined && !options.dryRun) {
    io.stderr.write("wfc: error: say where the export goes with -o DIR (or look first with --dry-run)\n");
    return ExitCode.invalid;
  }
  const planned = await planFor(file, options, io);
  if (typeof planned === "number") return planned;
  const maxArraySize = options.maxArraySize ?? clusterMaxArraySize();
  const layout = slurmLayout(planned.plan, {
    ...(maxArraySize !== undefined ? { maxArraySize } : {}),
    ...(options.licenses ? {} : { licenses: false }),
  });
  if (!options.dryRun) {
    try {
      await writeExport(planned.plan, layout, {
        planDir: planned.planDir,
        dir: resolve(io.cwd, options.output!),
        shown: options.output!,
        onWarning: (message) => {
          if (!isQuiet(io)) io.stderr.write(warningLine(message));
        },
        ...(options.latencyWait !== undefined ? { latencyWait: options.latencyWait } : {}),
      });
    } catch (error) {
      if (!(error instanceof ExportError)) throw error;
      io.stderr.write(errorLine(`${error.message}`));
      return ExitCode.invalid;
    }
  }
  io.stdout.write(
    shapeReport(planned.plan, layout, options.dryRun ? undefined : relative(io.cwd, resolve(io.cwd, options.output!)) || "."),
  );
  for (const note of lifetimeNotes(planned.plan)) status(io, `note: ${note}\n`);
  return ExitCode.ok;
}

/**
 * What exported scripts do not do that `wfc run` does: removing temp outputs
 * needs to know when every job that reads one is done, and protecting an
 * output needs the journal to tell a rebuild from a first build.
 */
function lifetimeNotes(plan: Plan): string[] {
  const stages = (lifetime: "temp" | "protected") =>
    plan.tasks.flatMap((t) => t.steps.filter((s) => s.outputs.some((o) => o.lifetime === lifetime)).map((s) => `\`${s.stage}\``));
  const notes: string[] = [];
  const temp = stages("temp");
  if (temp.length > 0)
    notes.push(`the scripts leave temp outputs in place (${temp.join(", ")}); \`wfc run\` with a slurm executor removes them`);
  const kept = stages("protected");
  if (kept.length > 0)
    notes.push(`the scripts do not make protected outputs read-only (${kept.join(", ")}); \`wfc run\` with a slurm executor does`);
  return notes;
}

/** What is (or would be) submitted: sbatch calls, array sizes, throttles, licenses, dependencies. */
export function shapeReport(plan: Plan, layout: SlurmLayout, dir: string | undefined): string {
  const first = layout.expansions.filter((e) => e.submittedBy === null);
  const calls = layout.arrays.length + first.length;
  const arrays = `${layout.arrays.length} job array${layout.arrays.length === 1 ? "" : "s"}`;
  // With dynamic spaces, submit.sh submits what is known and an expansion job; the rest is submitted from the cluster.
  const what = first.length === 0 ? arrays : `${arrays} and ${first.length} expansion job${first.length === 1 ? "" : "s"}`;
  const later = layout.expansions.length === 0 ? "" : "; the rest is submitted from the cluster once known";
  const lines = [
    dir === undefined
      ? `${plan.name}: would submit ${what} in ${calls} sbatch call${calls === 1 ? "" : "s"} (MaxArraySize ${layout.maxArraySize})${later}`
      : `wrote ${dir}/: ${what}, ${calls} sbatch call${calls === 1 ? "" : "s"} (MaxArraySize ${layout.maxArraySize}); submit with ${dir}/submit.sh${later}`,
  ];
  const rows = [
    ...layout.arrays.map((a) => ({ name: a.name, size: `${a.size} job${a.size === 1 ? "" : "s"}`, a })),
    ...layout.expansions.map((e) => ({ name: e.name, size: "1 job", a: e })),
  ];
  const width = Math.max(0, ...rows.map((r) => r.name.length));
  const sizeWidth = Math.max(0, ...rows.map((r) => r.size.length));
  for (const { name, size, a } of rows) {
    const parts = [size.padEnd(sizeWidth)];
    if ("throttle" in a && a.throttle !== null) parts.push(`%${a.throttle}`);
    if ("licenses" in a && a.licenses.length > 0) parts.push(`licenses ${a.licenses.join(",")}`);
    for (const d of a.dependencies) parts.push(`${d.kind}:${d.on}`);
    if ("tasks" in a) {
      if (a.submittedBy !== null) parts.push(`after ${a.producers.join(",")}, submitted by ${a.submittedBy}`);
      parts.push(`then submits ${a.tasks.join(", ")}`);
    }
    lines.push(`  ${name.padEnd(width)}  ${parts.join("  ")}`.trimEnd());
  }
  if (layout.licenses.length > 0) lines.push(`the cluster's slurm.conf must have: Licenses=${layout.licenses.join(",")}`);
  for (const note of layout.notes) lines.push(`note: ${note}`);
  return lines.join("\n") + "\n";
}
