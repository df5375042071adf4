/**
 * Initial weights as an older tf.keras session drew them: every Conv2D/Dense kernel with a seeded
 * uniform initializer from TF's stateful stream (./stateful-philox), in layer creation order; every
 * other weight as Keras creates it (./model-weights).
 */
import type { ModelSpec, ModelWeights } from '../model/types';
import { initModelWeights } from './model-weights';
import type { StatefulRandomSession } from './stateful-philox';

/** Draws the seeded kernels of `spec` from `session` (advancing its streams), the rest as Keras. */
export function statefulModelWeights(spec: ModelSpec, session: StatefulRandomSession): ModelWeights {
  const w = initModelWeights(spec);
  for (const l of spec.layers) {
    if (l.className !== 'Conv2D' && l.className !== 'Dense') continue;
    const kernel = w.get(l.name)![0];
    const init = l.kernelInitializer;
    if (init.kind === 'glorot_uniform') kernel.data = session.glorotUniform(kernel.shape, init.seed);
    else if (init.kind === 'random_uniform')
      kernel.data = session.randomUniform(kernel.shape, init.seed, init.minval, init.maxval);
  }
  return w;
}
