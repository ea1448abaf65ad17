import type { Diagnostic } from "../compiler/diagnostics/diagnostic.js";
import { formatDiagnostic, formatSummary, type FileLookup } from "../compiler/diagnostics/format.js";
import { useColor, type Io } from "./io.js";

/** Prints diagnostics to stderr, then a summary line when any is an error. */
export function printDiagnostics(diagnostics: readonly Diagnostic[], lookup: FileLookup, what: string, io: Io): void {
  const color = useColor(io.stderr, io.env);
  for (const d of diagnostics) io.stderr.write(formatDiagnostic(d, lookup, { color }) + "\n\n");
  if (diagnostics.some((d) => d.severity === "error")) io.stderr.write(formatSummary(diagnostics, what) + "\n");
}
