/**
 * Deterministic inputs for the suites and the measurement scripts: the notebook's block test input
 * and seeded uniform batches that need no Keras to reproduce.
 */
import { sizeOf, type Tensor } from './index';

/** The notebook's block test input: float32 (3, 4, 4, 3), sample 0 all -1, sample 1 all 1, sample 2 all 3. */
export function notebookX(): Tensor {
  const data = new Float32Array(3 * 4 * 4 * 3);
  data.fill(-1, 0, 48);
  data.fill(1, 48, 96);
  data.fill(3, 96, 144);
  return { shape: [3, 4, 4, 3], data };
}

/**
 * Float32 values uniform in [lo, hi) from a 32-bit linear congruential generator
 * (s ← 1664525·s + 1013904223 mod 2³², value lo + (hi − lo)·s/2³²), row-major over `shape`.
 * The same seed and shape always give the same tensor.
 */
export function seededUniform(shape: readonly number[], seed: number, lo: number, hi: number): Tensor {
  if (!(lo < hi)) throw new Error(`seededUniform: needs lo < hi, got [${lo}, ${hi})`);
  let s = seed >>> 0;
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return { shape: [...shape], data };
}
