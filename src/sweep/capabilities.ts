/**
 * Which configuration kinds each adapter can build. Adapters that build any ModelSpec layer by layer
 * (the reference, ONNX export, TensorFlow.js layers, the external protocol) take every kind; the
 * Keras adapter and the TFLite/LiteRT ones rebuild the notebook's own models from their arguments in
 * Python, so they run the blocks only (and inference-only adapters skip training-mode
 * configurations, ./sweep.ts). A kind an adapter cannot build is "not applicable": counted apart, never a pass.
 */
import { ANY_BATCH_NORM_FORMS, type BatchNormForms } from './bounds';
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

/**
 * How each runtime family computes BatchNormalization with batch statistics (read from their code,
 * checked by suites/sweep.test.ts with a channel whose mean is 2¹⁰ times its spread, where the
 * one-pass variance of a float32 runtime is wrong by far more than the two-pass bound):
 * - the reference interpreter: two-pass in float64 (batchMoments), centred;
 * - the ONNX export (every ONNX Runtime adapter): ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt, Div,
 *   Mul, Add: two-pass, centred;
 * - TensorFlow.js: tf.moments is mean(square(x − mean)) on every backend (two-pass); the CPU
 *   backend's BatchNorm kernel is β + (x − mean)·γ/√(v + ε) (centred); other backends' kernels are
 *   not read here, so their output form is 'either';
 * - Keras 3 on TensorFlow: tf.nn.moments, mean(squared_difference(x, mean)) (two-pass), and
 *   tf.nn.batch_normalization, x·inv + (β − mean·inv) (folded).
 * Any other adapter (external programs, LiteRT, Dawn, ...) gets the bound of every form.
 */
export function batchNormFormsOf(adapterId: string): BatchNormForms {
  if (adapterId.startsWith('reference') || adapterId.startsWith('onnxruntime'))
    return { variance: 'two-pass', output: 'centered' };
  if (adapterId === 'tfjs-cpu') return { variance: 'two-pass', output: 'centered' };
  if (adapterId.startsWith('tfjs')) return { variance: 'two-pass', output: 'either' };
  if (adapterId === 'keras') return { variance: 'two-pass', output: 'either' };
  return ANY_BATCH_NORM_FORMS;
}
