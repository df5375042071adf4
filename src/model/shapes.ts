import type { Padding } from './types';

/** Output length of a windowed op along one axis, TF/Keras rules. */
export function windowOutput(size: number, kernel: number, stride: number, padding: Padding): number {
  if (padding === 'same') return Math.ceil(size / stride);
  const out = Math.floor((size - kernel) / stride) + 1;
  if (out <= 0) {
    throw new Error(`window ${kernel} with stride ${stride} and 'valid' padding does not fit input size ${size}`);
  }
  return out;
}

/**
 * TF 'same' padding along one axis: total = max((out-1)*stride + kernel - size, 0),
 * the smaller half before (top/left) and the extra element after (bottom/right).
 */
export function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}
