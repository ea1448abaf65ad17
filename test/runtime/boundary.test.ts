import { readdirSync, readFileSync } from "node:fs";
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

test("the runtime never imports the compiler: plan.json is the only contract", () => {
  const offenders: string[] = [];
  for (const file of sources(join(repoRoot, "runtime"))) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
      const spec = m[1] ?? m[2] ?? "";
      if (/(^|\/)compiler\//.test(spec)) offenders.push(`${relative(repoRoot, file)}: ${spec}`);
    }
  }
  expect(offenders).toEqual([]);
});
