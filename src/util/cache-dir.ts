/**
 * Where an on-disk cache of the package lives: the variable's value when set (off/0/false/no disables
 * it: null), else node_modules/.cache/resnet-conformance/<name> under the package root, which `npm ci`
 * starts empty and git ignores.
 */
import * as path from 'path';
import { packageRoot } from './package-root';

export function cacheDirFromEnv(value: string | undefined, name: string): string | null {
  if (value !== undefined && ['off', '0', 'false', 'no'].includes(value.trim().toLowerCase())) return null;
  if (value !== undefined && value.trim() !== '') return path.resolve(value);
  return path.join(packageRoot(), 'node_modules', '.cache', 'resnet-conformance', name);
}
