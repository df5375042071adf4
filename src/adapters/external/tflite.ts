/**
 * The `tflite*` adapters: clients/python/examples/tflite_adapter.py (the TensorFlow Lite
 * interpreter of tensorflow-cpu 2.21, through the stdio protocol) run by the pinned environment's
 * interpreter (.venv, `npm run setup:python`, or $RESNET_CONFORMANCE_PYTHON). The program converts
 * the notebook's model with the handed weights by fixtures/generate/tflite_convert.py (inference
 * mode: BatchNormalization folded into the convolutions) into the LiteRT cache shared with the
 * litertjs-* adapters. Inference only: training-mode cases are not-applicable. Variants differ in
 * the interpreter's kernels (docs/litert.md).
 */
import * as path from 'path';
import type { AdapterEntry } from '../types';
import { pythonPath, repoRoot } from '../keras/python-env';
import { venvProgramAdapter } from './venv-program';

export const TFLITE_SETUP_COMMAND = 'npm run setup:python';

/** Where converted .tflite files are cached: $RESNET_CONFORMANCE_LITERT_CACHE, else .cache/litert. */
export const LITERT_CACHE_ENV = 'RESNET_CONFORMANCE_LITERT_CACHE';
export function litertCacheDir(root = repoRoot()): string {
  return process.env[LITERT_CACHE_ENV] || path.join(root, '.cache', 'litert');
}

/** The reason every inference-only LiteRT/TFLite adapter gives for its training-mode cases. */
export const TFLITE_INFERENCE_ONLY =
  'a converted .tflite model has BatchNormalization folded into the convolutions (moving statistics as constants), so it has no batch statistics to compute';

/**
 * Why the adapter-parameterized suites run the LiteRT/TFLite adapters only on request: every
 * ResNet-50 shape and capture set is its own conversion (108 s measured cold on this loaded
 * machine); suites/litert.test.ts runs them on the block cases.
 */
export const LITERT_SUITE_OPT_IN =
  'a ResNet-50 .tflite conversion per input shape and capture set (about 100 s each, cold); suites/litert.test.ts runs it on the block cases';

export function tfliteScript(root = repoRoot()): string {
  return path.join(root, 'clients', 'python', 'examples', 'tflite_adapter.py');
}

function tfliteEntry(id: string, resolver: string, summary: string): AdapterEntry & { host: 'python' } {
  return {
    id,
    summary: `${summary}: clients/python/examples/tflite_adapter.py --resolver ${resolver} in .venv (npm run setup:python)`,
    profile: 'fp32-cpu',
    outOfTheBox: false,
    host: 'python',
    inferenceOnly: TFLITE_INFERENCE_ONLY,
    suiteOptIn: LITERT_SUITE_OPT_IN,
    create() {
      const root = repoRoot();
      return venvProgramAdapter({
        id,
        root,
        python: pythonPath(root),
        script: tfliteScript(root),
        args: ['--resolver', resolver, '--cache', litertCacheDir(root), '--name', id],
        setup: TFLITE_SETUP_COMMAND,
        what: 'the pinned TensorFlow environment',
      });
    },
  };
}

export const TFLITE_ENTRIES: ReadonlyArray<AdapterEntry & { host: 'python' }> = [
  tfliteEntry(
    'tflite',
    'default',
    'TFLite interpreter (tensorflow 2.21) on the converted .tflite, default XNNPACK delegate, float32',
  ),
  tfliteEntry(
    'tflite-builtin',
    'builtin',
    'TFLite interpreter on the converted .tflite, builtin optimized kernels without the XNNPACK delegate',
  ),
  tfliteEntry('tflite-reference', 'reference', 'TFLite interpreter on the converted .tflite, reference kernels'),
];
