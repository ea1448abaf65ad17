// Splits one sample's reads into chunks of SIZE reads: OUT_DIR/1.fq holds
// reads 1 .. SIZE, 2.fq the next SIZE, and so on, as many chunks as the
// sample needs (the last may hold fewer; a sample of SIZE reads or fewer is
// one chunk).
//
//   node scripts/split.mjs READS.fq SIZE OUT_DIR
//
// The workflow declares the chunks as a pattern (`{chunk}.fq` with
// `decides: [chunk]`), so wfc maps whatever this wrote, per sample.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatFastq, readFastq } from './fastq.mjs';

const [input, sizeArg, outDir] = process.argv.slice(2);
if (outDir === undefined) {
  console.error('usage: node scripts/split.mjs READS.fq SIZE OUT_DIR');
  process.exit(2);
}
const size = Number(sizeArg);
if (!Number.isInteger(size) || size < 1) {
  console.error(`split: SIZE must be a positive integer, got ${JSON.stringify(sizeArg)}`);
  process.exit(2);
}

const reads = readFastq(input);
mkdirSync(outDir, { recursive: true });
for (let c = 0; c * size < reads.length; c++) {
  writeFileSync(join(outDir, `${c + 1}.fq`), formatFastq(reads.slice(c * size, (c + 1) * size)));
}
