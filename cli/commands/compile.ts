import { compileFile } from "../../compiler/compile.js";
import { loadConfig } from "../../compiler/config/load.js";
import type { Note } from "../../compiler/passes/executors.js";
import { canonicalJson } from "../../contract/canonical-json.js";
import { ExitCode, status, type Io } from "../io.js";
import { configHost, tellConfigLocations, type ConfigHost } from "./config.js";
import { lookupIn } from "../../compiler/diagnostics/format.js";
import { printDiagnostics } from "../print-diagnostics.js";
import { writeFileAtomic } from "../write-file.js";
import { paramsFileFor } from "../params-file.js";

export interface CompileCommandOptions {
  readonly output?: string;
  readonly params: Readonly<Record<string, string>>;
  readonly explain: boolean;
  readonly jobs?: number;
  /** `--config FILE` (repeatable, the first wins), above every other config file. */
  readonly config?: string | readonly string[];
  /** `--params-file FILE`. */
  readonly paramsFile?: string;
}

const TOPICS: readonly [Note["topic"], string][] = [
  ["dynamic", "Expanded at run time"],
  ["resources", "Resources from config files"],
  ["fusion", "Fusion"],
  ["batch", "Batching"],
  ["group", "Concurrency groups"],
  ["executor", "Executors"],
  ["environment", "Environments"],
  ["priority", "Priorities (critical path)"],
  ["slurm", "SLURM export shape"],
];

/** `--explain`: every decision the compiler made, by topic. */
export function formatExplain(notes: readonly Note[]): string {
  const out: string[] = [];
  for (const [topic, title] of TOPICS) {
    const lines = notes.filter((n) => n.topic === topic);
    // Only a workflow with a run-time fan-out (or an environment, or config resources) has the section: other workflows' explanations stay as they were.
    if ((topic === "dynamic" || topic === "environment" || topic === "resources") && lines.length === 0) continue;
    out.push(`${title}:`);
    if (lines.length === 0) out.push(topic === "slurm" ? "  (no stage runs on a SLURM executor)" : "  (none)");
    for (const n of lines) out.push(`  - ${n.message}`);
  }
  return out.join("\n") + "\n";
}

/** `wfc compile FILE [-o plan.json]`: 0 with a plan, 2 with diagnostics. */
export async function compileCommand(
  file: string,
  options: CompileCommandOptions,
  io: Io,
  host: ConfigHost = configHost(io),
): Promise<number> {
  const paramsFile = await paramsFileFor(options.paramsFile, io);
  if (typeof paramsFile === "number") return paramsFile;
  const loaded = await loadConfig({ explicit: options.config, env: io.env, cwd: io.cwd, home: host.home });
  tellConfigLocations(io, loaded);
  if (loaded.config === undefined) {
    printDiagnostics(loaded.diagnostics, lookupIn(loaded.documents), "the config files", io);
    return ExitCode.invalid;
  }
  const result = await compileFile(file, {
    config: loaded.config,
    params: options.params,
    ...(paramsFile !== undefined ? { paramsFile } : {}),
    ...(options.output !== undefined ? { planPath: options.output } : {}),
    ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
  });
  printDiagnostics(
    [...loaded.diagnostics, ...result.diagnostics],
    lookupIn([...loaded.documents, result.document, paramsFile?.document]),
    file,
    io,
  );
  if (result.plan === undefined) return ExitCode.invalid;
  const json = canonicalJson(result.plan);
  const jobs = result.plan.tasks.reduce((n, t) => n + (t.jobs ?? 0), 0);
  if (options.output === undefined) {
    io.stdout.write(json);
    if (options.explain) io.stderr.write(formatExplain(result.notes));
  } else {
    await writeFileAtomic(options.output, json);
    status(
      io,
      `${options.output}: ${result.plan.tasks.length} task${result.plan.tasks.length === 1 ? "" : "s"}, ${jobs} job${jobs === 1 ? "" : "s"}${result.plan.tasks.some((t) => t.jobs === null) ? " known (more at run time)" : ""} (${Buffer.byteLength(json)} bytes)\n`,
    );
    if (options.explain) io.stdout.write(formatExplain(result.notes));
  }
  return ExitCode.ok;
}
