// Validates one file in a fresh process and prints time and peak memory as JSON.
import { validateFile } from "../dist/compiler/validate.js";

const t0 = performance.now();
const result = await validateFile(process.argv[2]);
const ms = performance.now() - t0;
if (!result.validated) {
  console.error(result.diagnostics.slice(0, 3));
  process.exit(2);
}
const jobs = [...result.validated.workflow.stages.values()].reduce((n, s) => n + s.fanout.size, 0);
console.log(JSON.stringify({ ms, rssMB: process.resourceUsage().maxRSS / 1024, jobs }));
