/**
 * What the ONNX Runtime CUDA execution provider needs, checked piece by piece so that the probe can
 * say exactly what is missing on this machine and how to provide it:
 *
 *   1. linux/x64 (the only platform onnxruntime-node ships the CUDA EP for);
 *   2. the provider libraries libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so
 *      next to onnxruntime-node's binding (not in the npm tarball; downloaded from NuGet by the
 *      package's install script, which this project's .npmrc skips);
 *   3. an NVIDIA GPU with its driver (/dev/nvidia0 or /proc/driver/nvidia/gpus, libcuda.so.1);
 *   4. CUDA 12 runtime libraries (libcudart.so.12, libcublas.so.12, libcublasLt.so.12) and
 *      cuDNN 9 (libcudnn.so.9) on the loader path — or, once the provider library is present,
 *      whatever `ldd` reports as "not found" for it.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ortBinaryDir } from './load';

export const CUDA_PROVIDER_LIBS = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
export const CUDA_RUNTIME_LIBS = [
  { lib: 'libcudart.so.12', what: 'CUDA 12 runtime' },
  { lib: 'libcublas.so.12', what: 'cuBLAS (CUDA 12)' },
  { lib: 'libcublasLt.so.12', what: 'cuBLASLt (CUDA 12)' },
  { lib: 'libcudnn.so.9', what: 'cuDNN 9' },
];

export const CUDA_INSTALL_FIX =
  'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node' +
  ' (the variable overrides an ONNXRUNTIME_NODE_INSTALL=skip the install was made with;' +
  ' the install script downloads Microsoft.ML.OnnxRuntime.Gpu.Linux from NuGet into node_modules/onnxruntime-node/bin/napi-v6/linux/x64/)';

export interface CudaRequirement {
  what: string;
  ok: boolean;
  detail: string;
  fix: string;
}

/** Shared libraries the dynamic loader can find: `ldconfig -p` plus LD_LIBRARY_PATH directories. */
function loaderLibraries(): { names: Set<string>; paths: Map<string, string> } {
  const names = new Set<string>();
  const paths = new Map<string, string>();
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      const out = execFileSync(ldconfig, ['-p'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 10_000,
      });
      for (const line of out.split('\n')) {
        const m = /^\s*(\S+)\s.*=>\s*(\S+)\s*$/.exec(line);
        if (m) {
          names.add(m[1]);
          if (!paths.has(m[1])) paths.set(m[1], m[2]);
        }
      }
      break;
    } catch {
      // try the next location
    }
  }
  for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) {
    try {
      for (const f of fs.readdirSync(dir)) {
        if (f.includes('.so')) {
          names.add(f);
          if (!paths.has(f)) paths.set(f, path.join(dir, f));
        }
      }
    } catch {
      // unreadable directory: ignore
    }
  }
  return { names, paths };
}

/** Libraries `ldd` cannot resolve for `file` (empty if ldd is unavailable). */
function lddMissing(file: string): string[] | null {
  try {
    const out = execFileSync('ldd', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    return out
      .split('\n')
      .filter((l) => l.includes('not found'))
      .map((l) => l.trim().split(/\s+/)[0]);
  } catch {
    return null;
  }
}

function gpuPresent(): { ok: boolean; detail: string } {
  const seen: string[] = [];
  if (fs.existsSync('/dev/nvidia0')) seen.push('/dev/nvidia0');
  try {
    const gpus = fs.readdirSync('/proc/driver/nvidia/gpus');
    if (gpus.length) seen.push(`/proc/driver/nvidia/gpus (${gpus.length})`);
  } catch {
    // no driver
  }
  return seen.length
    ? { ok: true, detail: seen.join(', ') }
    : { ok: false, detail: 'no /dev/nvidia0 and no /proc/driver/nvidia/gpus' };
}

export function checkCudaRequirements(): CudaRequirement[] {
  const reqs: CudaRequirement[] = [];
  const platform = `${process.platform}/${process.arch}`;
  reqs.push({
    what: 'platform linux/x64',
    ok: platform === 'linux/x64',
    detail: platform,
    fix: 'onnxruntime-node ships the CUDA execution provider for linux/x64 only',
  });
  const bin = ortBinaryDir();
  const providerPath = bin ? path.join(bin, CUDA_PROVIDER_LIBS[0]) : null;
  for (const lib of CUDA_PROVIDER_LIBS) {
    const p = bin ? path.join(bin, lib) : null;
    const ok = p !== null && fs.existsSync(p);
    reqs.push({
      what: `ONNX Runtime CUDA provider library ${lib}`,
      ok,
      detail: ok ? p! : `not in ${bin ?? 'onnxruntime-node (binary directory not found)'}`,
      fix: CUDA_INSTALL_FIX,
    });
  }
  const gpu = gpuPresent();
  const libs = loaderLibraries();
  reqs.push({
    what: 'NVIDIA GPU and driver',
    ok: gpu.ok,
    detail: gpu.detail,
    fix: 'a machine with an NVIDIA GPU (compute capability >= 6.0; TF32 needs >= 8.0) and its driver',
  });
  reqs.push({
    what: 'NVIDIA driver library libcuda.so.1',
    ok: libs.names.has('libcuda.so.1'),
    detail: libs.paths.get('libcuda.so.1') ?? 'not on the loader path',
    fix: 'install the NVIDIA driver (provides libcuda.so.1)',
  });
  const missingByLdd = providerPath && fs.existsSync(providerPath) ? lddMissing(providerPath) : null;
  for (const { lib, what } of CUDA_RUNTIME_LIBS) {
    const ok = missingByLdd ? !missingByLdd.includes(lib) : libs.names.has(lib);
    const others = [...libs.names].filter((n) => n.startsWith(lib.replace(/\.so\.\d+$/, '.so.'))).sort();
    reqs.push({
      what: `${what} (${lib})`,
      ok,
      detail: ok
        ? (libs.paths.get(lib) ?? 'found')
        : `not on the loader path${others.length ? `; found ${others.join(', ')} (wrong major version)` : ''}`,
      fix: lib.startsWith('libcudnn')
        ? 'install cuDNN 9 for CUDA 12 (e.g. apt package libcudnn9-cuda-12, or pip nvidia-cudnn-cu12 and add its lib directory to LD_LIBRARY_PATH)'
        : 'install the CUDA 12 runtime libraries (e.g. apt packages cuda-cudart-12-x and libcublas-12-x, or pip nvidia-cuda-runtime-cu12 / nvidia-cublas-cu12 and add their lib directories to LD_LIBRARY_PATH)',
    });
  }
  if (missingByLdd) {
    const known = new Set(CUDA_RUNTIME_LIBS.map((l) => l.lib));
    for (const lib of missingByLdd.filter((l) => !known.has(l))) {
      reqs.push({
        what: `library ${lib} needed by ${CUDA_PROVIDER_LIBS[0]}`,
        ok: false,
        detail: 'ldd: not found',
        fix: 'install the CUDA 12 library that provides it and put it on the loader path',
      });
    }
  }
  return reqs;
}
