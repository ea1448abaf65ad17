import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { formatDiagnostic, formatSummary, type FileLookup } from "../../compiler/diagnostics/format.js";
import { toJsonDiagnostic } from "../../compiler/diagnostics/json.js";
import type { SourceFile } from "../../compiler/source/source-file.js";
import { validateFile } from "../../compiler/validate.js";
import { detail, ExitCode, isQuiet, status, useColor, type Io } from "../io.js";
import { paramsFileFor } from "../params-file.js";

export interface ValidateCommandOptions {
  readonly params: Readonly<Record<string, string>>;
  /** `--params-file FILE`. */
  readonly paramsFile?: string;
  readonly format: "text" | "json";
}

/** `wfc validate FILE...`: 0 when every file is valid, 2 otherwise. */
export async function validateCommand(files: readonly string[], options: ValidateCommandOptions, io: Io): Promise<number> {
  const reports: {
    file: string;
    valid: boolean;
    stages: number;
    jobs: number;
    later: boolean;
    diagnostics: readonly Diagnostic[];
    lookup: FileLookup;
  }[] = [];
  const paramsFile = await paramsFileFor(options.paramsFile, io);
  if (typeof paramsFile === "number") return paramsFile;
  for (const file of files) {
    const started = performance.now();
    const result = await validateFile(file, {
      params: options.params,
      ...(paramsFile !== undefined ? { paramsFile } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    });
    const sources: (SourceFile | undefined)[] = [result.document?.file, paramsFile?.document.file];
    const lookup: FileLookup = (path) => sources.find((s) => s !== undefined && s.path === path);
    detail(io, `${file}: validated in ${((performance.now() - started) / 1000).toFixed(3)} s`);
    const stages = result.validated?.workflow.stages;
    reports.push({
      file,
      valid: result.validated !== undefined,
      stages: stages?.size ?? 0,
      // A stage that fans out at run time has jobs nobody can count yet: only the others' are.
      jobs: stages === undefined ? 0 : [...stages.values()].reduce((n, s) => n + (s.fanout.dynamic.length > 0 ? 0 : s.fanout.size), 0),
      later: [...(stages?.values() ?? [])].some((s) => s.fanout.dynamic.length > 0),
      diagnostics: result.diagnostics,
      lookup,
    });
  }

  if (options.format === "json") {
    const json = {
      files: reports.map((r) => ({
        file: r.file,
        valid: r.valid,
        ...(r.valid ? { stages: r.stages, jobs: r.jobs } : {}),
        diagnostics: r.diagnostics.map((d) => toJsonDiagnostic(d, r.lookup)),
      })),
    };
    io.stdout.write(JSON.stringify(json, null, 2) + "\n");
  } else {
    const color = useColor(io.stderr, io.env);
    for (const r of reports) {
      for (const d of r.diagnostics)
        if (d.severity === "error" || !isQuiet(io)) io.stderr.write(formatDiagnostic(d, r.lookup, { color }) + "\n\n");
      if (r.valid) {
        const warnings = r.diagnostics.length > 0 ? ` (${formatSummary(r.diagnostics, r.file).replace(/ in .*$/, "")})` : "";
        status(
          io,
          `${r.file}: valid, ${r.stages} stage${r.stages === 1 ? "" : "s"}, ${r.jobs} job${r.jobs === 1 ? "" : "s"}${r.later ? " known (more at run time)" : ""}${warnings}\n`,
        );
      } else {
        io.stderr.write(formatSummary(r.diagnostics, r.file) + "\n");
      }
    }
  }
  return reports.every((r) => r.valid) ? ExitCode.ok : ExitCode.invalid;
}
