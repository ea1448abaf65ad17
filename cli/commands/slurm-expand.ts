import { resolve } from "node:path";
import { expandWave } from "../../runtime/slurm/expand-job.js";
import { ExitCode, type Io } from "../io.js";

/**
 * `wfc __slurm-expand DIR PRODUCER` (hidden): an exported workflow's
 * expansion job, on a compute node. What it did goes to stdout, a failure's
 * cause to stderr (both end up in the job's log); exit 1 when it failed.
 */
export async function slurmExpandCommand(dir: string, producer: string, io: Io): Promise<number> {
  const result = await expandWave(resolve(io.cwd, dir), producer, io.env);
  const text = result.lines.map((l) => `${l}\n`).join("");
  if (result.ok) io.stdout.write(text);
  else io.stderr.write(text);
  return result.ok ? ExitCode.ok : ExitCode.jobFailed;
}
