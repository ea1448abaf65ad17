import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** Writes a file atomically (temp file + rename): readers never see half of it. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path) || ".", { recursive: true });
  const temp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temp, text);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
