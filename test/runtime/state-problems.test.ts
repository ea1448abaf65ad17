import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, writeSync, closeSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { fixture, wfc } from "../e2e/helpers.js";

const workflow = `wfc: 1
stages:
  a:
    outputs: a.txt
    run: "touch a.txt"
`;

describe("wfc's state in the way: one line with the path and the fix, exit 2, nothing run", () => {
  const cases: [string, (dir: string) => void, (dir: string) => string][] = [
    [
      ".wfc is a file",
      (dir) => writeFileSync(join(dir, ".wfc"), "not a folder"),
      (dir) => `${dir}/.wfc is not a folder: wfc keeps its state there (journal, logs, lock); move it away or remove it`,
    ],
    [
      "the journal is a folder",
      (dir) => mkdirSync(join(dir, ".wfc/journal.ndjson"), { recursive: true }),
      (dir) => `${dir}/.wfc/journal.ndjson is a folder, not a file: wfc records finished jobs there; move it away or remove it`,
    ],
    [
      "the journal is a link to /dev/full",
      (dir) => (mkdirSync(join(dir, ".wfc")), symlinkSync("/dev/full", join(dir, ".wfc/journal.ndjson"))),
      (dir) => `${dir}/.wfc/journal.ndjson is not a regular file: wfc records finished jobs there; move it away or remove it`,
    ],
    [
      "the logs folder is a file",
      (dir) => (mkdirSync(join(dir, ".wfc")), writeFileSync(join(dir, ".wfc/logs"), "")),
      (dir) => `${dir}/.wfc/logs is not a folder: wfc writes the jobs' logs there; move it away or remove it`,
    ],
    [
      "a task's log folder is a file",
      (dir) => (mkdirSync(join(dir, ".wfc/logs"), { recursive: true }), writeFileSync(join(dir, ".wfc/logs/a"), "")),
      (dir) => `${dir}/.wfc/logs/a is not a folder: wfc writes the logs of task a there; move it away or remove it`,
    ],
  ];
  for (const [name, make, message] of cases) {
    test(name, async () => {
      const dir = fixture({ "wf.yaml": workflow });
      make(dir);
      const r = await wfc(["run", "wf.yaml"], { cwd: dir });
      expect(r.stderr).toBe(`wfc: error: ${message(dir)}`);
      expect(r.exitCode).toBe(2);
      expect(r.stdout).toBe("");
      expect(existsSync(join(dir, "a.txt"))).toBe(false);
    });
  }
});

/**
 * A real small file system (tmpfs, as root), to fill up or make read-only.
 * Where mounting is not permitted the tests that need one are skipped with
 * the reason, except under CI, where they must run.
 */
const mounted: string[] = [];
function tmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), "wfc-tmpfs-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "pipe" });
  mounted.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of mounted) {
    execFileSync("umount", [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});
const noMount = ((): string | undefined => {
  try {
    const dir = tmpfs("64k");
    execFileSync("umount", [dir]);
    mounted.pop();
    rmSync(dir, { recursive: true });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here (${String((error as Error).message).split("\n")[0]})`;
  }
})();
const skip = noMount !== undefined && process.env.CI !== "true";
if (skip) console.warn(`skipping the full-disk and read-only tests: ${noMount}`);

/** Fills the file system holding `dir` to the last byte. */
function fill(dir: string): void {
  const fd = openSync(join(dir, "filler"), "w");
  const block = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
    for (;;) {
      try {
        if (writeSync(fd, block, 0, 1) === 0) break;
      } catch {
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(skip)("a full disk is named, with its path: exit 2 before the run, 1 for a job, never an internal error", () => {
  test("the disk is full before the run: exit 2, the file wfc could not write and the free bytes", async () => {
    const dir = tmpfs("2m");
    writeFileSync(join(dir, "wf.yaml"), workflow);
    fill(dir);
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.stderr).toMatch(
      new RegExp(`^wfc: error: cannot write ${dir}/\\.wfc/\\S+: disk full: ${dir}/\\.wfc has 0 bytes free; free some space and run again$`),
    );
    expect(r.exitCode).toBe(2);
  });

  test("a job that fills the disk fails with exit 1 and `disk full: DIR has 0 bytes free`", async () => {
    const dir = tmpfs("2m");
    writeFileSync(join(dir, "wf.yaml"), `wfc: 1\nstages:\n  big:\n    outputs: big.bin\n    run: "head -c 8M /dev/zero > big.bin"\n`);
    const r = await wfc(["run", "wf.yaml", "--json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(1);
    const end = r.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; reason?: string })
      .find((e) => e.type === "job-end");
    expect(end?.reason).toBe(`exit 1; disk full: ${dir} has 0 bytes free`);
    // The half-written output is gone, which frees the disk again.
    expect(existsSync(join(dir, "big.bin"))).toBe(false);
  });

  test("a job that leaves no room for the journal: it fails with the cause, the run stops, exit 1", async () => {
    const dir = tmpfs("2m");
    // The job fills the disk on purpose and succeeds (`|| true`: bash strict mode would stop at head's error).
    writeFileSync(
      join(dir, "wf.yaml"),
      `wfc: 1\nstages:\n  junk:\n    outputs: j.txt\n    run: "head -c 8M /dev/zero > junk.bin || true; touch j.txt"\n` +
        `  next:\n    inputs: j.txt\n    outputs: n.txt\n    fuse: false\n    run: "touch n.txt"\n`,
    );
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      `failed: junk#0 (it ran, but cannot write ${dir}/.wfc/journal.ndjson: disk full: ${dir}/.wfc has 0 bytes free; free some space and run again)\n`,
    );
    expect(r.stderr).toMatch(/^failed: 0 done, 0 up to date, 1 failed, 1 not run in /m);
    expect(r.stderr).not.toContain("internal error");
    // Its output is whole and stays; next time it runs again, once there is room.
    expect(existsSync(join(dir, "j.txt"))).toBe(true);
    rmSync(join(dir, "junk.bin"));
  });
});

describe.skipIf(skip)("a read-only file system", () => {
  test("exit 2: the folder wfc could not write, and the fix", async () => {
    const dir = tmpfs("1m");
    writeFileSync(join(dir, "wf.yaml"), workflow);
    execFileSync("mount", ["-o", "remount,ro", dir]);
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.stderr).toBe(
      `wfc: error: cannot write ${dir}/.wfc: read-only file system; wfc keeps its state in ${dir}/.wfc: run it where that folder can be written`,
    );
    expect(r.exitCode).toBe(2);
  });
});
