/**
 * The shapes of the tolerance table (./README in index.ts): a row is a tolerance {atol, rtol} or a
 * strict expected divergence, keyed by (case class, tensor role, precision profile).
 */
import type { PrecisionProfile } from '../../adapters/types';
import type { Tolerance } from '../metrics';

export const TENSOR_ROLES = ['probabilities', 'logits', 'activations', 'output'] as const;
export type TensorRole = (typeof TENSOR_ROLES)[number];

/** Profiles with a row for every case class and role. */
export type CompleteProfile = Exclude<PrecisionProfile, 'webgl-f16'>;
export const PRECISION_PROFILES: readonly CompleteProfile[] = ['fp64-reference', 'fp32-cpu', 'tf32-gpu'];
/**
 * Known-lossy profiles: rows only for the case classes measured so far (a class without a row is an
 * error naming it, never a pass). 'webgl-f16': tfjs-webgl-f16, float16 textures.
 */
export const LOSSY_PROFILES: readonly PrecisionProfile[] = ['webgl-f16'];

export interface ToleranceEntry extends Tolerance {
  /** Why this tolerance (./reasons.ts); the measurements behind it are in docs/tolerances.md. */
  reason: string;
}

/** A known divergence of a profile's adapters from the expected values (see index.ts). */
export interface ExpectedDivergenceEntry {
  expectedDivergence: {
    /** Why the values diverge (./reasons.ts). */
    reason: string;
    /** Within this everywhere = no divergence (the row is stale). Default: the fp32-cpu row of the same class and role. */
    tightBound?: { atol: number; rtol: number };
  };
}

export type ToleranceRow = ToleranceEntry | ExpectedDivergenceEntry;

export function isExpectedDivergence(row: ToleranceRow): row is ExpectedDivergenceEntry {
  return 'expectedDivergence' in row;
}
