// Writes chunk CHUNK of the query FASTA: sequences CHUNK*SIZE .. CHUNK*SIZE+SIZE-1.
//
//   node scripts/split.mjs QUERY.fa SIZE N_CHUNKS CHUNK OUT.fa
//
// wfc needs the fan-out at compile time, so the workflow fixes the number of
// chunks (N_CHUNKS) and runs this once per chunk. A chunk past the last query is
// written empty (the search of an empty chunk finds nothing). If SIZE * N_CHUNKS
// does not cover every query, every job fails rather than dropping queries.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatFasta, readFasta } from './fasta.mjs';

const [query, sizeArg, nArg, chunkArg, out] = process.argv.slice(2);
if (out === undefined) {
  console.error('usage: node scripts/split.mjs QUERY.fa SIZE N_CHUNKS CHUNK OUT.fa');
  process.exit(2);
}
const [size, nChunks, chunk] = [sizeArg, nArg, chunkArg].map(Number);
for (const [name, v] of [['SIZE', size], ['N_CHUNKS', nChunks], ['CHUNK', chunk]]) {
  if (!Number.isInteger(v) || v < 0 || (v === 0 && name !== 'CHUNK')) {
    console.error(`split: ${name} must be a ${name === 'CHUNK' ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(String(v))}`);
    process.exit(2);
  }
}
if (chunk >= nChunks) {
  console.error(`split: CHUNK ${chunk} is out of range for ${nChunks} chunks`);
  process.exit(2);
}

const records = readFasta(query);
if (records.length > size * nChunks) {
  const need = Math.ceil(records.length / size);
  console.error(
    `split: ${records.length} queries do not fit in ${nChunks} chunks of ${size}; ` +
      `use --param n_chunks=${need} (or a larger split_size)`,
  );
  process.exit(1);
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, formatFasta(records.slice(chunk * size, (chunk + 1) * size)));
