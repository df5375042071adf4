/**
 * The input `diagnose` uses when none is given: deterministic, reproducible in Keras, and shaped
 * like what the model sees in the notebook.
 *
 *   resnet50             batch 2, the model's input shape (64x64x3), uniform in [0, 1) (image pixels)
 *   identity_block /     batch 3 (the notebook's test batch), the model's input shape,
 *   convolutional_block  uniform in [-1, 1) (activations of either sign)
 *
 * Values: Keras `RandomUniform(minval, maxval, seed=DIAGNOSE_INPUT_SEED)(shape)` on the TensorFlow
 * backend (src/init reproduces it bit for bit), i.e. in Python:
 *   keras.initializers.RandomUniform(0.0, 1.0, seed=1234)((2, 64, 64, 3))
 */
import { randomUniform } from '../init';
import type { ModelSpec } from '../model/types';
import type { Tensor } from '../tensor';

export const DIAGNOSE_INPUT_SEED = 1234;

export function defaultDiagnoseInput(spec: ModelSpec): { input: Tensor; source: string } {
  const shape = [spec.model === 'resnet50' ? 2 : 3, ...spec.layers[0].outputShape];
  const [lo, hi] = spec.model === 'resnet50' ? [0, 1] : [-1, 1];
  const data = randomUniform(shape, DIAGNOSE_INPUT_SEED, lo, hi);
  return {
    input: { shape, data },
    source: `keras.initializers.RandomUniform(${lo.toFixed(1)}, ${hi.toFixed(1)}, seed=${DIAGNOSE_INPUT_SEED})((${shape.join(', ')}))`,
  };
}
