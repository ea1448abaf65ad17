import { visible } from "../compiler/diagnostics/visible.js";

/** The streams a command writes to; parameters so tests can capture them (STYLE habit 12). */
export interface Io {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Aborted on Ctrl-C, SIGTERM or SIGHUP (bin.ts), with the signal's name as its reason; long-running commands stop cleanly. */
  readonly signal?: AbortSignal;
  /** Aborted on a second one: running jobs get SIGKILL at once. */
  readonly kill?: AbortSignal;
  /** `--quiet` / `--verbose` of the command (main.ts sets it for every command); absent means normal. */
  readonly verbosity?: Verbosity;
}

/** How much a command says beyond its real output: `--quiet` only errors, `--verbose` timings, files read, config locations. */
export type Verbosity = "quiet" | "normal" | "verbose";

export function isQuiet(io: Io): boolean {
  return io.verbosity === "quiet";
}

/** A line about what the command did (`wrote …`), on stdout; `--quiet` leaves it out. */
export function status(io: Io, text: string): void {
  if (io.verbosity !== "quiet") io.stdout.write(text);
}

/** A `--verbose` detail on stderr (`wfc: …`); nothing otherwise. */
export function detail(io: Io, message: string): void {
  if (io.verbosity === "verbose") io.stderr.write(`wfc: ${visible(message)}\n`);
}

/** Exit codes, as documented in the README. */
export const ExitCode = {
  ok: 0,
  jobFailed: 1,
  invalid: 2,
  internal: 70,
  interrupted: 130,
} as const;

/** The exit code of a run stopped by a signal: 128 + its number, as shells report it (129 SIGHUP, 130 Ctrl-C, 143 SIGTERM). */
export function interruptExitCode(reason: unknown): number {
  switch (reason) {
    case "SIGHUP":
      return 129;
    case "SIGTERM":
      return 143;
    default:
      return ExitCode.interrupted;
  }
}

/** A usage error: printed without a stack trace, exits with code 2. */
export class UsageError extends Error {
  readonly exitCode = ExitCode.invalid;
}

/** Colour on a terminal, unless `NO_COLOR` is set to something (an empty `NO_COLOR` is unset, as no-color.org says) or TERM is dumb. */
export function useColor(stream: Io["stderr"], env: Io["env"]): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === "") && env.TERM !== "dumb";
}

/**
 * A one-line error, `wfc: error: …`, with control characters of user text
 * (a file name, a plan's ids) made visible, as diagnostics show them.
 */
export function errorLine(message: string): string {
  return `wfc: error: ${visible(message)}\n`;
}

/** A warning, one line, escaped like an error. */
export function warningLine(message: string): string {
  return `wfc: warning: ${visible(message)}\n`;
}
