/**
 * Cleanup after a failed job (runtime/run/outputs.ts) and the path rules it
 * and the Expander share (contract/paths.ts), on real files in a temp
 * folder: what a job made goes, everything else stays.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { globProblem, outputPathProblem } from "../../contract/paths.js";
import { removeWhatJobMade, snapshotOutputs } from "../../runtime/run/outputs.js";

/** A workflow folder `wf` inside a parent that also holds `sibling/keep.txt`. */
function folders(): { parent: string; wf: string } {
  const parent = mkdtempSync(join(tmpdir(), "wfc-outputs-"));
  mkdirSync(join(parent, "sibling"));
  writeFileSync(join(parent, "sibling", "keep.txt"), "sibling\n");
  const wf = join(parent, "wf");
  mkdirSync(wf);
  return { parent, wf };
}

/** Snapshot, let `job` act on the folder, clean up; returns what cleanup did, relative to `wf`. */
function afterFailure(wf: string, outputs: string[], job: () => void): string[] {
  const before = snapshotOutputs(wf, outputs);
  job();
  return removeWhatJobMade(before).map((c) => `${c.action} ${c.path.slice(wf.length + 1)}`);
}

describe("cleanup after a failed job", () => {
  test("a file or folder the job created is removed, whole", () => {
    const { wf } = folders();
    const done = afterFailure(wf, ["new.txt", "newdir", "never.txt"], () => {
      writeFileSync(join(wf, "new.txt"), "half");
      mkdirSync(join(wf, "newdir", "deep"), { recursive: true });
      writeFileSync(join(wf, "newdir", "deep", "f"), "x");
    });
    expect(done).toEqual(["removed new.txt", "removed newdir"]);
    expect(existsSync(join(wf, "new.txt")) || existsSync(join(wf, "newdir"))).toBe(false);
  });

  test("a file left as it was stays; one written to, appended to or replaced goes", () => {
    const { wf } = folders();
    for (const f of ["same", "written", "appended", "replaced", "touched"]) writeFileSync(join(wf, f), "before\n");
    const done = afterFailure(wf, ["same", "written", "appended", "replaced", "touched"], () => {
      writeFileSync(join(wf, "written"), "after!\n"); // same size, new content
      appendFileSync(join(wf, "appended"), "more\n");
      writeFileSync(join(wf, "replaced.tmp"), "before\n");
      renameSync(join(wf, "replaced.tmp"), join(wf, "replaced")); // same content, another file
      const old = new Date(2000, 0, 1);
      utimesSync(join(wf, "touched"), old, old);
    });
    expect(done).toEqual(["kept same", "removed written", "removed appended", "removed replaced", "removed touched"]);
    expect(readFileSync(join(wf, "same"), "utf8")).toBe("before\n");
  });

  test("a folder that was there stays with everything in it, even what the job added", () => {
    const { wf } = folders();
    mkdirSync(join(wf, "results"));
    writeFileSync(join(wf, "results", "mine.txt"), "the user's\n");
    const done = afterFailure(wf, ["results"], () => writeFileSync(join(wf, "results", "half.txt"), "x"));
    expect(done).toEqual(["kept results"]);
    expect(readFileSync(join(wf, "results", "mine.txt"), "utf8")).toBe("the user's\n");
    expect(existsSync(join(wf, "results", "half.txt"))).toBe(true);
  });

  test("a link that was there stays (what the job wrote through it is the target's); a link the job made goes", () => {
    const { parent, wf } = folders();
    symlinkSync(join(parent, "sibling", "keep.txt"), join(wf, "linked"));
    const done = afterFailure(wf, ["linked", "made-link"], () => {
      symlinkSync(join(parent, "sibling"), join(wf, "made-link"));
    });
    expect(done).toEqual(["kept linked", "removed made-link"]);
    expect(readFileSync(join(parent, "sibling", "keep.txt"), "utf8")).toBe("sibling\n");
  });

  test("paths outside the folder, the folder itself and .wfc/ are never recorded, so never removed", () => {
    const { parent, wf } = folders();
    mkdirSync(join(wf, ".wfc"));
    const outputs = ["../sibling", "../sibling/keep.txt", join(parent, "sibling"), ".", "", "./", "a/../..", ".wfc", "./.wfc/journal"];
    const before = snapshotOutputs(wf, outputs);
    expect([...before.keys()]).toEqual([]);
    // Even if the job changed all of them.
    writeFileSync(join(parent, "sibling", "keep.txt"), "changed by the job\n");
    writeFileSync(join(wf, ".wfc", "journal"), "");
    expect(removeWhatJobMade(before)).toEqual([]);
    expect(existsSync(join(parent, "sibling", "keep.txt")) && existsSync(join(wf, ".wfc", "journal"))).toBe(true);
  });

  test("one path named twice is recorded once", () => {
    const { wf } = folders();
    expect(afterFailure(wf, ["x.txt", "./x.txt", "x.txt"], () => writeFileSync(join(wf, "x.txt"), ""))).toEqual(["removed x.txt"]);
  });
});

describe("which paths may be outputs, which globs may be searched", () => {
  test.each([
    ["out.txt", undefined],
    ["results/a/b.txt", undefined],
    ["./results/x", undefined],
    ["results/./x", undefined],
    ["results//x", undefined],
    ["results/", undefined],
    [".hidden", undefined],
    ["...", undefined],
    ["a..b/c", undefined],
    [".wfcx/y", undefined],
    ["", "empty"],
    [".", "folder"],
    ["./", "folder"],
    ["./.", "folder"],
    ["..", "parent"],
    ["../escape", "parent"],
    ["work/..", "parent"],
    ["a/../b", "parent"],
    ["/tmp/x", "absolute"],
    ["/", "absolute"],
    [".wfc", "state"],
    ["./.wfc/journal.ndjson", "state"],
    ["a\0b", "nul"],
  ])("output %j: %s", (path, problem) => {
    expect(outputPathProblem(path)).toBe(problem);
  });

  test.each([
    ["data/*.fa", undefined],
    ["**/*.fa", undefined],
    ["data/..x/*", undefined],
    ["/**/x", "absolute"],
    ["/data/*.fa", "absolute"],
    ["../data/*.fa", "parent"],
    ["data/../../x/*", "parent"],
    // tinyglobby would walk the parent folder for these, and `..*` matches `..` itself.
    ["..*", "parent"],
    ["..**/*a", "parent"],
    ["./..*/x", "parent"],
    ["data/..*/x", undefined],
  ])("glob %j: %s", (pattern, problem) => {
    expect(globProblem(pattern)).toBe(problem);
  });
});
