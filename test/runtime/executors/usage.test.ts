// What each runner measures of a command (issue 16), with real processes:
// the pools' workers reap with wait4 (python's os.wait4, perl's syscall),
// SpawnRunner only times. Only lower bounds: a command that holds 200 MiB
// has a peak RSS of at least that, one that burns CPU has user time.
import { afterEach, describe, expect, test } from "vitest";
import type { JobRunner, JobSpec } from "../../../runtime/executors/index.js";
import { parseReply } from "../../../runtime/executors/pool-protocol.js";
import { RUNNERS, tempDir } from "./helpers.js";

const MIB = 1024;
/** perl holds a 200 MiB string for a second. */
const HOLD_200_MIB = `perl -e 'my $x = "a" x (200*1024*1024); sleep 1'`;
/** perl spins for about a second of CPU. */
const BURN = `perl -e 'my $t = times; my $i = 0; while (times - $t < 1) { $i++ }'`;

let cleanup: (() => void) | undefined;
let runner: JobRunner | undefined;
afterEach(async () => {
  await runner?.close();
  runner = undefined;
  cleanup?.();
  cleanup = undefined;
});

function job(command: string, then: readonly string[] = []): JobSpec {
  const t = tempDir("wfc-usage-");
  cleanup = t.cleanup;
  return {
    id: "j",
    kind: "shell",
    command,
    then: then.map((c) => ({ kind: "shell" as const, command: c })),
    cwd: t.dir,
    log: `${t.dir}/log`,
  };
}

const pools = RUNNERS.filter((r) => r.program !== undefined);
const spawner = RUNNERS.find((r) => r.program === undefined)!;

describe.each(pools)("$name measures each command with wait4", ({ make }) => {
  test("a command holding 200 MiB has a peak RSS of at least 200 MiB; one burning CPU has user time", async () => {
    runner = make(1);
    const result = await runner.run(job(HOLD_200_MIB, [BURN]));
    expect(result.exitCode).toBe(0);
    const [hold, burn] = result.usage ?? [];
    expect(hold?.via).toBe("wait4");
    expect(hold!.maxRssKb).toBeGreaterThanOrEqual(200 * MIB);
    expect(hold!.wallMs).toBeGreaterThanOrEqual(1000);
    expect(burn!.userMs! + burn!.sysMs!).toBeGreaterThanOrEqual(900);
    // Its own figures, not the step before's: the spinning perl never held 200 MiB.
    expect(burn!.maxRssKb).toBeLessThan(200 * MIB);
    expect(burn!.readBytes).toBeGreaterThanOrEqual(0);
    expect(burn!.writeBytes).toBeGreaterThanOrEqual(0);
  });

  test("a failing command is measured too; the commands after it have nothing", async () => {
    runner = make(1);
    const result = await runner.run(job(`${HOLD_200_MIB}; exit 3`, ["true"]));
    expect(result.exitCode).toBe(3);
    expect(result.usage?.[0]?.maxRssKb).toBeGreaterThanOrEqual(200 * MIB);
    expect(result.usage?.[1]).toBeUndefined();
  });

  test("WFC_MEASURE=0: the worker reaps with waitpid and sends no figures", async () => {
    const before = process.env.WFC_MEASURE;
    process.env.WFC_MEASURE = "0";
    try {
      runner = make(1);
      const result = await runner.run(job("true"));
      expect(result.exitCode).toBe(0);
      expect(result.usage?.[0]).toBeUndefined();
    } finally {
      if (before === undefined) delete process.env.WFC_MEASURE;
      else process.env.WFC_MEASURE = before;
    }
  });
});

test("SpawnRunner (no worker to reap with wait4) gives each command's wall time only", async () => {
  runner = spawner.make(1);
  const result = await runner.run(job("sleep 0.3", ["true"]));
  expect(result.exitCode).toBe(0);
  expect(result.usage?.map((u) => u && Object.keys(u).sort())).toEqual([
    ["via", "wallMs"],
    ["via", "wallMs"],
  ]);
  expect(result.usage![0]!.wallMs).toBeGreaterThanOrEqual(300);
  expect(result.usage![0]!.via).toBe("worker");
});

describe("the E line's figures", () => {
  test("are optional, all five or none, each a whole number or `-`", () => {
    expect(parseReply("E 1 0 12.5")).toEqual({ type: "exited", seq: 1, status: 0, at: 12.5, usage: null });
    expect(parseReply("E 1 256 - 1500 20 204800 8 16")).toEqual({
      type: "exited",
      seq: 1,
      status: 256,
      at: null,
      usage: { userUs: 1500, sysUs: 20, maxRssKb: 204800, inBlocks: 8, outBlocks: 16 },
    });
    expect(parseReply("E 1 0 5 1500 20 - - -")).toMatchObject({ usage: { userUs: 1500, sysUs: 20, maxRssKb: null } });
    for (const bad of ["E 1 0 5 1 2 3 4", "E 1 0 5 1 2 3 4 5 6", "E 1 0 5 1 2 3 4 x", "E 1 0 5 1.5 2 3 4 5", "E 1 0 5  1 2 3 4 5"])
      expect(parseReply(bad), bad).toBeNull();
  });
});
