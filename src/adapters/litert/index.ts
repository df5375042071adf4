/**
 * LiteRT.js (`@litertjs/core`, the web runtime of LiteRT/TFLite) in Node.js: `litertjs-wasm`. The
 * runtime runs in a program of its own (./program.ts) spoken to over the external adapter protocol
 * (../external/command.ts): LiteRT.js is a browser package that Node runs only after globals are
 * shimmed (self, importScripts, require), which must not leak into the harness, and a wasm abort
 * then ends that process, never the harness. The model is the notebook's Keras model with the
 * handed weights converted in inference mode by fixtures/generate/tflite_convert.py (the pinned
 * TensorFlow in .venv) into the cache the tflite* adapters share. Inference only: its training-mode
 * cases are not-applicable. Loads nothing at import.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CommandAdapter } from '../external/command';
import { litertCacheDir, LITERT_CACHE_ENV, LITERT_SUITE_OPT_IN, TFLITE_INFERENCE_ONLY } from '../external/tflite';
import type { AdapterEntry } from '../types';

export const LITERT_PACKAGE = '@litertjs/core';
export const LITERT_FIX = `npm install ${LITERT_PACKAGE}@2.5.3 (the version package.json pins) and npm run setup:python (the converter's TensorFlow)`;

/** node [--require tsx/cjs] program: the .ts source in a checkout, the built .js in the package. */
export function litertProgramArgv(): string[] {
  const js = path.join(__dirname, 'program.js');
  if (fs.existsSync(js)) return [process.execPath, js];
  return [process.execPath, '--require', require.resolve('tsx/cjs'), path.join(__dirname, 'program.ts')];
}

export function litertJsAdapter(id = 'litertjs-wasm', opts: { env?: Record<string, string> } = {}): CommandAdapter {
  return new CommandAdapter({
    id,
    command: litertProgramArgv(),
    env: { [LITERT_CACHE_ENV]: litertCacheDir(), RESNET_CONFORMANCE_LITERT_ID: id, ...opts.env },
    // A cold ResNet-50 conversion took 108 s here on a loaded machine; a run converts once per capture set.
    timeoutMs: 600_000,
    helloTimeoutMs: 60_000,
    fix: LITERT_FIX,
  });
}

export const LITERT_ENTRIES: ReadonlyArray<AdapterEntry & { host: 'child' }> = [
  {
    id: 'litertjs-wasm',
    summary:
      'LiteRT.js (@litertjs/core) in Node.js, wasm accelerator (XNNPACK), on the .tflite converted in inference mode by fixtures/generate/tflite_convert.py (.venv)',
    profile: 'fp32-cpu',
    outOfTheBox: false,
    host: 'child',
    inferenceOnly: TFLITE_INFERENCE_ONLY,
    suiteOptIn: LITERT_SUITE_OPT_IN,
    packages: [LITERT_PACKAGE],
    create: () => litertJsAdapter('litertjs-wasm'),
  },
];
