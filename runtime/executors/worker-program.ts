/**
 * Which program ProcessPool's workers run, with which interpreter, and what
 * comes next when an interpreter cannot run it.
 *
 * The programs are real files beside this module (workers/worker.py,
 * workers/worker.pl; the build copies them into dist/), run by path so that
 * an error names the file and line. Reading a small file costs the
 * interpreter what `-c CODE` did.
 *
 * Order: python3 (posix_spawn), then perl (fork), then none (the caller, or
 * the pool itself, spawns each job from Node). Detection looks at PATH only,
 * spawning nothing (a probe cost a run 40-60 ms); an interpreter that turns
 * out unable to run its worker (a python3 older than 3.8, a broken install)
 * is found out by its first worker, which exits before its `R` line. The pool
 * then moves to the next program and calls `skip`, which records the skip
 * for the whole process (later pools start at the next program); the one
 * warning (`fallbackWarning`) is given once it is known what runs the jobs
 * instead: the next program's first worker started, or Node's spawn.
 */
import { accessSync, closeSync, constants, openSync, readSync, realpathSync, statSync } from "node:fs";
import { basename, delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { measuring } from "./measure.js";

/** Which program the workers run, and with which interpreter. */
export interface WorkerProgram {
  readonly kind: "python" | "perl";
  /** The interpreter, looked up on PATH unless it contains a slash. */
  readonly interpreter: string;
}

/** In the order tried. */
const CANDIDATES: readonly WorkerProgram[] = [
  { kind: "python", interpreter: "python3" },
  { kind: "perl", interpreter: "perl" },
];

const FILES: Record<WorkerProgram["kind"], string> = {
  python: fileURLToPath(new URL("./workers/worker.py", import.meta.url)),
  perl: fileURLToPath(new URL("./workers/worker.pl", import.meta.url)),
};

/**
 * The interpreter's arguments: the worker program, how long it gives a job
 * between SIGTERM and SIGKILL should Node go away, whether it measures what
 * each command used (`0`: WFC_MEASURE=0), and (perl, which calls wait4 by
 * its number) this machine's architecture.
 */
export function workerArgs(program: WorkerProgram, graceMs: number): string[] {
  const measure = measuring() ? "1" : "0";
  switch (program.kind) {
    case "python":
      // -I: no PYTHON* variables, no script folder on sys.path; -S: no site module (10-20 ms of start-up).
      return ["-I", "-S", FILES.python, String(graceMs), measure];
    case "perl":
      return [FILES.perl, String(graceMs), measure, process.arch];
  }
}

/** Per kind, the interpreter found on PATH (looked up once per process). */
const found = new Map<WorkerProgram["kind"], string | undefined>();
/** Kinds whose interpreter could not run its worker in this process. */
const skipped = new Set<WorkerProgram["kind"]>();

/**
 * The first program this machine can run, after `after` if given: python3 if
 * it is on PATH, else perl; null if neither (use SpawnRunner). Programs
 * skipped earlier in this process are passed over.
 */
export function detectWorkerProgram(after?: WorkerProgram["kind"]): WorkerProgram | null {
  if (process.platform === "win32") return null;
  const from = after === undefined ? 0 : CANDIDATES.findIndex((c) => c.kind === after) + 1;
  for (const c of CANDIDATES.slice(from)) {
    if (skipped.has(c.kind)) continue;
    if (!found.has(c.kind)) found.set(c.kind, preferredInterpreter(c.kind, onPath(c.interpreter)));
    const interpreter = found.get(c.kind);
    if (interpreter !== undefined) return { kind: c.kind, interpreter };
  }
  return null;
}

/** An interpreter passed over, and why. */
export interface Skipped {
  readonly interpreter: string;
  /** What its worker did, e.g. "exited with code 1: wfc worker: python3 >= 3.8 … is needed, this is 3.6.9". */
  readonly why: string;
}

/**
 * `program` cannot run its worker: its worker `how` (e.g. "exited with code
 * 1"), saying `stderr`. Records that for this process, so later pools start
 * at the next program, and returns that program (null: spawn from Node) and
 * what to warn about (null if another pool of this process did already).
 */
export function skip(
  program: WorkerProgram,
  how: string,
  stderr: string,
): { readonly next: WorkerProgram | null; readonly skipped: Skipped | null } {
  const first = !skipped.has(program.kind);
  skipped.add(program.kind);
  // A traceback's last line says what went wrong.
  const said = stderr.trim().split("\n").at(-1)?.trim();
  const why = said ? `${how}: ${said}` : how;
  return { next: detectWorkerProgram(program.kind), skipped: first ? { interpreter: program.interpreter, why } : null };
}

/** The one warning line about the interpreters passed over, once it is known what runs the jobs instead (`using`; null: Node's spawn). */
export function fallbackWarning(passed: readonly Skipped[], using: WorkerProgram | null): string {
  const what = passed.map((s, i) => `${s.interpreter} ${i === 0 ? "cannot run the job workers" : "neither"} (its worker ${s.why})`);
  const instead = using === null ? "each job is spawned from Node instead" : `the workers run ${using.interpreter} instead`;
  return `${what.join("; ")}; ${instead}`;
}

/** The executable files of this name in the PATH folders, in PATH order. */
function onPath(name: string): string[] {
  const files: string[] = [];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const file = join(dir || ".", name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) files.push(file);
    } catch {
      // not here
    }
  }
  return files;
}

/**
 * Which of the interpreters found the workers run: the first that is a real
 * python ≥ 3.8 binary, else the first found. A version manager's shim
 * (pyenv, asdf: a script that picks a python per folder) costs 50-80 ms per
 * worker start, and the worker needs nothing but the standard library, so a
 * later binary is better. "Real" is read from the file, spawning nothing: no
 * `#!` at its start, and its resolved name says its version (python3.11).
 */
export function preferredInterpreter(kind: WorkerProgram["kind"], files: readonly string[]): string | undefined {
  if (kind !== "python") return files[0];
  return files.find((file) => !isScript(file) && /^python3\.([89]|[1-9][0-9])$/.test(basename(realpathOr(file)))) ?? files[0];
}

function isScript(file: string): boolean {
  const head = Buffer.alloc(2);
  try {
    const fd = openSync(file, "r");
    try {
      readSync(fd, head, 0, 2, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return true;
  }
  return head.toString("latin1") === "#!";
}

function realpathOr(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
