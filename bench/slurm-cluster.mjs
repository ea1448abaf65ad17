// Helpers for bench/slurm.mjs that talk to SLURM: whether wfc's local test
// cluster (.ci/slurm/up.sh) is up and how it is configured, which of the
// benchmark's jobs are still queued (found by job-name prefix, so other
// users' jobs are counted apart), their final states, and cancelling them.
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";

/** The ClusterName .ci/slurm/up.sh writes; the benchmark submits jobs to no other cluster. */
export const TEST_CLUSTER = "wfc";

/** How to get a cluster, for the skip message. */
export const START_HINT =
  "start the local one with `sudo npm run slurm:up` (.ci/slurm/up.sh, a few seconds once installed) and run this again";

/** Node states in which the node runs jobs (sinfo's %T). */
const USABLE_NODE = /^(idle|mixed|allocated|completing)$/;

/** A SLURM client command, synchronously, killed after `timeoutMs`: { ok, stdout, detail }. */
function query(cmd, args, timeoutMs = 5_000) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs });
  const stdout = r.stdout ?? "";
  const said = (r.stderr ?? "").trim().split("\n").at(-1) || stdout.trim().split("\n")[0] || "no output";
  const shown = `\`${[cmd, ...args].join(" ")}\``;
  if (r.error?.code === "ENOENT") return { ok: false, stdout, detail: `\`${cmd}\` is not on PATH` };
  if (r.error?.code === "ETIMEDOUT") return { ok: false, stdout, detail: `${shown} did not answer within ${timeoutMs / 1000} s` };
  if (r.error) return { ok: false, stdout, detail: `${shown} failed: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, stdout, detail: `${shown} exited ${r.status ?? r.signal}: ${said}` };
  return { ok: true, stdout, detail: "" };
}

/**
 * Whether the benchmark can run jobs here: `sbatch` on PATH, the controller
 * up (`scontrol ping` answers at once when it is down, where `sinfo` retries
 * for seconds), a usable node, and the cluster is wfc's test cluster.
 * Returns { ok: true, version, node, cpus, config } (config: `scontrol show
 * config` as a Map) or { ok: false, reason }.
 */
export function clusterStatus() {
  const version = query("sbatch", ["--version"]);
  if (!version.ok) return { ok: false, reason: `no SLURM client: ${version.detail}` };
  const ping = query("scontrol", ["ping"]);
  if (!/is UP/.test(ping.stdout))
    return { ok: false, reason: `SLURM is not running (${ping.detail || ping.stdout.trim().split("\n")[0]})` };
  const nodes = query("sinfo", ["-h", "-N", "-o", "%N %T %c"]);
  if (!nodes.ok) return { ok: false, reason: `SLURM does not answer: ${nodes.detail}` };
  const usable = nodes.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .find(([, state]) => state !== undefined && USABLE_NODE.test(state));
  if (!usable) return { ok: false, reason: `SLURM has no node that can run jobs (${nodes.stdout.trim().replace(/\s*\n\s*/g, ", ")})` };
  const shown = query("scontrol", ["show", "config"]);
  const config = new Map(
    shown.stdout
      .split("\n")
      .map((l) => /^(\S+)\s*=\s*(.*)$/.exec(l))
      .filter(Boolean)
      .map((m) => [m[1], m[2].trim()]),
  );
  const cluster = config.get("ClusterName");
  if (cluster !== TEST_CLUSTER)
    return {
      ok: false,
      reason: `the cluster is ${cluster ? `'${cluster}'` : "unknown"}, not wfc's local test cluster '${TEST_CLUSTER}'; the benchmark submits hundreds of jobs and runs only there`,
    };
  return { ok: true, version: version.stdout.trim(), node: usable[0], cpus: Number(usable[2]), config };
}

const run = promisify(execFile);

/**
 * The queue now (pending, running, completing: squeue's default states):
 * how many entries belong to jobs named `prefix…` and how many to anyone
 * else. A pending array's not yet started elements are one entry.
 */
export async function queue(prefix) {
  const { stdout } = await run("squeue", ["-h", "-o", "%j"], { timeout: 15_000, maxBuffer: 64 << 20 });
  let ours = 0;
  let others = 0;
  for (const name of stdout.split("\n")) {
    if (name.startsWith(prefix)) ours++;
    else if (name) others++;
  }
  return { ours, others };
}

/** The states of every job (array elements one by one) named `prefix…`, finished ones included: Map state → count. */
export function finalStates(prefix) {
  // Finished jobs stay visible for MinJobAge (an hour on the local cluster).
  const r = query("squeue", ["-h", "-t", "all", "-o", "%j|%T"], 15_000);
  const states = new Map();
  for (const line of r.stdout.split("\n")) {
    const [name, state] = line.split("|");
    if (name?.startsWith(prefix)) states.set(state, (states.get(state) ?? 0) + 1);
  }
  return states;
}

/** Cancels every queued or running job named `prefix…`; returns how many job ids it cancelled. */
export function cancelJobs(prefix) {
  const r = query("squeue", ["-h", "-o", "%F|%j"], 15_000);
  const ids = [...new Set(r.stdout.split("\n").flatMap((l) => (l.split("|")[1]?.startsWith(prefix) ? [l.split("|")[0]] : [])))];
  // scancel retries for a long time against a stopped controller: bounded.
  if (ids.length > 0) query("scancel", ids, 30_000);
  return ids.length;
}
