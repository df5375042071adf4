#!/usr/bin/env node
// npm run setup:torch: creates .venv-torch (separate from .venv and .venv-jax: torch pins its own
// numpy) with the pinned CPU PyTorch used by clients/python/examples/torch_adapter.py. The +cpu build:
// the plain torch wheels pull the CUDA libraries (gigabytes). On a machine with CUDA, install a CUDA
// build of torch 2.13.0 by hand to run the adapter on the GPU. Works offline here (local package
// index, no retries when pypi.org does not resolve); elsewhere the +cpu wheel comes from PyTorch's
// CPU index (--extra-index-url https://download.pytorch.org/whl/cpu).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const VENV = join(ROOT, '.venv-torch');
const PYTHON = process.platform === 'win32' ? join(VENV, 'Scripts', 'python.exe') : join(VENV, 'bin', 'python');
export const PINNED = ['torch==2.13.0+cpu', 'numpy==2.4.6'];
const CPU_INDEX = 'https://download.pytorch.org/whl/cpu';
const MANUAL = `python3 -m venv .venv-torch && .venv-torch/bin/pip install --extra-index-url ${CPU_INDEX} ${PINNED.join(' ')}`;
const CHECK = 'import torch, numpy; print(torch.__version__, numpy.__version__, torch.backends.mkldnn.is_available())';

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
  const [torch, numpy, mkldnn] = r.stdout.trim().split(/\s+/);
  return { torch, numpy, mkldnn };
}

function pipIndexArgs() {
  const r = spawnSync(PYTHON, ['-c', "import socket; socket.getaddrinfo('pypi.org', 443)"], {
    stdio: 'ignore',
    timeout: 15_000,
  });
  if (r.status === 0) return ['--extra-index-url', CPU_INDEX];
  console.log('pypi.org does not resolve: installing from the locally configured package indexes (pip --retries 0)');
  return ['--retries', '0'];
}

function ready(v) {
  console.log(`PyTorch environment ready: ${PYTHON} (torch ${v.torch}, numpy ${v.numpy}, oneDNN ${v.mkldnn})`);
  return 0;
}

function main() {
  const want = PINNED.map((p) => p.split('==')[1]);
  let v = installed();
  if (v && v.torch === want[0] && v.numpy === want[1]) return ready(v);
  if (!existsSync(PYTHON)) {
    const base = process.env.PYTHON ?? 'python3';
    if (run(base, ['-m', 'venv', VENV]) !== 0) {
      console.error(`could not create ${VENV} with ${base} -m venv; set it up by hand: ${MANUAL}`);
      return 1;
    }
  }
  if (run(PYTHON, ['-m', 'pip', 'install', ...pipIndexArgs(), ...PINNED]) !== 0 || !(v = installed())) {
    console.error(`could not install ${PINNED.join(' ')} into ${VENV}; set it up by hand: ${MANUAL}`);
    return 1;
  }
  return ready(v);
}

process.exitCode = main();
