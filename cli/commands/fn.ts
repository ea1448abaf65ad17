import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { errorLine, ExitCode, type Io } from "../io.js";

/**
 * `wfc fn MODULE#EXPORT ARGS-JSON`: runs one `fn` step in this process, as
 * an exported SLURM job does on its node. Exit 0 when the function returns,
 * 1 with its error when it throws, 2 for a call that cannot be made.
 */
export async function fnCommand(target: string, argsJson: string, io: Io): Promise<number> {
  const hash = target.lastIndexOf("#");
  if (hash <= 0 || hash === target.length - 1) {
    io.stderr.write(errorLine(`\`${target}\` is not MODULE#EXPORT`));
    return ExitCode.invalid;
  }
  let args: unknown;
  try {
    args = JSON.parse(argsJson);
  } catch {
    io.stderr.write("wfc: error: the argument is not JSON\n");
    return ExitCode.invalid;
  }
  const module = target.slice(0, hash);
  const name = target.slice(hash + 1);
  let fn: unknown;
  try {
    fn = ((await import(pathToFileURL(resolve(io.cwd, module)).href)) as Record<string, unknown>)[name];
  } catch (error) {
    io.stderr.write(errorLine(`cannot load ${module}: ${(error as Error).message}`));
    return ExitCode.invalid;
  }
  if (typeof fn !== "function") {
    io.stderr.write(errorLine(`${module} has no exported function \`${name}\``));
    return ExitCode.invalid;
  }
  try {
    await (fn as (a: unknown) => unknown)(args);
    return ExitCode.ok;
  } catch (error) {
    io.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    return ExitCode.jobFailed;
  }
}
