import { accessSync, constants, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, delimiter, join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "./helpers.js";

// Issue 12, "worker programs as real files": an interpreter on PATH that cannot
// run the pool's worker (a python3 older than 3.8, a broken perl) is passed
// over, python -> perl -> Node's spawn, with one warning line; the jobs run.
// PATH is a folder of fakes (and the real perl where a case wants it), so no
// real python3 is found. Jobs use only shell builtins, as nothing else is on PATH,
// and run with /bin/sh (`shell: sh`): there is no bash on that PATH either.

/** What a python3.6 says when it runs workers/worker.py, then exits. */
const OLD_PYTHON = `#!/bin/sh\necho "wfc worker: python3 >= 3.8 with os.posix_spawnp is needed, this is 3.6.9" >&2\nexit 1\n`;
/** A perl whose installation is broken. */
const BROKEN_PERL = `#!/bin/sh\necho "perl: error while loading shared libraries: libperl.so.5.36: cannot open shared object file" >&2\nexit 127\n`;

function whichPerl(): string | undefined {
  return (process.env.PATH ?? "")
    .split(delimiter)
    .map((dir) => join(dir || ".", "perl"))
    .find((file) => {
      try {
        accessSync(file, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}
const realPerl = whichPerl();
/** The name /proc gives the Node process that runs wfc: the parent of a job it spawned. */
const NODE = basename(process.execPath).slice(0, 15);

/**
 * Six jobs, four at a time, each writing the name of its parent process
 * (the pool's worker, or Node when spawned) to its output, and six more that
 * each copy one of those.
 */
function workflow(bin: Record<string, string | { link: string }>): { dir: string; path: string } {
  const dir = fixture({
    "wf.yaml": {
      wfc: 1,
      defaults: { shell: "sh" },
      stages: {
        who: { foreach: { i: { range: [0, 6] } }, outputs: "out/{i}.txt", run: "read comm < /proc/$PPID/comm; echo $comm > {outputs}" },
        // Element-wise after `who`: a lane, whose next job a worker is handed while the first runs.
        copy: {
          foreach: { i: { range: [0, 6] } },
          inputs: "out/{i}.txt",
          outputs: "copy/{i}.txt",
          run: "read comm < {inputs}; echo $comm > {outputs}",
        },
      },
    },
  });
  const path = join(dir, "fakebin");
  mkdirSync(path);
  for (const [name, what] of Object.entries(bin)) {
    if (typeof what === "string") writeFileSync(join(path, name), what, { mode: 0o755 });
    else symlinkSync(what.link, join(path, name));
  }
  return { dir, path };
}

async function run(bin: Record<string, string | { link: string }>) {
  const { dir, path } = workflow(bin);
  const r = await wfc(["run", "wf.yaml", "--jobs", "4"], { cwd: dir, env: { PATH: path } });
  const parents = [0, 1, 2, 3, 4, 5].map((i) => readFileSync(join(dir, "out", `${i}.txt`), "utf8").trim());
  for (const i of [0, 1, 2, 3, 4, 5]) expect(readFileSync(join(dir, "copy", `${i}.txt`), "utf8").trim()).toBe(parents[i]);
  const warnings = r.stderr.split("\n").filter((l) => l.includes("cannot run the job workers"));
  return { ...r, parents, warnings, path };
}

describe.skipIf(process.platform !== "linux")("an interpreter that cannot run the pool's worker is passed over", () => {
  test.skipIf(realPerl === undefined)("python3 older than 3.8 first on PATH: the jobs run on perl, with one warning", async () => {
    const r = await run({ python3: OLD_PYTHON, perl: { link: realPerl! } });
    expect(r.exitCode).toBe(0);
    expect(new Set(r.parents)).toEqual(new Set(["perl"]));
    expect(r.warnings).toEqual([
      `wfc: ${r.path}/python3 cannot run the job workers (its worker exited with code 1: wfc worker: python3 >= 3.8 with os.posix_spawnp is needed, this is 3.6.9); the workers run ${r.path}/perl instead`,
    ]);
  });

  test("python3 too old and perl broken: each job is spawned from Node, with one warning naming both", async () => {
    const r = await run({ python3: OLD_PYTHON, perl: BROKEN_PERL });
    expect(r.exitCode).toBe(0);
    expect(new Set(r.parents)).toEqual(new Set([NODE]));
    expect(r.warnings).toEqual([
      `wfc: ${r.path}/python3 cannot run the job workers (its worker exited with code 1: wfc worker: python3 >= 3.8 with os.posix_spawnp is needed, this is 3.6.9); ` +
        `${r.path}/perl neither (its worker exited with code 127: perl: error while loading shared libraries: libperl.so.5.36: cannot open shared object file); ` +
        `each job is spawned from Node instead`,
    ]);
  });

  test("only a broken perl: each job is spawned from Node, with one warning", async () => {
    const r = await run({ perl: BROKEN_PERL });
    expect(r.exitCode).toBe(0);
    expect(new Set(r.parents)).toEqual(new Set([NODE]));
    expect(r.warnings).toEqual([
      `wfc: ${r.path}/perl cannot run the job workers (its worker exited with code 127: perl: error while loading shared libraries: libperl.so.5.36: cannot open shared object file); each job is spawned from Node instead`,
    ]);
  });

  test("neither python3 nor perl on PATH: each job is spawned from Node, and nothing was passed over to warn about", async () => {
    const r = await run({});
    expect(r.exitCode).toBe(0);
    expect(new Set(r.parents)).toEqual(new Set([NODE]));
    expect(r.warnings).toEqual([]);
    expect(r.stderr).not.toMatch(/warning|cannot/);
  });
});
