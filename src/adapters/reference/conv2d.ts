/**
 * NHWC 2-D convolution in float64 with HWIO kernels (Keras/TF layout), no bias.
 *
 * Every output element is a float64 sum over (ky, kx, ci) in that order, whichever code path runs
 * (direct, pixel-blocked or 1x1 GEMM): the paths differ only in products that are exactly zero
 * (skipped zero activations, zero padding), which do not change a float64 sum when the kernel is
 * finite. Inner loops run over contiguous output channels (axpy over HWIO kernel rows).
 */
import type { ConvGeometry } from './conv-geometry';
import { outputBuffer } from './buffers';
import { simdConv2d, simdEngine, simdGemm } from './simd-kernel';

export { convGeometry, type ConvGeometry } from './conv-geometry';

/**
 * y[n, oy, ox, :] = Σ_{ky,kx,ci} x[n, oy*sh - padTop + ky, ox*sw - padLeft + kx, ci] * k[ky, kx, ci, :]
 * (out-of-range input positions are zero padding and contribute nothing).
 *
 * `kernelFinite`: the kernel has no NaN/Inf, so exact-zero activations (ReLU outputs, padding) may
 * be skipped or multiplied in without changing the result (0 * Inf = NaN would otherwise differ).
 * With a non-finite kernel the plain direct loop runs and padding contributes nothing.
 */
export function conv2d(x: Float64Array, g: ConvGeometry, k: Float64Array, kernelFinite: boolean): Float64Array {
  const { n, h, w, cin, kh, kw, cout, sh, sw, padTop, padLeft, oh, ow } = g;
  if (x.length !== n * h * w * cin)
    throw new Error(`conv2d: input has ${x.length} elements, expected ${n * h * w * cin}`);
  if (k.length !== kh * kw * cin * cout)
    throw new Error(`conv2d: kernel has ${k.length} elements, expected ${kh * kw * cin * cout}`);
  if (kernelFinite) {
    const e = simdEngine();
    const y = e && simdConv2d(e, x, g, k);
    if (y) return y;
  }
  return conv2dJs(x, g, k, kernelFinite);
}

/** The plain JavaScript convolution (the fallback of the SIMD path, and its cross-check in the tests). */
export function conv2dJs(x: Float64Array, g: ConvGeometry, k: Float64Array, kernelFinite: boolean): Float64Array {
  const { n, h, w, cin, kh, kw, cout, sh, sw, padTop, padLeft } = g;
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && padTop === 0 && padLeft === 0) {
    return gemmJs(x, n * h * w, cin, k, cout, kernelFinite);
  }
  return kernelFinite ? conv2dBlocked(x, g, k) : conv2dDirect(x, g, k);
}

/** One output pixel at a time; out-of-range taps are skipped. */
function conv2dDirect(x: Float64Array, g: ConvGeometry, k: Float64Array): Float64Array {
  const { n, h, w, cin, kh, kw, cout, sh, sw, padTop, padLeft, oh, ow } = g;
  const y = outputBuffer(n * oh * ow * cout, true);
  const rowStride = w * cin;
  const kRowStride = cin * cout;
  for (let b = 0; b < n; b++) {
    const xImage = b * h * rowStride;
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * sh - padTop;
      const ky0 = iy0 < 0 ? -iy0 : 0;
      const ky1 = Math.min(kh, h - iy0);
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - padLeft;
        const kx0 = ix0 < 0 ? -ix0 : 0;
        const kx1 = Math.min(kw, w - ix0);
        const o = ((b * oh + oy) * ow + ox) * cout;
        for (let ky = ky0; ky < ky1; ky++) {
          const xRow = xImage + (iy0 + ky) * rowStride;
          for (let kx = kx0; kx < kx1; kx++) {
            const xb = xRow + (ix0 + kx) * cin;
            let kr = (ky * kw + kx) * kRowStride;
            for (let ci = 0; ci < cin; ci++, kr += cout) {
              const xv = x[xb + ci];
              for (let co = 0; co < cout; co++) y[o + co] += xv * k[kr + co];
            }
          }
        }
      }
    }
  }
  return y;
}

/**
 * Four output rows at once, sharing each kernel load: y[oj + co] += aj * k[kr + co] for j = 0..3,
 * co = 0..cout-1 (the inner loop of the blocked convolution and of the GEMM).
 */
function axpy4(
  y: Float64Array,
  o0: number,
  o1: number,
  o2: number,
  o3: number,
  a0: number,
  a1: number,
  a2: number,
  a3: number,
  k: Float64Array,
  kr: number,
  cout: number,
): void {
  for (let co = 0; co < cout; co++) {
    const kv = k[kr + co];
    y[o0 + co] += a0 * kv;
    y[o1 + co] += a1 * kv;
    y[o2 + co] += a2 * kv;
    y[o3 + co] += a3 * kv;
  }
}

/** Output pixels computed together by the blocked convolution, sharing each kernel-row load. */
const PIXEL_BLOCK = 4;

/**
 * PIXEL_BLOCK output pixels of one image at a time, so each kernel row is read once per block
 * (kernels of the late stages are megabytes). Out-of-range taps read a zero row and add exact
 * zeros; products of an all-zero activation column are skipped. Needs a finite kernel.
 */
function conv2dBlocked(x: Float64Array, g: ConvGeometry, k: Float64Array): Float64Array {
  const { n, h, w, cin, kh, kw, cout, sh, sw, padTop, padLeft, oh, ow } = g;
  const pixels = oh * ow;
  const total = n * pixels;
  // Input followed by one zero pixel (out-of-range taps); output followed by PIXEL_BLOCK scratch pixels.
  const zeroPixel = x.length;
  const xz = new Float64Array(x.length + cin);
  xz.set(x);
  const needScratch = pixels % PIXEL_BLOCK !== 0;
  const y = new Float64Array((total + (needScratch ? PIXEL_BLOCK : 0)) * cout);
  const scratch = total * cout;
  const xOff = new Int32Array(PIXEL_BLOCK);
  const oyOf = new Int32Array(PIXEL_BLOCK);
  const oxOf = new Int32Array(PIXEL_BLOCK);
  const kRowStride = cin * cout;
  for (let b = 0; b < n; b++) {
    for (let p0 = 0; p0 < pixels; p0 += PIXEL_BLOCK) {
      const count = Math.min(PIXEL_BLOCK, pixels - p0);
      for (let j = 0; j < PIXEL_BLOCK; j++) {
        oyOf[j] = j < count ? Math.floor((p0 + j) / ow) : -1;
        oxOf[j] = j < count ? (p0 + j) % ow : -1;
      }
      const base = (b * pixels + p0) * cout;
      const o0 = base;
      const o1 = count > 1 ? base + cout : scratch + cout;
      const o2 = count > 2 ? base + 2 * cout : scratch + 2 * cout;
      const o3 = count > 3 ? base + 3 * cout : scratch + 3 * cout;
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          let any = false;
          for (let j = 0; j < PIXEL_BLOCK; j++) {
            const iy = oyOf[j] * sh - padTop + ky;
            const ix = oxOf[j] * sw - padLeft + kx;
            const inside = oyOf[j] >= 0 && iy >= 0 && iy < h && ix >= 0 && ix < w;
            xOff[j] = inside ? ((b * h + iy) * w + ix) * cin : zeroPixel;
            any = any || inside;
          }
          if (!any) continue;
          const x0 = xOff[0],
            x1 = xOff[1],
            x2 = xOff[2],
            x3 = xOff[3];
          let kr = (ky * kw + kx) * kRowStride;
          for (let ci = 0; ci < cin; ci++, kr += cout) {
            const a0 = xz[x0 + ci],
              a1 = xz[x1 + ci],
              a2 = xz[x2 + ci],
              a3 = xz[x3 + ci];
            if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
            axpy4(y, o0, o1, o2, o3, a0, a1, a2, a3, k, kr, cout);
          }
        }
      }
    }
  }
  return needScratch ? y.slice(0, scratch) : y;
}

/** Rows of outputs computed together in the GEMM, sharing each kernel-row load. */
const GEMM_ROWS = 4;

/**
 * y[m, :] = Σ_ci x[m, ci] * k[ci, :] for x [rows, cin] and k [cin, cout], row-major, ci ascending.
 * `skipZeros` (only exact for a finite kernel) skips activations that are exactly 0.
 */
export function gemm(
  x: Float64Array,
  rows: number,
  cin: number,
  k: Float64Array,
  cout: number,
  skipZeros: boolean,
): Float64Array {
  if (skipZeros) {
    const e = simdEngine();
    const y = e && simdGemm(e, x, rows, cin, k, cout);
    if (y) return y;
  }
  return gemmJs(x, rows, cin, k, cout, skipZeros);
}

/** The plain JavaScript GEMM behind gemm(). */
export function gemmJs(
  x: Float64Array,
  rows: number,
  cin: number,
  k: Float64Array,
  cout: number,
  skipZeros: boolean,
): Float64Array {
  const y = outputBuffer(rows * cout, true);
  let m = 0;
  for (; m + GEMM_ROWS <= rows; m += GEMM_ROWS) {
    const x0 = m * cin,
      x1 = x0 + cin,
      x2 = x1 + cin,
      x3 = x2 + cin;
    const o0 = m * cout,
      o1 = o0 + cout,
      o2 = o1 + cout,
      o3 = o2 + cout;
    let kr = 0;
    for (let ci = 0; ci < cin; ci++, kr += cout) {
      const a0 = x[x0 + ci],
        a1 = x[x1 + ci],
        a2 = x[x2 + ci],
        a3 = x[x3 + ci];
      if (skipZeros && a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
      axpy4(y, o0, o1, o2, o3, a0, a1, a2, a3, k, kr, cout);
    }
  }
  for (; m < rows; m++) {
    const xb = m * cin;
    const o = m * cout;
    let kr = 0;
    for (let ci = 0; ci < cin; ci++, kr += cout) {
      const xv = x[xb + ci];
      if (skipZeros && xv === 0) continue;
      for (let co = 0; co < cout; co++) y[o + co] += xv * k[kr + co];
    }
  }
  return y;
}
