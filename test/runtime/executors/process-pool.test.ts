// What only ProcessPool has: persistent workers that can die, start, and go away.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import ts from "typescript";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ProcessPool, type WorkerProgram } from "../../../runtime/executors/index.js";
import { preferredInterpreter, workerArgs } from "../../../runtime/executors/worker-program.js";
import { RUNNERS, alive, liveGroupMembers, tempDir, waitForText } from "./helpers.js";

const PROGRAMS: WorkerProgram[] = RUNNERS.flatMap((r) => (r.program ? [r.program] : []));

test("detect() finds a worker program on this machine", () => {
  expect(ProcessPool.detect()).not.toBeNull();
});

describe("the python the workers run", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  /** A fake python3 in folder `sub`: a `#!` script, or a binary (an ELF header) behind a symlink when `target` is given. */
  const fake = (sub: string, kind: "script" | "binary", target = "python3") => {
    const folder = join(dir, sub);
    execFileSync("mkdir", ["-p", folder]);
    if (kind === "script") writeFileSync(join(folder, "python3"), '#!/bin/sh\nexec python3 "$@"\n', { mode: 0o755 });
    else {
      writeFileSync(join(folder, target), "\x7fELF", { mode: 0o755 });
      if (target !== "python3") symlinkSync(target, join(folder, "python3"));
    }
    return join(folder, "python3");
  };

  test("a version manager's shim first on PATH is passed over for a later python3.N binary", () => {
    const shim = fake("shims", "script");
    const real = fake("bin", "binary", "python3.11");
    expect(preferredInterpreter("python", [shim, real])).toBe(real);
  });

  test("python older than 3.8, or of no version the name tells, is not preferred: the first on PATH is run", () => {
    const shim = fake("shims", "script");
    expect(preferredInterpreter("python", [shim, fake("old", "binary", "python3.6")])).toBe(shim);
    expect(preferredInterpreter("python", [shim, fake("stub", "binary")])).toBe(shim);
    expect(preferredInterpreter("python", [shim])).toBe(shim);
    expect(preferredInterpreter("python", [])).toBeUndefined();
  });

  test("perl is the first on PATH", () => {
    expect(preferredInterpreter("perl", ["/a/perl", "/b/perl"])).toBe("/a/perl");
  });
});

describe.each(PROGRAMS)("the $kind worker program", (program) => {
  test("runs from its file beside the pool's module, so an error in it names the file and line", () => {
    const args = workerArgs(program, 100);
    const file = args.find((a) => /[/]workers[/]worker[.]p[ly]$/.test(a));
    expect(file !== undefined && existsSync(file)).toBe(true);
    // A request header it cannot parse: python fails in the unpacking, perl dies on purpose.
    const r = spawnSync(program.interpreter, args, { input: "bogus\n", encoding: "utf8" });
    expect(r.stdout).toMatch(/^R \d+ [01]\n$/);
    expect(r.status).not.toBe(0);
    if (program.kind === "python") expect(r.stderr).toContain(`File "${file}", line `);
    else expect(r.stderr).toBe("wfc worker: bad request header\n");
  });
});

describe.each(PROGRAMS)("ProcessPool ($kind)", (program) => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  const shell = (command: string, log = join(dir, "job.log")) => ({ id: "j", kind: "shell", command, cwd: dir, log }) as const;

  test("jobs are children of the workers, which start lazily and stop on close()", async () => {
    const pool = new ProcessPool({ size: 2, worker: program });
    expect(pool.workerPids()).toEqual([]);
    const results = await Promise.all([0, 1, 2, 3].map((i) => pool.run(shell(`echo $PPID > ppid-${i}`))));
    expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0, 0]);
    const workers = pool.workerPids();
    expect(workers).toHaveLength(2);
    const parents = new Set([0, 1, 2, 3].map((i) => Number(readFileSync(join(dir, `ppid-${i}`), "utf8"))));
    expect([...parents].every((p) => workers.includes(p))).toBe(true);
    await pool.close();
    expect(pool.workerPids()).toEqual([]);
    for (const pid of workers) expect(alive(pid)).toBe(false);
  });

  test("a worker killed with SIGKILL fails its job and the one behind it, leaves no orphan and no spool, and is replaced", async () => {
    const pool = new ProcessPool({ size: 1, worker: program });
    try {
      const job = { ...shell("echo $PPID > worker.pid; sleep 30 & echo $! > bg.pid; echo ready; wait"), lane: 1 };
      const result = pool.run(job);
      const behind = pool.run({ ...shell("touch after", join(dir, "after.log")), lane: 1 });
      await waitForText(job.log, "ready");
      const worker = Number(readFileSync(join(dir, "worker.pid"), "utf8"));
      process.kill(worker, "SIGKILL");
      const r = await result;
      expect([r.exitCode, r.signal, r.cancelled]).toEqual([null, null, false]);
      expect(r.error).toMatch(new RegExp(`^worker process ${worker} was killed by SIGKILL; the job's process group was killed$`));
      expect(liveGroupMembers(r.pid)).toEqual([]);
      expect(alive(Number(readFileSync(join(dir, "bg.pid"), "utf8")))).toBe(false);
      expect(await behind).toMatchObject({ notRun: true, pid: 0, exitCode: null });
      expect(existsSync(join(dir, "after"))).toBe(false);
      expect(readdirSync(dir).filter((f) => f.startsWith(".wfc-spool-"))).toEqual([]);
      const next = await pool.run(shell("echo $PPID"));
      expect(next.exitCode).toBe(0);
      expect(pool.workerPids()).not.toContain(worker);
    } finally {
      await pool.close();
    }
  });

  test("a job whose worker died before reading it runs on a fresh worker", async () => {
    // An interpreter that fails its first start, as a broken or overloaded machine might.
    const flaky = join(dir, "flaky-interpreter");
    writeFileSync(flaky, `#!/bin/sh\nif [ ! -e '${dir}/tried' ]; then : > '${dir}/tried'; exit 1; fi\nexec ${program.interpreter} "$@"\n`, {
      mode: 0o755,
    });
    const pool = new ProcessPool({ size: 1, worker: { kind: program.kind, interpreter: flaky } });
    try {
      const r = await pool.run(shell("echo ran"));
      expect([r.exitCode, r.error]).toEqual([0, null]);
      expect(readFileSync(join(dir, "job.log"), "utf8")).toBe("ran\n");
    } finally {
      await pool.close();
    }
  });

  test("workers that cannot start fail the jobs with the reason instead of hanging", async () => {
    const pool = new ProcessPool({ size: 2, worker: { kind: program.kind, interpreter: join(dir, "no-such-interpreter") } });
    try {
      const results = await Promise.all([pool.run(shell("true")), pool.run(shell("true")), pool.run(shell("true"))]);
      for (const r of results) {
        expect([r.exitCode, r.pid]).toEqual([null, 0]);
        expect(r.error).toMatch(/^cannot start pool workers \(.*no-such-interpreter\): worker process .* ENOENT/);
      }
    } finally {
      await pool.close();
    }
  });

  test("a worker stuck before it starts the job is abandoned when the job is cancelled", async () => {
    // Says it is ready, then never reads: like a worker blocked in the kernel (chdir into a dead NFS mount).
    const stuck = join(dir, "stuck-interpreter");
    writeFileSync(stuck, `#!/bin/sh\necho "R $$ 1"\nexec sleep 30\n`, { mode: 0o755 });
    const pool = new ProcessPool({ size: 1, killGraceMs: 50, killWaitMs: 50, worker: { kind: program.kind, interpreter: stuck } });
    const controller = new AbortController();
    const result = pool.run(shell("true"), controller.signal);
    while (pool.workerPids().length === 0) await new Promise((r) => setTimeout(r, 5));
    const [worker] = pool.workerPids();
    controller.abort();
    const r = await result;
    expect([r.cancelled, r.pid, r.error]).toEqual([true, 0, "the job did not start within 100 ms of being stopped; its worker was killed"]);
    expect(pool.workerPids()).toEqual([]);
    await waitUntilGone(worker!);
    await pool.close();
  });

  test("prestart() starts the workers before any job (never more than the pool's size), and jobs run on them", async () => {
    const pool = new ProcessPool({ size: 2, worker: program });
    pool.prestart(5);
    const early = pool.workerPids();
    expect(early).toHaveLength(2);
    const results = await Promise.all([0, 1, 2].map((i) => pool.run(shell(`echo $PPID > ppid-${i}`))));
    expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    expect(pool.workerPids()).toEqual(early);
    for (const i of [0, 1, 2]) expect(early).toContain(Number(readFileSync(join(dir, `ppid-${i}`), "utf8")));
    await pool.close();
  });

  test("an idle pool that is never closed does not keep Node alive, and its workers exit with Node", async () => {
    const out = join(dir, "js");
    transpileExecutors(out);
    const script = join(dir, "forgotten.mjs");
    writeFileSync(
      script,
      `import { ProcessPool } from ${JSON.stringify(join(out, "runtime", "executors", "index.js"))};
const pool = new ProcessPool({ size: 2, worker: ${JSON.stringify(program)} });
const results = await Promise.all([1, 2].map(() => pool.run({ id: "x", kind: "argv", argv: ["true"], cwd: ${JSON.stringify(dir)}, log: ${JSON.stringify(join(dir, "x.log"))} })));
const spare = new ProcessPool({ size: 3, worker: ${JSON.stringify(program)} });
spare.prestart(3);
console.log(JSON.stringify({ codes: results.map((r) => r.exitCode), workers: [...pool.workerPids(), ...spare.workerPids()] }));
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    // A cap, not a measurement: if the pool kept Node alive, this kills it and the test fails.
    const cap = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await new Promise((resolve) => child.on("close", resolve));
    clearTimeout(cap);
    expect(code).toBe(0);
    const { codes, workers } = JSON.parse(stdout) as { codes: number[]; workers: number[] };
    expect(codes).toEqual([0, 0]);
    expect(workers).toHaveLength(5); // 2 that ran jobs, 3 started and never given one
    for (const pid of workers) await waitUntilGone(pid);
  });
});

/** The executors as plain JavaScript, for a child Node process (tests run TypeScript through vitest). */
function transpileExecutors(outDir: string): void {
  const root = join(import.meta.dirname, "../../..");
  const runtime = join(root, "runtime");
  // runtime/executors and what it imports from elsewhere (contract/), at their places under outDir.
  const files = [...readdirSync(join(runtime, "executors")).map((f) => `runtime/executors/${f}`), "contract/shell/quote.ts"].filter((f) =>
    f.endsWith(".ts"),
  );
  for (const file of files) {
    const { outputText } = ts.transpileModule(readFileSync(join(root, file), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    execFileSync("mkdir", ["-p", dirname(join(outDir, file))]);
    writeFileSync(join(outDir, file.replace(/\.ts$/, ".js")), outputText);
  }
  // The worker programs, which the pool finds beside its module.
  cpSync(join(runtime, "executors", "workers"), join(outDir, "runtime", "executors", "workers"), { recursive: true });
  writeFileSync(join(outDir, "package.json"), '{ "type": "module" }');
}

/** Polls until the process is gone (orphaned workers are reparented, then exit on end-of-file). */
async function waitUntilGone(pid: number): Promise<void> {
  for (let i = 0; i < 2000 && alive(pid); i++) await new Promise((r) => setTimeout(r, 10));
  expect(alive(pid)).toBe(false);
}
