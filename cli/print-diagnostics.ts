import type { Diagnostic } from "../compiler/diagnostics/diagnostic.js";
import { formatDiagnostic, formatSummary, type FileLookup } from "../compiler/diagnostics/format.js";
import { isQuiet, useColor, type Io } from "./io.js";

/** Prints diagnostics to stderr (`--quiet`: only errors), then a summary line when any is an error. */
export function printDiagnostics(diagnostics: readonly Diagnostic[], lookup: FileLookup, what: string, io: Io): void {
  const color = useColor(io.stderr, io.env);
  for (const d of diagnostics) if (d.severity === "error" || !isQuiet(io)) io.stderr.write(formatDiagnostic(d, lookup, { color }) + "\n\n");
  if (diagnostics.some((d) => d.severity === "error")) io.stderr.write(formatSummary(diagnostics, what) + "\n");
}
