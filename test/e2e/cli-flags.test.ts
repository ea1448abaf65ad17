import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { COMMAND_HELP } from "../../cli/help.js";
import { copySample, fixture, repoRoot, wfc } from "./helpers.js";

const sample = join(repoRoot, "samples/ruffus-jobs-limit/workflow.yaml");

/** A workflow whose only job fails. */
const failing = { wfc: 1, stages: { broken: { outputs: "out.txt", run: "echo no >&2; exit 3" } } };

describe("--quiet and --verbose", () => {
  test("validate -q: nothing for a valid file; the errors, and nothing else, for an invalid one", async () => {
    expect(await wfc(["validate", "-q", sample])).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    const bad = await wfc(["validate", "--quiet", "samples/invalid/cycle-three-stages.toml"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/^samples\/invalid\/cycle-three-stages.toml:5:10: error WFC204: dependency cycle/);
  });

  test("validate -v: each file's time and the command's", async () => {
    const r = await wfc(["validate", "-v", sample]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/workflow.yaml: valid, 4 stages, 30 jobs$/);
    expect(r.stderr).toMatch(/^wfc: \S+workflow.yaml: validated in [0-9.]+ s\nwfc: done in [0-9.]+ s, exit code 0$/);
  });

  test("run -q says nothing when every job ran; -v names each job that was up to date and the config files looked at", async () => {
    const dir = copySample("ruffus-jobs-limit");
    expect(await wfc(["run", "-q", "workflow.yaml"], { cwd: dir })).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect(existsSync(join(dir, "work"))).toBe(true);
    const again = await wfc(["run", "workflow.yaml", "--verbose"], { cwd: dir });
    expect(again.exitCode).toBe(0);
    expect(again.stdout.split("\n")).toHaveLength(30);
    expect(again.stdout).toContain("[30/30] skipped   stage2#4 up to date");
    expect(again.stderr).toContain("wfc: config (current directory): ./wfc.config.toml: missing\n");
    expect(again.stderr).toContain(`wfc: jobs run in ${dir}\n`);
    expect(again.stderr).toMatch(/\nok: 0 done, 30 up to date, 0 failed, 0 not run in [0-9.]+ s\nwfc: done in [0-9.]+ s, exit code 0$/);
  });

  test("run -q still tells a failure: its error lines and the summary, exit 1", async () => {
    const dir = fixture({ "wf.yaml": failing });
    const r = await wfc(["run", "-q", "wf.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/failed/);
    expect(r.stderr).toMatch(/0 done, 0 up to date, 1 failed/);
  });

  test("compile -q -o and config init -q write their files and say nothing; a group's -q counts for its subcommand", async () => {
    const dir = copySample("ruffus-jobs-limit");
    expect(await wfc(["compile", "workflow.yaml", "-o", "plan.json", "-q"], { cwd: dir })).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect(existsSync(join(dir, "plan.json"))).toBe(true);
    expect(await wfc(["config", "-q", "init"], { cwd: dir })).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect(existsSync(join(dir, "wfc.config.toml"))).toBe(true);
  });

  test("init -q and graph -q -o write their files and say nothing", async () => {
    const dir = fixture({});
    expect(await wfc(["init", "-q"], { cwd: dir })).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect(existsSync(join(dir, "workflow.yaml"))).toBe(true);
    expect(await wfc(["graph", "workflow.yaml", "-o", "wf.dot", "--quiet"], { cwd: dir })).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect(existsSync(join(dir, "wf.dot"))).toBe(true);
  });

  test("both at once is a usage error, exit 2, on a command or across a group and its subcommand", async () => {
    const r = await wfc(["compile", "-q", "-v", sample]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("error: option '-q, --quiet' cannot be used with option '-v, --verbose'");
    const across = await wfc(["config", "--quiet", "show", "--verbose"]);
    expect(across).toEqual({ exitCode: 2, stdout: "", stderr: "error: option '-q, --quiet' cannot be used with option '-v, --verbose'" });
  });
});

describe("help", () => {
  test("run --help: examples, exit codes, and no `(default: {})` or `(default: [])` for repeatable options", async () => {
    const r = await wfc(["run", "--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/-p, --param <name=value> +override a param when compiling a workflow\n +\(repeatable\)\n/);
    expect(r.stdout).toMatch(
      /-c, --config <file> +a config file that takes precedence over all others\n +\(repeatable: the first wins\)\n/,
    );
    expect(r.stdout).not.toContain("(default: {})");
    expect(r.stdout).not.toContain("(default: [])");
    expect(r.stdout).not.toContain("(default: false)");
    expect(r.stdout).toContain("\nExamples:\n  $ wfc run workflow.yaml ");
    expect(r.stdout).toMatch(/\nExit codes:\n {4}0 {2}every job ran or was up to date\n {4}1 {2}.*\n {4}2 {2}.*\n {2}130 {2}.*$/);
  });
});

describe("NO_COLOR", () => {
  // `script` (util-linux) gives wfc a terminal, where colour is on unless NO_COLOR says otherwise.
  const hasScript = spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;
  const onTerminal = (noColor: string) =>
    execa(
      "script",
      ["-qec", `${process.execPath} ${join(repoRoot, "dist/cli/bin.js")} validate samples/invalid/cycle-three-stages.toml`, "/dev/null"],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, NO_COLOR: noColor, WFC_CONFIG: "", TERM: "xterm" },
        reject: false,
      },
    );

  test.skipIf(!hasScript)("an empty NO_COLOR is unset: colour on a terminal; any other value turns it off", async () => {
    const empty = await onTerminal("");
    expect(String(empty.stdout)).toContain("\x1b[31m\x1b[1merror\x1b[22m\x1b[39m WFC204");
    const set = await onTerminal("1");
    expect(String(set.stdout)).toContain("error WFC204: dependency cycle");
    expect(String(set.stdout)).not.toContain("\x1b[");
  });
});

describe("WFC_ASCII=1", () => {
  /** The main commands, on a sample that ran: their help, checks, plan, run, suggestions, drawing, export, report and config. */
  async function session(env: Record<string, string>): Promise<{ args: string[]; out: string }[]> {
    const dir = copySample("ruffus-jobs-limit");
    const invalid = join(repoRoot, "samples/invalid/cycle-three-stages.toml");
    const commands = [
      ...Object.keys(COMMAND_HELP).map((path) => (path === "wfc" ? ["--help"] : [...path.split(" "), "--help"])),
      ["validate", "workflow.yaml"],
      ["validate", invalid],
      ["compile", "workflow.yaml", "--explain", "-o", "plan.json"],
      ["run", "workflow.yaml"],
      ["run", "workflow.yaml", "--force", "-j", "2"],
      ["run", "workflow.yaml", "--dry-run", "--force"],
      ["suggest", "."],
      ["graph", "plan.json", "--format", "mermaid"],
      ["graph", "plan.json"],
      ["export", "slurm", "plan.json", "--dry-run"],
      ["report", "."],
      ["config", "show"],
    ];
    const results: { args: string[]; out: string }[] = [];
    for (const args of commands) {
      const r = await wfc(args, { cwd: dir, env });
      expect(r.exitCode, args.join(" ")).toBe(args.includes(invalid) ? 2 : 0);
      results.push({ args, out: `${r.stdout}\n${r.stderr}` });
    }
    return results;
  }

  test("every byte the main commands print is ASCII (and without it, some are not)", async () => {
    const unicode = await session({});
    expect(unicode.filter((r) => /[^\t\n\r\x20-\x7e]/.test(r.out)).map((r) => r.args.join(" "))).toEqual(
      expect.arrayContaining(["run --help", `validate ${join(repoRoot, "samples/invalid/cycle-three-stages.toml")}`, "suggest ."]),
    );
    const ascii = await session({ WFC_ASCII: "1" });
    const offending = ascii.flatMap((r) =>
      /[^\t\n\r\x20-\x7e]/.test(r.out) ? [`${r.args.join(" ")}: ${r.out.match(/.*[^\t\n\r\x20-\x7e].*/)![0]}`] : [],
    );
    expect(offending).toEqual([]);
    const cycle = ascii.find((r) => r.args.includes(join(repoRoot, "samples/invalid/cycle-three-stages.toml")))!;
    expect(cycle.out).toContain("dependency cycle: `build` -> `test` -> `sign` -> `build`");
  });

  const hasScript = spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;
  test.skipIf(!hasScript)(
    "on a terminal: the live display's bars, the critical path and the summary in ASCII; -q shows no display",
    async () => {
      const dir = copySample("ruffus-jobs-limit");
      const onTerminal = (args: string, env: Record<string, string>) =>
        execa("script", ["-qec", `${process.execPath} ${join(repoRoot, "dist/cli/bin.js")} run workflow.yaml ${args}`, "/dev/null"], {
          cwd: dir,
          env: { PATH: process.env.PATH, WFC_CONFIG: "", TERM: "xterm", ...env },
          reject: false,
        });
      const ascii = await onTerminal("", { WFC_ASCII: "1" });
      expect(ascii.exitCode).toBe(0);
      // Colour and cursor movements are ASCII too; what is left once they are gone must be printable ASCII.
      const screen = stripVTControlCharacters(String(ascii.stdout));
      expect(screen).toMatch(/make_files +#{10,} +10\/10/);
      expect(screen).toContain("critical path: make_files#");
      expect(screen.match(/[^\t\n\r\x20-\x7e]/g) ?? []).toEqual([]);
      const quiet = await onTerminal("--force -q", {});
      expect(quiet.exitCode).toBe(0);
      expect(String(quiet.stdout)).toBe("");
    },
  );

  test("data on stdout is never rewritten: a plan, JSON diagnostics and events keep a user's glyphs byte for byte", async () => {
    const dir = fixture({
      "wf.yaml": { wfc: 1, params: { label: "a → b … ±1" }, stages: { s: { outputs: "out.txt", run: "echo {params.label} > {outputs}" } } },
      "bad→.yaml": { wfc: 1, params: { label: "→" }, stages: { s: { outputs: "out.txt", run: "echo {params.lable} > {outputs}" } } },
    });
    // Events carry times: compared without them.
    const timeless = (stdout: string) => stdout.replace(/"(time|wallMs)":\d+/g, "");
    for (const args of [
      ["compile", "wf.yaml"],
      ["validate", "--format", "json", "bad→.yaml"],
      ["run", "wf.yaml", "--json", "--dry-run"],
    ]) {
      const plain = await wfc(args, { cwd: dir });
      const ascii = await wfc(args, { cwd: dir, env: { WFC_ASCII: "1" } });
      expect(timeless(ascii.stdout), args.join(" ")).toBe(timeless(plain.stdout));
      expect(ascii.stdout, args.join(" ")).toContain("→");
    }
    expect((await wfc(["compile", "wf.yaml"], { cwd: dir, env: { WFC_ASCII: "1" } })).stdout).toContain("a → b … ±1");
  });
});
