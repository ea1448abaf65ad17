import { Command, CommanderError, Option } from "commander";
import { schemaText, wfcVersion } from "../compiler/schema/assets.js";
import { validateCommand } from "./commands/validate.js";
import { ExitCode, UsageError, type Io } from "./io.js";

/** `--param k=v`, repeatable. */
function collectParam(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new UsageError(`--param expects name=value, got \`${value}\``);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/**
 * The whole CLI as a function of argv and streams; only bin.ts touches the
 * real process. Returns the exit code.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = new Command()
    .name("wfc")
    .description("Compile declarative workflows (YAML/TOML) into optimized plans; run them locally or on SLURM.")
    .version(wfcVersion(), "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showSuggestionAfterError(true);

  program
    .command("validate")
    .description("check workflow files: syntax, schema and semantics, with located errors")
    .argument("<files...>", "workflow files (.yaml, .yml, .toml, .json)")
    .option("-p, --param <name=value>", "override a param (repeatable)", collectParam, {})
    .addOption(new Option("--format <format>", "diagnostics as text or JSON").choices(["text", "json"]).default("text"))
    .action(async (files: string[], opts: { param: Record<string, string>; format: "text" | "json" }) => {
      exitCode = await validateCommand(files, { params: opts.param, format: opts.format }, io);
    });

  program
    .command("schema")
    .description("print the workflow JSON Schema (for editors: yaml-language-server, taplo)")
    .action(() => {
      io.stdout.write(schemaText("workflow.schema.json"));
    });

  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; anything else commander rejects is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.invalid;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`wfc: error: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
  return exitCode;
}
