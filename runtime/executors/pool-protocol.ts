import type { LaunchSpec } from "./job.js";

/**
 * The line protocol between ProcessPool and its workers (workers/worker.py,
 * workers/worker.pl). A worker runs one job at a time and says `R` before it
 * reads anything, so a worker that dies before `R` never touched a job.
 *
 * Node → worker, one request per job:
 *
 *     J <seq> <bytes>\n<payload>     run the job
 *     K <seq> <bytes>\n<payload>     run it only if the worker's previous job succeeded
 *
 * A `K` request is written while the job before it still runs (a lane's
 * next job, see BoundedRunner), so the worker starts it the moment the
 * previous one ends, without waiting for Node. If the previous job did not
 * succeed (a command exited non-zero or could not start), or a `K` before
 * it was skipped, the worker skips it and says `X`.
 *
 * where the payload is NUL-separated fields: cwd, log, the number of commands
 * c, then per command the number of environment pairs n, the number of argv
 * items a, n names and values interleaved, and the a items of argv. Values
 * are length-delimited, never quoted, so any byte but NUL passes through
 * unchanged (NUL cannot be in argv, environ or a path anyway; toLaunchSpec
 * rejects it).
 *
 * Worker → Node, one line each; a job's commands run in order, each only
 * after the one before exited 0, and each gets its own `S` and `E`:
 *
 *     R <worker pid> <1 if it has sub-ms timestamps, else 0>   once, at start
 *     S <seq> <job pid> <ms>          a command started; the pid leads its own process group
 *     E <seq> <wait status> <ms> [<user µs> <sys µs> <max RSS KiB> <in blocks> <out blocks>]
 *                                     it was reaped; the raw status from wait4 (waitpid)
 *     F <seq> <ms> <hex message>      a command could not start (log, cwd, exec): the job is over
 *     X <seq> <ms>                    a `K` job skipped: nothing of it ran
 *
 * The job is over after an `F`, after an `E` with a non-zero status, and
 * after the `E` of its last command. The `E` of a command that succeeded and
 * is not its job's last is written together with the next command's `S` (or
 * `F`), in one write: a fused job costs Node one wake-up per command.
 * `<ms>` is epoch milliseconds taken just before the fork and just after
 * waitpid, or `-` when the worker has no sub-millisecond clock; Node then uses its own.
 * The five figures (issue 16) are what wait4's rusage says the command and
 * the descendants it waited for used: CPU in user and kernel mode (µs),
 * the largest peak resident set of them (KiB), and blocks of 512 bytes
 * read and written through the block layer; each is `-` where the worker
 * cannot tell (perl without wait4: no RSS, no blocks), and all five are
 * left out when it does not measure (WFC_MEASURE=0).
 * The job's stdin is /dev/null; stdout and stderr are appended to the log.
 */

/** Encodes one job as a request for the worker; `ifPreviousOk` makes it a `K` request. */
export function encodeRequest(seq: number, spec: LaunchSpec, ifPreviousOk = false): Buffer {
  const fields = [spec.cwd, spec.log, String(spec.commands.length)];
  for (const c of spec.commands) fields.push(String(c.env.length), String(c.argv.length), ...c.env.flat(), ...c.argv);
  const payload = Buffer.from(fields.join("\0"), "utf8");
  return Buffer.concat([Buffer.from(`${ifPreviousOk ? "K" : "J"} ${seq} ${payload.length}\n`, "latin1"), payload]);
}

/** One line from a worker. */
export type Reply =
  | { readonly type: "ready"; readonly pid: number; readonly hires: boolean }
  | { readonly type: "started"; readonly seq: number; readonly pid: number; readonly at: number | null }
  | {
      readonly type: "exited";
      readonly seq: number;
      readonly status: number;
      readonly at: number | null;
      /** What the command used, when the worker measured it. */
      readonly usage: Figures | null;
    }
  | { readonly type: "failed"; readonly seq: number; readonly at: number | null; readonly message: string }
  | { readonly type: "skipped"; readonly seq: number; readonly at: number | null };

/** An `E` line's figures; null where the worker could not tell. */
export interface Figures {
  readonly userUs: number | null;
  readonly sysUs: number | null;
  readonly maxRssKb: number | null;
  readonly inBlocks: number | null;
  readonly outBlocks: number | null;
}

const TIME = String.raw`(-|\d+(?:\.\d+)?)`;
const FIGURE = String.raw` (-|\d+)`;
const LINES = {
  R: new RegExp(String.raw`^R (\d+) ([01])$`),
  S: new RegExp(String.raw`^S (\d+) (\d+) ${TIME}$`),
  E: new RegExp(String.raw`^E (\d+) (\d+) ${TIME}(?:${FIGURE.repeat(5)})?$`),
  F: new RegExp(String.raw`^F (\d+) ${TIME} ((?:[0-9a-f]{2})*)$`),
  X: new RegExp(String.raw`^X (\d+) ${TIME}$`),
};
const time = (s: string): number | null => (s === "-" ? null : Number(s));

/** Parses one line from a worker; null for a line that is not part of the protocol. */
export function parseReply(line: string): Reply | null {
  let m: RegExpExecArray | null;
  if ((m = LINES.S.exec(line))) {
    const pid = Number(m[2]);
    // The pid becomes a process-group id to signal: 0 or 1 would mean "everyone".
    return pid > 1 ? { type: "started", seq: Number(m[1]), pid, at: time(m[3]!) } : null;
  }
  if ((m = LINES.E.exec(line))) return { type: "exited", seq: Number(m[1]), status: Number(m[2]), at: time(m[3]!), usage: figures(m) };
  if ((m = LINES.F.exec(line)))
    return { type: "failed", seq: Number(m[1]), at: time(m[2]!), message: Buffer.from(m[3]!, "hex").toString("utf8") };
  if ((m = LINES.X.exec(line))) return { type: "skipped", seq: Number(m[1]), at: time(m[2]!) };
  if ((m = LINES.R.exec(line))) return { type: "ready", pid: Number(m[1]), hires: m[2] === "1" };
  return null;
}

/** An `E` line's figures (groups 4 to 8), or null when it has none. */
function figures(m: RegExpExecArray): Figures | null {
  if (m[4] === undefined) return null;
  const n = (s: string | undefined): number | null => (s === undefined || s === "-" ? null : Number(s));
  return { userUs: n(m[4]), sysUs: n(m[5]), maxRssKb: n(m[6]), inBlocks: n(m[7]), outBlocks: n(m[8]) };
}
