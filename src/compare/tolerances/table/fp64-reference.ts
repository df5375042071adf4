/** fp64-reference: the float64 reference interpreter (reference). Measurements: docs/tolerances.md. */
import { d, t, type RowLine } from './row';

// prettier-ignore
export const FP64_REFERENCE: readonly RowLine[] = [
  //  case class                       role             atol     rtol    reason
  t('notebook-identity-resume',      'output',        1e-5,    1e-5,   'notebook-identity-check'),
  t('notebook-conv-output',          'output',        1e-8,    1e-5,   'notebook-default'),
  d('revision-tf32-identity-resume', 'output',                         'revision-tf32-identity', { atol: 1e-5, rtol: 1e-5 }),
  d('revision-tf32-conv-output',     'output',                         'revision-tf32-conv', { atol: 1e-8, rtol: 1e-5 }),
  t('block-inference',               'output',        1e-8,    1e-5,   'notebook-default'),
  t('block-training',                'output',        5e-7,    1e-5,   'training-block'),
  t('pretrained-block-inference',    'output',        5e-7,    1e-5,   'pretrained-near-zero'),
  t('pretrained-resnet50-inference', 'probabilities', 1.5e-5,  1e-5,   'pretrained-keras-error'),
  t('pretrained-resnet50-float64',   'probabilities', 1e-7,    1e-7,   'pretrained-float64'),
  t('resnet50-inference',            'probabilities', 1e-8,    1e-5,   'notebook-default'),
  t('resnet50-inference',            'logits',        1e-6,    1e-5,   'near-zero'),
  t('resnet50-inference',            'activations',   1e-6,    1e-5,   'near-zero'),
  t('resnet50-training',             'probabilities', 1e-4,    1e-5,   'training-resnet50'),
  t('resnet50-training',             'logits',        1.5e-3,  1e-5,   'training-resnet50'),
  t('resnet50-training',             'activations',   2e-2,    1e-2,   'training-resnet50'),
  t('resnet50-training-float64',     'probabilities', 1e-10,   1e-9,   'float64-exact'),
  t('resnet50-training-float64',     'logits',        1e-9,    1e-9,   'float64-exact'),
  t('resnet50-training-float64',     'activations',   1e-9,    1e-9,   'float64-exact'),
  t('perturbed-block-inference',     'output',        1e-7,    1e-5,   'perturbed'),
  t('perturbed-block-training',      'output',        5e-6,    1e-5,   'perturbed'),
  t('perturbed-resnet50-inference',  'probabilities', 1e-8,    1e-5,   'notebook-default'),
  t('perturbed-resnet50-inference',  'logits',        3e-6,    1e-5,   'perturbed'),
  t('perturbed-resnet50-inference',  'activations',   1e-5,    1e-5,   'perturbed'),
  t('perturbed-resnet50-training',   'probabilities', 5e-5,    1e-5,   'training-resnet50'),
  t('perturbed-resnet50-training',   'logits',        7.5e-4,  1e-5,   'training-resnet50'),
  t('perturbed-resnet50-training',   'activations',   5e-3,    1e-2,   'training-resnet50'),
];
