import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { wfcVersion } from "../../compiler/schema/assets.js";
import { reportHtml } from "../../runtime/report/html.js";
import { loadRun } from "../../runtime/report/load-run.js";
import { reportModel } from "../../runtime/report/model.js";
import { errorLine, ExitCode, status, type Io } from "../io.js";
import { writeFileAtomic } from "../write-file.js";

export interface ReportCommandOptions {
  /** Where to write the page; default `DIR/wfc-report.html`. */
  readonly output?: string;
  /** The run's id (`.wfc/runs/<id>.json`); default the newest. */
  readonly run?: string;
}

/**
 * `wfc report [DIR] [-o FILE] [--run ID]`: one self-contained HTML page of
 * a run (runtime/report/). 0 with the page written; 2, with nothing
 * written, when there is no such folder or run, or the page cannot be written.
 */
export async function reportCommand(dir: string | undefined, options: ReportCommandOptions, io: Io): Promise<number> {
  const folder = resolve(io.cwd, dir ?? ".");
  const shown = dir ?? ".";
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    // Said below.
  }
  if (!isFolder) {
    io.stderr.write(
      errorLine(`${shown}: no such folder; give the workflow's folder (the one that holds .wfc/), or run \`wfc report\` in it`),
    );
    return ExitCode.invalid;
  }
  const loaded = loadRun(join(folder, ".wfc"), options.run);
  if (!loaded.ok) {
    io.stderr.write(errorLine(`${loaded.problem.message}; ${loaded.problem.suggestion}`));
    return ExitCode.invalid;
  }
  const model = reportModel(loaded.value, join(folder, ".wfc"));
  const html = reportHtml(model, `wfc ${wfcVersion()}`);
  const output = options.output === undefined ? join(folder, "wfc-report.html") : resolve(io.cwd, options.output);
  // wfc never destroys what it did not create: the default name may be a file of the user's. `-o` names it on purpose.
  if (options.output === undefined && !ownPage(output)) {
    io.stderr.write(
      errorLine(`${relative(io.cwd, output) || output} exists and is not a report wfc wrote; name another file with -o, or move it away`),
    );
    return ExitCode.invalid;
  }
  try {
    await writeFileAtomic(output, html);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    io.stderr.write(errorLine(`cannot write \`${options.output ?? relative(io.cwd, output)}\`: ${code}`));
    return ExitCode.invalid;
  }
  const steps = model.timeline.s.length;
  const failed = model.table.reduce((n, s) => n + s.failed, 0);
  status(
    io,
    `${relative(io.cwd, output) || output}: report of run ${loaded.value.run.id} (${steps} step${steps === 1 ? "" : "s"}, ${failed} failed); open ${pathToFileURL(output).href} in a browser\n`,
  );
  return ExitCode.ok;
}

/** Whether a path is free, or holds a page `wfc report` wrote (its generator line, near the top). */
function ownPage(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT";
  }
  try {
    const head = Buffer.alloc(4096);
    const text = head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString("utf8");
    return text.includes('<meta name="generator" content="wfc ');
  } finally {
    closeSync(fd);
  }
}
