#!/usr/bin/env node
// npm run setup:jax: creates .venv-jax (separate from .venv: JAX and TensorFlow pin different numpy
// and ml_dtypes) with the pinned JAX used by clients/python/examples/jax_adapter.py. CPU jaxlib; on a
// machine with CUDA, add `jax[cuda12]==0.10.2` by hand to run it on the GPU. Works offline here
// (local package index, no retries when pypi.org does not resolve), online elsewhere.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const VENV = join(ROOT, '.venv-jax');
const PYTHON = process.platform === 'win32' ? join(VENV, 'Scripts', 'python.exe') : join(VENV, 'bin', 'python');
export const PINNED = ['jax==0.10.2', 'jaxlib==0.10.2'];
const MANUAL = `python3 -m venv .venv-jax && .venv-jax/bin/pip install ${PINNED.join(' ')}`;
const CHECK =
  'import jax, jaxlib, numpy; print(jax.__version__, jaxlib.__version__, numpy.__version__, jax.default_backend())';

function run(cmd, args) {
  console.log(`$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT });
  if (r.error) console.error(`cannot run ${cmd}: ${r.error.message}`);
  return r.error ? 127 : (r.status ?? 1);
}

function installed() {
  if (!existsSync(PYTHON)) return undefined;
  const r = spawnSync(PYTHON, ['-c', CHECK], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const [jax, jaxlib, numpy, backend] = r.stdout.trim().split(/\s+/);
  return { jax, jaxlib, numpy, backend };
}

function offlinePipArgs() {
  const r = spawnSync(PYTHON, ['-c', "import socket; socket.getaddrinfo('pypi.org', 443)"], {
    stdio: 'ignore',
    timeout: 15_000,
  });
  if (r.status === 0) return [];
  console.log('pypi.org does not resolve: installing from the locally configured package indexes (pip --retries 0)');
  return ['--retries', '0'];
}

function main() {
  const want = PINNED.map((p) => p.split('==')[1]);
  let v = installed();
  if (v && v.jax === want[0] && v.jaxlib === want[1]) {
    console.log(
      `JAX environment ready: ${PYTHON} (jax ${v.jax}, jaxlib ${v.jaxlib}, numpy ${v.numpy}, backend ${v.backend})`,
    );
    return 0;
  }
  if (!existsSync(PYTHON)) {
    const base = process.env.PYTHON ?? 'python3';
    if (run(base, ['-m', 'venv', VENV]) !== 0) {
      console.error(`could not create ${VENV} with ${base} -m venv; set it up by hand: ${MANUAL}`);
      return 1;
    }
  }
  if (run(PYTHON, ['-m', 'pip', 'install', ...offlinePipArgs(), ...PINNED]) !== 0 || !(v = installed())) {
    console.error(`could not install ${PINNED.join(' ')} into ${VENV}; set it up by hand: ${MANUAL}`);
    return 1;
  }
  console.log(
    `JAX environment ready: ${PYTHON} (jax ${v.jax}, jaxlib ${v.jaxlib}, numpy ${v.numpy}, backend ${v.backend})`,
  );
  return 0;
}

process.exitCode = main();
