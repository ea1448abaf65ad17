import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { LineIndex } from "../../compiler/source/line-index.js";

/** `line:column` of every offset from 0 to the end of the text, inclusive. */
function positions(text: string): string[] {
  const index = new LineIndex(text);
  return Array.from({ length: text.length + 1 }, (_, offset) => {
    const { line, column } = index.position(offset);
    return `${line}:${column}`;
  });
}

describe("LineIndex", () => {
  test("maps offsets to 1-based lines and columns; a newline belongs to the line it ends", () => {
    // a  b  \n c  d  \n (end)
    expect(positions("ab\ncd\n")).toEqual(["1:1", "1:2", "1:3", "2:1", "2:2", "2:3", "3:1"]);
  });

  test("a last line without a newline ends at the end of the text", () => {
    const index = new LineIndex("ab\ncd");
    expect(positions("ab\ncd")).toEqual(["1:1", "1:2", "1:3", "2:1", "2:2", "2:3"]);
    expect(index.lineText(2)).toBe("cd");
    expect(index.lineText(3)).toBe("");
    expect(index.offset(2, 3)).toBe(5);
  });

  test("CRLF: the CR is the last column of its line, and line text leaves it out", () => {
    const index = new LineIndex("ab\r\ncd\r\n");
    expect(positions("ab\r\ncd\r\n")).toEqual(["1:1", "1:2", "1:3", "1:4", "2:1", "2:2", "2:3", "2:4", "3:1"]);
    expect(index.lineText(1)).toBe("ab");
    expect(index.lineText(2)).toBe("cd");
    expect(index.lineText(3)).toBe("");
    expect(index.offset(2, 1)).toBe(4);
  });

  test("columns count UTF-16 code units, as editors' LSP default does", () => {
    const index = new LineIndex("é🎉x");
    expect(index.position(3)).toEqual({ line: 1, column: 4 });
  });

  test("an empty text has one empty line", () => {
    const index = new LineIndex("");
    expect(index.position(0)).toEqual({ line: 1, column: 1 });
    expect(index.lineText(1)).toBe("");
    expect(index.offset(1, 1)).toBe(0);
  });

  test("offsets outside the text are clamped into it", () => {
    const index = new LineIndex("ab\ncd");
    expect(index.position(-5)).toEqual({ line: 1, column: 1 });
    expect(index.position(99)).toEqual({ line: 2, column: 3 });
    expect(index.offset(0, 0)).toBe(0);
    expect(index.offset(9, 1)).toBe(3);
    expect(index.offset(2, 99)).toBe(5);
  });

  test("lines that do not exist have no text", () => {
    const index = new LineIndex("ab\ncd");
    expect(index.lineText(0)).toBe("");
    expect(index.lineText(7)).toBe("");
  });

  test("offset(position(o)) is o for every offset of any text", () => {
    const text = fc.string({ unit: fc.constantFrom("a", "é", "🎉", "\n", "\r\n", "\t", " "), maxLength: 40 });
    fc.assert(
      fc.property(text, (t) => {
        const index = new LineIndex(t);
        for (let o = 0; o <= t.length; o++) {
          const { line, column } = index.position(o);
          expect(index.offset(line, column)).toBe(o);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("lineText(line) is the text between newlines, without a trailing CR", () => {
    const text = fc.string({ unit: fc.constantFrom("a", "b", "\n", "\r\n", "\t"), maxLength: 40 });
    fc.assert(
      fc.property(text, (t) => {
        const index = new LineIndex(t);
        t.split("\n").forEach((line, i) => expect(index.lineText(i + 1)).toBe(line.replace(/\r$/, "")));
      }),
      { numRuns: 300 },
    );
  });
});
