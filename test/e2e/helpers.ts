import { cpSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { stringify as toToml } from "smol-toml";
import { stringify as toYaml } from "yaml";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = join(repoRoot, "dist/cli/bin.js");

const emptyHome = mkdtempSync(join(tmpdir(), "wfc-home-"));

/** Runs the built CLI like a user would; never throws on a non-zero exit. */
export async function wfc(args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const result = await execa(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? repoRoot,
    // Hermetic: no config file of this machine's user or site leaks into a test.
    env: {
      NO_COLOR: "1",
      WFC_CONFIG: "",
      HOME: emptyHome,
      XDG_CONFIG_HOME: join(emptyHome, ".config"),
      XDG_CONFIG_DIRS: join(emptyHome, "xdg"),
      ...options.env,
    },
    reject: false,
    stdin: "ignore",
  });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/**
 * The timing lines the ruffus-jobs-limit sample's jobs write to
 * work/N.stage3 (`stage<tab>item<tab>start_ms<tab>end_ms`), of every file, split.
 */
export function ruffusLines(dir: string): string[][] {
  return readdirSync(join(dir, "work"))
    .filter((f) => f.endsWith(".stage3"))
    .flatMap((f) =>
      readFileSync(join(dir, "work", f), "utf8")
        .trim()
        .split("\n"),
    )
    .map((l) => l.split("\t"));
}

/**
 * A fresh copy of a sample without what runs left in it (`.wfc/`, `work/`,
 * `results/`: the README's quick start runs a sample in place), so a test
 * starts from the sample as committed and never writes into the repository.
 */
export function copySample(sample: string): string {
  const dir = mkdtempSync(join(tmpdir(), `wfc-${sample}-`));
  const from = join(repoRoot, "samples", sample);
  cpSync(from, dir, { recursive: true, filter: (src) => !/^(\.wfc|work|results)$/.test(relative(from, src).split(sep)[0]!) });
  return dir;
}

/** A temp directory with files written from object literals (workflows) or strings. */
export function fixture(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "wfc-test-"));
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    const text =
      typeof content === "string"
        ? content
        : name.endsWith(".toml")
          ? toToml(content as Record<string, unknown>)
          : name.endsWith(".json")
            ? JSON.stringify(content, null, 2)
            : toYaml(content);
    writeFileSync(path, text);
  }
  return dir;
}

/** One `--json` event, with the fields tests look at. */
export interface JsonEvent {
  readonly type: string;
  readonly task?: string;
  readonly job?: number;
  readonly status?: string;
  readonly reason?: string;
  readonly why?: string;
  readonly commands?: string[];
  /** `expand` (issue 14): the producer task, its element's identity, the jobs it added, whether more may come. */
  readonly from?: string;
  readonly element?: string;
  readonly jobs?: number;
  readonly more?: boolean;
}

/** The events of a `wfc run --json` run, one per stdout line. */
export function jsonEvents(stdout: string): JsonEvent[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JsonEvent);
}

/** The jobs that ran (not skipped as up to date) in a `--json` run, as `task#job`, sorted. */
export function jobsRan(stdout: string): string[] {
  return jsonEvents(stdout)
    .filter((e) => e.type === "job-end" && e.status !== "skipped")
    .map((e) => `${e.task}#${e.job}`)
    .toSorted();
}
