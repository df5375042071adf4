/**
 * Which configuration kinds each adapter can build. Adapters that build any ModelSpec layer by layer
 * (the reference, ONNX export, TensorFlow.js layers, the external protocol) take every kind; the
 * Keras adapter and the TFLite/LiteRT ones rebuild the notebook's own models from their arguments in
 * Python, so they run the blocks only (and inference-only adapters skip training-mode
 * configurations, ./sweep.ts). A kind an adapter cannot build is "not applicable": counted apart, never a pass.
 */
import type { SweepKind } from './configs';
import { SWEEP_KINDS } from './configs';

const ONLY: Record<string, { kinds: readonly SweepKind[]; why: string }> = {
  keras: {
    kinds: ['block'],
    why: 'the Keras adapter rebuilds identity_block / convolutional_block / resnet50 from their arguments; single layers have none',
  },
};

/** The LiteRT / TFLite adapters convert the notebook's Keras model, rebuilt from its arguments, as Keras does. */
const TFLITE = {
  kinds: ['block'] as readonly SweepKind[],
  why: 'the TFLite/LiteRT adapters convert the Keras model rebuilt from its arguments (blocks, resnet50); single layers have none',
};

function only(adapterId: string): { kinds: readonly SweepKind[]; why: string } | undefined {
  if (ONLY[adapterId]) return ONLY[adapterId];
  if (adapterId.startsWith('tflite') || adapterId.startsWith('litert')) return TFLITE;
  return undefined;
}

export function sweepKindsOf(adapterId: string): readonly SweepKind[] {
  return only(adapterId)?.kinds ?? SWEEP_KINDS;
}

/** Why `kind` is not applicable to the adapter (null: it is). */
export function notApplicableReason(adapterId: string, kind: SweepKind): string | null {
  const o = only(adapterId);
  return o && !o.kinds.includes(kind) ? o.why : null;
}
