// Minimal FASTA reading and writing shared by split.mjs and search.mjs.
import { readFileSync } from 'node:fs';

/** Reads a FASTA file into `{ id, seq }` records, in file order. */
export function readFasta(path) {
  const records = [];
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    if (line.startsWith('>')) {
      records.push({ id: line.slice(1).trim().split(/\s+/)[0], seq: '' });
    } else if (line.trim() !== '') {
      if (records.length === 0) throw new Error(`${path}: sequence data before the first '>' header`);
      records[records.length - 1].seq += line.trim().toUpperCase();
    }
  }
  return records;
}

/** Formats records as FASTA text (one line per sequence). */
export function formatFasta(records) {
  return records.map((r) => `>${r.id}\n${r.seq}\n`).join('');
}
