/**
 * Plain progress lines and `--json` events, written in batches: a no-op
 * re-run of 50,000 jobs makes 50,000 lines, and one write(2) each (stdout
 * to a pipe or a file is synchronous) cost half a second of it. What a
 * turn of the event loop produced goes out at the end of that turn, in
 * one write, so a reader still sees each line as its job ends.
 */

/** Flush early past this many characters, so a long turn does not hold a large buffer. */
const MAX_BUFFERED = 1 << 16;

export interface Batched {
  write(text: string): void;
  /** Writes what is buffered now (before the summary, and before any other stream is written to). */
  flush(): void;
}

export function batched(out: { write(text: string): unknown }): Batched {
  let parts: string[] = [];
  let size = 0;
  let scheduled: NodeJS.Immediate | undefined;
  const flush = () => {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    if (parts.length === 0) return;
    const text = parts.join("");
    parts = [];
    size = 0;
    out.write(text);
  };
  return {
    write(text) {
      parts.push(text);
      size += text.length;
      if (size >= MAX_BUFFERED) flush();
      else scheduled ??= setImmediate(flush);
    },
    flush,
  };
}
