/**
 * Which configuration kinds each adapter can build. Adapters that build any ModelSpec layer by layer
 * (the reference, ONNX export, TensorFlow.js layers, the external protocol) take every kind; the
 * Keras adapter rebuilds the notebook's own models from their arguments in Python, so it can run the
 * blocks only. A kind an adapter cannot build is "not applicable": counted apart, never a pass.
 */
import type { SweepKind } from './configs';
import { SWEEP_KINDS } from './configs';

const ONLY: Record<string, { kinds: readonly SweepKind[]; why: string }> = {
  keras: {
    kinds: ['block'],
    why: 'the Keras adapter rebuilds identity_block / convolutional_block / resnet50 from their arguments; single layers have none',
  },
};

export function sweepKindsOf(adapterId: string): readonly SweepKind[] {
  return ONLY[adapterId]?.kinds ?? SWEEP_KINDS;
}

/** Why `kind` is not applicable to the adapter (null: it is). */
export function notApplicableReason(adapterId: string, kind: SweepKind): string | null {
  const o = ONLY[adapterId];
  return o && !o.kinds.includes(kind) ? o.why : null;
}
