import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Tells a SIGKILL from the kernel's OOM killer apart from any other, where
 * the kernel says so. wfc's jobs run in wfc's memory cgroup (children
 * inherit it), whose OOM kill count the kernel keeps: `oom_kill` in
 * cgroup v2's `memory.events`, or in v1's `memory.oom_control` (Linux ≥
 * 4.13); both count kills in the cgroup and below it, by a cgroup limit or
 * by the global OOM killer. A job killed by a SIGKILL that wfc did not send
 * (a timeout or Ctrl-C is reported as such) is put down to the OOM killer
 * when the count rose since the run began by more than the kills already
 * put down to it. Reading the count only when a job was SIGKILLed costs
 * nothing per job; with concurrent jobs the kill counted may be another
 * process's, which is why the summary says where the guess comes from.
 *
 * Local jobs have no memory limit of their own (a stage's `mem` goes to
 * SLURM only), so the cgroup is the one place to look. Without a memory
 * controller (not Linux, no cgroup file) nothing is claimed.
 */
export class OomWatch {
  readonly #file: string | undefined;
  #seen: number;

  constructor() {
    this.#file = oomCountFile();
    this.#seen = this.#count() ?? 0;
  }

  /** A job ended by SIGKILL: true when the OOM killer killed a process of this cgroup that no earlier claim accounted for. */
  claim(): boolean {
    const now = this.#count();
    if (now === undefined || now <= this.#seen) return false;
    this.#seen++;
    return true;
  }

  #count(): number | undefined {
    if (this.#file === undefined) return undefined;
    try {
      return oomKills(readFileSync(this.#file, "utf8"));
    } catch {
      return undefined;
    }
  }
}

/** The `oom_kill N` line of memory.events (v2) or memory.oom_control (v1). */
export function oomKills(text: string): number | undefined {
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** This process's memory cgroup file that counts OOM kills, from /proc/self/cgroup and the cgroup mounts. */
function oomCountFile(): string | undefined {
  let cgroups: string;
  let mounts: string;
  try {
    cgroups = readFileSync("/proc/self/cgroup", "utf8");
    mounts = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return undefined;
  }
  const candidates: string[] = [];
  for (const line of cgroups.split("\n")) {
    // `ID:CONTROLLERS:PATH`; v2 is `0::PATH`.
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, id, controllers, path] = m as unknown as [string, string, string, string];
    const v2 = id === "0" && controllers === "";
    if (!v2 && !controllers.split(",").includes("memory")) continue;
    for (const mount of cgroupMounts(mounts, v2)) {
      if (!path.startsWith(mount.root)) continue;
      const dir = join(mount.point, path.slice(mount.root.length));
      candidates.push(join(dir, v2 ? "memory.events" : "memory.oom_control"));
    }
  }
  // A hybrid setup lists v1's memory controller and an empty v2 tree: the first file that exists counts.
  return candidates.find((f) => existsSync(f));
}

/** Mount points of cgroup2 (v2) or of the v1 hierarchy with the memory controller, with the cgroup path each shows as its root. */
function cgroupMounts(mountinfo: string, v2: boolean): { root: string; point: string }[] {
  const out: { root: string; point: string }[] = [];
  for (const line of mountinfo.split("\n")) {
    // ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPER_OPTIONS
    const [left, right] = line.split(" - ");
    if (left === undefined || right === undefined) continue;
    const fields = left.split(" ");
    const [fstype, , superOptions = ""] = right.split(" ");
    const wanted = v2 ? fstype === "cgroup2" : fstype === "cgroup" && superOptions.split(",").includes("memory");
    if (wanted && fields[3] !== undefined && fields[4] !== undefined) out.push({ root: fields[3], point: fields[4] });
  }
  return out;
}
