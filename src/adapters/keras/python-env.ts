/**
 * The pinned Python environment (git-ignored `.venv` in the repository) shared by the fixture
 * generator and the `keras` adapter.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const PINNED_PACKAGES = ['tensorflow-cpu==2.21.0', 'keras==3.15.1', 'h5py', 'pillow==12.3.0'] as const;
export const PINNED_VERSIONS = { tensorflow: '2.21.0', keras: '3.15.1' } as const;

/** The command that creates the environment by hand (what `npm run fixtures:generate` does when it is missing). */
export const VENV_SETUP_COMMAND = `python3 -m venv .venv && .venv/bin/pip install ${PINNED_PACKAGES.join(' ')}`;

/** Environment variable naming another Python interpreter (with TensorFlow and Keras) to use. */
export const PYTHON_ENV_VAR = 'RESNET_CONFORMANCE_PYTHON';

/** The repository root: the nearest folder upward holding the resnet-conformance package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        if ((JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string }).name === 'resnet-conformance') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the resnet-conformance package.json above ${__dirname}`);
    dir = up;
  }
}

export function venvDir(root = repoRoot()): string {
  return path.join(root, '.venv');
}

/** The interpreter to use: $RESNET_CONFORMANCE_PYTHON, else the repository's .venv. */
export function pythonPath(root = repoRoot()): string {
  const env = process.env[PYTHON_ENV_VAR];
  if (env) return env;
  return process.platform === 'win32'
    ? path.join(venvDir(root), 'Scripts', 'python.exe')
    : path.join(venvDir(root), 'bin', 'python');
}

export interface PythonProbe {
  ok: boolean;
  python: string;
  /** Versions when ok. */
  tensorflow?: string;
  keras?: string;
  numpy?: string;
  /** Why not, when not ok. */
  reason?: string;
}

const PROBE_SCRIPT = [
  'import os',
  "os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')",
  'import json, numpy, tensorflow, keras',
  "print(json.dumps({'tensorflow': tensorflow.__version__, 'keras': keras.__version__, 'numpy': numpy.__version__}))",
].join('\n');

const probeCache = new Map<string, PythonProbe>();

/**
 * Checks (once per process and interpreter) that the interpreter exists and imports TensorFlow
 * and Keras. Importing TensorFlow takes a few seconds; the result is cached.
 */
export function probePython(python = pythonPath(), opts: { fresh?: boolean } = {}): PythonProbe {
  const cached = opts.fresh ? undefined : probeCache.get(python);
  if (cached) return cached;
  let result: PythonProbe;
  if (!fs.existsSync(python)) {
    result = { ok: false, python, reason: `no Python environment: ${python} does not exist` };
  } else {
    const r = spawnSync(python, ['-c', PROBE_SCRIPT], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, CUDA_VISIBLE_DEVICES: '' },
    });
    if (r.error) {
      result = { ok: false, python, reason: `cannot run ${python}: ${r.error.message}` };
    } else if (r.status !== 0) {
      const tail = (r.stderr || '').trim().split('\n').slice(-1)[0] ?? '';
      result = {
        ok: false,
        python,
        reason: `${python} cannot import tensorflow and keras (${tail || `exit ${r.status}`})`,
      };
    } else {
      try {
        const lines = r.stdout.trim().split('\n');
        const v = JSON.parse(lines[lines.length - 1]) as { tensorflow: string; keras: string; numpy: string };
        result = { ok: true, python, ...v };
      } catch {
        result = { ok: false, python, reason: `${python} printed no versions: ${r.stdout.slice(0, 200)}` };
      }
    }
  }
  probeCache.set(python, result);
  return result;
}
