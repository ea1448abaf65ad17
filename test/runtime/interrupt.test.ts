import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { repoRoot } from "../e2e/helpers.js";

/** Processes whose command line mentions `marker`. */
function survivors(marker: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes(marker) && !l.includes("ps -eo"));
}

test("Ctrl-C kills every running job's process group, removes unfinished outputs, exits 130", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wfc-int-"));
  // A unique duration marks our sleeps in `ps` (GNU sleep takes fractional seconds).
  const marker = `sleep 30.${process.pid}`;
  // Each job leaves a background child too: the whole group must go.
  writeFileSync(
    join(dir, "wf.yaml"),
    `wfc: 1\nstages:\n  slow:\n    foreach: { i: [1, 2] }\n    outputs: "out/{i}.txt"\n    run: "echo partial > {outputs}; ${marker} & ${marker}; wait"\n`,
  );
  const child = spawn(process.execPath, [join(repoRoot, "dist/cli/bin.js"), "run", "wf.yaml", "--json"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  // Wait until a job and both its sleeps have started (events, not a fixed delay).
  while (!stdout.includes('"type":"job-start"')) await new Promise((r) => setTimeout(r, 20));
  while (survivors(marker).length < 2) await new Promise((r) => setTimeout(r, 20));
  child.kill("SIGINT");
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  expect(code).toBe(130);
  expect(survivors(marker)).toEqual([]);
  expect([1, 2].map((i) => existsSync(join(dir, `out/${i}.txt`)))).toEqual([false, false]);
  const journal = join(dir, ".wfc", "journal.ndjson");
  expect(existsSync(journal) ? readFileSync(journal, "utf8") : "").not.toContain('"status":"done"');
  expect(existsSync(join(dir, ".wfc", "lock"))).toBe(false);
});
