import { resolve } from "node:path";
import { renderDotModel } from "../../compiler/render/dot.js";
import { jobGraphModel, jobGraphProblemText } from "../../compiler/render/jobs.js";
import { renderMermaidModel } from "../../compiler/render/mermaid.js";
import { graphModel } from "../../compiler/render/model.js";
import { errorLine, ExitCode, type Io } from "../io.js";
import { planFor, type PlanSource } from "./plan-for.js";
import { writeFileAtomic } from "../write-file.js";

export type GraphFormat = "dot" | "mermaid";

export interface GraphCommandOptions extends PlanSource {
  readonly format: GraphFormat;
  readonly output?: string;
  /** A legend of the edge kinds (on unless `--no-legend`). */
  readonly legend: boolean;
  /** One node per job instead of per task (`--jobs`), for small workflows. */
  readonly jobs: boolean;
}

/**
 * `wfc graph FILE [--format dot|mermaid] [--jobs] [--no-legend] [-o FILE]`, FILE
 * a plan or a workflow (compiled first, like `run`): 0 with a drawing, 2 when
 * the input cannot be used or the job graph is too big or not known yet.
 */
export async function graphCommand(file: string, options: GraphCommandOptions, io: Io): Promise<number> {
  const planned = await planFor(file, options, io);
  if (typeof planned === "number") return planned;
  const { plan } = planned;
  let model;
  let drawn: string;
  if (options.jobs) {
    const jobs = jobGraphModel(plan);
    if (!jobs.ok) {
      io.stderr.write(errorLine(jobGraphProblemText(jobs.problem)));
      return ExitCode.invalid;
    }
    model = jobs.model;
    drawn = `${jobs.jobs} job${jobs.jobs === 1 ? "" : "s"}`;
  } else {
    model = graphModel(plan);
    drawn = `${plan.tasks.length} task${plan.tasks.length === 1 ? "" : "s"}`;
  }
  const render = { legend: options.legend };
  const text = options.format === "dot" ? renderDotModel(model, plan.name, render) : renderMermaidModel(model, render);
  if (options.output === undefined) {
    io.stdout.write(text);
    return ExitCode.ok;
  }
  try {
    await writeFileAtomic(resolve(io.cwd, options.output), text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    io.stderr.write(errorLine(`cannot write \`${options.output}\`: ${code}`));
    return ExitCode.invalid;
  }
  io.stdout.write(`${options.output}: ${options.format} graph of ${drawn}\n`);
  return ExitCode.ok;
}
