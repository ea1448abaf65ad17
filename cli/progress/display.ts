import { createLogUpdate } from "log-update";
import { visible } from "../../compiler/diagnostics/visible.js";
import type { RunEvent } from "../../runtime/run/run.js";
import { renderProgress, submitLine } from "./render.js";
import { ProgressState } from "./state.js";

/** A terminal stream: `process.stderr`, or a fake with the same fields in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** Read at every frame, so a resized terminal gets lines that fit. */
  readonly columns?: number;
  readonly rows?: number;
}

export interface ProgressDisplayOptions {
  /** The plan's tasks, in plan order. */
  readonly tasks: readonly { readonly id: string; readonly jobs: number }[];
  readonly color: boolean;
  /** ASCII bars (see `wantsAscii`); default unicode. */
  readonly ascii?: boolean;
  /** The clock of the run events; default `Date.now`. */
  readonly now?: () => number;
  /** Milliseconds between redraws; default 100. */
  readonly interval?: number;
}

export interface ProgressDisplay {
  /** Updates the state; the screen follows at the next redraw. Failed jobs are logged at once. */
  onEvent(event: RunEvent): void;
  /** Prints a line that stays, above the live area. */
  log(text: string): void;
  /** Draws the last frame and leaves it on screen; later `log`s print plainly. */
  stop(): void;
}

/**
 * A live progress area redrawn in place by log-update, at most once per
 * `interval` however fast events come (a run may end 10,000 jobs a second).
 */
export function createProgressDisplay(stream: ProgressStream, options: ProgressDisplayOptions): ProgressDisplay {
  const now = options.now ?? Date.now;
  const state = new ProgressState(options.tasks);
  // A terminal that reports no size (0 × 0 under `script` or a bare pty) is taken as 80 × 24;
  // log-update would otherwise draw nothing. It reads only write, isTTY, columns and rows.
  const sized = {
    write: (text: string) => stream.write(text),
    isTTY: stream.isTTY,
    get columns() {
      return stream.columns || 80;
    },
    get rows() {
      return stream.rows || 24;
    },
  };
  const update = createLogUpdate(sized as unknown as NodeJS.WritableStream, { showCursor: false });
  const frame = () =>
    renderProgress(state, {
      now: now(),
      width: sized.columns,
      // log-update cuts a frame taller than the terminal from the top: keep the header.
      maxRows: Math.max(1, Math.min(12, sized.rows - 3)),
      color: options.color,
      ascii: options.ascii ?? false,
    }).join("\n");
  const draw = () => update(frame());
  let stopped = false;
  const timer = setInterval(draw, options.interval ?? 100);
  timer.unref();

  const log = (text: string) => {
    if (stopped) {
      stream.write(text + "\n");
      return;
    }
    update.persist(text);
    draw();
  };
  const red = (text: string) => (options.color ? `\x1b[31m${text}\x1b[39m` : text);

  draw();
  return {
    onEvent(event) {
      state.apply(event);
      if (event.type === "slurm-submit") log(submitLine(event));
      if (event.type === "stale-inputs") log(`wfc: warning: ${visible(event.message)}`);
      if (event.type === "job-end" && event.status === "failed") {
        const why = event.reason !== undefined ? ` (${visible(event.reason)})` : event.exitCode === null ? "" : ` (exit ${event.exitCode})`;
        log(`${red("failed:")} ${event.task}#${event.job}${why}${event.log ? `  log: ${event.log}` : ""}`);
      }
    },
    log,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      draw();
      update.done();
    },
  };
}
