/**
 * JPEG -> RGB with jpeg-js (npm, pure JavaScript, a port of pdf.js's decoder).
 *
 * PIL decodes JPEG with libjpeg-turbo: accurate integer IDCT (JDCT_ISLOW), "fancy" (triangular)
 * chroma upsampling for 4:2:0 / 4:2:2 images, and fixed-point YCbCr -> RGB with rounding. jpeg-js
 * uses its own integer IDCT, replicates subsampled chroma (nearest) and converts YCbCr -> RGB in
 * floating point, truncating to 8 bits. So decoded pixels may differ from PIL's:
 *   - 4:4:4 and greyscale: IDCT and colour-conversion rounding, up to 4 levels (measured);
 *   - 4:2:0 / 4:2:2: additionally the chroma upsampling, tens of levels at colour edges (up to 124
 *     measured, 198 possible: differsFromPil).
 * The shipped JPEGs and a corpus of PIL-made JPEGs measure it (docs/pretrained.md,
 * suites/images.test.ts, scripts/measure-jpeg-vs-pil.ts); PNG is exact. libjpeg-turbo itself,
 * compiled to WebAssembly (npm @cwasm/jpeg-turbo 0.1.3), decodes every one of those JPEGs exactly
 * as PIL does; it is not a dependency yet (docs/notes/2026-12-07-jpeg-vs-pil.md).
 *
 * Which colour transform applies follows libjpeg's rule (jdapimin.c): 3 components are YCbCr when
 * a JFIF marker is present; else an Adobe APP14 marker decides (transform 0 = RGB); else component
 * ids 'R','G','B' mean RGB; otherwise YCbCr. CMYK/YCCK (4 components) and 12-bit JPEGs are refused:
 * PIL converts those with its own rules, which are not reproduced here.
 */
import * as jpeg from 'jpeg-js';
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
  // Before decoding: jpeg-js allocates the whole image (and its coefficients) first.
  const bombWarning = checkImageSize(info.width, info.height, label, 'JPEG');
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      colorTransform: info.components === 3 ? !isRgbTransform(info) : undefined,
      maxMemoryUsageInMB: 1024,
    });
  } catch (err) {
    throw new ImageReadError(`${label}: cannot decode the JPEG (corrupt?): ${(err as Error).message}`);
  }
  const n = img.width * img.height;
  if (img.data.length !== n * 3)
    throw new ImageReadError(
      `${label}: JPEG decoder returned ${img.data.length} values for ${img.width}x${img.height}`,
    );
  const kind =
    info.components === 1 ? 'greyscale' : `${isRgbTransform(info) ? 'RGB' : 'YCbCr'} sampling ${info.sampling}`;
  return {
    width: img.width,
    height: img.height,
    data: img.data,
    format: 'JPEG',
    pilMode: info.components === 1 ? 'L' : 'RGB',
    decoder: `jpeg-js (${kind}${info.progressive ? ', progressive' : ''}; ${differsFromPil(info)})${bombWarning ? `; ${bombWarning}` : ''}`,
  };
}

/**
 * How far this image's decode may be from PIL's (libjpeg-turbo). Measured on 216 JPEGs PIL made
 * (smooth, saturated-shape and colour-noise content; 4 sizes; quality 50-100; 4:2:0, 4:2:2, 4:4:4;
 * baseline and progressive: scripts/jpeg-corpus.py, scripts/measure-jpeg-vs-pil.ts; numbers in
 * docs/notes/2026-12-07-jpeg-vs-pil.md). The possible bound for subsampled chroma: libjpeg-turbo's
 * h2v2 fancy upsampling weighs the nearest chroma sample 9/16 where jpeg-js takes it whole, so
 * chroma may differ by 7/16 x 255 and blue (B = Y + 1.772 (Cb - 128)) by 1.772 x 7/16 x 255 = 198.
 */
const SUBSAMPLED_MEASURED_MAX = 124;
const SUBSAMPLED_BOUND = 198;
const FULL_MEASURED_MAX = 4;

function differsFromPil(info: JpegInfo): string {
  const subsampled = info.components === 3 && info.sampling !== '1x1,1x1,1x1';
  return subsampled
    ? "chroma replicated, not libjpeg-turbo's fancy upsampling: pixels differ from PIL's at colour edges, " +
        `up to ${SUBSAMPLED_MEASURED_MAX} levels measured on 216 JPEGs made by PIL (up to ${SUBSAMPLED_BOUND} possible), ` +
        "enough to change a prediction; use PNG for inputs identical to Keras's"
    : `may differ from PIL/libjpeg-turbo by up to ${FULL_MEASURED_MAX} levels (IDCT and colour-conversion rounding, measured on 216 JPEGs made by PIL)`;
}
