/**
 * Summary statistics of repeated timings. Quantiles use linear interpolation between order
 * statistics (the "type 7" rule of R and numpy.percentile's default), so the median of an even
 * count is the mean of the two middle values.
 */

export interface SampleSummary {
  n: number;
  min: number;
  max: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single sample. */
  stdev: number;
  median: number;
  p10: number;
  p90: number;
  /** Median absolute deviation from the median (unscaled). */
  mad: number;
}

function checkSamples(xs: readonly number[], what: string): void {
  if (xs.length === 0) throw new Error(`${what}: no samples`);
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i])) throw new Error(`${what}: sample ${i} is ${xs[i]} (must be finite)`);
  }
}

export function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** Quantile q in [0, 1] of already sorted values (linear interpolation, type 7). */
export function quantileSorted(s: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  checkSamples(s, 'quantile');
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

export function quantile(xs: readonly number[], q: number): number {
  return quantileSorted(sorted(xs), q);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

export function summarize(xs: readonly number[]): SampleSummary {
  checkSamples(xs, 'summarize');
  const s = sorted(xs);
  const n = s.length;
  let sum = 0;
  for (const x of s) sum += x;
  const mean = sum / n;
  let ss = 0;
  for (const x of s) ss += (x - mean) ** 2;
  const med = quantileSorted(s, 0.5);
  return {
    n,
    min: s[0],
    max: s[n - 1],
    mean,
    stdev: n > 1 ? Math.sqrt(ss / (n - 1)) : 0,
    median: med,
    p10: quantileSorted(s, 0.1),
    p90: quantileSorted(s, 0.9),
    mad: quantileSorted(sorted(s.map((x) => Math.abs(x - med))), 0.5),
  };
}
