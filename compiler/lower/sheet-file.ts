import { constants } from "node:fs";
import { open, realpath } from "node:fs/promises";
import { isAbsolute, relative } from "node:path";
import { MAX_SHEET_BYTES } from "../../contract/limits.js";

/** A sample sheet's text, or why it was not read. */
export type SheetFile =
  | {
      readonly kind: "text";
      readonly text: string;
      /** Outside the workflow's folder (after symlinks): diagnostics must not quote its content. */
      readonly outside: boolean;
    }
  | { readonly kind: "unreadable"; readonly code: string }
  | { readonly kind: "not-a-file"; readonly what: string }
  | { readonly kind: "too-large"; readonly bytes: number };

/** A plain file's bytes, or why it was not read. */
export type PlainFile =
  | { readonly kind: "bytes"; readonly bytes: Buffer }
  | { readonly kind: "unreadable"; readonly code: string }
  | { readonly kind: "not-a-file"; readonly what: string }
  | { readonly kind: "too-large"; readonly bytes: number };

/**
 * Reads a file the workflow names (a sample sheet, a conda environment
 * file), refusing what is not a plain file of sane size before reading a
 * byte: `/dev/zero` or a FIFO would never end, and a multi-gigabyte file
 * would exhaust memory. Opened non-blocking, so a FIFO cannot hang the
 * open; its type and size come from the open handle, so the checked file
 * is the one read.
 */
export async function readPlainFile(abs: string): Promise<PlainFile> {
  let handle;
  try {
    handle = await open(abs, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return { kind: "unreadable", code: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      const what = info.isDirectory()
        ? "a folder"
        : info.isFIFO()
          ? "a named pipe"
          : info.isCharacterDevice() || info.isBlockDevice()
            ? "a device"
            : info.isSocket()
              ? "a socket"
              : "not a regular file";
      return { kind: "not-a-file", what };
    }
    if (info.size > MAX_SHEET_BYTES) return { kind: "too-large", bytes: info.size };
    return { kind: "bytes", bytes: await handle.readFile() };
  } catch (error) {
    return { kind: "unreadable", code: (error as NodeJS.ErrnoException).code ?? String(error) };
  } finally {
    await handle.close();
  }
}

/** Reads a sample sheet (readPlainFile) as UTF-8 text, and says whether it lies outside the workflow's folder. */
export async function readSheetFile(abs: string, workflowDir: string): Promise<SheetFile> {
  const file = await readPlainFile(abs);
  if (file.kind !== "bytes") return file;
  return { kind: "text", text: file.bytes.toString("utf8"), outside: await isOutside(abs, workflowDir) };
}

/** Whether `abs` lies outside `dir`, symlinks resolved (a link in the folder may point anywhere). */
async function isOutside(abs: string, dir: string): Promise<boolean> {
  try {
    const rel = relative(await realpath(dir), await realpath(abs));
    return rel === ".." || rel.startsWith("../") || isAbsolute(rel);
  } catch {
    return true;
  }
}
