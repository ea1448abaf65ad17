// Maps each read of a chunk to the reference: the first position where the
// read occurs exactly, on the forward strand (a small stand-in for an aligner
// such as bwa mem). Writes one line per read, in the chunk's order:
// read_id, reference name, 1-based position; `*` and `0` when it does not map.
//
//   node scripts/map.mjs CHUNK.fq REFERENCE.fa OUT.tsv
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readFasta, readFastq } from './fastq.mjs';

const [chunk, referencePath, out] = process.argv.slice(2);
if (out === undefined) {
  console.error('usage: node scripts/map.mjs CHUNK.fq REFERENCE.fa OUT.tsv');
  process.exit(2);
}
const reference = readFasta(referencePath);
const lines = readFastq(chunk).map((read) => {
  for (const { name, seq } of reference) {
    const at = seq.indexOf(read.seq);
    if (at !== -1) return `${read.id}\t${name}\t${at + 1}\n`;
  }
  return `${read.id}\t*\t0\n`;
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, lines.join(''));
