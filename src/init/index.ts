export {
  initialize,
  glorotUniform,
  randomUniform,
  constant,
  zeros,
  ones,
  statelessUniform,
  computeFans,
  glorotLimit,
  kerasSeedPair,
  checkShape,
  KERAS_SEED_MODULUS,
} from './initializers';
export { initModelWeights } from './model-weights';
export { philoxBlock, philoxFillUint32, philoxUniformFloat32, tfStatelessKeyCounter, mulHi32 } from './philox';
export type { PhiloxState } from './philox';
export { perturbModelWeights, perturbedValues, PERTURB_RECIPE, fnv1a32, fmix32 } from './perturb';
export type { PerturbRecipe, PerturbedWeights } from './perturb';
