/**
 * How far the harness's JPEG decode (src/images/jpeg.ts: libjpeg-turbo as WebAssembly; jpeg-js before) is from PIL's (libjpeg-turbo), on
 * the corpus scripts/jpeg-corpus.py writes: max and mean |level| difference per image, grouped by
 * chroma subsampling and content. Numbers go to docs/notes (the measured bound the decoder note
 * states comes from here).
 *
 *   .venv/bin/python scripts/jpeg-corpus.py
 *   npx tsx scripts/measure-jpeg-vs-pil.ts [CORPUS_DIR] [--decoder MODULE]
 *
 * --decoder MODULE: also decode with MODULE's `decode(bytes) -> {width, height, data (RGBA)}` (e.g.
 * a WebAssembly build of libjpeg-turbo installed elsewhere: @cwasm/jpeg-turbo) and report its
 * differences from PIL the same way.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decodeImageBytes } from '../src/images';

interface Entry {
  name: string;
  kind: string;
  width: number;
  height: number;
  quality: number;
  sampling: string;
  progressive: boolean;
}

const args = process.argv.slice(2);
const di = args.indexOf('--decoder');
const extra = di >= 0 ? args.splice(di, 2)[1] : undefined;
const dir = args[0] ?? path.join('.tmp', 'jpeg-corpus');
const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
  pillow: string;
  libjpeg_turbo: string;
  images: Entry[];
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const other = extra
  ? (require(extra) as { decode(b: Uint8Array): { width: number; height: number; data: Uint8ClampedArray } })
  : undefined;

function diff(
  a: Uint8Array | Uint8ClampedArray,
  stride: number,
  pil: Uint8Array,
): { max: number; mean: number; over8: number } {
  let max = 0;
  let sum = 0;
  let over8 = 0;
  const n = pil.length / 3;
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(a[i * stride + c] - pil[i * 3 + c]);
      if (d > max) max = d;
      if (d > 8) over8++;
      sum += d;
    }
  return { max, mean: sum / pil.length, over8: over8 / pil.length };
}

type Row = { e: Entry; ours: ReturnType<typeof diff>; theirs?: ReturnType<typeof diff> };
const rows: Row[] = [];
for (const e of index.images) {
  const bytes = new Uint8Array(fs.readFileSync(path.join(dir, `${e.name}.jpg`)));
  const pil = new Uint8Array(fs.readFileSync(path.join(dir, `${e.name}.rgb`)));
  const d = decodeImageBytes(bytes, e.name);
  const row: Row = { e, ours: diff(d.data, 3, pil) };
  if (other) {
    const o = other.decode(bytes);
    if (o.width !== e.width || o.height !== e.height)
      throw new Error(`${e.name}: ${extra} gave ${o.width}x${o.height}`);
    row.theirs = diff(o.data, 4, pil);
  }
  rows.push(row);
}

const groups = new Map<string, Row[]>();
for (const r of rows)
  for (const k of [r.e.sampling, `${r.e.sampling} ${r.e.kind}`]) groups.set(k, [...(groups.get(k) ?? []), r]);
console.log(`${rows.length} JPEGs (Pillow ${index.pillow}, libjpeg-turbo ${index.libjpeg_turbo}) in ${dir}`);
console.log(
  'group                 n   harness: max  worst image                          mean   >8 levels' +
    (other ? `   ${extra}: max  mean` : ''),
);
for (const [k, rs] of [...groups].sort()) {
  const worst = rs.reduce((a, b) => (b.ours.max > a.ours.max ? b : a));
  const mean = rs.reduce((s, r) => s + r.ours.mean, 0) / rs.length;
  const over = rs.reduce((s, r) => s + r.ours.over8, 0) / rs.length;
  let line = `${k.padEnd(20)} ${String(rs.length).padStart(3)}   ${String(worst.ours.max).padStart(12)}  ${worst.e.name.padEnd(36)} ${mean.toFixed(3).padStart(6)}   ${(over * 100).toFixed(2).padStart(6)}%`;
  if (other) {
    const tmax = Math.max(...rs.map((r) => r.theirs!.max));
    const tmean = rs.reduce((s, r) => s + r.theirs!.mean, 0) / rs.length;
    line += `   ${String(tmax).padStart(4)}  ${tmean.toFixed(4)}`;
  }
  console.log(line);
}
