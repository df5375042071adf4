/**
 * webgl-f16: tfjs-webgl-f16, float16 textures (a known-lossy profile: rows only for the classes
 * measured so far; a class without a row is an error naming it). Measurements: docs/tolerances.md.
 */
import { d, t, type RowLine } from './row';

// prettier-ignore
export const WEBGL_F16: readonly RowLine[] = [
  //  case class                       role             atol     rtol    reason
  t('notebook-identity-resume',      'output',        5e-3,    3e-3,   'f16'),
  t('notebook-conv-output',          'output',        6e-3,    3e-3,   'f16'),
  t('block-inference',               'output',        5e-3,    3e-3,   'f16'),
  t('block-training',                'output',        7e-3,    3e-3,   'f16'),
  t('resnet50-inference',            'probabilities', 5e-4,    3e-3,   'f16'),
  t('resnet50-inference',            'logits',        1.5e-3,  3e-3,   'f16'),
  t('resnet50-inference',            'activations',   5e-3,    3e-3,   'f16'),
  d('resnet50-training',             'probabilities',                  'f16-training-divergence'),
  d('resnet50-training',             'logits',                         'f16-training-divergence'),
  d('resnet50-training',             'activations',                    'f16-training-divergence'),
  d('resnet50-training-float64',     'probabilities',                  'f16-training-divergence'),
  d('resnet50-training-float64',     'logits',                         'f16-training-divergence'),
  d('resnet50-training-float64',     'activations',                    'f16-training-divergence'),
  t('perturbed-block-inference',     'output',        3.5e-3,  3e-3,   'f16'),
  t('perturbed-block-training',      'output',        7.5e-3,  3e-3,   'f16'),
];
