/**
 * What wfc asks a cluster outside a run's own arrays: its MaxArraySize (for
 * the layout) and the clean-up of arrays a dead run left behind.
 */
import { execFileSync } from "node:child_process";
import { realSlurmClient, type SlurmClient } from "./client.js";
import { elementPhase } from "./parse.js";

/**
 * The cluster's MaxArraySize from `scontrol show config`, when there is a
 * cluster to ask. A controller that does not answer within 2 s is taken as
 * none (scontrol itself would keep retrying for much longer).
 */
export function clusterMaxArraySize(): number | undefined {
  try {
    const text = execFileSync("scontrol", ["show", "config"], { encoding: "utf8", timeout: 2000, stdio: ["ignore", "pipe", "ignore"] });
    const m = /^MaxArraySize\s*=\s*(\d+)/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Cancels the arrays a run that died left on the cluster, and waits until
 * SLURM says none of their elements runs any more (so no old copy of a job
 * writes beside the new one). The ids of those that still had elements
 * queued or running; when squeue cannot answer, every id is cancelled.
 */
export async function cancelLeftovers(ids: readonly string[], waitMs = 60_000, client: SlurmClient = realSlurmClient): Promise<string[]> {
  const active = async (): Promise<string[] | null> => {
    const states = await client.queueStates(ids);
    if (states === null) return null;
    const live = new Set<string>();
    for (const [element, state] of states) if (elementPhase(state) !== "ended") live.add(element.split("_")[0]!);
    return ids.filter((id) => live.has(id));
  };
  const cancel = (await active()) ?? [...ids];
  if (cancel.length === 0) return [];
  await client.scancel(cancel);
  const giveUp = Date.now() + waitMs;
  for (let left = await active(); left !== null && left.length > 0 && Date.now() < giveUp; left = await active()) {
    await new Promise((r) => setTimeout(r, 250));
  }
  return cancel;
}
