// Preloaded into a wfc process (node --import) by bench/dynamic.mjs when
// /usr/bin/time is missing: at exit, writes the process's peak RSS in KB
// (process.resourceUsage().maxRSS) to the file $WFC_BENCH_RSS names.
import { writeFileSync } from "node:fs";

const file = process.env.WFC_BENCH_RSS;
if (file) process.on("exit", () => writeFileSync(file, `${process.resourceUsage().maxRSS}\n`));
