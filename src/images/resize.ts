/**
 * PIL's NEAREST resize, as Keras load_img(target_size=...) uses it (interpolation='nearest').
 *
 * Pillow (src/libImaging/Geometry.c, ImagingScaleAffine, reached from Image.resize(size, NEAREST)
 * through ImagingTransform with the affine scale a = (box width) / (target width)) walks each axis
 * with a double accumulator:
 *
 *   xo = box0 + a * 0.5;  for x in 0..dst-1 { src_index[x] = trunc(xo); xo += a }
 *
 * Because it accumulates, the index is NOT always floor((x + 0.5) * a): for 1062 of the
 * (source 1..1024) x (12 target sizes) pairs the two differ (fixtures/pretrained/pil-nearest.json,
 * measured with Pillow 12.3). Pixels whose index falls outside the source stay 0 (PIL fills rows
 * first); with box = the whole image that does not happen. Pillow's two-step path for images more
 * than 100 times taller than wide resizes one axis at a time, which for NEAREST gives the same map.
 */
import type { RgbImage } from './types';

/** Source index for every target pixel along one axis (-1: outside the source). */
export function pilNearestIndices(src: number, dst: number): Int32Array {
  if (!Number.isInteger(src) || !Number.isInteger(dst) || src <= 0 || dst <= 0) {
    throw new Error(`pilNearestIndices: sizes must be positive integers, got ${src} -> ${dst}`);
  }
  const a = src / dst;
  const out = new Int32Array(dst);
  let xo = 0 + a * 0.5;
  for (let x = 0; x < dst; x++) {
    const i = xo < 0 ? -1 : Math.trunc(xo);
    out[x] = i >= 0 && i < src ? i : -1;
    xo += a;
  }
  return out;
}

/** Image.resize((width, height), NEAREST) of an RGB image; the same image when the size already matches. */
export function resizeNearest(img: RgbImage, width: number, height: number): RgbImage {
  if (img.width === width && img.height === height) return img;
  const xs = pilNearestIndices(img.width, width);
  const ys = pilNearestIndices(img.height, height);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = ys[y];
    if (sy < 0) continue;
    for (let x = 0; x < width; x++) {
      const sx = xs[x];
      if (sx < 0) continue;
      const s = (sy * img.width + sx) * 3;
      const d = (y * width + x) * 3;
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
    }
  }
  return { width, height, data: out };
}
