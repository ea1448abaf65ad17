import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type LockResult = { readonly ok: true; readonly release: () => void } | { readonly ok: false; readonly message: string };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * `.wfc/lock`: one run per directory. Created exclusively; a lock whose
 * process is gone (a crash, kill -9) is taken over.
 */
export function acquireLock(stateDir: string): LockResult {
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, "lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
      return { ok: true, release: () => rmSync(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        return { ok: false, message: `another wfc run (pid ${pid}) is using ${stateDir}; wait for it to finish, or stop it` };
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  return { ok: false, message: `cannot take the lock ${path}` };
}
