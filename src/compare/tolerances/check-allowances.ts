/**
 * The allowances of the named checks that are no tensor comparison (src/golden/checks.ts), by profile.
 * Measurements: docs/tolerances.md.
 */
import type { PrecisionProfile } from '../../adapters/types';
import type { ToleranceEntry } from './types';

/** The softmax-rows-sum-to-1 check's allowance for |row sum - 1|. A float32 softmax over 6 classes is off by about 1e-7. */
export const SOFTMAX_SUM_TOLERANCES: Readonly<Record<PrecisionProfile, ToleranceEntry>> = {
  'fp64-reference': { atol: 1e-5, rtol: 0, reason: 'float64 sums are exact to ~1e-16; kept at the float32 allowance.' },
  'fp32-cpu': {
    atol: 1e-5,
    rtol: 0,
    reason: 'a float32 softmax over 6 classes is off by ~1e-7; 1e-5 catches a wrong normalisation.',
  },
  'tf32-gpu': {
    atol: 1e-5,
    rtol: 0,
    reason: 'the softmax itself is float32 on TF32 GPUs (TF32 is in the matmuls only).',
  },
  'webgl-f16': {
    atol: 1.5e-3,
    rtol: 0,
    reason: 'float16 storage of the probabilities (ulp(0.5) = 4.9e-4); about 3.5x the worst measured.',
  },
};
