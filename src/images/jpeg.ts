/**
 * JPEG -> RGB with libjpeg-turbo compiled to WebAssembly (npm @cwasm/jpeg-turbo), the library PIL
 * decodes JPEG with: accurate integer IDCT, "fancy" chroma upsampling for 4:2:0 / 4:2:2, libjpeg's
 * fixed-point YCbCr -> RGB and its colour-transform rule. Measured: every one of 216 JPEGs PIL made
 * (smooth, saturated-shape and colour-noise content; 4 sizes; quality 50-100; 4:2:0, 4:2:2, 4:4:4;
 * baseline and progressive) and every shipped JPEG decodes to PIL's bytes exactly
 * (scripts/jpeg-corpus.py, scripts/measure-jpeg-vs-pil.ts; docs/notes/2026-12-07-jpeg-vs-pil.md).
 * The previous decoder, jpeg-js, replicated subsampled chroma and differed by up to 124 levels.
 *
 * The container is checked here first (scanMarkers): a truncated file is refused as PIL refuses it,
 * the size is checked against PIL's decompression-bomb limit before anything is decoded, and CMYK/YCCK
 * (4 components) and 12-bit JPEGs are refused: PIL converts those with its own rules, which are not
 * reproduced here. Which colour transform applies follows libjpeg's rule (jdapimin.c), reported in
 * the decoder note: 3 components are YCbCr when a JFIF marker is present; else an Adobe APP14 marker
 * decides (transform 0 = RGB); else component ids 'R','G','B' mean RGB; otherwise YCbCr.
 */
import { ImageReadError } from './errors';
import { checkImageSize } from './limits';
import type { DecodedImage } from './types';

interface JpegInfo {
  components: number;
  precision: number;
  componentIds: number[];
  jfif: boolean;
  adobeTransform: number | undefined;
  progressive: boolean;
  sampling: string;
  width: number;
  height: number;
}

/** Walks the JPEG markers (container only): frame header, JFIF/Adobe markers, and the end-of-image marker. */
function scanMarkers(b: Uint8Array, label: string): JpegInfo {
  if (b[0] !== 0xff || b[1] !== 0xd8) throw new ImageReadError(`${label}: not a JPEG (no SOI marker)`);
  let off = 2;
  let info: JpegInfo | undefined;
  let jfif = false;
  let adobeTransform: number | undefined;
  let sawScan = false;
  let sawEoi = false;
  const len16 = (i: number): number => (b[i] << 8) | b[i + 1];
  while (off < b.length) {
    if (b[off] !== 0xff) {
      if (!sawScan) throw new ImageReadError(`${label}: corrupt JPEG (expected a marker at byte ${off})`);
      off++;
      continue;
    }
    while (b[off] === 0xff && off < b.length) off++;
    const m = b[off++];
    if (m === undefined) break;
    if (m === 0xd9) {
      sawEoi = true;
      break;
    }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue;
    if (off + 2 > b.length) break;
    const len = len16(off);
    const seg = off + 2;
    if (off + len > b.length) break;
    if (m === 0xe0 && String.fromCharCode(...b.subarray(seg, seg + 4)) === 'JFIF') jfif = true;
    if (m === 0xee && String.fromCharCode(...b.subarray(seg, seg + 5)) === 'Adobe' && len >= 12)
      adobeTransform = b[seg + 11];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      const precision = b[seg];
      const nc = b[seg + 5];
      const ids: number[] = [];
      const samp: string[] = [];
      for (let i = 0; i < nc; i++) {
        ids.push(b[seg + 6 + i * 3]);
        const hv = b[seg + 7 + i * 3];
        samp.push(`${hv >> 4}x${hv & 15}`);
      }
      info = {
        components: nc,
        precision,
        componentIds: ids,
        jfif,
        adobeTransform,
        progressive: m === 0xc2 || m === 0xc6 || m === 0xca || m === 0xce,
        sampling: samp.join(','),
        height: len16(seg + 1),
        width: len16(seg + 3),
      };
      if (m !== 0xc0 && m !== 0xc1 && m !== 0xc2) {
        throw new ImageReadError(
          `${label}: JPEG process SOF${m - 0xc0} (lossless, hierarchical or arithmetic-coded) is not supported`,
        );
      }
    }
    off += len;
    if (m === 0xda) {
      sawScan = true;
      // Entropy-coded data: skip to the next marker that is not a stuffed 0xFF00 or a restart marker.
      while (
        off + 1 < b.length &&
        !(b[off] === 0xff && b[off + 1] !== 0 && !(b[off + 1] >= 0xd0 && b[off + 1] <= 0xd7))
      )
        off++;
    }
  }
  if (!info) throw new ImageReadError(`${label}: corrupt JPEG (no frame header)`);
  if (!sawScan || !sawEoi)
    throw new ImageReadError(
      `${label}: truncated JPEG (no end-of-image marker after the image data); PIL refuses it too ("image file is truncated")`,
    );
  return { ...info, jfif, adobeTransform };
}

function isRgbTransform(i: JpegInfo): boolean {
  if (i.jfif) return false;
  if (i.adobeTransform !== undefined) return i.adobeTransform === 0;
  return i.componentIds[0] === 0x52 && i.componentIds[1] === 0x47 && i.componentIds[2] === 0x42;
}

export function decodeJpeg(bytes: Uint8Array, label: string): DecodedImage {
  const info = scanMarkers(bytes, label);
  if (info.precision !== 8)
    throw new ImageReadError(`${label}: ${info.precision}-bit JPEG is not supported (8-bit only)`);
  if (info.components !== 1 && info.components !== 3) {
    throw new ImageReadError(
      `${label}: JPEG with ${info.components} components (CMYK/YCCK) is not supported; PIL converts CMYK with its own formula — convert the image to RGB first`,
    );
  }
  // Before decoding: the decoder allocates the whole image first.
  const bombWarning = checkImageSize(info.width, info.height, label, 'JPEG');
  let rgba: { width: number; height: number; data: Uint8ClampedArray };
  try {
    // Loaded on first use: compiling the 139 kB WebAssembly module is not every command's cost.
    const turbo = require('@cwasm/jpeg-turbo') as {
      decode(b: Uint8Array): { width: number; height: number; data: Uint8ClampedArray };
    };
    rgba = turbo.decode(bytes);
  } catch (err) {
    throw new ImageReadError(`${label}: cannot decode the JPEG (corrupt?): ${(err as Error).message}`);
  }
  const n = rgba.width * rgba.height;
  if (rgba.width !== info.width || rgba.height !== info.height || rgba.data.length !== n * 4)
    throw new ImageReadError(
      `${label}: JPEG decoder returned ${rgba.data.length / 4} pixels at ${rgba.width}x${rgba.height} for a ${info.width}x${info.height} frame`,
    );
  const img = { width: rgba.width, height: rgba.height, data: new Uint8Array(n * 3) };
  for (let i = 0; i < n; i++) {
    img.data[i * 3] = rgba.data[i * 4];
    img.data[i * 3 + 1] = rgba.data[i * 4 + 1];
    img.data[i * 3 + 2] = rgba.data[i * 4 + 2];
  }
  const kind =
    info.components === 1 ? 'greyscale' : `${isRgbTransform(info) ? 'RGB' : 'YCbCr'} sampling ${info.sampling}`;
  return {
    width: img.width,
    height: img.height,
    data: img.data,
    format: 'JPEG',
    pilMode: info.components === 1 ? 'L' : 'RGB',
    decoder: `libjpeg-turbo (WebAssembly, @cwasm/jpeg-turbo; ${kind}${info.progressive ? ', progressive' : ''}; ${SAME_AS_PIL})${bombWarning ? `; ${bombWarning}` : ''}`,
  };
}

/** What the decoder note says of PIL (measured; the module header says how). */
const SAME_AS_PIL = "PIL's decoder: the same bytes as PIL's on 216 PIL-made JPEGs and every shipped one";
