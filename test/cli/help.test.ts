import { Command, Help } from "commander";
import { describe, expect, test } from "vitest";
import { addCommonOptions, allCommands, COMMAND_HELP, commandPath } from "../../cli/help.js";
import { main } from "../../cli/main.js";

/** The real program, as `main` builds it (nothing parsed but `--version`). */
async function program(): Promise<Command> {
  let built: Command | undefined;
  await main(["--version"], { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: process.cwd() }, (p) => {
    built = p;
  });
  return built!;
}

/** `wfc PATH --help` in this process: what it printed and its exit code. */
async function help(path: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: "", stderr: "" };
  const args = path === "wfc" ? ["--help"] : [...path.split(" "), "--help"];
  const code = await main(args, {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    env: {},
    cwd: process.cwd(),
  });
  return { code, ...out };
}

const helper = new Help();
/** Commands a user sees in `--help` (not `__slurm-expand`), the program first. */
function visible(root: Command): Command[] {
  return allCommands(root).filter((c) => c.parent === null || helper.visibleCommands(c.parent).includes(c));
}

describe("every command's --help", () => {
  // A command added later (lsp, init, ...) fails here until cli/help.ts has its entry: that is the point.
  test("has an entry in cli/help.ts, and no entry is for a command that does not exist", async () => {
    const root = await program();
    const paths = visible(root).map(commandPath);
    expect(paths).toContain("run");
    expect(paths).toContain("export slurm");
    for (const path of paths) expect(COMMAND_HELP[path], `cli/help.ts has no entry for \`${path}\``).toBeDefined();
    expect(Object.keys(COMMAND_HELP).filter((k) => !paths.includes(k))).toEqual([]);
  });

  test("ends with 2-4 examples and the exit codes, and shows no empty default", async () => {
    for (const path of visible(await program()).map(commandPath)) {
      const r = await help(path);
      expect(r.code, path).toBe(0);
      const text = r.stdout;
      const examples = text.slice(text.indexOf("\nExamples:\n"), text.indexOf("\nExit codes:\n"));
      expect(text, path).toMatch(/\nExamples:\n( {2}\$ wfc .+\n){2,4}\nExit codes:\n( {2}[ 0-9]{3} {2}.+\n)+$/);
      expect(examples.split("\n").filter((l) => l.startsWith("  $ ")).length, path).toBeLessThanOrEqual(4);
      // Commander prints a collector's start value: `(default: {})` for --param, `(default: [])` for --config.
      expect(text, path).not.toMatch(/\(default: (\{\}|\[\]|false)\)/);
    }
  });

  test("every command, hidden ones too, takes -q/--quiet and -v/--verbose and says what they change", async () => {
    for (const command of allCommands(await program())) {
      if (command.parent === null) continue;
      const flags = command.options.map((o) => o.flags);
      expect(flags, commandPath(command)).toContain("-q, --quiet");
      expect(flags, commandPath(command)).toContain("-v, --verbose");
    }
    const run = await help("run");
    expect(run.stdout).toMatch(/-q, --quiet +only errors and the command's output: no progress/);
    expect(run.stdout).toMatch(/-v, --verbose +more detail: a line for each job that was up to/);
  });

  test("the exit codes listed are ones wfc uses", async () => {
    for (const [path, entry] of Object.entries(COMMAND_HELP)) {
      for (const [code] of entry.exitCodes) expect([0, 1, 2, 70, 130], path).toContain(code);
      expect(
        entry.exitCodes.some(([code]) => code === 0),
        path,
      ).toBe(true);
      expect(entry.examples.length, path).toBeGreaterThanOrEqual(2);
      for (const [line] of entry.examples) expect(line, path).toMatch(/^wfc /);
    }
  });

  test("a command that defines its own --verbose or uses -v keeps them; it still gets the rest", () => {
    const root = new Command("wfc");
    root.command("own").option("--verbose", "its own");
    root.command("short").option("-v, --version-of <x>", "-v taken");
    addCommonOptions(root);
    const flags = (name: string) => root.commands.find((c) => c.name() === name)!.options.map((o) => `${o.flags}: ${o.description}`);
    expect(flags("own")).toEqual(["--verbose: its own", "-q, --quiet: only errors and the command's output"]);
    expect(flags("short")).toEqual([
      "-v, --version-of <x>: -v taken",
      "-q, --quiet: only errors and the command's output",
      "--verbose: more detail",
    ]);
  });
});
