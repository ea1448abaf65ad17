import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ASCII_GLYPHS, toAscii } from "../../cli/ascii.js";
import { repoRoot } from "../e2e/helpers.js";

/** Every .ts file under a folder of the repository. */
function sources(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f));
}

/** A line's code without its comment: whole-line comments, doc comments and a trailing `// …` after code. */
function code(line: string): string {
  const trimmed = line.trimStart();
  if (trimmed.startsWith("//") || trimmed.startsWith("*") || trimmed.startsWith("/*")) return "";
  return line.replace(/\s\/\/\s.*$/, "");
}

describe("WFC_ASCII=1 covers every glyph wfc prints", () => {
  test("each non-ASCII character in the code (not comments) of cli/, compiler/, runtime/ and contract/ has an ASCII form", () => {
    const missing: string[] = [];
    for (const file of ["cli", "compiler", "runtime", "contract"].flatMap(sources)) {
      readFileSync(join(repoRoot, file), "utf8")
        .split("\n")
        .forEach((line, i) => {
          for (const c of code(line).match(/[\u0080-\u{10ffff}]/gu) ?? []) {
            if (!(c in ASCII_GLYPHS)) missing.push(`${file}:${i + 1}: ${c} (U+${c.codePointAt(0)!.toString(16)})`);
          }
        });
    }
    expect(missing).toEqual([]);
  });

  test("each glyph becomes ASCII; other characters (a user's value) stay", () => {
    for (const [glyph, ascii] of Object.entries(ASCII_GLYPHS)) {
      expect(toAscii(glyph)).toBe(ascii);
      expect(ascii).toMatch(/^[\x20-\x7e]+$/);
    }
    expect(toAscii("a → b… ±2^53 × 3, naïve 名前")).toBe("a -> b... +/-2^53 x 3, naïve 名前");
  });
});
