// Minimal FASTQ and FASTA reading and writing shared by the scripts.
import { readFileSync } from 'node:fs';

/** Reads a FASTQ file into `{ id, seq, qual }` records, in file order (four lines per read). */
export function readFastq(path) {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  if (lines.length % 4 !== 0) throw new Error(`${path}: ${lines.length} lines, not a multiple of 4`);
  const reads = [];
  for (let i = 0; i < lines.length; i += 4) {
    if (!lines[i].startsWith('@') || !lines[i + 2].startsWith('+')) throw new Error(`${path}:${i + 1}: not a FASTQ record`);
    reads.push({ id: lines[i].slice(1).trim().split(/\s+/)[0], seq: lines[i + 1].trim().toUpperCase(), qual: lines[i + 3].trim() });
  }
  return reads;
}

/** Formats reads as FASTQ text. */
export function formatFastq(reads) {
  return reads.map((r) => `@${r.id}\n${r.seq}\n+\n${r.qual}\n`).join('');
}

/** Reads the sequences of a FASTA file: `{ name, seq }`, in file order. */
export function readFasta(path) {
  const records = [];
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    if (line.startsWith('>')) records.push({ name: line.slice(1).trim().split(/\s+/)[0], seq: '' });
    else if (line.trim() !== '') {
      if (records.length === 0) throw new Error(`${path}: sequence data before the first '>' header`);
      records[records.length - 1].seq += line.trim().toUpperCase();
    }
  }
  return records;
}
