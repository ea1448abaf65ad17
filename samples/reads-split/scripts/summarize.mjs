// Counts each sample's reads and mapped reads from its merged table
// (results/SAMPLE.tsv, as map.mjs writes its lines) and writes
// `sample, reads, mapped` as TSV, one line per sample in the order given.
//
//   node scripts/summarize.mjs OUT.tsv results/A.tsv results/B.tsv ...
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const [out, ...tables] = process.argv.slice(2);
if (out === undefined) {
  console.error('usage: node scripts/summarize.mjs OUT.tsv SAMPLE.tsv...');
  process.exit(2);
}
const rows = tables.map((path) => {
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  const mapped = lines.filter((l) => l.split('\t')[1] !== '*').length;
  return `${basename(path, '.tsv')}\t${lines.length}\t${mapped}\n`;
});
writeFileSync(out, 'sample\treads\tmapped\n' + rows.join(''));
