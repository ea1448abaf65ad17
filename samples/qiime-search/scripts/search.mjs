// Searches each query against every reference by k-mer Jaccard similarity and
// writes the best hit per query as TSV (a small stand-in for the local-alignment
// search in QIIME 2's `dwq2 search-and-summarize`).
//
//   node scripts/search.mjs [--k 8] [--min-jaccard 0.05] QUERY.fa REFERENCE.fa OUT.tsv
//
// Columns: query_id, reference_id, jaccard (4 decimals), shared_kmers.
// A query whose best Jaccard is below --min-jaccard is reported with
// reference_id `*` (unassigned). Ties go to the reference that comes first in
// REFERENCE.fa, so the output is deterministic.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { readFasta } from './fasta.mjs';

const usage = 'usage: node scripts/search.mjs [--k 8] [--min-jaccard 0.05] QUERY.fa REFERENCE.fa OUT.tsv';
let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: { k: { type: 'string', default: '8' }, 'min-jaccard': { type: 'string', default: '0.05' } },
  });
} catch (err) {
  console.error(`search: ${err.message}\n${usage}`);
  process.exit(2);
}
const [query, reference, out, ...extra] = args.positionals;
const k = Number(args.values.k);
const minJaccard = Number(args.values['min-jaccard']);
if (out === undefined || extra.length > 0) {
  console.error(usage);
  process.exit(2);
}
if (!Number.isInteger(k) || k < 1) {
  console.error(`search: --k must be a positive integer, got ${JSON.stringify(args.values.k)}`);
  process.exit(2);
}
if (!(minJaccard >= 0 && minJaccard <= 1)) {
  console.error(`search: --min-jaccard must be between 0 and 1, got ${JSON.stringify(args.values['min-jaccard'])}`);
  process.exit(2);
}

/** The set of k-mers of a sequence (k-mers containing anything but ACGT are skipped). */
function kmers(seq) {
  const set = new Set();
  for (let i = 0; i + k <= seq.length; i++) {
    const w = seq.slice(i, i + k);
    if (/^[ACGT]+$/.test(w)) set.add(w);
  }
  return set;
}

const refs = readFasta(reference).map((r) => ({ id: r.id, kmers: kmers(r.seq) }));
const rows = ['query_id\treference_id\tjaccard\tshared_kmers'];
for (const q of readFasta(query)) {
  const qk = kmers(q.seq);
  let best = { id: '*', jaccard: 0, shared: 0 };
  for (const r of refs) {
    let shared = 0;
    for (const w of qk) if (r.kmers.has(w)) shared++;
    const union = qk.size + r.kmers.size - shared;
    const jaccard = union === 0 ? 0 : shared / union;
    if (jaccard > best.jaccard) best = { id: r.id, jaccard, shared };
  }
  if (best.jaccard < minJaccard || best.shared === 0) best.id = '*';
  rows.push(`${q.id}\t${best.id}\t${best.jaccard.toFixed(4)}\t${best.shared}`);
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, rows.join('\n') + '\n');
