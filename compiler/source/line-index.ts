/**
 * Offsets inside, line/column at the edge (STYLE habit 2): one newline index
 * per file, built lazily and searched by bisection.
 */
export interface LineColumn {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, counted in UTF-16 code units like editors' LSP default. */
  readonly column: number;
}

export class LineIndex {
  #starts: number[] | undefined;
  constructor(private readonly text: string) {}

  #lineStarts(): number[] {
    if (this.#starts === undefined) {
      const starts = [0];
      for (let i = this.text.indexOf("\n"); i !== -1; i = this.text.indexOf("\n", i + 1)) {
        starts.push(i + 1);
      }
      this.#starts = starts;
    }
    return this.#starts;
  }

  /** Line and column of an offset (clamped into the text). */
  position(offset: number): LineColumn {
    const starts = this.#lineStarts();
    const at = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: at - starts[lo]! + 1 };
  }

  /** Offset of a 1-based line and column (for parsers that report only those). */
  offset(line: number, column: number): number {
    const starts = this.#lineStarts();
    const start = starts[Math.max(0, Math.min(line - 1, starts.length - 1))]!;
    return Math.min(start + Math.max(0, column - 1), this.text.length);
  }

  /** The text of a 1-based line, without its line terminator. */
  lineText(line: number): string {
    const starts = this.#lineStarts();
    const start = starts[line - 1];
    if (start === undefined) return "";
    const next = starts[line];
    const end = next === undefined ? this.text.length : next - 1;
    return this.text.slice(start, end).replace(/\r$/, "");
  }
}
