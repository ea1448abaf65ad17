/** What wfc reads from sbatch, squeue and scontrol: canned text, as real clusters print it. */
import { describe, expect, test } from "vitest";
import { elementPhase, expandIndices, parseExitCode, parseSbatchId, parseSqueue } from "../../runtime/slurm/parse.js";

const ok = (stdout: string) => ({ exitCode: 0, stdout, stderr: "" });

describe("sbatch --parsable", () => {
  test("the job id, alone or with the cluster name", () => {
    expect(parseSbatchId("4711\n")).toBe("4711");
    expect(parseSbatchId("4711;linux\n")).toBe("4711");
  });
  test("no id in what it printed", () => {
    expect(parseSbatchId("")).toBeUndefined();
    expect(parseSbatchId("sbatch: error: Batch job submission failed: Invalid partition name specified\n")).toBeUndefined();
  });
});

describe("squeue -h -r -t all -o %i|%T", () => {
  test("one state per element, finished ones too", () => {
    const states = parseSqueue(ok("12_0|COMPLETED\n12_1|RUNNING\n12_2|TIMEOUT\n13_4|PENDING\n\n"));
    expect([...states!]).toEqual([
      ["12_0", "COMPLETED"],
      ["12_1", "RUNNING"],
      ["12_2", "TIMEOUT"],
      ["13_4", "PENDING"],
    ]);
  });
  test("padded lines and blank lines are read", () => {
    expect([...parseSqueue(ok("  12_0|PENDING  \n\n   \n"))!]).toEqual([["12_0", "PENDING"]]);
  });
  test("a pending range gives each of its elements, with steps and a throttle", () => {
    expect([...parseSqueue(ok("123_[4-6]|PENDING\n123_3|RUNNING\n"))!.keys()]).toEqual(["123_4", "123_5", "123_6", "123_3"]);
    expect([...parseSqueue(ok("9_[1,3-7:2%2]|PENDING\n"))!.keys()]).toEqual(["9_1", "9_3", "9_5", "9_7"]);
    // As this machine's SLURM printed a held `--array=0-3,7%2` without -r.
    expect([...parseSqueue(ok("490_[0-3,7%2]|PENDING\n"))!.keys()]).toEqual(["490_0", "490_1", "490_2", "490_3", "490_7"]);
  });
  test("a plain job (no array) keeps its id", () => {
    expect([...parseSqueue(ok("77|COMPLETED\n"))!]).toEqual([["77", "COMPLETED"]]);
  });
  test("every id purged: an empty answer, not a failure", () => {
    const states = parseSqueue({ exitCode: 1, stdout: "", stderr: "slurm_load_jobs error: Invalid job id specified\n" });
    expect(states).toEqual(new Map());
  });
  test("slurmctld down or a timeout: no answer (ask again later)", () => {
    const down = "squeue: error: slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n";
    expect(parseSqueue({ exitCode: 1, stdout: "", stderr: down })).toBeNull();
    expect(parseSqueue({ exitCode: undefined, stdout: "12_0|RUNNING\n", stderr: "" })).toBeNull();
  });
  test("unreadable range bodies yield no element", () => {
    expect(expandIndices("x-y,3")).toEqual([3]);
    expect(expandIndices("")).toEqual([]);
  });
});

describe("scontrol -o show job", () => {
  const line = (exit: string) =>
    `JobId=12 ArrayJobId=12 ArrayTaskId=1 JobName=wfc-a UserId=me(1000) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ${exit} RunTime=00:00:01 DerivedExitCode=0:0\n`;
  test("the exit code of an element that exited", () => {
    expect(parseExitCode(ok(line("ExitCode=3:0")))).toEqual({ code: 3, signal: 0 });
  });
  test("an element killed by a signal", () => {
    expect(parseExitCode(ok(line("ExitCode=0:9")))).toEqual({ code: 0, signal: 9 });
  });
  test("DerivedExitCode is not the ExitCode", () => {
    expect(parseExitCode(ok("JobId=12 DerivedExitCode=5:0\n"))).toBeNull();
  });
  test("a purged element: invalid job id", () => {
    expect(parseExitCode({ exitCode: 1, stdout: "", stderr: "slurm_load_jobs error: Invalid job id specified\n" })).toBeNull();
  });
});

describe("state mapping", () => {
  test("running, ended, and everything else waiting", () => {
    expect(["RUNNING", "COMPLETING"].map(elementPhase)).toEqual(["running", "running"]);
    const ended = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE"];
    expect(ended.map(elementPhase)).toEqual(ended.map(() => "ended"));
    expect(["PENDING", "SUSPENDED", "REQUEUED", "CONFIGURING", "RESIZING", "SOMETHING_NEW"].map(elementPhase)).toEqual(
      Array(6).fill("waiting"),
    );
  });
});
