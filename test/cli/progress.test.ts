import { stripVTControlCharacters } from "node:util";
import { afterEach, describe, expect, test, vi } from "vitest";
import { createProgressDisplay } from "../../cli/progress/display.js";
import { formatDuration, renderProgress, wantsAscii } from "../../cli/progress/render.js";
import { ProgressState, type JobCounts, type ProgressSnapshot, type TaskProgress } from "../../cli/progress/state.js";
import type { RunEvent, RunSummary } from "../../runtime/run/run.js";

const task = (id: string, jobs: number, counts: Partial<JobCounts> = {}): TaskProgress => ({
  id,
  jobs,
  done: 0,
  upToDate: 0,
  failed: 0,
  cancelled: 0,
  running: 0,
  ...counts,
});

/** A hand-made state; the totals are the sums of the tasks. */
function snapshot(tasks: TaskProgress[], times: { start?: number; end?: number } = { start: 0 }): ProgressSnapshot {
  const sum = (key: keyof JobCounts | "jobs") => tasks.reduce((n, t) => n + t[key], 0);
  return {
    tasks,
    totals: {
      jobs: sum("jobs"),
      done: sum("done"),
      upToDate: sum("upToDate"),
      failed: sum("failed"),
      cancelled: sum("cancelled"),
      running: sum("running"),
    },
    start: times.start,
    end: times.end,
  };
}

const midRun = snapshot([
  task("prepare", 1, { upToDate: 1 }),
  task("align", 24, { done: 10, upToDate: 4, running: 4 }),
  task("call_variants", 24, { done: 1, failed: 1 }),
  task("report", 1),
]);

describe("a dynamic task's progress (issue 14)", () => {
  test("its total grows with each expand event and reads `n/m+` until every job is known; no ETA meanwhile", () => {
    const state = new ProgressState([
      { id: "split", jobs: 2 },
      { id: "map", jobs: 0, more: true },
    ]);
    const at = (time: number) => ({ time, task: "split", job: 0, elements: [0, 1] as const });
    state.apply({ type: "run-start", time: 0, tasks: 2, jobs: 2 });
    state.apply({ ...at(500), type: "job-end", status: "done", start: 0, exitCode: 0, log: "" });
    state.apply({ type: "expand", time: 500, task: "map", from: "split", element: "s=a", jobs: 3, elements: [0, 3], more: true });
    expect(renderProgress(state, { now: 2000, width: 80 })).toEqual([
      "1/5+ jobs  0 running  elapsed 2s  ETA --",
      "split  ███████████████░░░░░░░░░░░░░░░   1/2",
      "map    ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/3+",
    ]);
    state.apply({ type: "expand", time: 600, task: "map", from: "split", element: "s=b", jobs: 1, elements: [3, 4], more: false });
    expect(renderProgress(state, { now: 2000, width: 80 })[2]).toBe("map    ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░   0/4");
  });
});

describe("renderProgress", () => {
  test("a header with counts, elapsed and ETA, then a row per task", () => {
    expect(renderProgress(midRun, { now: 65_000, width: 80 })).toEqual([
      "17/50 jobs  4 running  1 failed  5 up to date  elapsed 1m05s  ETA 2m06s",
      "prepare        ██████████████████████████████    1/1  1 up to date",
      "align          █████████████████░░░░░░░░░░░░░  14/24  4 running  4 up to date",
      "call_variants  ██░░░░░░░░░░░░░░░░░░░░░░░░░░░░   2/24  1 failed",
      "report         ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░    0/1",
    ]);
  });

  test("at width 40 the header keeps the times and rows are cut with an ellipsis", () => {
    const state = snapshot([task("a-task-with-a-rather-long-name", 10, { done: 5, running: 2, upToDate: 1 }), task("b", 3, { failed: 1 })]);
    const lines = renderProgress(state, { now: 10_000, width: 40 });
    expect(lines).toEqual([
      "7/13 jobs  1 failed  elapsed 10s  ETA 8s",
      "a-task-with-…  ███░░░   6/10  2 running…",
      "b              ██░░░░    1/3  1 failed",
    ]);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(40);
  });

  // Issue 13 point 9: a cancelled job runs again next time, so it is shown as cancelled, not as progress.
  test("after Ctrl-C, cancelled jobs fill no cell and are not counted as finished", () => {
    const state = snapshot([task("align", 4, { done: 1, cancelled: 2 }), task("report", 1)], { start: 0, end: 5000 });
    expect(renderProgress(state, { now: 5000, width: 80 })).toEqual([
      "1/5 jobs  0 running  2 cancelled  elapsed 5s",
      "align   ███████░░░░░░░░░░░░░░░░░░░░░░░  1/4  2 cancelled",
      "report  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/1",
    ]);
  });

  test("no line is longer than a very narrow terminal", () => {
    for (const width of [1, 5, 12, 20])
      for (const line of renderProgress(midRun, { now: 65_000, width })) expect(line.length).toBeLessThanOrEqual(width);
  });

  test("a 100-task plan shows 12 rows: running, then unfinished, then finished tasks, and counts the rest", () => {
    const tasks = Array.from({ length: 100 }, (_, i) => {
      const id = `t${String(i).padStart(3, "0")}`;
      if (i < 60) return task(id, 2, { done: 2 }); // finished
      if (i === 70 || i === 90) return task(id, 2, { done: 1, running: 1 });
      return task(id, 2);
    });
    const lines = renderProgress(snapshot(tasks), { now: 30_000, width: 60 });
    expect(lines).toEqual([
      "122/200 jobs  2 running  elapsed 30s  ETA 19s",
      "t070  ███████████████░░░░░░░░░░░░░░░  1/2  1 running",
      "t090  ███████████████░░░░░░░░░░░░░░░  1/2  1 running",
      "t060  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/2",
      "t061  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/2",
      "t062  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/2",
      "t063  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/2",
      "t064  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/2",
      "t065  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/2",
      "t066  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/2",
      "t067  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/2",
      "t068  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/2",
      "t069  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/2",
      "… 88 more tasks (60 finished)",
    ]);
  });

  test("thousands are grouped; finished tasks fill the rows when nothing else is left", () => {
    const tasks = Array.from({ length: 10_000 }, (_, i) => task(`t${i}`, 1, { done: 1 }));
    const lines = renderProgress(snapshot(tasks, { start: 0, end: 5000 }), { now: 9_000, width: 80, maxRows: 2 });
    expect(lines).toEqual([
      "10,000/10,000 jobs  0 running  elapsed 5s",
      "t0     ██████████████████████████████  1/1",
      "t1     ██████████████████████████████  1/1",
      "… 9,998 more tasks (9,998 finished)",
    ]);
  });

  test("ETA: -- until a job ended and a second passed, then elapsed × remaining / finished; none once the run ended", () => {
    const header = (state: ProgressSnapshot, now: number) => renderProgress(state, { now, width: 80 })[0];
    expect(header(snapshot([task("a", 10, { running: 2 })]), 5_000)).toBe("0/10 jobs  2 running  elapsed 5s  ETA --");
    expect(header(snapshot([task("a", 10, { done: 1 })]), 900)).toBe("1/10 jobs  0 running  elapsed 0s  ETA --");
    expect(header(snapshot([task("a", 10, { done: 4 })]), 20_000)).toBe("4/10 jobs  0 running  elapsed 20s  ETA 30s");
    expect(header(snapshot([task("a", 1000, { done: 1 })]), 10_000)).toBe("1/1,000 jobs  0 running  elapsed 10s  ETA 2h46m");
    expect(header(snapshot([task("a", 10, { done: 10 })], { start: 0, end: 20_000 }), 99_000)).toBe("10/10 jobs  0 running  elapsed 20s");
    expect(header(snapshot([task("a", 10)], {}), 99_000)).toBe("0/10 jobs  0 running  elapsed 0s  ETA --");
  });

  test("ASCII bars and ellipses for terminals without unicode", () => {
    const state = snapshot([task("a-long-task-name", 4, { done: 1, upToDate: 1 }), task("b", 20)]);
    expect(renderProgress(state, { now: 1_000, width: 40, ascii: true })).toEqual([
      "2/24 jobs  elapsed 1s  ETA 11s",
      "a-long-task-~  ###---    2/4  1 up to d~",
      "b              ------   0/20",
    ]);
    expect(wantsAscii({ TERM: "linux" })).toBe(true);
    expect(wantsAscii({ TERM: "xterm-256color", WFC_ASCII: "1" })).toBe(true);
    expect(wantsAscii({ TERM: "xterm-256color" })).toBe(false);
    expect(wantsAscii({ WFC_ASCII: "0" })).toBe(false);
  });

  test("colors only when asked, around the same text", () => {
    const plain = renderProgress(midRun, { now: 65_000, width: 80 });
    const colored = renderProgress(midRun, { now: 65_000, width: 80, color: true });
    expect(colored.map((l) => stripVTControlCharacters(l))).toEqual(plain);
    expect(colored[3]).toContain("\x1b[32m█\x1b[39m\x1b[31m█\x1b[39m░░░");
    expect(colored[3]).toContain("\x1b[31m  1 failed\x1b[39m");
    expect(colored[1]).toContain("\x1b[2m  1 up to date\x1b[22m");
    expect(plain.join("")).not.toContain("\x1b");
  });

  test("durations", () => {
    expect([0, 999, 59_999, 60_000, 65_000, 3_599_000, 3_600_000, 7_380_000].map(formatDuration)).toEqual([
      "0s",
      "0s",
      "59s",
      "1m00s",
      "1m05s",
      "59m59s",
      "1h00m",
      "2h03m",
    ]);
  });
});

const start = (task: string, job: number, time: number): RunEvent => ({ type: "job-start", time, task, job, elements: [job, job + 1] });
const end = (
  task: string,
  job: number,
  time: number,
  status: "done" | "failed" | "skipped" | "cancelled",
  extra: { exitCode?: number; log?: string } = {},
): RunEvent => ({
  type: "job-end",
  time,
  task,
  job,
  elements: [job, job + 1],
  status,
  start: time,
  exitCode: extra.exitCode ?? (status === "done" ? 0 : null),
  ...(extra.log !== undefined ? { log: extra.log } : {}),
});

describe("ProgressState", () => {
  test("counts job ends by status; only started jobs count as running", () => {
    const state = new ProgressState([
      { id: "a", jobs: 3 },
      { id: "b", jobs: 2 },
    ]);
    for (const event of [
      { type: "run-start", time: 100, tasks: 2, jobs: 5 } as const,
      end("a", 0, 100, "skipped"),
      start("a", 1, 110),
      start("a", 2, 110),
      end("a", 1, 120, "done"),
      start("b", 0, 130),
      end("b", 0, 140, "failed", { exitCode: 1 }),
      end("a", 2, 150, "cancelled"),
      end("unknown", 0, 150, "done"),
    ])
      state.apply(event);
    expect(state.tasks).toEqual([task("a", 3, { upToDate: 1, done: 1, cancelled: 1 }), task("b", 2, { failed: 1 })]);
    expect(state.totals).toEqual({ jobs: 5, done: 1, upToDate: 1, failed: 1, cancelled: 1, running: 0 });
    expect(state.start).toBe(100);
    expect(state.end).toBeUndefined();
  });
});

/**
 * What a terminal shows after the chunks written to it: enough of a VT100 for
 * log-update (cursor up/down/left, erase line), colors and modes ignored.
 */
function screen(chunks: readonly string[]): string[] {
  const lines: string[] = [""];
  let row = 0;
  let col = 0;
  const text = chunks.join("");
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\n") {
      row++;
      col = 0;
      lines[row] ??= "";
      continue;
    }
    if (ch === "\x1b") {
      const m = /^.\[([?\d;]*)([A-Za-z])/.exec(text.slice(i));
      if (!m) throw new Error(`unexpected escape at ${i}: ${JSON.stringify(text.slice(i, i + 10))}`);
      i += m[0].length - 1;
      const count = Number(m[1] || 1);
      if (m[2] === "A") row = Math.max(0, row - count);
      else if (m[2] === "B") row += count;
      else if (m[2] === "G") col = 0;
      else if (m[2] === "K") lines[row] = m[1] === "2" ? "" : (lines[row] ?? "").slice(0, col);
      lines[row] ??= "";
      continue;
    }
    const line = (lines[row] ?? "").padEnd(col);
    lines[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  }
  while (lines.at(-1) === "") lines.pop();
  return lines;
}

describe("createProgressDisplay", () => {
  test("redraws in place, logs failures above the live area, and leaves the last frame", () => {
    const chunks: string[] = [];
    const stream = { isTTY: true, columns: 60, rows: 30, write: (chunk: string) => chunks.push(chunk) };
    let clock = 1_000;
    const display = createProgressDisplay(stream, {
      tasks: [
        { id: "fetch", jobs: 2 },
        { id: "build", jobs: 2 },
      ],
      color: false,
      now: () => clock,
      interval: 60_000,
    });
    expect(screen(chunks)).toEqual([
      "0/4 jobs  0 running  elapsed 0s  ETA --",
      "fetch  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/2",
      "build  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/2",
    ]);

    const events: RunEvent[] = [
      { type: "run-start", time: 1_000, tasks: 2, jobs: 4 },
      end("fetch", 0, 1_000, "skipped"),
      start("fetch", 1, 1_000),
      start("build", 0, 1_000),
      end("fetch", 1, 2_000, "done"),
      end("build", 0, 3_000, "failed", { exitCode: 2, log: ".wfc/logs/build/_.log" }),
      start("build", 1, 3_000),
      end("build", 1, 5_000, "done"),
      {
        type: "run-end",
        time: 5_000,
        // The display reads only the time of run-end.
        summary: {
          status: "failed",
          done: 2,
          skipped: 1,
          failed: 1,
          notRun: 0,
          wallMs: 4_000,
          failures: [],
        } as Partial<RunSummary> as RunSummary,
      },
    ];
    for (const event of events) {
      clock = "time" in event ? event.time : clock;
      display.onEvent(event);
      if (event.type === "job-end" && event.status === "failed")
        // Logged as it happens, above a live area redrawn at once.
        expect(screen(chunks)).toEqual([
          "failed: build#0 (exit 2)  log: .wfc/logs/build/_.log",
          "3/4 jobs  0 running  1 failed  elapsed 2s  ETA 0s",
          "fetch  ██████████████████████████████  2/2  1 up to date",
          "build  ███████████████░░░░░░░░░░░░░░░  1/2  1 failed",
        ]);
    }
    clock = 9_000; // after run-end, elapsed stays where the run ended
    display.stop();

    expect(screen(chunks)).toEqual([
      "failed: build#0 (exit 2)  log: .wfc/logs/build/_.log",
      "4/4 jobs  0 running  1 failed  1 up to date  elapsed 4s",
      "fetch  ██████████████████████████████  2/2  1 up to date",
      "build  ██████████████████████████████  2/2  1 failed",
    ]);
    const text = stripVTControlCharacters(chunks.join(""));
    expect(text).not.toContain("\x1b");
    expect(text.indexOf("failed: build#0")).toBeLessThan(text.lastIndexOf("4/4 jobs"));
    // Later output goes below the final frame.
    display.log("after the run");
    expect(screen(chunks).at(-1)).toBe("after the run");
  });

  test("log() keeps a message above the frame while the run goes on", () => {
    const chunks: string[] = [];
    const stream = { isTTY: true, columns: 50, write: (chunk: string) => chunks.push(chunk) };
    const display = createProgressDisplay(stream, { tasks: [{ id: "a", jobs: 1 }], color: false, now: () => 0, interval: 60_000 });
    display.onEvent({ type: "run-start", time: 0, tasks: 1, jobs: 1 });
    display.log("note: something happened");
    display.onEvent(start("a", 0, 0));
    display.stop();
    const text = stripVTControlCharacters(chunks.join(""));
    expect(text.indexOf("note: something happened")).toBeGreaterThan(-1);
    expect(screen(chunks)).toEqual([
      "note: something happened",
      "0/1 jobs  1 running  elapsed 0s  ETA --",
      "a  ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  0/1  1 running",
    ]);
  });

  describe("redraws", () => {
    afterEach(() => void vi.useRealTimers());

    test("at most once per interval, however many events come", () => {
      vi.useFakeTimers();
      const chunks: string[] = [];
      const stream = { isTTY: true, columns: 50, write: (chunk: string) => chunks.push(chunk) };
      const display = createProgressDisplay(stream, { tasks: [{ id: "a", jobs: 100 }], color: false, now: () => 0, interval: 100 });
      const writes = chunks.length;
      display.onEvent({ type: "run-start", time: 0, tasks: 1, jobs: 100 });
      for (let job = 0; job < 100; job++) display.onEvent(end("a", job, 0, "done"));
      expect(chunks.length).toBe(writes);
      vi.advanceTimersByTime(100);
      expect(chunks.length).toBe(writes + 1);
      expect(screen(chunks)[0]).toBe("100/100 jobs  0 running  elapsed 0s  ETA --");
      vi.advanceTimersByTime(1_000); // nothing changed: log-update writes nothing
      expect(chunks.length).toBe(writes + 1);
      display.stop();
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});
