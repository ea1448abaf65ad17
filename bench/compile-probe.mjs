// Compiles one workflow in a fresh process, writes the plan, and prints time,
// peak memory and plan size as JSON. bench/compile.mjs uses it for peak RSS
// when /usr/bin/time is missing.
//
//   node bench/compile-probe.mjs WORKFLOW PLAN
import { writeFileSync } from "node:fs";
import { compileFile } from "../dist/compiler/compile.js";
import { canonicalJson } from "../dist/compiler/plan/canonical-json.js";

const [file, planPath] = process.argv.slice(2);
const t0 = performance.now();
const result = await compileFile(file, { planPath });
if (result.plan === undefined) {
  console.error(result.diagnostics.slice(0, 3));
  process.exit(2);
}
const json = canonicalJson(result.plan);
writeFileSync(planPath, json);
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, rssKB: process.resourceUsage().maxRSS, bytes: Buffer.byteLength(json) }));
