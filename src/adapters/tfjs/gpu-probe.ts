/**
 * What @tensorflow/tfjs-node-gpu 4.22 needs from the machine (it loads libtensorflow 2.9.1 GPU):
 * an NVIDIA driver (> 450.x), the CUDA 11.2 runtime libraries and cuDNN 8.1 (see docs/tfjs.md).
 * Only looks at files and the dynamic linker cache; loads nothing.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** Shared libraries libtensorflow 2.9.1 (GPU) opens at start-up, with the package that provides each. */
export const CUDA_LIBRARIES: { soname: string; provides: string }[] = [
  { soname: 'libcuda.so.1', provides: 'NVIDIA driver (> 450.x)' },
  { soname: 'libcudart.so.11.0', provides: 'CUDA 11.2 runtime' },
  { soname: 'libcublas.so.11', provides: 'cuBLAS (CUDA 11.2)' },
  { soname: 'libcublasLt.so.11', provides: 'cuBLASLt (CUDA 11.2)' },
  { soname: 'libcufft.so.10', provides: 'cuFFT (CUDA 11.2)' },
  { soname: 'libcurand.so.10', provides: 'cuRAND (CUDA 11.2)' },
  { soname: 'libcusolver.so.11', provides: 'cuSOLVER (CUDA 11.2)' },
  { soname: 'libcusparse.so.11', provides: 'cuSPARSE (CUDA 11.2)' },
  { soname: 'libcudnn.so.8', provides: 'cuDNN 8.1' },
];

export interface GpuEnvironment {
  /** Contents of /proc/driver/nvidia/version's first line, or null without a loaded NVIDIA kernel driver. */
  driver: string | null;
  /** sonames from CUDA_LIBRARIES the dynamic linker can find. */
  found: string[];
  missing: { soname: string; provides: string }[];
}

function ldconfigNames(): Set<string> {
  const names = new Set<string>();
  for (const bin of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      const out = execFileSync(bin, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
      for (const line of out.split('\n')) {
        const m = /^\s*(\S+)\s/.exec(line);
        if (m) names.add(m[1]);
      }
      return names;
    } catch {
      // try the next location
    }
  }
  return names;
}

function inLibraryPath(soname: string): boolean {
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  dirs.push('/usr/local/cuda/lib64', '/usr/local/cuda-11.2/lib64');
  return dirs.some((d) => fs.existsSync(path.join(d, soname)));
}

export function gpuEnvironment(): GpuEnvironment {
  let driver: string | null = null;
  try {
    driver = fs.readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0].trim() || null;
  } catch {
    driver = null;
  }
  const cache = ldconfigNames();
  const found: string[] = [];
  const missing: { soname: string; provides: string }[] = [];
  for (const lib of CUDA_LIBRARIES) {
    if (cache.has(lib.soname) || inLibraryPath(lib.soname)) found.push(lib.soname);
    else missing.push(lib);
  }
  return { driver, found, missing };
}

/** One sentence per missing piece (empty when the machine has what tfjs-node-gpu needs). */
export function gpuEnvironmentProblems(env: GpuEnvironment): string[] {
  const problems: string[] = [];
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    problems.push(
      `tfjs-node-gpu ships libtensorflow GPU builds for linux-x64 (and windows-x64) only; this is ${process.platform}-${process.arch}`,
    );
  }
  if (!env.driver)
    problems.push(
      'no NVIDIA kernel driver loaded (/proc/driver/nvidia/version is missing; no NVIDIA GPU or driver > 450.x not installed)',
    );
  if (env.missing.length > 0) {
    problems.push(
      `not found by the dynamic linker (ldconfig -p, LD_LIBRARY_PATH): ${env.missing.map((m) => m.soname).join(', ')} ` +
        '(libtensorflow 2.9.1 GPU needs the NVIDIA driver > 450.x, CUDA 11.2 and cuDNN 8.1)',
    );
  }
  return problems;
}
