import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { schemaText, wfcVersion } from "../compiler/schema/assets.js";
import type { GraphFormat } from "./commands/graph.js";
import type { ValidateFormat } from "./commands/validate.js";
import type { PlanSource } from "./commands/plan-for.js";
import { asciiStream, stdoutIsText, wantsAscii } from "./ascii.js";
import { addCommonOptions, commandPath } from "./help.js";
import { detail, errorLine, ExitCode, UsageError, type Io } from "./io.js";
import { stageList } from "../runtime/run/target.js";
import { DEFAULT_TEMPLATE, templateNames } from "./templates.js";

/** `--param k=v`, repeatable. */
function collectParam(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new UsageError(`--param expects name=value, got \`${value}\``);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** `--until a --until b`: repeatable, in order. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--jobs 4`: a whole number of at least 1. */
function positiveInteger(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError("expected a whole number of at least 1.");
  return Number(value);
}

function seconds(value: string): number {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || Number(value) > 3600) throw new InvalidArgumentError("expected seconds, from 0 to 3600.");
  return Number(value);
}

/** `-p` and `-c`: how `run` and `export` compile a workflow given instead of a plan. */
function planSourceOptions(command: Command): Command {
  return command
    .option("-p, --param <name=value>", "override a param when compiling a workflow (repeatable)", collectParam, {})
    .option("--params-file <file>", "param values from a YAML, TOML or JSON file (`--param` overrides them)")
    .option("-c, --config <file>", "a config file that takes precedence over all others (repeatable: the first wins)", collect, []);
}

function planSource(opts: { param: Record<string, string>; paramsFile?: string; config: string[] }): PlanSource {
  return {
    params: opts.param,
    ...(opts.paramsFile !== undefined ? { paramsFile: opts.paramsFile } : {}),
    ...(opts.config.length > 0 ? { config: opts.config } : {}),
  };
}

/**
 * The whole CLI as a function of argv and streams; only bin.ts touches the
 * real process. Returns the exit code. `inspect` sees the program once every
 * command is defined (test/cli/help.test.ts walks its commands).
 */
export async function main(argv: readonly string[], given: Io, inspect?: (program: Command) => void): Promise<number> {
  let exitCode: number = ExitCode.ok;
  // What the commands write to: set again for the command that runs (its --quiet/--verbose, WFC_ASCII on its stdout).
  const ascii = wantsAscii(given.env);
  let io: Io = ascii ? { ...given, stderr: asciiStream(given.stderr) } : given;
  const program = new Command()
    .name("wfc")
    .description("Compile declarative workflows (YAML/TOML) into optimized plans; run them locally or on SLURM.")
    .version(wfcVersion(), "-V, --version")
    .exitOverride()
    .configureOutput({
      // Help is text, whatever the command's stdout is.
      writeOut: (s) => (ascii ? asciiStream(given.stdout) : given.stdout).write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showSuggestionAfterError(true);

  program
    .command("validate")
    .description("check workflow files: syntax, schema and semantics, with located errors")
    .argument("<files...>", "workflow files (.yaml, .yml, .toml, .json)")
    .option("-p, --param <name=value>", "override a param (repeatable)", collectParam, {})
    .option("--params-file <file>", "param values from a YAML, TOML or JSON file (`--param` overrides them)")
    .addOption(
      new Option("--format <format>", "diagnostics as text, JSON, GitHub annotations or SARIF")
        .choices(["text", "json", "github", "sarif"])
        .default("text"),
    )
    .action(async (files: string[], opts: { param: Record<string, string>; paramsFile?: string; format: ValidateFormat }) => {
      exitCode = await (
        await import("./commands/validate.js")
      ).validateCommand(
        files,
        { params: opts.param, format: opts.format, ...(opts.paramsFile !== undefined ? { paramsFile: opts.paramsFile } : {}) },
        io,
      );
    });

  program
    .command("compile")
    .description("compile a workflow into an optimized plan (plan.json)")
    .argument("<file>", "workflow file (.yaml, .yml, .toml, .json)")
    .option("-o, --output <plan>", "write the plan here (default: standard output)")
    .option("-p, --param <name=value>", "override a param (repeatable)", collectParam, {})
    .option("--params-file <file>", "param values from a YAML, TOML or JSON file (`--param` overrides them)")
    .option("-j, --jobs <n>", "at most n jobs at once across the workflow (overrides `jobs`)", positiveInteger)
    .option("-c, --config <file>", "a config file that takes precedence over all others (repeatable: the first wins)", collect, [])
    .option("--explain", "print every decision: fusion, groups, executors, priorities, SLURM shape")
    .action(
      async (
        file: string,
        opts: { output?: string; param: Record<string, string>; paramsFile?: string; explain?: boolean; jobs?: number; config: string[] },
      ) => {
        exitCode = await (
          await import("./commands/compile.js")
        ).compileCommand(
          file,
          {
            ...(opts.output !== undefined ? { output: opts.output } : {}),
            ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
            ...(opts.config.length > 0 ? { config: opts.config } : {}),
            ...(opts.paramsFile !== undefined ? { paramsFile: opts.paramsFile } : {}),
            params: opts.param,
            explain: opts.explain === true,
          },
          io,
        );
      },
    );

  planSourceOptions(program.command("graph"))
    .description(
      "draw a plan (or a workflow, compiled first): tasks, fused stages, limits, executors and edge kinds, as Graphviz DOT or Mermaid",
    )
    .argument("<file>", "plan.json, or a workflow file")
    .addOption(new Option("--format <format>", "output language").choices(["dot", "mermaid"]).default("dot"))
    .option("-o, --output <file>", "write the drawing here (default: standard output)")
    .option("--jobs", "one node per job, with an edge per job it waits for (small workflows: at most 500 jobs)", false)
    .option("--no-legend", "leave out the legend of edge kinds")
    .action(
      async (
        file: string,
        opts: {
          format: GraphFormat;
          output?: string;
          jobs: boolean;
          legend: boolean;
          param: Record<string, string>;
          paramsFile?: string;
          config: string[];
        },
      ) => {
        exitCode = await (
          await import("./commands/graph.js")
        ).graphCommand(
          file,
          {
            ...planSource(opts),
            format: opts.format,
            jobs: opts.jobs,
            legend: opts.legend,
            ...(opts.output !== undefined ? { output: opts.output } : {}),
          },
          io,
        );
      },
    );

  planSourceOptions(program.command("run"))
    .description("run a plan (or a workflow, compiled first) on this machine")
    .argument("<file>", "plan.json, or a workflow file")
    .argument("[targets...]", "run only these and what they need: a stage, stage[var=value,…] or an output path")
    .option("--until <stage>", "run this stage and what it needs, nothing downstream (repeatable; a target works too)", collect, [])
    .option("--forcerun <stages>", "run these stages and everything downstream even if up to date (repeatable, or a,b)", collect, [])
    .option("-j, --jobs <n>", "at most n jobs at once (overrides the plan's `jobs`)", positiveInteger)
    .option("-k, --keep-going", "run everything not downstream of a failure", false)
    .option("--force", "run every job, up to date or not", false)
    .option("-n, --dry-run", "say what would run and why, run nothing", false)
    .option("--touch", "mark jobs up to date (touch their outputs) without running them", false)
    .option("--json", "print NDJSON events on stdout", false)
    .option("--trace <file>", "write a row per step of each element as it ends (TSV, or CSV for *.csv): times, CPU, peak memory")
    .option("--events <file>", "write the NDJSON events (as --json prints them) to a file; the terminal keeps its display")
    .option("--latency-wait <seconds>", "wait this long for a finished job's outputs to appear (default: 5 on SLURM, 0 locally)", seconds)
    .option("-d, --directory <dir>", "run the jobs in this folder instead of the workflow's (or the plan's `workdir`)")
    .action(
      async (
        file: string,
        targets: string[],
        opts: {
          until: string[];
          forcerun: string[];
          jobs?: number;
          latencyWait?: number;
          keepGoing: boolean;
          force: boolean;
          dryRun: boolean;
          touch: boolean;
          json: boolean;
          trace?: string;
          events?: string;
          directory?: string;
          param: Record<string, string>;
          paramsFile?: string;
          config: string[];
        },
      ) => {
        exitCode = await (
          await import("./commands/run.js")
        ).runCommand(
          file,
          {
            ...planSource(opts),
            targets,
            until: opts.until,
            forcerun: stageList(opts.forcerun),
            keepGoing: opts.keepGoing,
            force: opts.force,
            dryRun: opts.dryRun,
            touch: opts.touch,
            json: opts.json,
            ...(opts.trace !== undefined ? { trace: opts.trace } : {}),
            ...(opts.events !== undefined ? { events: opts.events } : {}),
            argv,
            ...(opts.directory !== undefined ? { directory: opts.directory } : {}),
            ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
            ...(opts.latencyWait !== undefined ? { latencyWait: opts.latencyWait } : {}),
            ...(io.signal ? { signal: io.signal } : {}),
            ...(io.kill ? { kill: io.kill } : {}),
          },
          io,
        );
      },
    );

  program
    .command("report")
    .description("write a run's report: one self-contained HTML page with a timeline, per-stage tables, failures and the plan")
    .argument("[dir]", "the workflow's folder, which holds .wfc/ (default: .)")
    .option("-o, --output <file>", "write the page here (default: DIR/wfc-report.html)")
    .option("--run <id>", "the run to report (default: the newest in .wfc/runs/)")
    .option("--suggest", "instead of the page: each stage's mem, time and cpus from measured usage (as `wfc suggest DIR`)", false)
    .action(async (dir: string | undefined, opts: { output?: string; run?: string; suggest: boolean }) => {
      if (opts.suggest) {
        // The same command as `wfc suggest DIR -o FILE`, where users of report look for it.
        exitCode = await (
          await import("./commands/suggest.js")
        ).suggestCommand([dir ?? "."], { params: {}, force: false, ...(opts.output !== undefined ? { output: opts.output } : {}) }, io);
        return;
      }
      exitCode = await (
        await import("./commands/report.js")
      ).reportCommand(
        dir,
        { ...(opts.output !== undefined ? { output: opts.output } : {}), ...(opts.run !== undefined ? { run: opts.run } : {}) },
        io,
      );
    });

  const exporter = program.command("export").description("export a plan for a cluster scheduler");
  planSourceOptions(exporter.command("slurm"))
    .description("export a plan (or a workflow) as chained SLURM job arrays and a submit.sh")
    .argument("<file>", "plan.json, or a workflow file")
    .option("-o, --output <dir>", "the export's folder (replaced if it holds an earlier export)")
    .option("-n, --dry-run", "print the arrays, throttles, licenses and dependencies; write nothing", false)
    .option("--max-array-size <n>", "the cluster's MaxArraySize (default: from scontrol, else the config, else 1001)", positiveInteger)
    .option("--no-licenses", "the cluster has no licenses for named limits: serialize the arrays that share one")
    .option("--latency-wait <seconds>", "how long a job waits for its outputs to appear once its commands exit 0 (default: 5)", seconds)
    .action(
      async (
        file: string,
        opts: {
          output?: string;
          dryRun: boolean;
          maxArraySize?: number;
          licenses: boolean;
          latencyWait?: number;
          param: Record<string, string>;
          paramsFile?: string;
          config: string[];
        },
      ) => {
        exitCode = await (
          await import("./commands/export.js")
        ).exportSlurmCommand(
          file,
          {
            ...planSource(opts),
            dryRun: opts.dryRun,
            licenses: opts.licenses,
            ...(opts.output !== undefined ? { output: opts.output } : {}),
            ...(opts.maxArraySize !== undefined ? { maxArraySize: opts.maxArraySize } : {}),
            ...(opts.latencyWait !== undefined ? { latencyWait: opts.latencyWait } : {}),
          },
          io,
        );
      },
    );

  planSourceOptions(program.command("suggest"))
    .description("suggest each stage's mem, time and cpus from what its measured jobs used; -o writes them as a config file")
    .argument("[inputs...]", "workflow folders (their .wfc/), SLURM export folders (their usage/) or `wfc run --trace` files (default: .)")
    .option("-o, --output <file>", "write the suggestions as a config file ([resources.STAGE]) for --config")
    .option("--force", "replace -o FILE even if wfc did not write it", false)
    .option("--plan <file>", "a plan or workflow for what the stages request now (default: the newest run's plan)")
    .action(
      async (
        inputs: string[],
        opts: { output?: string; force: boolean; plan?: string; param: Record<string, string>; paramsFile?: string; config: string[] },
      ) => {
        exitCode = await (
          await import("./commands/suggest.js")
        ).suggestCommand(
          inputs,
          {
            ...planSource(opts),
            force: opts.force,
            ...(opts.output !== undefined ? { output: opts.output } : {}),
            ...(opts.plan !== undefined ? { plan: opts.plan } : {}),
          },
          io,
        );
      },
    );

  // What an exported SLURM workflow's expansion job runs on a compute node (runtime/slurm/expand-job.ts); not for users.
  program
    .command("__slurm-expand", { hidden: true })
    .argument("<dir>", "the export's folder")
    .argument("<producer>", "the task whose outputs decide what follows")
    .action(async (dir: string, producer: string) => {
      exitCode = await (await import("./commands/slurm-expand.js")).slurmExpandCommand(dir, producer, io);
    });

  program
    .command("fn")
    .description("run one `fn` step here (what an exported SLURM job runs for an fn stage)")
    .argument("<target>", "MODULE#EXPORT, the module relative to the current directory")
    .argument("<args>", "the function's argument, as JSON")
    .action(async (target: string, args: string) => {
      exitCode = await (await import("./commands/fn.js")).fnCommand(target, args, io);
    });

  program
    .command("init")
    .description("write a starter workflow from a sample, with the files it needs and the schema line for editors")
    .argument("[template]", "the sample to start from (default: scipion-steps; the list is below)")
    .option("-o, --output <file>", "the workflow to write (default: workflow.yaml; a .toml name writes TOML); its files go next to it")
    .option("--force", "replace files that exist, but only the template's own", false)
    .addHelpText("after", () => `\nTemplates: ${templateNames().join(", ")} (default ${DEFAULT_TEMPLATE})`)
    .action(async (template: string | undefined, opts: { output?: string; force: boolean }) => {
      exitCode = await (
        await import("./commands/init.js")
      ).initCommand(template, { force: opts.force, ...(opts.output !== undefined ? { output: opts.output } : {}) }, io);
    });

  program
    .command("lsp")
    .description(
      "run the language server on stdin/stdout, for editors: diagnostics as `wfc validate`, hover, completion, rename, quick fixes",
    )
    .option("--stdio", "talk over stdin/stdout (the default and only transport; editors pass it)")
    .option("--clientProcessId <pid>", "the editor's process id (passed by some editors)")
    .option("-v, --verbose", "log how long each validation took, to the editor's output panel")
    .action(async (opts: { verbose?: boolean }) => {
      exitCode = await (await import("./commands/lsp.js")).lspCommand({ verbose: opts.verbose === true }, io);
    });

  program
    .command("schema")
    .description("print the workflow JSON Schema (for editors: yaml-language-server, taplo)")
    .action(() => {
      io.stdout.write(schemaText("workflow.schema.json"));
    });

  const config = program.command("config").description("show or write config files: executors, and which stages run on them");
  config
    .command("show")
    .description("print the merged config and where each value came from")
    .option("-c, --config <file>", "a config file that takes precedence over all others (repeatable: the first wins)", collect, [])
    .addOption(new Option("--format <format>", "TOML-like text or JSON").choices(["text", "json"]).default("text"))
    .action(async (opts: { config: string[]; format: "text" | "json" }) => {
      exitCode = await (await import("./commands/config.js")).configShowCommand({ config: opts.config, format: opts.format }, io);
    });
  config
    .command("init")
    .description("write the built-in default config, commented, to ./wfc.config.toml")
    .option("--path <file>", "where to write it instead")
    .option("--force", "overwrite an existing file", false)
    .action(async (opts: { path?: string; force: boolean }) => {
      exitCode = await (await import("./commands/config.js")).configInitCommand({ path: opts.path, force: opts.force }, io);
    });

  addCommonOptions(program);
  let started: number | undefined;
  program.hook("preAction", (_program, command) => {
    // A group's flags count for its subcommands (`wfc config -q show`); commander refuses -q with -v across them too.
    const opts = command.optsWithGlobals<Record<string, unknown>>();
    io = {
      ...io,
      verbosity: opts.quiet === true ? "quiet" : opts.verbose === true ? "verbose" : "normal",
      ...(ascii && stdoutIsText(commandPath(command), opts) ? { stdout: asciiStream(given.stdout) } : {}),
    };
    started = performance.now();
  });
  inspect?.(program);

  try {
    await program.parseAsync([...argv], { from: "user" });
    if (started !== undefined) detail(io, `done in ${((performance.now() - started) / 1000).toFixed(2)} s, exit code ${exitCode}`);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; anything else commander rejects is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.invalid;
    }
    if (error instanceof UsageError) {
      io.stderr.write(errorLine(`${error.message}`));
      return error.exitCode;
    }
    // Ctrl-C while compiling (a long glob): stopped on request, not a failure.
    if (io.signal?.aborted && error === io.signal.reason) {
      io.stderr.write("wfc: interrupted\n");
      return ExitCode.interrupted;
    }
    throw error;
  }
  return exitCode;
}
