/**
 * Image preprocessing against Keras/PIL (fixtures/pretrained/golden/images, written by
 * fixtures/generate/pretrained.py with image.load_img(path, target_size=(64, 64)), img_to_array,
 * expand_dims, /255.0), PIL's NEAREST rule, and the SIGNS dataset reader. No Python needed.
 *
 * Measured decoder differences (max |level| over all pixels and channels) go to
 * .tmp/pretrained-metrics/images.json.
 */
import { createHash } from 'crypto';
import { crc32 } from 'zlib';
import * as fs from 'fs';
import * as path from 'path';
import { DatasetError, datasetBatch, loadSignsDataset } from '../src/datasets';
import {
  decodeImageBytes,
  decodeImageFile,
  ImageReadError,
  pilNearestIndices,
  prepareImage,
  resizeNearest,
  toNotebookTensor,
} from '../src/images';
import { parseNpyRaw, readNpy } from '../src/tensor/npy';

const DIR = path.join(__dirname, '..', 'fixtures', 'pretrained');
const METRICS = path.join(__dirname, '..', '.tmp', 'pretrained-metrics');

interface ImageRecord {
  file: string;
  made: string;
  pil: { format: string; mode: string; width: number; height: number };
  rgb: { file: string };
  x: { file: string };
}
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as {
  images: ImageRecord[];
  dataset: { file: string; count: number; labels: number[] };
};

function pilRgb(r: ImageRecord): Uint8Array {
  const raw = parseNpyRaw(fs.readFileSync(path.join(DIR, r.rgb.file)), r.rgb.file);
  expect(raw.shape).toEqual([r.pil.height, r.pil.width, 3]);
  return raw.data as Uint8Array;
}

function levelStats(
  a: Uint8Array,
  b: Uint8Array,
): { max: number; differing: number; n: number; histogram: Record<string, number> } {
  let max = 0;
  let differing = 0;
  const histogram: Record<string, number> = {};
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d) differing++;
    if (d > max) max = d;
    histogram[d] = (histogram[d] ?? 0) + 1;
  }
  return { max, differing, n: a.length, histogram };
}

const pngs = manifest.images.filter((r) => r.pil.format === 'PNG');
const jpegs = manifest.images.filter((r) => r.pil.format === 'JPEG');

describe('PNG: decode + convert("RGB") + NEAREST resize + /255 identical to Keras/PIL', () => {
  test('the fixtures cover every PNG kind PIL distinguishes', () => {
    expect(new Set(pngs.map((r) => r.pil.mode))).toEqual(new Set(['RGB', 'RGBA', 'L', 'LA', 'P', '1', 'I;16']));
    expect(pngs.some((r) => r.pil.width === 64 && r.pil.height === 64)).toBe(true);
    expect(pngs.some((r) => r.pil.width < 64)).toBe(true);
    expect(pngs.some((r) => r.pil.width > 64)).toBe(true);
  });
  for (const r of pngs) {
    test(`${r.file} (${r.pil.mode} ${r.pil.width}x${r.pil.height}): every value bit-identical`, () => {
      const p = prepareImage(path.join(DIR, r.file));
      expect(p.decoded.pilMode).toBe(r.pil.mode);
      expect([p.decoded.width, p.decoded.height]).toEqual([r.pil.width, r.pil.height]);
      expect(Buffer.from(p.decoded.data).equals(Buffer.from(pilRgb(r)))).toBe(true);
      const want = readNpy(path.join(DIR, r.x.file));
      expect(want.shape).toEqual([1, 64, 64, 3]);
      expect(p.x.shape).toEqual(want.shape);
      expect(
        Buffer.from(new Float32Array(p.x.data).buffer).equals(Buffer.from((want.data as Float32Array).buffer)),
      ).toBe(true);
    });
  }
});

describe("NEAREST resize + /255 alone is exact for every image (fed with PIL's own decoded RGB)", () => {
  for (const r of manifest.images) {
    test(`${r.file}`, () => {
      const rgb = { width: r.pil.width, height: r.pil.height, data: pilRgb(r) };
      const x = toNotebookTensor(resizeNearest(rgb, 64, 64));
      const want = readNpy(path.join(DIR, r.x.file));
      expect(Buffer.from(new Float32Array(x.data).buffer).equals(Buffer.from((want.data as Float32Array).buffer))).toBe(
        true,
      );
    });
  }
});

describe('JPEG: decoded exactly as PIL decodes it (libjpeg-turbo), measured', () => {
  const measured: Record<string, unknown> = {};
  afterAll(() => {
    fs.mkdirSync(METRICS, { recursive: true });
    fs.writeFileSync(path.join(METRICS, 'images.json'), `${JSON.stringify(measured, null, 1)}\n`);
  });
  // The same library as PIL (libjpeg-turbo, as WebAssembly): not a level of difference, whatever the
  // chroma subsampling (jpeg-js, the decoder before, differed by up to 124 levels at colour edges).
  const bound = (_r: ImageRecord): number => 0;
  for (const r of jpegs) {
    test(`${r.file} (${r.made}): max level difference <= ${bound(r)}`, () => {
      const p = prepareImage(path.join(DIR, r.file));
      expect(p.decoded.pilMode).toBe(r.pil.mode);
      expect([p.decoded.width, p.decoded.height]).toEqual([r.pil.width, r.pil.height]);
      const dec = levelStats(p.decoded.data, pilRgb(r));
      const want = readNpy(path.join(DIR, r.x.file));
      let xMax = 0;
      for (let i = 0; i < want.data.length; i++) xMax = Math.max(xMax, Math.abs(want.data[i] - p.x.data[i]));
      measured[r.file] = { made: r.made, decoded: dec, modelInputMaxAbs: xMax };
      expect(dec.max).toBeLessThanOrEqual(bound(r));
      expect(xMax).toBeLessThanOrEqual(bound(r) / 255 + 1e-7);
    });
  }
});

describe('JPEG: what the decoder note says about the difference from PIL', () => {
  test('every JPEG: libjpeg-turbo, the same bytes as PIL (no stale "levels" figure)', () => {
    for (const f of [
      'photo-420-128x128.jpg',
      'photo-422-80x60.jpg',
      'progressive-100x100.jpg',
      'photo-444-96x72.jpg',
      'gray-60x90.jpg',
    ]) {
      const d = decodeImageFile(path.join(DIR, 'images', f)).decoder;
      expect(d).toMatch(/^libjpeg-turbo \(WebAssembly/);
      expect(d).toMatch(/the same bytes as PIL's/);
      expect(d).not.toMatch(/levels/);
    }
  });
});

describe("PIL's NEAREST index rule", () => {
  const doc = JSON.parse(fs.readFileSync(path.join(DIR, 'pil-nearest.json'), 'utf8')) as {
    sources: [number, number];
    digests: { dst: number; sha256: string }[];
    closedFormDiffersCount: number;
    closedFormDiffersFirst: { src: number; dst: number; index: number; pil: number; closedForm: number }[];
    explicit: { src: number; dst: number; map: number[] }[];
  };
  test("index maps for sources 1..1024 and 12 target sizes equal PIL's (sha256 of all maps)", () => {
    for (const e of doc.digests) {
      const h = createHash('sha256');
      for (let s = doc.sources[0]; s <= doc.sources[1]; s++) {
        const m = pilNearestIndices(s, e.dst);
        const b = Buffer.alloc(m.length * 4);
        m.forEach((v, i) => b.writeInt32LE(v, i * 4));
        h.update(b);
      }
      expect(`${e.dst}: ${h.digest('hex')}`).toBe(`${e.dst}: ${e.sha256}`);
    }
  });
  test('explicit maps', () => {
    for (const e of doc.explicit) expect(Array.from(pilNearestIndices(e.src, e.dst))).toEqual(e.map);
  });
  test("where floor((i + 0.5) * src / dst) is wrong, the accumulated rule gives PIL's index", () => {
    expect(doc.closedFormDiffersCount).toBeGreaterThan(0);
    for (const d of doc.closedFormDiffersFirst) {
      expect(Math.floor((d.index + 0.5) * (d.src / d.dst))).toBe(d.closedForm);
      expect(pilNearestIndices(d.src, d.dst)[d.index]).toBe(d.pil);
    }
  });
  test('bad sizes are refused', () => {
    expect(() => pilNearestIndices(0, 64)).toThrow('pilNearestIndices: sizes must be positive integers, got 0 -> 64');
  });
});

describe('unreadable images: ImageReadError naming the file', () => {
  const png = fs.readFileSync(path.join(DIR, 'images', 'rgb-100x80.png'));
  const jpg = fs.readFileSync(path.join(DIR, 'images', 'photo-444-96x72.jpg'));
  const read = (b: Uint8Array | Buffer, label: string): string => {
    try {
      decodeImageBytes(new Uint8Array(b), label);
    } catch (err) {
      expect(err).toBeInstanceOf(ImageReadError);
      return (err as Error).message;
    }
    throw new Error(`${label} decoded`);
  };
  test('truncated PNG', () => {
    expect(read(png.subarray(0, png.length - 30), 'cut.png')).toMatch(/^cut\.png: truncated PNG/);
    expect(read(png.subarray(0, 60), 'cut2.png')).toMatch(/^cut2\.png: truncated PNG/);
  });
  test('corrupt PNG data (CRC / inflate)', () => {
    const bad = Buffer.from(png);
    for (let i = 80; i < 200; i++) bad[i] ^= 0x5a;
    expect(read(bad, 'bad.png')).toMatch(/^bad\.png: cannot decode the PNG \(truncated or corrupt\?\): /);
  });
  test('truncated JPEG (PIL refuses it too)', () => {
    expect(read(jpg.subarray(0, Math.floor(jpg.length * 0.6)), 'cut.jpg')).toMatch(/^cut\.jpg: truncated JPEG/);
  });
  // Headers rewritten to claim huge sizes; the files stay a few kB, and nothing may be decoded.
  const withPngSize = (w: number, h: number): Buffer => {
    const b = Buffer.from(png);
    b.writeUInt32BE(w, 16);
    b.writeUInt32BE(h, 20);
    b.writeUInt32BE(crc32(b.subarray(12, 29)), 29);
    return b;
  };
  const withJpegSize = (w: number, h: number): Buffer => {
    const b = Buffer.from(jpg);
    for (let o = 2; o + 4 < b.length && b[o] === 0xff; o += 2 + b.readUInt16BE(o + 2)) {
      if (b[o + 1] === 0xc0 || b[o + 1] === 0xc2) {
        b.writeUInt16BE(h, o + 5);
        b.writeUInt16BE(w, o + 7);
        return b;
      }
    }
    throw new Error('no SOF marker in the test JPEG');
  };
  test("a header claiming 20000x20000 is refused before decoding, as PIL's decompression-bomb check does", () => {
    const pil =
      /^big\.(png|jpg): image size \(400000000 pixels, 20000x20000\) exceeds limit of 178956970 pixels, could be decompression bomb DOS attack/;
    expect(read(withPngSize(20000, 20000), 'big.png')).toMatch(pil);
    expect(read(withJpegSize(20000, 20000), 'big.jpg')).toMatch(pil);
    // 65535 x 65535 (the largest a JPEG can claim), 2^31-1 x 2^31-1 (a PNG's largest)
    expect(read(withJpegSize(65535, 65535), 'big.jpg')).toMatch(/^big\.jpg: image size \(4294836225 pixels/);
    expect(read(withPngSize(0x7fffffff, 0x7fffffff), 'big.png')).toMatch(/^big\.png: image size \(\d+ pixels/);
  });
  test('a header claiming an impossible size is a clean error naming the file', () => {
    expect(read(withPngSize(0, 80), 'zero.png')).toMatch(/^zero\.png: corrupt PNG \(image size 0x80/);
    expect(read(withPngSize(0x80000000, 1), 'huge.png')).toMatch(/^huge\.png: corrupt PNG \(image size 2147483648x1/);
    expect(read(withJpegSize(0, 72), 'zero.jpg')).toMatch(/^zero\.jpg: .*image size 0x72/);
    // a claimed size the file's data cannot fill: no raw RangeError
    // (pngjs would fill the missing pixels with zeros; PIL says "image file is truncated")
    expect(read(withPngSize(3000, 3000), 'short.png')).toMatch(
      /^short\.png: truncated PNG \(the image data holds 24080 bytes, the header's 3000x3000 needs 27003000\)/,
    );
    expect(read(withJpegSize(3000, 3000), 'short.jpg')).toMatch(/^short\.jpg: cannot decode the JPEG/);
  });
  test('other formats and non-images', () => {
    expect(read(Buffer.from('GIF89a\x01\x00\x01\x00'), 'a.gif')).toBe(
      'a.gif: GIF images are not supported (PNG and JPEG only)',
    );
    expect(read(Buffer.from('hello'), 'a.txt')).toBe('a.txt: not a PNG or JPEG image');
    expect(read(Buffer.alloc(0), 'e.png')).toBe('e.png: the file is empty');
    expect(() => decodeImageFile('/no/such/image.png')).toThrow('/no/such/image.png: cannot read: ENOENT');
  });
});

describe("SIGNS dataset layout (the notebook's load_dataset)", () => {
  test('test_signs_synthetic.h5: images, labels, classes; batches are images / 255 in float32', async () => {
    const ds = await loadSignsDataset(path.join(DIR, manifest.dataset.file));
    expect(ds.split).toBe('test');
    expect(ds.count).toBe(manifest.dataset.count);
    expect([ds.height, ds.width]).toEqual([64, 64]);
    expect(ds.labels).toEqual(manifest.dataset.labels);
    expect(ds.classes).toEqual([0, 1, 2, 3, 4, 5]);
    const b = datasetBatch(ds, 2, 5);
    expect(b.shape).toEqual([3, 64, 64, 3]);
    const per = 64 * 64 * 3;
    for (const i of [0, 1, per + 7, 3 * per - 1]) expect(b.data[i]).toBe(Math.fround(ds.images[2 * per + i] / 255));
  });
  test('a file without the SIGNS datasets is refused, naming what it has', async () => {
    const f = path.join(DIR, 'blocks', 'identity_block.h5');
    await expect(loadSignsDataset(f)).rejects.toThrow(DatasetError);
    await expect(loadSignsDataset(f)).rejects.toThrow(
      `${f}: no test_set_x or train_set_x dataset (the notebook's SIGNS layout: test_set_x uint8 (N,64,64,3), test_set_y (N,), list_classes (C,)); it has: model_weights`,
    );
  });
  test('a non-HDF5 file is refused', async () => {
    const f = path.join(DIR, 'images', 'rgb-64x64.png');
    await expect(loadSignsDataset(f)).rejects.toThrow(`${f}: not an HDF5 file (no HDF5 signature)`);
  });
});
