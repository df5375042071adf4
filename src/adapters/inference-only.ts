/**
 * Inference-only adapters (AdapterEntry.inferenceOnly): which cases they cannot run, and the one
 * reason every report gives for them. The runner settles those cases 'not-applicable' without
 * running them; executeCase gives the same status to any caller that hands it one anyway.
 */
import type { AdapterEntry } from './types';

/** The reason a not-applicable result carries. */
export function notApplicableReason(entry: Pick<AdapterEntry, 'inferenceOnly'>): string {
  return `training-mode case, inference-only runtime: ${entry.inferenceOnly ?? 'the adapter declares it'}`;
}

/** Why `entry` cannot run a case of this BatchNormalization mode, or undefined when it can. */
export function notApplicableBecause(
  entry: Pick<AdapterEntry, 'inferenceOnly'>,
  k: { training: boolean },
): string | undefined {
  return entry.inferenceOnly && k.training ? notApplicableReason(entry) : undefined;
}
