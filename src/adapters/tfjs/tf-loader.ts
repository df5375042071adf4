/**
 * Lazy loading of TensorFlow.js packages. Nothing here runs at import time: the registry imports
 * the tfjs adapters on every CLI start, and a missing package must only make its adapter
 * unavailable, never break the harness.
 */
import * as path from 'path';

export type Tf = typeof import('@tensorflow/tfjs');
export type TfWasm = typeof import('@tensorflow/tfjs-backend-wasm');

/** Where a package's package.json lives, or null when it is not installed (no loading). */
export function resolvePackageDir(pkg: string): string | null {
  try {
    return path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return null;
  }
}

/** `version` field of an installed package, or null when it is not installed. */
export function installedVersion(pkg: string): string | null {
  const dir = resolvePackageDir(pkg);
  if (!dir) return null;
  return (require(path.join(dir, 'package.json')) as { version?: string }).version ?? null;
}

/** The @tensorflow/tfjs union package (tfjs-core, tfjs-layers, tfjs-backend-cpu, ...). */
let quieted = false;

export function loadTfjs(): Tf {
  const tf = require('@tensorflow/tfjs') as Tf;
  if (!quieted) {
    // tfjs-core 4.22 uses the PROD flag only to silence its console warnings (log.warn/log.log),
    // e.g. the cpu backend's "install our node backend" banner in every process; no numerics.
    tf.env().set('PROD', true);
    quieted = true;
  }
  return tf;
}

export function loadTfjsWasm(): TfWasm {
  return require('@tensorflow/tfjs-backend-wasm') as TfWasm;
}
