/** tf32-gpu: TF32 in the convolutions and matmuls (reference-tf32). Measurements: docs/tolerances.md. */
import { d, t, type RowLine } from './row';

// prettier-ignore
export const TF32_GPU: readonly RowLine[] = [
  //  case class                       role             atol     rtol    reason
  t('notebook-identity-resume',      'output',        1e-5,    2e-3,   'tf32'),
  t('notebook-conv-output',          'output',        5e-4,    1e-3,   'tf32'),
  t('revision-tf32-identity-resume', 'output',        1e-5,    2e-3,   'tf32-revision'),
  t('revision-tf32-conv-output',     'output',        5e-4,    1e-3,   'tf32-revision'),
  t('block-inference',               'output',        1.5e-3,  2e-3,   'tf32'),
  t('block-training',                'output',        5e-3,    1e-3,   'tf32-training'),
  t('pretrained-block-inference',    'output',        1.5e-3,  2e-3,   'tf32'),
  t('pretrained-resnet50-inference', 'probabilities', 3e-3,    1e-3,   'tf32'),
  t('pretrained-resnet50-float64',   'probabilities', 3e-3,    1e-3,   'tf32'),
  t('resnet50-inference',            'probabilities', 3e-5,    2e-4,   'tf32'),
  t('resnet50-inference',            'logits',        2.5e-4,  1e-3,   'tf32'),
  t('resnet50-inference',            'activations',   6e-4,    1e-3,   'tf32'),
  t('resnet50-training',             'probabilities', 4e-2,    1e-3,   'tf32-training'),
  t('resnet50-training',             'logits',        0.6,     1e-3,   'tf32-training'),
  d('resnet50-training',             'activations',                    'tf32-training-divergence'),
  t('resnet50-training-float64',     'probabilities', 4e-2,    1e-3,   'tf32-training'),
  t('resnet50-training-float64',     'logits',        0.6,     1e-3,   'tf32-training'),
  d('resnet50-training-float64',     'activations',                    'tf32-training-divergence'),
  t('perturbed-block-inference',     'output',        1.5e-3,  2e-3,   'tf32'),
  t('perturbed-block-training',      'output',        1.5e-2,  1e-3,   'tf32-training'),
  t('perturbed-resnet50-inference',  'probabilities', 6e-4,    1e-3,   'tf32'),
  t('perturbed-resnet50-inference',  'logits',        4e-3,    1e-3,   'tf32'),
  t('perturbed-resnet50-inference',  'activations',   1.5e-2,  1e-3,   'tf32'),
  t('perturbed-resnet50-training',   'probabilities', 4e-2,    1e-3,   'tf32-training'),
  t('perturbed-resnet50-training',   'logits',        0.4,     1e-3,   'tf32-training'),
  d('perturbed-resnet50-training',   'activations',                    'tf32-training-divergence'),
];
