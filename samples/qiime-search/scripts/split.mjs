// Splits the query FASTA into chunks of SIZE sequences: OUT_DIR/chunk-0.fa
// holds sequences 0 .. SIZE-1, chunk-1.fa the next SIZE, and so on, as many
// chunks as the queries need (the last one may hold fewer).
//
//   node scripts/split.mjs QUERY.fa SIZE OUT_DIR
//
// The number of chunks is the data's: the workflow declares the chunk files
// as a pattern (`work/chunks/chunk-{chunk}.fa` with `decides: [chunk]`) and
// wfc fans the search out over whatever this wrote. No queries, no chunks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatFasta, readFasta } from './fasta.mjs';

const [query, sizeArg, outDir] = process.argv.slice(2);
if (outDir === undefined) {
  console.error('usage: node scripts/split.mjs QUERY.fa SIZE OUT_DIR');
  process.exit(2);
}
const size = Number(sizeArg);
if (!Number.isInteger(size) || size < 1) {
  console.error(`split: SIZE must be a positive integer, got ${JSON.stringify(sizeArg)}`);
  process.exit(2);
}

const records = readFasta(query);
mkdirSync(outDir, { recursive: true });
for (let chunk = 0; chunk * size < records.length; chunk++) {
  writeFileSync(join(outDir, `chunk-${chunk}.fa`), formatFasta(records.slice(chunk * size, (chunk + 1) * size)));
}
