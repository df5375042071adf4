/**
 * The `jax` adapter: clients/python/examples/jax_adapter.py (JAX, written only against the stdio
 * protocol) run by the interpreter of `.venv-jax`, which `npm run setup:jax` creates. Without that
 * environment the adapter is unavailable with that fix; with it, it is an external command adapter
 * like any `--adapter-command` (float32, lax.Precision.HIGHEST).
 */
import * as path from 'path';
import type { AdapterEntry } from '../types';
import { repoRoot } from '../keras/python-env';
import { venvProgramAdapter, venvPython } from './venv-program';

export const JAX_VENV = '.venv-jax';
export const JAX_SETUP_COMMAND = 'npm run setup:jax';

export function jaxPython(root = repoRoot()): string {
  return venvPython(root, JAX_VENV);
}

export function jaxScript(root = repoRoot()): string {
  return path.join(root, 'clients', 'python', 'examples', 'jax_adapter.py');
}

export const JAX_ENTRY: AdapterEntry & { host: 'python' } = {
  id: 'jax',
  summary:
    'JAX (jit, float32, Precision.HIGHEST) through the stdio protocol: clients/python/examples/jax_adapter.py in .venv-jax (npm run setup:jax)',
  profile: 'fp32-cpu',
  outOfTheBox: false,
  host: 'python',
  create() {
    const root = repoRoot();
    return venvProgramAdapter({
      id: 'jax',
      root,
      python: jaxPython(root),
      script: jaxScript(root),
      args: [],
      setup: JAX_SETUP_COMMAND,
      what: 'the JAX environment',
    });
  },
};
