/**
 * BatchNormalization over the last axis of an NHWC (or [N, C]) float64 buffer:
 * y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, per channel.
 */
import { outputBuffer } from './buffers';

export interface BatchNormParams {
  gamma: Float64Array;
  beta: Float64Array;
  movingMean: Float64Array;
  movingVariance: Float64Array;
  epsilon: number;
}

/** Per-channel batch mean and biased variance over all leading axes (N, H, W), two-pass in float64. */
export function batchMoments(x: Float64Array, c: number): { mean: Float64Array; variance: Float64Array } {
  if (c <= 0 || x.length % c !== 0)
    throw new Error(`batchMoments: ${x.length} elements are not a multiple of ${c} channels`);
  const count = x.length / c;
  if (count === 0) throw new Error('batchMoments: empty batch (no elements per channel)');
  const mean = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) for (let ch = 0; ch < c; ch++) mean[ch] += x[i + ch];
  for (let ch = 0; ch < c; ch++) mean[ch] /= count;
  const variance = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) {
    for (let ch = 0; ch < c; ch++) {
      const d = x[i + ch] - mean[ch];
      variance[ch] += d * d;
    }
  }
  for (let ch = 0; ch < c; ch++) variance[ch] /= count;
  return { mean, variance };
}

function normalize(
  x: Float64Array,
  c: number,
  mean: Float64Array,
  variance: Float64Array,
  p: BatchNormParams,
): Float64Array {
  const y = outputBuffer(x.length, false);
  const denom = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) denom[ch] = Math.sqrt(variance[ch] + p.epsilon);
  const { gamma, beta } = p;
  for (let i = 0; i < x.length; i += c) {
    for (let ch = 0; ch < c; ch++) y[i + ch] = ((x[i + ch] - mean[ch]) / denom[ch]) * gamma[ch] + beta[ch];
  }
  return y;
}

/**
 * training=false: normalize with the moving statistics; training=true: with the batch statistics
 * (the moving statistics are left untouched, so runs stay independent).
 */
export function batchNorm(x: Float64Array, c: number, p: BatchNormParams, training: boolean): Float64Array {
  if (training) {
    const { mean, variance } = batchMoments(x, c);
    return normalize(x, c, mean, variance, p);
  }
  return normalize(x, c, p.movingMean, p.movingVariance, p);
}
