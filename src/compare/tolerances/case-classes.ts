/**
 * The case classes: one record each (its tensor roles, what it holds, and what else it is used for).
 * fixtures/manifest.json names a tensor's row by one string (the case's caseClass, or a tensor's own
 * such as 'resnet50-training-logits'); parseClassName (./lookup.ts) maps it to (case class, role).
 */
import type { TensorRole } from './types';

interface CaseClassRecord {
  /** The tensor roles with rows; the first is the role of the case's output. */
  roles: readonly TensorRole[];
  /** What the class holds. */
  description: string;
  /** An imported notebook revision's class: its cases carry the revision's own tolerance (withRevisionTolerance). */
  revision?: true;
  /**
   * The float64 reference must match these Keras-generated ResNet-50 probabilities within
   * REFERENCE_PROBABILITY_MAX_ABS (checked in suites/fixtures.test.ts): only where Keras's own float32
   * rounding allows (not training=True float32, whose values are off the exact ones by more).
   */
  referenceProbability?: true;
}

const OUTPUT: readonly TensorRole[] = ['output'];
const PROBABILITIES: readonly TensorRole[] = ['probabilities'];
const RESNET50: readonly TensorRole[] = ['probabilities', 'logits', 'activations'];

const revisionText = (what: string) =>
  `an imported notebook revision's ${what} (or views of them) that only TF32 in some convolutions reproduces (explain`;

export const CASE_CLASS_RECORDS = {
  'notebook-identity-resume': {
    roles: OUTPUT,
    revision: true,
    description: "the notebook's published identity-block resume values (public_tests.py, np.allclose atol=1e-5)",
  },
  'notebook-conv-output': {
    roles: OUTPUT,
    revision: true,
    description: "the notebook's published convolutional-block outputs (outputs.py, np.allclose defaults)",
  },
  'revision-tf32-identity-resume': {
    roles: OUTPUT,
    revision: true,
    description: `${revisionText('identity-block resume values')}; the GPU they were produced on): baselines/NAME, written by import-notebook`,
  },
  'revision-tf32-conv-output': {
    roles: OUTPUT,
    revision: true,
    description: `${revisionText('convolutional-block outputs')}): baselines/NAME, written by import-notebook`,
  },
  'block-inference': {
    roles: OUTPUT,
    description: 'Keras-generated block outputs (identity and convolutional) and resumes, model(x, training=False)',
  },
  'block-training': {
    roles: OUTPUT,
    description: 'Keras-generated block outputs and resumes, model(x, training=True) (BatchNorm batch statistics)',
  },
  'pretrained-block-inference': {
    roles: OUTPUT,
    description:
      'Keras model.predict outputs of the trained blocks saved as .h5/.keras (fixtures/pretrained/manifest.json), training=False',
  },
  'pretrained-resnet50-inference': {
    roles: PROBABILITIES,
    description:
      'Keras model.predict probabilities of the trained ResNet-50 (fixtures/pretrained/resnet50/goldens.json) on the shipped images and the synthetic dataset, training=False',
  },
  'pretrained-resnet50-float64': {
    roles: PROBABILITIES,
    description: 'the same trained ResNet-50 and inputs in a float64 Keras build (exact values), training=False',
  },
  'resnet50-inference': {
    roles: RESNET50,
    referenceProbability: true,
    description:
      'Keras float32 ResNet-50 probabilities, pre-softmax logits and activations at stage 1, block and avgpool boundaries, training=False',
  },
  'resnet50-training': {
    roles: RESNET50,
    description: 'Keras float32 ResNet-50 probabilities, logits and boundary activations, training=True',
  },
  'resnet50-training-float64': {
    roles: RESNET50,
    referenceProbability: true,
    description:
      'Keras float64 (exact) ResNet-50 probabilities, logits and boundary activations, training=True, same weights and input',
  },
  'perturbed-block-inference': {
    roles: OUTPUT,
    description:
      'Keras-generated block outputs with the perturbed-parameters weights (every bias and BatchNorm parameter non-trivial, src/init/perturb.ts), training=False',
  },
  'perturbed-block-training': {
    roles: OUTPUT,
    description:
      'Keras-generated block outputs with the perturbed-parameters weights, training=True (BatchNorm batch statistics)',
  },
  'perturbed-resnet50-inference': {
    roles: RESNET50,
    description:
      'Keras float32 ResNet-50 probabilities, logits and boundary activations with the perturbed-parameters weights, training=False',
  },
  'perturbed-resnet50-training': {
    roles: RESNET50,
    description:
      'Keras float32 ResNet-50 probabilities, logits and boundary activations with the perturbed-parameters weights, training=True',
  },
} as const satisfies Record<string, CaseClassRecord>;

export type CaseClass = keyof typeof CASE_CLASS_RECORDS;

const records = CASE_CLASS_RECORDS as Readonly<Record<CaseClass, CaseClassRecord>>;
const mapClasses = <T>(f: (r: CaseClassRecord) => T) =>
  Object.fromEntries(Object.entries(records).map(([c, r]) => [c, f(r)])) as Readonly<Record<CaseClass, T>>;

export const CASE_CLASSES = Object.keys(records) as readonly CaseClass[];
/** The tensor roles of each case class; the first is the role of the case's output. */
export const CASE_CLASS_ROLES = mapClasses((r) => r.roles);
/** What each case class holds. */
export const CASE_CLASS_DESCRIPTIONS = mapClasses((r) => r.description);
/** The case classes of imported notebook revisions (src/notebook/revision-baseline.ts). */
export const REVISION_CASE_CLASSES: readonly CaseClass[] = CASE_CLASSES.filter((c) => records[c].revision);
/** See CaseClassRecord.referenceProbability. */
export const REFERENCE_PROBABILITY_MAX_ABS = 1e-5;
export const REFERENCE_PROBABILITY_CLASSES: readonly CaseClass[] = CASE_CLASSES.filter(
  (c) => records[c].referenceProbability,
);

export function isCaseClass(x: string): x is CaseClass {
  return Object.prototype.hasOwnProperty.call(records, x);
}
