import { Help, Option, type Command } from "commander";
import { ExitCode } from "./io.js";

/** What `--help` of one command adds after commander's usage and options. */
export interface CommandHelp {
  /** 2 to 4 real command lines, each with what it does. */
  readonly examples: readonly (readonly [command: string, what: string])[];
  /** Every exit code the command can end with, and when. */
  readonly exitCodes: readonly (readonly [code: number, when: string])[];
  /** What `--quiet` leaves out (errors and the command's real output always stay). */
  readonly quiet: string;
  /** What `--verbose` adds. */
  readonly verbose: string;
}

const ok = (when: string) => [ExitCode.ok, when] as const;
const invalid = (when: string) => [ExitCode.invalid, when] as const;
const interrupted = [ExitCode.interrupted, "stopped by Ctrl-C (129 SIGHUP, 143 SIGTERM)"] as const;
const timing = "the time the command took";

/**
 * Each command's examples, exit codes and what `--quiet`/`--verbose` change,
 * keyed by its path without `wfc` (`export slurm`); `wfc` itself is `wfc`.
 * A new command needs its entry here: test/cli/help.test.ts fails without it.
 */
export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  wfc: {
    examples: [
      ["wfc validate workflow.yaml", "check a workflow"],
      ["wfc run workflow.yaml", "compile it and run it on this machine"],
      ["wfc export slurm workflow.yaml -o slurm/", "export it as SLURM job arrays"],
      ["wfc help run", "the options and examples of one command"],
    ],
    exitCodes: [
      ok("the command did what it was asked"),
      [ExitCode.jobFailed, "a job failed, or jobs never ran (run)"],
      invalid("bad input: a located error says what and where"),
      [ExitCode.internal, "a bug in wfc (please report it)"],
      interrupted,
    ],
    quiet: "each command's --quiet: only errors and the command's real output",
    verbose: "each command's --verbose: timings, files read, config locations",
  },
  validate: {
    examples: [
      ["wfc validate workflow.yaml", "check one workflow"],
      ["wfc validate wf/*.yaml --format json", "every file, diagnostics as JSON"],
      ["wfc validate workflow.yaml -p samples=sheet.tsv", "with a param overridden"],
      ["wfc validate workflow.yaml --format github", "as annotations in a GitHub Actions log (docs/ci.md)"],
    ],
    exitCodes: [ok("every file is valid (warnings allowed)"), invalid("a file has an error, or cannot be read")],
    quiet: "no `valid` line per file, no warnings",
    verbose: `each file's validation time, and ${timing}`,
  },
  compile: {
    examples: [
      ["wfc compile workflow.yaml -o plan.json", "write the plan"],
      ["wfc compile workflow.yaml --explain -o plan.json", "and say why: fusion, groups, executors, priorities"],
      ["wfc compile workflow.yaml -c site.toml -j 8 > plan.json", "with a config file and at most 8 jobs at once"],
    ],
    exitCodes: [ok("the plan was written"), invalid("the workflow, a param or a config file has an error")],
    quiet: "no line saying what was written, no warnings",
    verbose: `the config files read, and ${timing}`,
  },
  graph: {
    examples: [
      ["wfc graph workflow.yaml | dot -Tsvg > plan.svg", "draw a workflow's plan with Graphviz"],
      ["wfc graph plan.json --format mermaid -o plan.mmd", "a compiled plan as Mermaid, to a file"],
      ["wfc graph workflow.yaml --jobs | dot -Tsvg > jobs.svg", "one node per job (small workflows)"],
    ],
    exitCodes: [
      ok("the drawing was written"),
      invalid("the workflow or plan has an error, --jobs has too many jobs, or the file cannot be written"),
    ],
    quiet: "no line saying what was written with -o, no warnings",
    verbose: `the config files read, and ${timing}`,
  },
  run: {
    examples: [
      ["wfc run workflow.yaml", "compile and run everything not up to date"],
      ["wfc run plan.json -j 4 --keep-going", "a compiled plan, 4 jobs at once, past failures"],
      ["wfc run workflow.yaml align --dry-run", "what `align` and what it needs would run, and why"],
      ["wfc run workflow.yaml --json > events.ndjson", "events as NDJSON"],
    ],
    exitCodes: [
      ok("every job ran or was up to date"),
      [ExitCode.jobFailed, "a job failed, or jobs never ran"],
      invalid("bad input: the workflow, the plan, a target or an option"),
      interrupted,
    ],
    quiet: "no progress, no warnings, the summary only when a job failed or the run was stopped",
    verbose: `a line for each job that was up to date, the config files read, and ${timing}`,
  },
  report: {
    examples: [
      ["wfc report", "the newest run of the workflow here, as wfc-report.html"],
      ["wfc report runs/a -o a.html --run 3", "run 3 of the workflow in runs/a"],
      ["wfc report --suggest", "resources suggested from the measured usage instead"],
    ],
    exitCodes: [ok("the page was written"), invalid("no such folder or run, or the page cannot be written")],
    quiet: "no line saying what was written",
    verbose: timing,
  },
  export: {
    examples: [
      ["wfc export slurm workflow.yaml -o slurm/", "chained job arrays and a submit.sh in slurm/"],
      ["wfc export slurm plan.json --dry-run", "the arrays, throttles and dependencies, writing nothing"],
    ],
    exitCodes: [ok("the export was written (or shown)"), invalid("bad input, or the folder cannot be written")],
    quiet: "see `wfc export slurm --help`",
    verbose: "see `wfc export slurm --help`",
  },
  "export slurm": {
    examples: [
      ["wfc export slurm workflow.yaml -o slurm/ && sh slurm/submit.sh", "export, then submit"],
      ["wfc export slurm plan.json --dry-run", "the arrays, throttles, licenses and dependencies; nothing written"],
      ["wfc export slurm workflow.yaml -o slurm/ --max-array-size 1000", "for a cluster whose MaxArraySize is 1000"],
    ],
    exitCodes: [ok("the export was written (or shown with --dry-run)"), invalid("bad input, or the folder cannot be written")],
    quiet: "no notes, no warnings",
    verbose: `the config files read, and ${timing}`,
  },
  suggest: {
    examples: [
      ["wfc suggest", "from the runs of the workflow here"],
      ["wfc suggest slurm/ -o resources.toml", "from an export's usage, written as a config file"],
      ["wfc run workflow.yaml --config resources.toml", "then run with the suggestions"],
    ],
    exitCodes: [
      ok("the suggestions were shown (and written)"),
      invalid("an input cannot be read, nothing was measured, or -o is not wfc's"),
    ],
    quiet: "no line saying what was written, no warnings",
    verbose: timing,
  },
  fn: {
    examples: [
      ['wfc fn steps.mjs#align \'{"sample":"a"}\'', "call the export `align` of steps.mjs with that argument"],
      ["wfc fn ./lib/fit.js#default '{}'", "a module's default export"],
    ],
    exitCodes: [
      ok("the function returned"),
      [ExitCode.jobFailed, "the function threw"],
      invalid("the module, export or argument is wrong"),
    ],
    quiet: "nothing more to leave out",
    verbose: timing,
  },
  init: {
    examples: [
      ["wfc init", "a starter workflow.yaml (and the files it needs) here"],
      ["wfc init reads-split -o wf.toml", "from another sample, in TOML"],
      ["wfc init && wfc run workflow.yaml", "write it, then run it"],
    ],
    exitCodes: [ok("the files were written"), invalid("no such template, or a file exists (--force replaces the template's own)")],
    quiet: "no list of what was written, no next command",
    verbose: timing,
  },
  lsp: {
    examples: [
      ["wfc lsp --stdio", "what an editor starts (docs/editors.md)"],
      ["wfc lsp --stdio --verbose", "and log each validation's time to the editor's output"],
    ],
    exitCodes: [
      ok("the editor asked it to shut down, then to exit"),
      [ExitCode.jobFailed, "the editor sent exit without shutdown, or went away"],
    ],
    quiet: "nothing more to leave out: the server writes only to the editor",
    verbose: "each validation's time, in the editor's output panel",
  },
  schema: {
    examples: [
      ["wfc schema > workflow.schema.json", "save the schema for an editor"],
      ["wfc schema | jq '.properties | keys'", "the top-level keys of a workflow"],
    ],
    exitCodes: [ok("the schema was printed")],
    quiet: "nothing more to leave out",
    verbose: timing,
  },
  config: {
    examples: [
      ["wfc config show", "the merged config and where each value came from"],
      ["wfc config init", "write the default config, commented, to ./wfc.config.toml"],
    ],
    exitCodes: [ok("done"), invalid("a config file has an error, or the file exists")],
    quiet: "see each subcommand's --help",
    verbose: "see each subcommand's --help",
  },
  "config show": {
    examples: [
      ["wfc config show", "the merged config and where each value came from"],
      ["wfc config show -c site.toml --format json", "with site.toml first, as JSON"],
    ],
    exitCodes: [ok("the config was printed"), invalid("a config file has an error")],
    quiet: "no warnings",
    verbose: `the config files read, and ${timing}`,
  },
  "config init": {
    examples: [
      ["wfc config init", "write ./wfc.config.toml"],
      ["wfc config init --path ~/.config/wfc/config.toml", "your own config file"],
    ],
    exitCodes: [ok("the file was written"), invalid("the file exists (--force replaces it) or cannot be written")],
    quiet: "no line saying what was written",
    verbose: timing,
  },
};

/** `export slurm` for a command under `export`; `wfc` for the program. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.length === 0 ? "wfc" : names.join(" ");
}

/** Every command of the program, the program first, then depth first in definition order. */
export function allCommands(program: Command): Command[] {
  return [program, ...program.commands.flatMap((c) => allCommands(c))];
}

/** The "Examples:" and "Exit codes:" sections of a command's help. */
export function helpAfter(entry: CommandHelp): string {
  const width = Math.max(...entry.examples.map(([line]) => line.length));
  const examples = entry.examples.map(([line, what]) => `  $ ${line.padEnd(width)}  # ${what}`);
  const codes = entry.exitCodes.map(([code, when]) => `  ${String(code).padStart(3)}  ${when}`);
  return ["", "Examples:", ...examples, "", "Exit codes:", ...codes].join("\n");
}

/**
 * What every command gets, in one place so a command added later has it too:
 * `-q/--quiet` and `-v/--verbose` (refused together), "Examples:" and "Exit
 * codes:" after its help (from {@link COMMAND_HELP}), and no `(default: [])`
 * or `(default: {})` shown for a repeatable option. Call once every command
 * is defined.
 */
export function addCommonOptions(program: Command): void {
  for (const command of allCommands(program)) {
    const entry = COMMAND_HELP[commandPath(command)];
    command.configureHelp({ optionDescription: optionDescription });
    // The program's own options are parsed before the command's: the flags belong to the commands.
    if (command !== program) {
      addFlag(command, "-q", "--quiet", `only errors and the command's output${entry ? `: ${entry.quiet}` : ""}`, "verbose");
      addFlag(command, "-v", "--verbose", `more detail${entry ? `: ${entry.verbose}` : ""}`);
    }
    if (entry !== undefined) command.addHelpText("after", helpAfter(entry));
  }
}

/** A flag, unless the command defines it itself (a command's own `--verbose` wins); its short form only if free. */
function addFlag(command: Command, short: string, long: string, description: string, conflicting?: string): void {
  if (command.options.some((o) => o.long === long)) return;
  const flags = command.options.some((o) => o.short === short) ? long : `${short}, ${long}`;
  const option = new Option(flags, description);
  command.addOption(conflicting === undefined ? option : option.conflicts(conflicting));
}

// A repeatable option's empty start (`[]`, `{}`) and a flag's `false` say nothing a reader needs.
function optionDescription(this: Help, option: Option): string {
  const value: unknown = option.defaultValue;
  const empty =
    value === false ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);
  if (!empty) return Help.prototype.optionDescription.call(this, option);
  const shown = Object.assign(Object.create(Object.getPrototypeOf(option) as object) as Option, option, { defaultValue: undefined });
  return Help.prototype.optionDescription.call(this, shown);
}
