import { resolve } from "node:path";
import { renderDot } from "../../compiler/render/dot.js";
import { renderMermaid } from "../../compiler/render/mermaid.js";
import { errorLine, ExitCode, status, type Io } from "../io.js";
import { loadPlan } from "../../runtime/load-plan.js";
import { writeFileAtomic } from "../write-file.js";

export type GraphFormat = "dot" | "mermaid";

export interface GraphCommandOptions {
  readonly format: GraphFormat;
  readonly output?: string;
}

/** `wfc graph PLAN [--format dot|mermaid] [-o FILE]`: 0 with a drawing, 2 when the plan cannot be used. */
export async function graphCommand(planPath: string, options: GraphCommandOptions, io: Io): Promise<number> {
  const loaded = await loadPlan(planPath, io.cwd);
  if (!loaded.ok) {
    io.stderr.write(errorLine(`${loaded.message}`));
    return ExitCode.invalid;
  }
  const text = options.format === "dot" ? renderDot(loaded.plan) : renderMermaid(loaded.plan);
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
  const n = loaded.plan.tasks.length;
  status(io, `${options.output}: ${options.format} graph of ${n} task${n === 1 ? "" : "s"}\n`);
  return ExitCode.ok;
}
