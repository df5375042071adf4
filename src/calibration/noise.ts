/**
 * The noise band of a latency measurement, from its repeated runs: a distribution-free confidence
 * interval for the median (order statistics; no normality assumption, which timings never meet).
 *
 * For n sorted samples x(1) ≤ … ≤ x(n), the interval [x(j), x(n−j+1)] contains the true median
 * with probability 1 − 2·P(B ≤ j − 1), B ~ Binomial(n, ½). We take the largest j whose coverage is
 * still ≥ the requested confidence (95% by default). Below 6 samples no interval reaches 95%;
 * the widest one, [min, max], is used and its actual coverage recorded (93.75% for 5 samples).
 */
import { sorted } from '../util/stats';

export const DEFAULT_CONFIDENCE = 0.95;

export interface MedianInterval {
  lo: number;
  hi: number;
  /** Probability that [lo, hi] contains the true median. */
  coverage: number;
  /** Order statistic index (1-based) of lo; hi is x(n − j + 1). */
  j: number;
}

export interface NoiseBand {
  /** Relative distance from the median down to the interval's lower end: (median − lo) / median. */
  below: number;
  /** Relative distance from the median up to the interval's upper end: (hi − median) / median. */
  above: number;
  ci: MedianInterval;
  method: string;
}

export const NOISE_METHOD = 'order-statistic confidence interval of the median over the measured runs';

/** log of the binomial coefficient C(n, k). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** P(B ≤ k) for B ~ Binomial(n, ½), computed in log space (no underflow for large n). */
export function binomialHalfCdf(n: number, k: number): number {
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`binomialHalfCdf: n must be a non-negative integer, got ${n}`);
  if (k < 0) return 0;
  if (k >= n) return 1;
  let sum = 0;
  const logHalfN = -n * Math.LN2;
  for (let i = 0; i <= k; i++) sum += Math.exp(logChoose(n, i) + logHalfN);
  return Math.min(1, sum);
}

export function medianInterval(samples: readonly number[], confidence = DEFAULT_CONFIDENCE): MedianInterval {
  if (samples.length === 0) throw new Error('medianInterval: no samples');
  if (!(confidence > 0 && confidence < 1))
    throw new Error(`medianInterval: confidence must be in (0, 1), got ${confidence}`);
  const s = sorted(samples);
  const n = s.length;
  let j = 1;
  // Largest j with coverage 1 − 2·P(B ≤ j−1) ≥ confidence (coverage shrinks as j grows).
  while (j + 1 <= Math.floor((n + 1) / 2) && 1 - 2 * binomialHalfCdf(n, j) >= confidence) j++;
  const coverage = n === 1 ? 0 : 1 - 2 * binomialHalfCdf(n, j - 1);
  return { lo: s[j - 1], hi: s[n - j], coverage, j };
}

export function noiseBand(samples: readonly number[], med: number, confidence = DEFAULT_CONFIDENCE): NoiseBand {
  if (!(med > 0)) throw new Error(`noiseBand: median must be > 0, got ${med}`);
  const ci = medianInterval(samples, confidence);
  return { below: (med - ci.lo) / med, above: (ci.hi - med) / med, ci, method: NOISE_METHOD };
}
