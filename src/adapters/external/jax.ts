/**
 * The `jax` adapter: clients/python/examples/jax_adapter.py (JAX, written only against the stdio
 * protocol) run by the interpreter of `.venv-jax`, which `npm run setup:jax` creates. Without that
 * environment the adapter is unavailable with that fix; with it, it is an external command adapter
 * like any `--adapter-command` (float32, lax.Precision.HIGHEST).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { AdapterEntry } from '../types';
import { repoRoot } from '../keras/python-env';
import { CommandAdapter } from './command';

export const JAX_VENV = '.venv-jax';
export const JAX_SETUP_COMMAND = 'npm run setup:jax';

export function jaxPython(root = repoRoot()): string {
  return process.platform === 'win32'
    ? path.join(root, JAX_VENV, 'Scripts', 'python.exe')
    : path.join(root, JAX_VENV, 'bin', 'python');
}

export function jaxScript(root = repoRoot()): string {
  return path.join(root, 'clients', 'python', 'examples', 'jax_adapter.py');
}

export const JAX_ENTRY: AdapterEntry = {
  id: 'jax',
  summary:
    'JAX (jit, float32, Precision.HIGHEST) through the stdio protocol: clients/python/examples/jax_adapter.py in .venv-jax (npm run setup:jax)',
  profile: 'fp32-cpu',
  outOfTheBox: false,
  create() {
    const root = repoRoot();
    const python = jaxPython(root);
    const script = jaxScript(root);
    const adapter = new CommandAdapter({ id: 'jax', command: [python, script], cwd: root, fix: JAX_SETUP_COMMAND });
    const probe = adapter.probe.bind(adapter);
    adapter.probe = async () => {
      if (!fs.existsSync(python))
        return {
          available: false,
          reason: `${path.relative(root, python) || python} is missing: the JAX environment is not set up`,
          fix: JAX_SETUP_COMMAND,
        };
      if (!fs.existsSync(script))
        return {
          available: false,
          reason: `${script} is missing`,
          fix: 'reinstall resnet-conformance (clients/python ships with it)',
        };
      return probe();
    };
    return adapter;
  },
};
