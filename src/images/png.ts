/**
 * PNG -> RGB exactly as PIL opens it and converts it with convert('RGB') (what Keras load_img does),
 * decoded by pngjs (npm) with rescaling off, then mapped per PIL's rules (Pillow 12.3, measured by
 * fixtures/generate/pretrained.py on the shipped images):
 *
 *   colour type / depth        PIL mode   -> RGB
 *   grey 1                     "1"        0 -> 0, 1 -> 255
 *   grey 2, 4                  "L"        scaled to 0..255 (x85, x17)
 *   grey 8                     "L"        replicated
 *   grey 16                    "I;16"     min(v, 255) replicated (PIL's I;16 -> RGB clips, no scaling)
 *   grey+alpha 8               "LA"       grey replicated, alpha dropped
 *   grey+alpha 16              "RGBA"     high byte (v >> 8) replicated, alpha dropped
 *   RGB 8 / RGBA 8             "RGB"/"RGBA"  as stored, alpha dropped (no compositing)
 *   RGB 16 / RGBA 16           "RGB"/"RGBA"  high byte (v >> 8)
 *   palette 1, 2, 4, 8         "P"        palette colour, transparency dropped
 *
 * A tRNS chunk of a grey or RGB image only marks one colour transparent; PIL's convert('RGB') keeps
 * that colour, while pngjs would zero the pixel, so the chunk is left out before decoding.
 */
import { PNG } from 'pngjs';
import { inflateSync } from 'zlib';
import { ImageReadError } from './errors';
import { checkImageSize } from './limits';
import type { DecodedImage } from './types';

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlace: number;
}

/** IHDR and the byte ranges of the chunks (PNG container only, not pixel data). */
function walkChunks(
  b: Uint8Array,
  label: string,
): { header: PngHeader; chunks: { type: string; start: number; end: number }[] } {
  const chunks: { type: string; start: number; end: number }[] = [];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let off = 8;
  let header: PngHeader | undefined;
  while (off + 12 <= b.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(b[off + 4], b[off + 5], b[off + 6], b[off + 7]);
    const end = off + 12 + len;
    if (end > b.length)
      throw new ImageReadError(`${label}: truncated PNG (chunk ${type} runs past the end of the file)`);
    if (type === 'IHDR') {
      if (len < 13) throw new ImageReadError(`${label}: corrupt PNG (short IHDR)`);
      header = {
        width: view.getUint32(off + 8),
        height: view.getUint32(off + 12),
        depth: b[off + 16],
        colorType: b[off + 17],
        interlace: b[off + 20],
      };
    }
    chunks.push({ type, start: off, end });
    off = end;
    if (type === 'IEND') break;
  }
  if (!header) throw new ImageReadError(`${label}: corrupt PNG (no IHDR chunk)`);
  if (!chunks.some((c) => c.type === 'IEND')) throw new ImageReadError(`${label}: truncated PNG (no IEND chunk)`);
  return { header, chunks };
}

const PIL_MODES: Record<number, (depth: number) => string> = {
  0: (d) => (d === 1 ? '1' : d === 16 ? 'I;16' : 'L'),
  2: () => 'RGB',
  3: () => 'P',
  4: (d) => (d === 16 ? 'RGBA' : 'LA'),
  6: () => 'RGBA',
};

/** PNG's own range for a side (PNG specification 11.2.2: 1 .. 2^31 - 1). */
const PNG_MAX_SIDE = 0x7fffffff;

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Bytes of filtered scanlines the header's size needs (Adam7: the seven passes' sub-images). */
function expectedDataBytes(h: PngHeader): number {
  const bitsPerPixel = (CHANNELS[h.colorType] ?? 1) * h.depth;
  const rows = (w: number, n: number): number => (w > 0 && n > 0 ? n * (1 + Math.ceil((w * bitsPerPixel) / 8)) : 0);
  if (h.interlace !== 1) return rows(h.width, h.height);
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];
  let n = 0;
  for (const [x0, y0, dx, dy] of passes) n += rows(Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy));
  return n;
}

/**
 * pngjs fills the pixels a short IDAT stream does not reach with zeros (measured: a 100x80 image
 * whose IHDR says 3000x3000 decodes); PIL refuses such a file ("image file is truncated").
 */
function checkImageDataLength(
  b: Uint8Array,
  header: PngHeader,
  chunks: { type: string; start: number; end: number }[],
  label: string,
): void {
  const need = expectedDataBytes(header);
  const idat = Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => b.subarray(c.start + 8, c.end - 4)));
  let got: number;
  try {
    got = inflateSync(idat, { maxOutputLength: need }).length;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return; // at least what is needed
    return; // not inflatable: pngjs names the problem
  }
  if (got < need)
    throw new ImageReadError(
      `${label}: truncated PNG (the image data holds ${got} bytes, the header's ${header.width}x${header.height} needs ${need}); PIL refuses it too ("image file is truncated")`,
    );
}

export function decodePng(bytes: Uint8Array, label: string): DecodedImage {
  const { header, chunks } = walkChunks(bytes, label);
  if (header.width > PNG_MAX_SIDE || header.height > PNG_MAX_SIDE)
    throw new ImageReadError(
      `${label}: corrupt PNG (image size ${header.width}x${header.height} in the header; a side is at most ${PNG_MAX_SIDE})`,
    );
  // Before a byte is inflated: pngjs allocates the whole image first.
  const bombWarning = checkImageSize(header.width, header.height, label, 'PNG');
  const mode = PIL_MODES[header.colorType];
  if (!mode) throw new ImageReadError(`${label}: PNG colour type ${header.colorType} is not valid`);
  checkImageDataLength(bytes, header, chunks, label);
  let input = bytes;
  if ((header.colorType === 0 || header.colorType === 2) && chunks.some((c) => c.type === 'tRNS')) {
    const keep = chunks.filter((c) => c.type !== 'tRNS');
    const parts = [bytes.subarray(0, 8), ...keep.map((c) => bytes.subarray(c.start, c.end))];
    input = new Uint8Array(Buffer.concat(parts));
  }
  let png: { width: number; height: number; data: Uint8Array | Uint16Array };
  try {
    png = PNG.sync.read(Buffer.from(input.buffer, input.byteOffset, input.byteLength), {
      skipRescale: true,
    }) as unknown as typeof png;
  } catch (err) {
    throw new ImageReadError(`${label}: cannot decode the PNG (truncated or corrupt?): ${(err as Error).message}`);
  }
  const { width, height } = png;
  const src = png.data;
  const n = width * height;
  if (src.length !== n * 4)
    throw new ImageReadError(`${label}: PNG decoder returned ${src.length} values for ${width}x${height}`);
  const d = header.depth;
  let f: (v: number) => number;
  if (header.colorType === 3) f = (v) => v;
  else if (d === 16) f = header.colorType === 0 ? (v) => (v > 255 ? 255 : v) : (v) => v >> 8;
  else if (d === 8) f = (v) => v;
  else if (d === 1) f = (v) => (v ? 255 : 0);
  else if (d === 2) f = (v) => v * 85;
  else if (d === 4) f = (v) => v * 17;
  else throw new ImageReadError(`${label}: PNG bit depth ${d} is not valid`);
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[i * 3] = f(src[i * 4]);
    out[i * 3 + 1] = f(src[i * 4 + 1]);
    out[i * 3 + 2] = f(src[i * 4 + 2]);
  }
  return {
    width,
    height,
    data: out,
    format: 'PNG',
    pilMode: mode(d),
    decoder: `pngjs (lossless: identical to PIL)${bombWarning ? `; ${bombWarning}` : ''}`,
  };
}
