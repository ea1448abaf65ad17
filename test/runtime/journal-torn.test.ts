import { spawn } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, jobsRan, jsonEvents, repoRoot, wfc } from "../e2e/helpers.js";

const events = jsonEvents;
const ran = jobsRan;

// `fast` jobs end at once; `gate` waits until the file `go` exists (the
// first run is killed while it waits, the next one finds `go`).
const workflow = `wfc: 1
stages:
  fast:
    foreach: { i: [0, 1, 2] }
    outputs: "fast/{i}.txt"
    run: "echo {i} > {outputs}"
  gate:
    inputs: "fast/*.txt"
    outputs: gate.txt
    run: "while [ ! -e go ]; do sleep 0.05; done; touch gate.txt"
`;

describe("a torn journal line loses no record after it", () => {
  test("torn last line, run, kill -9, run again: the jobs the killed run finished do not run a third time", async () => {
    // What a crash or a full disk mid-write leaves: a record without its end (and no newline).
    const dir = fixture({ "wf.yaml": workflow, ".wfc/journal.ndjson": '{"task":"old","job":0,"status":"done","ha' });
    const child = spawn(process.execPath, [join(repoRoot, "dist/cli/bin.js"), "run", "wf.yaml", "--json"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    // Every fast job finished and gate is running: then wfc dies without a word.
    while (!(events(stdout).filter((e) => e.type === "job-end").length === 3 && stdout.includes('"task":"gate"')))
      await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    // The gate job's shell outlived wfc (point 6 of the issue, not this test's): `go` lets it end.
    writeFileSync(join(dir, "go"), "");
    const again = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(ran(again.stdout)).toEqual(["gate#0"]);
    const third = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(ran(third.stdout)).toEqual([]);
    // The torn line stays on a line of its own; every record after it is whole.
    const lines = readFileSync(join(dir, ".wfc/journal.ndjson"), "utf8").split("\n");
    expect(lines[0]).toBe('{"task":"old","job":0,"status":"done","ha');
    expect(lines.slice(1, -1).map((l) => (JSON.parse(l) as { stage: string }).stage)).toEqual(["fast", "fast", "fast", "gate"]);
  });

  test("a record already glued to a torn line (by an older wfc) still counts", async () => {
    const dir = fixture({ "wf.yaml": workflow, go: "" });
    expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
    const journal = join(dir, ".wfc/journal.ndjson");
    const [first, ...rest] = readFileSync(journal, "utf8").split("\n");
    writeFileSync(journal, ['{"stage":"fast","element":"i=9","sta' + first!, ...rest].join("\n"));
    const again = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(ran(again.stdout)).toEqual([]);
    appendFileSync(journal, "garbage that is no record\n");
    expect(ran((await wfc(["run", "wf.yaml", "--json"], { cwd: dir })).stdout)).toEqual([]);
  });
});
