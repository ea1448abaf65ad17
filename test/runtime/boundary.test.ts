import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expect, test } from "vitest";
import { repoRoot } from "../e2e/helpers.js";

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (/\.(ts|mjs|js)$/.test(entry.name)) yield path;
  }
}

/** The import specifiers, with their files, under `dir` that match `wanted`. */
function importsOf(dir: string, wanted: RegExp): string[] {
  const offenders: string[] = [];
  for (const file of sources(join(repoRoot, dir))) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
      const spec = m[1] ?? m[2] ?? "";
      if (wanted.test(spec)) offenders.push(`${relative(repoRoot, file)}: ${spec}`);
    }
  }
  return offenders;
}

test("the runtime never imports the compiler: plan.json is the only contract", () => {
  expect(importsOf("runtime", /(^|\/)compiler\//)).toEqual([]);
});

test("the compiler never imports the runtime: what both need is in contract/", () => {
  expect(importsOf("compiler", /(^|\/)runtime\//)).toEqual([]);
});

test("neither side imports the CLI, which may import both", () => {
  expect([
    ...importsOf("runtime", /(^|\/)cli\//),
    ...importsOf("compiler", /(^|\/)cli\//),
    ...importsOf("contract", /(^|\/)cli\//),
  ]).toEqual([]);
});

test("contract/ holds the rules both sides share, so it imports neither the compiler nor the runtime", () => {
  expect(importsOf("contract", /(^|\/)(compiler|runtime)\//)).toEqual([]);
});

test("the runtime may import the contract, which the built package ships next to it", () => {
  expect(importsOf("runtime", /(^|\/)contract\//)).toContain("runtime/jobs/expand.ts: ../../contract/glob.js");
  expect(existsSync(join(repoRoot, "dist", "contract", "glob.js"))).toBe(true);
});
