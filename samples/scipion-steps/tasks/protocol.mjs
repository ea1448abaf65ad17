// The two step functions of the Scipion parallel-steps example, as wfc `fn`
// stages. Both run on worker threads (the workflow's `threads` executor), so
// they do no process-wide things (no chdir, no process.exit).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

const SIZE = 128; // the synthetic micrograph is SIZE x SIZE pixels

/**
 * processStep(element): "process" one micrograph. There is no real image, so
 * it renders a deterministic synthetic one (noise plus a few Gaussian
 * particles, seeded by the element's name), then measures it: mean, standard
 * deviation, and the number of particles picked as local maxima above
 * mean + 3 sd. Writes `key<tab>value` lines.
 *
 * @param {{ vars: { element: string }, outputs: string | string[] }} job
 */
export async function processStep({ vars, outputs }) {
  const element = String(vars.element);
  const [out] = [].concat(outputs);
  const rand = mulberry32(fnv1a(element));

  const img = new Float64Array(SIZE * SIZE);
  for (let i = 0; i < img.length; i++) img[i] = rand() + rand() + rand() - 1.5; // ~N(0, 0.5)
  const nParticles = 3 + Math.floor(rand() * 6);
  for (let p = 0; p < nParticles; p++) {
    const cx = 8 + rand() * (SIZE - 16);
    const cy = 8 + rand() * (SIZE - 16);
    for (let y = Math.max(0, Math.floor(cy) - 8); y < Math.min(SIZE, Math.ceil(cy) + 8); y++) {
      for (let x = Math.max(0, Math.floor(cx) - 8); x < Math.min(SIZE, Math.ceil(cx) + 8); x++) {
        img[y * SIZE + x] += 4 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 8);
      }
    }
  }

  let sum = 0;
  let sumSq = 0;
  for (const v of img) {
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / img.length;
  const sd = Math.sqrt(sumSq / img.length - mean * mean);

  // A pick is a pixel above the threshold that is the maximum of its 7x7 window.
  const threshold = mean + 3 * sd;
  let picked = 0;
  for (let y = 3; y < SIZE - 3; y++) {
    for (let x = 3; x < SIZE - 3; x++) {
      const v = img[y * SIZE + x];
      if (v <= threshold) continue;
      let isMax = true;
      for (let dy = -3; dy <= 3 && isMax; dy++) {
        for (let dx = -3; dx <= 3; dx++) {
          if ((dx || dy) && img[(y + dy) * SIZE + x + dx] >= v) {
            isMax = false;
            break;
          }
        }
      }
      if (isMax) picked++;
    }
  }

  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    [
      ['micrograph', element],
      ['size', `${SIZE}x${SIZE}`],
      ['mean', mean.toFixed(4)],
      ['sd', sd.toFixed(4)],
      ['particles_simulated', nParticles],
      ['particles_picked', picked],
    ]
      .map(([k, v]) => `${k}\t${v}`)
      .join('\n') + '\n',
  );
}

/**
 * createOutputStep(): gather every processStep result into one table, one row
 * per micrograph (sorted by name), plus a total.
 *
 * @param {{ inputs: string | string[], outputs: string | string[] }} job
 */
export async function createOutputStep({ inputs, outputs }) {
  const files = [].concat(inputs).sort((a, b) => (basename(a) < basename(b) ? -1 : basename(a) > basename(b) ? 1 : 0));
  const [out] = [].concat(outputs);
  const columns = ['micrograph', 'mean', 'sd', 'particles_simulated', 'particles_picked'];
  const rows = [columns.join('\t')];
  let total = 0;
  for (const file of files) {
    const fields = new Map(
      (await readFile(file, 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t')),
    );
    for (const c of columns) if (!fields.has(c)) throw new Error(`${file}: missing field '${c}'`);
    rows.push(columns.map((c) => fields.get(c)).join('\t'));
    total += Number(fields.get('particles_picked'));
  }
  rows.push(`# ${files.length} micrographs, ${total} particles picked`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, rows.join('\n') + '\n');
}

/** 32-bit FNV-1a hash of a string: a stable seed per element. */
function fnv1a(s) {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(s, 'utf8')) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h;
}

/** A small seeded PRNG, so every run renders the same micrograph. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
