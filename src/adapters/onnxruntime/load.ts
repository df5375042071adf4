/**
 * Lazy access to onnxruntime-node: nothing here loads the package at import time, so a missing or
 * broken install makes the ONNX Runtime adapters "unavailable" instead of breaking the harness.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type OrtModule = typeof import('onnxruntime-node');

let cached: { ort?: OrtModule; error?: Error } | undefined;

/** Loads onnxruntime-node once; throws an error that says what is wrong and how to fix it. */
export function loadOrt(): OrtModule {
  if (!cached) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = { ort: require('onnxruntime-node') as OrtModule };
    } catch (err) {
      cached = { error: err as Error };
    }
  }
  if (cached.error) {
    throw new Error(`onnxruntime-node cannot be loaded: ${cached.error.message.split('\n')[0]}`);
  }
  return cached.ort!;
}

/** Tries to load onnxruntime-node; returns the error message instead of throwing. */
export function tryLoadOrt(): { ort: OrtModule } | { error: string } {
  try {
    return { ort: loadOrt() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Directory of onnxruntime-node's native binaries for this platform (where the CUDA provider libraries go). */
export function ortBinaryDir(): string | null {
  let pkgJson: string;
  try {
    pkgJson = require.resolve('onnxruntime-node/package.json');
  } catch {
    try {
      // the package may not export package.json; fall back to its main entry (dist/index.js)
      pkgJson = path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'package.json');
    } catch {
      return null;
    }
  }
  const dir = path.join(path.dirname(pkgJson), 'bin', 'napi-v6', process.platform, process.arch);
  return fs.existsSync(dir) ? dir : null;
}

export function ortVersion(ort: OrtModule): string {
  return ort.env.versions.node ?? ort.env.versions.common ?? 'unknown';
}
