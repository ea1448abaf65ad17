import type { ParamsFile } from "../compiler/config/params-file.js";
import { ExitCode, type Io } from "./io.js";

/**
 * `--params-file FILE`, read before the workflow: its own problems (no such
 * file, bad syntax, not a map of values) are printed here, located, and the
 * command exits 2. Undefined when no file was given.
 */
export async function paramsFileFor(path: string | undefined, io: Io): Promise<ParamsFile | undefined | number> {
  if (path === undefined) return undefined;
  const [{ readParamsFile }, { lookupIn }, { printDiagnostics }] = await Promise.all([
    import("../compiler/config/params-file.js"),
    import("../compiler/diagnostics/format.js"),
    import("./print-diagnostics.js"),
  ]);
  const read = await readParamsFile(path);
  if (read.file !== undefined) return read.file;
  printDiagnostics(read.diagnostics, lookupIn([read.document]), path, io);
  return ExitCode.invalid;
}
