// The `summarize` stage: joins the merged hits with the reference metadata and
// writes an HTML hits table (QIIME 2's hits-table.qzv) and a per-taxon summary.
// Output is deterministic: rows are sorted and nothing depends on the clock.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * @param {{ inputs: { hits: string | string[], metadata: string | string[] },
 *           outputs: { table: string | string[], summary: string | string[] } }} job
 */
export async function summarize({ inputs, outputs }) {
  // wfc passes a path, or a list of paths when a template gathers several;
  // accept both.
  const hitFiles = [].concat(inputs.hits);
  const [metadataFile] = [].concat(inputs.metadata);
  const [tableFile] = [].concat(outputs.table);
  const [summaryFile] = [].concat(outputs.summary);

  const taxonOf = new Map();
  const meta = await readTsv(metadataFile);
  const taxonCol = meta.header.findIndex((h) => h.toLowerCase() === 'taxon');
  if (taxonCol < 1) throw new Error(`${metadataFile}: no 'Taxon' column`);
  for (const row of meta.rows) taxonOf.set(row[0], row[taxonCol] ?? '');

  const hits = [];
  for (const file of hitFiles) {
    for (const [query, reference, jaccard, shared] of (await readTsv(file)).rows) {
      const taxon = reference === '*' ? 'Unassigned' : (taxonOf.get(reference) ?? 'Unknown reference');
      hits.push({ query, reference, jaccard: Number(jaccard), shared: Number(shared), taxon });
    }
  }
  hits.sort((a, b) => cmp(a.query, b.query));

  const byTaxon = new Map();
  for (const h of hits) {
    const t = byTaxon.get(h.taxon) ?? { taxon: h.taxon, queries: [], sum: 0 };
    t.queries.push(h.query);
    t.sum += h.jaccard;
    byTaxon.set(h.taxon, t);
  }
  const taxa = [...byTaxon.values()].sort((a, b) => b.queries.length - a.queries.length || cmp(a.taxon, b.taxon));

  const summary = ['taxon\tn_queries\tmean_jaccard\tqueries'];
  for (const t of taxa) {
    summary.push(`${t.taxon}\t${t.queries.length}\t${(t.sum / t.queries.length).toFixed(4)}\t${t.queries.join(',')}`);
  }

  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hits table</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>Hits table</h1>
<p>${hits.length} queries, best hit per query by k-mer Jaccard similarity.</p>
<table>
<thead><tr><th>Query</th><th>Reference</th><th>Jaccard</th><th>Shared k-mers</th><th>Taxon</th></tr></thead>
<tbody>
${hits
  .map(
    (h) =>
      `<tr><td>${esc(h.query)}</td><td>${esc(h.reference)}</td><td class="num">${h.jaccard.toFixed(4)}</td>` +
      `<td class="num">${h.shared}</td><td>${esc(h.taxon)}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>
<h2>By taxon</h2>
<table>
<thead><tr><th>Taxon</th><th>Queries</th><th>Mean Jaccard</th></tr></thead>
<tbody>
${taxa
  .map(
    (t) =>
      `<tr><td>${esc(t.taxon)}</td><td class="num">${t.queries.length}</td>` +
      `<td class="num">${(t.sum / t.queries.length).toFixed(4)}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>
</body>
</html>
`;

  await mkdir(dirname(tableFile), { recursive: true });
  await mkdir(dirname(summaryFile), { recursive: true });
  await writeFile(tableFile, html);
  await writeFile(summaryFile, summary.join('\n') + '\n');
}

async function readTsv(path) {
  const lines = (await readFile(path, 'utf8')).split(/\r?\n/).filter((l) => l !== '');
  const [header = '', ...rest] = lines;
  return { header: header.split('\t'), rows: rest.map((l) => l.split('\t')) };
}

// Code-point order, not locale order, so the output is the same everywhere.
function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
