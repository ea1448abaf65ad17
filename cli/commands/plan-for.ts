import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { loadPlan } from "../../runtime/load-plan.js";
import type { Plan } from "../../contract/plan.js";
import { errorLine, ExitCode, type Io } from "../io.js";
import { paramsFileFor } from "../params-file.js";

export interface PlanSource {
  readonly params: Readonly<Record<string, string>>;
  /** `--params-file FILE`. */
  readonly paramsFile?: string;
  /** `--config FILE`, repeatable: the first wins. */
  readonly config?: string | readonly string[];
}

export interface Planned {
  readonly plan: Plan;
  /** The folder the plan's `workdir` is relative to. */
  readonly planDir: string;
  /** A plan file whose workflow is not where the plan says (the plan was moved): where its jobs would run. */
  readonly moved?: { readonly source: string; readonly workdir: string };
}

/** A plan file, or a workflow compiled on the fly. */
export async function planFor(file: string, options: PlanSource, io: Io): Promise<Planned | number> {
  if (extname(file) === ".json" && (await isPlan(file))) {
    const loaded = await loadPlan(file, io.cwd);
    if (!loaded.ok) {
      io.stderr.write(errorLine(`${loaded.message}`));
      return ExitCode.invalid;
    }
    const planDir = dirname(file);
    // The plan names its workflow and its folder relative to plan.json: a plan moved away from them runs elsewhere.
    const source = resolve(io.cwd, planDir, loaded.plan.source.file);
    const moved = existsSync(source) ? undefined : { source, workdir: resolve(io.cwd, planDir, loaded.plan.workdir) };
    return { plan: loaded.plan, planDir, ...(moved ? { moved } : {}) };
  }
  // The compiler (yaml, TOML, the workflow schema) is loaded only for a workflow: a plan does not need it.
  const [{ compileFile }, { loadConfig }, { lookupIn }, { printDiagnostics }, { configHost, tellConfigLocations }] = await Promise.all([
    import("../../compiler/compile.js"),
    import("../../compiler/config/load.js"),
    import("../../compiler/diagnostics/format.js"),
    import("../print-diagnostics.js"),
    import("./config.js"),
  ]);
  const paramsFile = await paramsFileFor(options.paramsFile, io);
  if (typeof paramsFile === "number") return paramsFile;
  const host = configHost(io);
  const config = await loadConfig({ explicit: options.config, env: io.env, cwd: io.cwd, home: host.home });
  tellConfigLocations(io, config);
  if (config.config === undefined) {
    printDiagnostics(config.diagnostics, lookupIn(config.documents), "the config files", io);
    return ExitCode.invalid;
  }
  const result = await compileFile(file, {
    params: options.params,
    ...(paramsFile !== undefined ? { paramsFile } : {}),
    config: config.config,
    planPath: "plan.json",
    ...(io.signal ? { signal: io.signal } : {}),
  });
  printDiagnostics(
    [...config.diagnostics, ...result.diagnostics],
    lookupIn([...config.documents, result.document, paramsFile?.document]),
    file,
    io,
  );
  if (result.plan === undefined) return ExitCode.invalid;
  return { plan: result.plan, planDir: "." };
}

/** A JSON file with a top-level `plan` key is a plan; anything else is a workflow. */
async function isPlan(file: string): Promise<boolean> {
  try {
    const data: unknown = JSON.parse(await readFile(file, "utf8"));
    return typeof data === "object" && data !== null && "plan" in data;
  } catch {
    return true; // let the plan loader say what is wrong with it
  }
}
