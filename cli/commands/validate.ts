import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { formatDiagnostic, formatSummary, type FileLookup } from "../../compiler/diagnostics/format.js";
import { toGithubCommand } from "../../compiler/diagnostics/github.js";
import { toJsonDiagnostic } from "../../compiler/diagnostics/json.js";
import { toSarif } from "../../compiler/diagnostics/sarif.js";
import { wfcVersion } from "../../compiler/schema/assets.js";
import type { SourceFile } from "../../compiler/source/source-file.js";
import { validateFile } from "../../compiler/validate.js";
import { detail, ExitCode, isQuiet, status, useColor, type Io } from "../io.js";
import { paramsFileFor } from "../params-file.js";

export interface ValidateCommandOptions {
  readonly params: Readonly<Record<string, string>>;
  /** `--params-file FILE`. */
  readonly paramsFile?: string;
  /** `github`: Actions workflow commands (annotations); `sarif`: a SARIF 2.1.0 log for code scanning. */
  readonly format: ValidateFormat;
}

export type ValidateFormat = "text" | "json" | "github" | "sarif";

/** What validating one file found, for every format. */
interface FileReport {
  readonly file: string;
  readonly valid: boolean;
  readonly stages: number;
  readonly jobs: number;
  /** Some stage fans out at run time: `jobs` counts only the others'. */
  readonly later: boolean;
  readonly diagnostics: readonly Diagnostic[];
  readonly lookup: FileLookup;
}

/** `wfc validate FILE...`: 0 when every file is valid, 2 otherwise. */
export async function validateCommand(files: readonly string[], options: ValidateCommandOptions, io: Io): Promise<number> {
  const reports: FileReport[] = [];
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
  } else if (options.format === "sarif") {
    // One run for all files; every file's lookup serves the positions.
    const lookup: FileLookup = (path) => reports.map((r) => r.lookup(path)).find((s) => s !== undefined);
    const sarif = toSarif(
      reports.flatMap((r) => r.diagnostics),
      lookup,
      io.cwd,
      wfcVersion(),
    );
    io.stdout.write(JSON.stringify(sarif, null, 2) + "\n");
    for (const r of reports) io.stderr.write(summaryLine(r) + "\n");
  } else if (options.format === "github") {
    // stdout is the runner's: only commands there; the summary goes to the log on stderr.
    for (const r of reports) {
      for (const d of r.diagnostics) io.stdout.write(toGithubCommand(d, r.lookup, io.cwd) + "\n");
      io.stderr.write(summaryLine(r) + "\n");
    }
  } else {
    const color = useColor(io.stderr, io.env);
    for (const r of reports) {
      for (const d of r.diagnostics)
        if (d.severity === "error" || !isQuiet(io)) io.stderr.write(formatDiagnostic(d, r.lookup, { color }) + "\n\n");
      if (r.valid) status(io, summaryLine(r) + "\n");
      else io.stderr.write(summaryLine(r) + "\n");
    }
  }
  return reports.every((r) => r.valid) ? ExitCode.ok : ExitCode.invalid;
}

/** "wf.yaml: valid, 2 stages, 6 jobs" or "1 error in wf.yaml". */
function summaryLine(r: FileReport): string {
  if (!r.valid) return formatSummary(r.diagnostics, r.file);
  const warnings = r.diagnostics.length > 0 ? ` (${formatSummary(r.diagnostics, r.file).replace(/ in .*$/, "")})` : "";
  return `${r.file}: valid, ${r.stages} stage${r.stages === 1 ? "" : "s"}, ${r.jobs} job${r.jobs === 1 ? "" : "s"}${r.later ? " known (more at run time)" : ""}${warnings}`;
}
