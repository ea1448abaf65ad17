import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { oomKills } from "../../runtime/run/oom.js";
import { fixture, repoRoot, wfc } from "../e2e/helpers.js";

const schema = JSON.parse(readFileSync(join(repoRoot, "schema/events.schema.json"), "utf8")) as object;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

type Event = Record<string, unknown> & { type: string };
const events = (stdout: string): Event[] =>
  stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const event = JSON.parse(line) as Event;
      expect(validate(event), `${line}\n${JSON.stringify(validate.errors)}`).toBe(true);
      return event;
    });

// Each stage fails its own way, with real processes: a shell that sends
// itself SIGSEGV, a sleep past its `timeout`, a shell that sends itself SIGKILL.
const workflow = `wfc: 1
stages:
  segv:
    outputs: segv.txt
    run: "echo about to crash; kill -SEGV $$"
  slow:
    outputs: slow.txt
    timeout: 1
    run: "sleep 30; touch slow.txt"
  killed:
    outputs: killed.txt
    run: "kill -KILL $$"
  exits:
    outputs: exits.txt
    run: "exit 3"
`;

describe("failures name their cause: in the job-end event, the summary and the log", () => {
  test("killed by SIGSEGV, timed out after 1 s, killed by SIGKILL, exit 3", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["run", "wf.yaml", "--keep-going", "--json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(1);
    const ends = events(r.stdout).filter((e) => e.type === "job-end");
    const reasons = Object.fromEntries(ends.map((e) => [e.task, e.reason]));
    // This test's SIGKILL is no OOM kill: the cgroup's oom_kill count did not rise, so none is claimed.
    expect(reasons).toEqual({
      segv: "killed by SIGSEGV",
      slow: "timed out after 1 s",
      killed: "killed by SIGKILL",
      exits: "exit 3",
    });
    const summary = (events(r.stdout).at(-1)!.summary as { failures: { task: string; reason: string }[] }).failures;
    expect(Object.fromEntries(summary.map((f) => [f.task, f.reason]))).toEqual(reasons);
    // The log keeps the job's own output, then wfc's word on how it ended.
    expect(readFileSync(join(dir, ".wfc/logs/segv/_.log"), "utf8")).toBe("about to crash\nwfc: segv#0 failed: killed by SIGSEGV\n");
    expect(readFileSync(join(dir, ".wfc/logs/slow/_.log"), "utf8")).toBe("wfc: slow#0 failed: timed out after 1 s\n");
    expect(readFileSync(join(dir, ".wfc/logs/killed/_.log"), "utf8")).toBe("wfc: killed#0 failed: killed by SIGKILL\n");
  });

  test("the summary's failure lines say the same", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["run", "wf.yaml", "--keep-going", "--jobs", "1"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("failed: ") && l.includes("#"));
    expect(lines.toSorted()).toEqual([
      "failed: exits#0 (exit 3)",
      "failed: killed#0 (killed by SIGKILL)",
      "failed: segv#0 (killed by SIGSEGV)",
      "failed: slow#0 (timed out after 1 s)",
    ]);
    expect(r.stderr).toContain("  | about to crash");
  });
});

describe("the OOM kill count, as the kernel writes it", () => {
  test("cgroup v2 memory.events and v1 memory.oom_control", () => {
    expect(oomKills("low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n")).toBe(2);
    expect(oomKills("oom_kill_disable 0\nunder_oom 0\noom_kill 7\n")).toBe(7);
    expect(oomKills("oom_kill_disable 0\nunder_oom 0\n")).toBeUndefined();
  });
});
