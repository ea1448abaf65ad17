#!/usr/bin/env node
// Process-start benchmark (not a test): N trivial jobs at P-way parallelism
// through ProcessPool, SpawnRunner, `xargs -P`, and ninja (if installed).
// Prints wall times and each one's ratio to ninja (or xargs without ninja).
//
//   npm run build && node bench/spawn.mjs [options]
//
// Options:
//   --jobs=N        jobs per run (default 5000)
//   --parallel=P    parallelism (default 2)
//   --repeat=R      runs per runner; the best is kept (default 3)
//   --ballast=MB    grow this Node process's heap by MB before measuring, to
//                   show how spawning from a large Node process degrades
//                   (the runtime holds a plan; the pool is unaffected)
//   --shell         run `true` through `sh -c` in the pool and spawner too
//                   (ninja always does; xargs never)
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { have } from "./peers.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : Number(hit.slice(name.length + 3));
};
const N = option("jobs", 5000);
const P = option("parallel", 2);
const R = option("repeat", 3);
const ballastMb = option("ballast", 0);
const viaShell = argv.includes("--shell");

let executors;
try {
  executors = await import(join(root, "dist/runtime/executors/index.js"));
} catch (err) {
  console.error(`bench/spawn.mjs needs the built runtime (npm run build): ${err.message}`);
  process.exit(2);
}
const { ProcessPool, SpawnRunner } = executors;

const dir = join(tmpdir(), `wfc-bench-spawn-${process.pid}`);
mkdirSync(dir, { recursive: true });
const log = join(dir, "jobs.log");

// Keep the ballast reachable until the end so the heap really is this big while spawning.
const ballast = [];
for (let mb = 0; mb < ballastMb; mb++) ballast.push(Array.from({ length: 1 << 17 }, (_, i) => i + 0.5)); // 1 MB of doubles

const job = (i) =>
  viaShell
    ? { id: `j${i}`, kind: "shell", command: "true", cwd: dir, log }
    : { id: `j${i}`, kind: "argv", argv: ["/bin/true"], cwd: dir, log };

async function throughRunner(makeRunner) {
  const runner = makeRunner();
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: N }, (_, i) => runner.run(job(i))));
  const ms = performance.now() - t0;
  await runner.close();
  const failed = results.filter((r) => r.exitCode !== 0).length;
  if (failed > 0) throw new Error(`${failed} jobs failed, e.g. ${JSON.stringify(results.find((r) => r.exitCode !== 0))}`);
  return ms;
}

function external(cmd, args, options = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ["pipe", "ignore", "inherit"], ...options });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.error?.message ?? `exit ${r.status}`}`);
  return ms;
}

const ninjaDir = join(dir, "ninja");
mkdirSync(ninjaDir);
// One edge per job; outputs are never written, so every edge runs on every invocation.
const edges = Array.from({ length: N }, (_, i) => `build o${i}: t\n`).join("");
writeFileSync(join(ninjaDir, "build.ninja"), `rule t\n  command = true\n${edges}`);

const seq = Array.from({ length: N }, (_, i) => i).join("\n") + "\n";
const programs = [ProcessPool.detect(), { kind: "perl", interpreter: "perl" }].filter(
  (p, i, all) => p !== null && all.findIndex((q) => q?.kind === p.kind) === i && (p.kind !== "perl" || have("perl")),
);
const contenders = [
  ...programs.map((worker) => [`ProcessPool (${worker.kind})`, () => throughRunner(() => new ProcessPool({ size: P, worker }))]),
  ["SpawnRunner", () => throughRunner(() => new SpawnRunner({ size: P }))],
  ["xargs", async () => (have("xargs") ? external("xargs", [`-P${P}`, "-n1", "/bin/true"], { input: seq }) : null)],
  [
    "ninja",
    async () => {
      if (!have("ninja")) return null;
      rmSync(join(ninjaDir, ".ninja_log"), { force: true });
      return external("ninja", ["-C", ninjaDir, `-j${P}`, "--quiet"]);
    },
  ],
];

console.error(`${N} jobs of ${viaShell ? "sh -c true" : "/bin/true"}, ${P} at a time, best of ${R}; load ${loadavg()[0].toFixed(2)}`);
if (ballastMb > 0) console.error(`Node resident set: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
const best = new Map();
for (let r = 0; r < R; r++) {
  // Interleave runners so background load hits them alike.
  for (const [name, fn] of contenders) {
    const ms = await fn();
    if (ms !== null) best.set(name, Math.min(best.get(name) ?? Infinity, ms));
  }
}
const ref = best.has("ninja") ? "ninja" : "xargs";
const refMs = best.get(ref);
const rows = [...best].map(([name, ms]) => [
  name,
  `${(ms / 1000).toFixed(2)} s`,
  `${((ms * 1000) / N).toFixed(0)} µs`,
  `${(ms / refMs).toFixed(2)}×`,
]);
const header = ["runner", "wall", "per job", `vs ${ref}`];
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
const line = (cells) => `| ${cells.map((x, c) => x.padEnd(widths[c])).join(" | ")} |`;
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of rows) console.log(line(row));
for (const worker of programs) {
  const pool = best.get(`ProcessPool (${worker.kind})`);
  console.log(`\nProcessPool (${worker.kind}) is ${(best.get("SpawnRunner") / pool).toFixed(2)}× as fast as SpawnRunner.`);
}
void ballast.length;
rmSync(dir, { recursive: true, force: true });
