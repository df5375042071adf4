/** Dense layer pieces: x [N, in] · kernel [in, units] (float64, no bias) and a stable softmax. */
import { gemm } from './conv2d';

/** `kernelFinite`: the kernel has no NaN/Inf, so exact-zero inputs may be skipped. */
export function matmul(
  x: Float64Array,
  n: number,
  din: number,
  kernel: Float64Array,
  units: number,
  kernelFinite: boolean,
): Float64Array {
  if (x.length !== n * din) throw new Error(`dense: input has ${x.length} elements, expected ${n}x${din}`);
  if (kernel.length !== din * units)
    throw new Error(`dense: kernel has ${kernel.length} elements, expected ${din}x${units}`);
  return gemm(x, n, din, kernel, units, kernelFinite);
}

/** Row-wise softmax over the last axis: exp(z - max) / Σ exp(z - max). */
export function softmax(z: Float64Array, units: number): Float64Array {
  const y = new Float64Array(z.length);
  for (let r = 0; r < z.length; r += units) {
    let max = -Infinity;
    for (let j = 0; j < units; j++) if (z[r + j] > max || z[r + j] !== z[r + j]) max = z[r + j];
    let sum = 0;
    for (let j = 0; j < units; j++) {
      const e = Math.exp(z[r + j] - max);
      y[r + j] = e;
      sum += e;
    }
    for (let j = 0; j < units; j++) y[r + j] /= sum;
  }
  return y;
}
