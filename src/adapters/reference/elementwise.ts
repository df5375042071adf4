/** Weightless NHWC layers: ReLU, Add, ZeroPadding2D, and the per-channel bias add. */
import { outputBuffer } from './buffers';

/** max(x, 0); NaN stays NaN, -0 becomes 0. */
export function relu(x: Float64Array): Float64Array {
  const y = outputBuffer(x.length, false);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v > 0 || v !== v ? v : 0;
  }
  return y;
}

export function add(a: Float64Array, b: Float64Array): Float64Array {
  if (a.length !== b.length) throw new Error(`add: operands have ${a.length} and ${b.length} elements`);
  const y = outputBuffer(a.length, false);
  for (let i = 0; i < a.length; i++) y[i] = a[i] + b[i];
  return y;
}

/** y[..., c] = x[..., c] + bias[c] in place over the last axis. */
export function addBiasInPlace(x: Float64Array, bias: Float64Array): void {
  const c = bias.length;
  for (let i = 0; i < x.length; i += c) for (let ch = 0; ch < c; ch++) x[i + ch] += bias[ch];
}

/** ZeroPadding2D ((top, bottom), (left, right)) of an NHWC buffer. */
export function zeroPad2d(
  x: Float64Array,
  n: number,
  h: number,
  w: number,
  c: number,
  [[top, bottom], [left, right]]: [[number, number], [number, number]],
): Float64Array {
  if (x.length !== n * h * w * c)
    throw new Error(`zeroPad2d: input has ${x.length} elements, expected ${n * h * w * c}`);
  const oh = h + top + bottom;
  const ow = w + left + right;
  const y = outputBuffer(n * oh * ow * c, true);
  for (let b = 0; b < n; b++) {
    for (let iy = 0; iy < h; iy++) {
      const src = (b * h + iy) * w * c;
      const dst = ((b * oh + iy + top) * ow + left) * c;
      y.set(x.subarray(src, src + w * c), dst);
    }
  }
  return y;
}
