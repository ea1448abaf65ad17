// Part of `npm run lint`: the pool's worker programs (runtime/executors/workers/)
// compile: python's with py_compile (the bytecode goes to a temp folder, nothing is
// written into the tree), perl's with `perl -c`. A missing interpreter skips its
// check with a note, except on CI, where it fails: CI runs both programs' tests.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const workers = join(dirname(fileURLToPath(import.meta.url)), "..", "runtime", "executors", "workers");
const ci = !["", "0", "false"].includes((process.env.CI ?? "").toLowerCase());
const scratch = mkdtempSync(join(tmpdir(), "wfc-check-workers-"));

const checks = [
  {
    interpreter: "python3",
    file: join(workers, "worker.py"),
    args: (file) => [
      "-I",
      "-c",
      "import py_compile, sys\ntry: py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)\nexcept py_compile.PyCompileError as e: sys.exit(e.msg)",
      file,
      join(scratch, "worker.pyc"),
    ],
  },
  { interpreter: "perl", file: join(workers, "worker.pl"), args: (file) => ["-c", file] },
];

let failed = false;
try {
  for (const { interpreter, file, args } of checks) {
    const r = spawnSync(interpreter, args(file), { encoding: "utf8" });
    if (r.error?.code === "ENOENT") {
      const note = `${interpreter} is not on PATH: ${file} was not checked`;
      if (ci) {
        console.error(`check-workers: ${note}; on CI it must be`);
        failed = true;
      } else console.error(`check-workers: skipped: ${note}`);
    } else if (r.error || r.status !== 0) {
      console.error(`check-workers: ${file} does not compile with ${interpreter}:\n${(r.stderr || r.error?.message || "").trim()}`);
      failed = true;
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
