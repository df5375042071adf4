/**
 * Why the rows of the table are what they are, each written once and keyed; a row names its key.
 * A reason says why, not how much: the measured errors behind each row (adapters, cases, worst
 * element, the atol each needed), with dates and versions, are in docs/tolerances.md; a report shows
 * the tolerance each comparison would have needed ("needs atol X at rtol R") next to it.
 */
export const REASONS = {
  'notebook-identity-check':
    "the notebook's own check: public_tests.py np.allclose(resume, ..., atol=1e-5) with the default rtol 1e-5.",
  'notebook-default':
    "np.allclose defaults (rtol 1e-5, atol 1e-8), the tolerance of the notebook's convolutional-block test; the profile's adapters pass it.",
  'published-prints':
    "atol loosened from the notebook's 1e-8: the published values are 8-digit prints of one float32 run, and an element near zero after training-mode BatchNorm over 2x2 positions carries their rounding.",
  'near-zero':
    'atol loosened from 1e-8 so that a value near zero (a logit, or an output of Add and ReLU) cannot fail on the float32 rounding of its larger terms; about 2-3x the worst measured.',
  'pretrained-near-zero':
    "atol loosened from 1e-8: the trained blocks' outputs are relu(main + shortcut) with terms up to ~3.4, so outputs near 0 carry the float32 rounding of those terms (ulp(2) = 2.4e-7) in Keras's own values; about 2x the worst measured.",
  'training-block':
    'training-mode BatchNorm normalizes by batch statistics over few values, which amplifies float32 rounding; Keras float32 carries it in its own values. About 2-3x the worst measured.',
  'training-resnet50':
    'ill-conditioned in float32: with training=True every BatchNorm normalizes by batch statistics over few values (stage 5 at batch 1: 2x2 = 4 values per channel), which amplifies float32 rounding about 1e4-fold through the 53 BatchNorm layers; Keras float32 differs from its own float64 result by that much, so no float32 runtime can be held closer (the *-float64 rows hold the fp64 reference to the exact values). Activations drift with depth.',
  perturbed:
    'perturbed-parameters weights (every bias and BatchNorm parameter non-trivial, src/init/perturb.ts): gamma and 1/sqrt(variance) scale the float32 rounding, and values near 0 after Add and ReLU carry the rounding of their larger terms; about 2-3x the worst measured.',
  'float64-exact':
    'exact values (Keras float64) against the float64 reference: far stricter than the notebook, float64 against float64.',
  'float32-vs-exact': 'a float32 runtime against the exact values (Keras float64): its own float32 rounding.',
  'pretrained-keras-error':
    "Keras's own float32 predictions of the trained model (moving variances up to 26) are off the exact values of a float64 Keras build, and float32 runtimes differ from Keras float32 by about twice that; about 2.5x the worst float32 adapter.",
  'pretrained-float64':
    "exact values from a float64 Keras build; some step of Keras's float64 inference path is not fully float64 (not found; below float32 resolution), so not held to 1e-14 as resnet50-training-float64. Still far stricter than the float32 row.",
  tf32: 'TF32 rounds convolution and matmul operands to 10 mantissa bits (rel 4.9e-4); about 2-3x the worst reference-tf32 error.',
  'tf32-training':
    'TF32 rounding amplified by training-mode BatchNorm (batch statistics over few values): catches gross errors only.',
  'tf32-revision':
    'reference-tf32 has TF32 in every convolution, the revision had it in some; the notebook class tf32-gpu row kept.',
  'tf32-training-divergence':
    'the TF32 training-mode forward pass decorrelates from Keras in stage 5: TF32 rounding amplified by batch-statistics BatchNorm over 4 to 8 values per channel.',
  'revision-tf32-identity':
    "the revision published values computed with TF32 in some convolutions (explain: set-seed-2023 rng=stateful, tf32=conv3; learning-phase-v3 tf32=conv3, bn-epsilon 1e-6), which no float32/float64 arithmetic reproduces within the file's np.allclose(atol=1e-5); reference-tf32 passes its tf32-gpu row.",
  'revision-tf32-conv':
    "the revision published convolutional-block values computed with TF32 in the third convolution (explain: set-seed-2023 rng=stateful, tf32=conv3, bn-epsilon 1e-3 reproduces them), which no float32/float64 arithmetic reproduces within the file's np.allclose defaults; reference-tf32 passes its tf32-gpu row.",
  f16: 'tfjs-webgl-f16: float16 textures keep 11 significant bits (ulp(1) = 9.8e-4), so every stored intermediate is rounded to rel 4.9e-4 (scaled by the perturbed gamma and 1/sqrt(variance) where they apply); rtol 3e-3, atol about 1.5-3x the worst measured.',
  'f16-training-divergence':
    'tfjs-webgl-f16: float16 rounding (rel 4.9e-4 per stored intermediate) amplified through 53 batch-statistics BatchNorms (see training-resnet50); as a tolerance this would be so loose that only NaN/Inf or a wrong shape fail it: an expected divergence instead.',
} as const;

export type ReasonKey = keyof typeof REASONS;
