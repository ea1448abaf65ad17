/**
 * Helpers for the tests of `wfc export slurm` (export.test.ts, export-cluster.test.ts):
 * reading an export's folder, and running its array scripts without SLURM, the
 * way SLURM would run them (one process per array index, from the submit folder).
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { execa } from "execa";
import { repoRoot } from "../e2e/helpers.js";

/** The built CLI, as `$WFC` for the `fn` steps of an export. */
export const wfcBin = join(repoRoot, "dist/cli/bin.js");

/**
 * Env for `wfc()` in which `scontrol` cannot be found: the export's MaxArraySize is
 * then 1001 (or `--max-array-size`) whatever cluster this machine belongs to, so
 * shape outputs are the same on every machine. The CLI itself needs no PATH.
 */
export const withoutScontrol: Record<string, string> = { PATH: mkdtempSync(join(tmpdir(), "wfc-empty-path-")) };

/** `bash DIR/submit.sh --dry-run`: its exit code, stdout and the sbatch calls it prints (stderr). */
export async function submitDryRun(dir: string): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  const r = await execa("bash", [join(dir, "submit.sh"), "--dry-run"], { cwd: tmpdir(), reject: false, timeout: 30_000 });
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** The arrays of an export in submission order, from what `submit.sh --dry-run` would submit. */
export async function submissionOrder(dir: string): Promise<string[]> {
  const r = await submitDryRun(dir);
  if (r.exitCode !== 0) throw new Error(`submit.sh --dry-run exited ${r.exitCode}: ${r.stderr}`);
  return r.stderr
    .split("\n")
    .filter((l) => l.startsWith("sbatch "))
    .map((l) => /\sarrays\/(\S+)\.sh$/.exec(l)![1]!);
}

/** How many elements an array script asks for: its `#SBATCH --array=0-N[%k]` line. */
export function arraySize(dir: string, name: string): number {
  const m = /^#SBATCH --array=0-(\d+)(%\d+)?$/m.exec(readFileSync(join(dir, "arrays", `${name}.sh`), "utf8"));
  if (!m) throw new Error(`arrays/${name}.sh has no #SBATCH --array=0-N line`);
  return Number(m[1]) + 1;
}

/** The `#SBATCH` directives of an array script, in order. */
export function directives(dir: string, name: string): string[] {
  return readFileSync(join(dir, "arrays", `${name}.sh`), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("#SBATCH "))
    .map((l) => l.slice("#SBATCH ".length));
}

export interface LocalRun {
  readonly array: string;
  readonly index: number;
  readonly exitCode: number | undefined;
  readonly stderr: string;
}

/**
 * Runs every element of every array of an export with bash, without SLURM: in
 * submission order, index by index, with `SLURM_ARRAY_TASK_ID` and `SLURM_SUBMIT_DIR`
 * set as SLURM sets them, from an unrelated working directory. Stops at the first
 * element that fails (what a dependency would do) and returns what ran.
 */
export async function runArraysWithoutSlurm(dir: string, env: Record<string, string> = {}, cwd: string = tmpdir()): Promise<LocalRun[]> {
  const runs: LocalRun[] = [];
  for (const array of await submissionOrder(dir)) {
    for (let index = 0; index < arraySize(dir, array); index++) {
      const r = await execa("bash", [join(dir, "arrays", `${array}.sh`)], {
        cwd,
        env: { ...env, SLURM_ARRAY_TASK_ID: String(index), SLURM_SUBMIT_DIR: dir },
        reject: false,
        timeout: 60_000,
      });
      runs.push({ array, index, exitCode: r.exitCode, stderr: String(r.stderr) });
      if (r.exitCode !== 0) return runs;
    }
  }
  return runs;
}

/** Every file under `dir`, by path relative to it (with `/`), sorted; `skip` names top-level entries to leave out. */
export function filesUnder(dir: string, skip: readonly string[] = []): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (d === dir && skip.includes(entry)) continue;
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path).split("\\").join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

/** The contents of the given files under `dir`, by relative path. */
export function contents(dir: string, files: readonly string[]): Record<string, string> {
  return Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f), "latin1")]));
}

/** `jobs.tsv` of a submitted export: array name → job id, in submission order. */
export function jobsTsv(dir: string): [string, string][] {
  const [header, ...rows] = readFileSync(join(dir, "jobs.tsv"), "utf8").trimEnd().split("\n");
  if (header !== "array\tjob_id") throw new Error(`jobs.tsv starts with ${JSON.stringify(header)}`);
  return rows.map((r) => r.split("\t") as [string, string]);
}
