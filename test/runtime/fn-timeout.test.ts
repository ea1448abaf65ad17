import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { fixture, repoRoot } from "../e2e/helpers.js";

// One call loops forever, one returns a promise that never settles; the
// others write their output and note that they ran. With one worker per
// executor, all of a stage's calls travel in one batch to one worker.
const tasks = `import { appendFileSync, writeFileSync } from "node:fs";
export function work({ vars, outputs, stage }) {
  appendFileSync(\`ran-\${stage}.txt\`, \`\${vars.i}\\n\`);
  if (vars.i === 1) for (;;) {}
  if (vars.i === 3) return new Promise(() => {});
  writeFileSync(outputs, String(vars.i));
}
`;

const workflow = (type: "threads" | "processes") => `wfc: 1
executors:
  pool: { type: ${type}, max: 1 }
stages:
  f:
    foreach: { i: { range: [0, 6] } }
    outputs: "out/{i}.txt"
    executor: pool
    timeout: 1
    fn: ./tasks.mjs#work
`;

describe("fn timeouts: the worker is terminated and replaced, the other calls run once", () => {
  for (const type of ["threads", "processes"] as const) {
    test(`on ${type}: an endless loop and a never-settling promise each fail with "timed out after 1 s"`, async () => {
      const dir = fixture({ "wf.yaml": workflow(type), "tasks.mjs": tasks });
      // Without enforcement the run never ends: the kill after 30 s makes that a failure, not a hang.
      const r = await execa(process.execPath, [join(repoRoot, "dist/cli/bin.js"), "run", "wf.yaml", "--keep-going"], {
        cwd: dir,
        reject: false,
        timeout: 30_000,
        env: { NO_COLOR: "1" },
      });
      expect(r.timedOut, "wfc did not end").toBe(false);
      expect(r.exitCode, r.stderr).toBe(1);
      const failed = r.stderr.split("\n").filter((l) => /^failed: f#/.test(l));
      expect(failed).toEqual(["failed: f#1 (timed out after 1 s)", "failed: f#3 (timed out after 1 s)"]);
      expect(r.stderr).toMatch(/^failed: 4 done, 0 up to date, 2 failed, 0 not run in /m);
      expect([0, 1, 2, 3, 4, 5].map((i) => existsSync(join(dir, `out/${i}.txt`)))).toEqual([true, false, true, false, true, true]);
      // Batched behind a call that hung, the others still ran, each exactly once.
      expect(readFileSync(join(dir, "ran-f.txt"), "utf8").split("\n").filter(Boolean).toSorted()).toEqual(["0", "1", "2", "3", "4", "5"]);
      expect(readFileSync(join(dir, ".wfc/logs/f/i=1.log"), "utf8")).toBe("wfc: f#1 failed: timed out after 1 s\n");
    });
  }
});
