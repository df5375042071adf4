/**
 * Facts about the machine and software a run used: OS, CPU, Node, git commit, every runtime
 * package's installed version, NVIDIA GPU / driver / CUDA (via nvidia-smi when present).
 * Nothing time-dependent and nothing identifying the user (no hostname, no paths).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { AdapterDescription } from '../adapters/types';
import { packageRoot } from '../util/package-root';

export { packageRoot } from '../util/package-root';

export interface RunInfo {
  os: { platform: string; release: string; arch: string; distro: string | null };
  cpu: { model: string; cores: number; memoryGiB: number };
  node: { version: string; v8: string };
  git: { commit: string | null; dirty: boolean | null; note?: string };
  /** Installed version of every runtime package (dependencies, @tensorflow/*, onnxruntime-*). */
  packages: Record<string, string>;
  gpu: {
    devices: Array<{ name: string; driver: string; memoryMiB: number | null }>;
    cudaVersion: string | null;
    note?: string;
  };
  /** Precision settings, by adapter id (from describe()): precision + settings such as TF32, graph optimization level. */
  precision: Record<string, { precision: string; settings: Record<string, string | number | boolean> }>;
}

export function toolVersion(root = packageRoot()): string {
  try {
    return (
      (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string }).version ??
      'unknown'
    );
  } catch {
    return 'unknown';
  }
}

function run(cmd: string, args: string[], cwd: string): string | null {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
  } catch {
    return null;
  }
}

function gitInfo(root: string): RunInfo['git'] {
  if (run('git', ['--version'], root) === null) return { commit: null, dirty: null, note: 'git is not installed' };
  const commit = run('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], root);
  // --no-optional-locks: a read-only status that never refreshes (writes) the index.
  const status = run('git', ['--no-optional-locks', 'status', '--porcelain', '--untracked-files=no'], root);
  if (commit === null) {
    const inside = run('git', ['rev-parse', '--is-inside-work-tree'], root) === 'true';
    return {
      commit: null,
      dirty: status === null ? null : status.length > 0,
      note: inside ? 'no commit yet' : 'not a git checkout',
    };
  }
  return { commit, dirty: status === null ? null : status.length > 0 };
}

function distro(): string | null {
  try {
    const text = fs.readFileSync('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
    return m ? m[1] : null;
  } catch {
    return null;
  }
}

function installedVersion(root: string, name: string): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

/**
 * Runtime packages: the package's dependencies and optionalDependencies, plus every installed
 * @tensorflow/* and onnxruntime-* package (runtimes pulled in transitively), sorted by name.
 */
export function runtimePackages(root = packageRoot()): Record<string, string> {
  const names = new Set<string>();
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    for (const n of Object.keys(pkg.dependencies ?? {})) names.add(n);
    for (const n of Object.keys(pkg.optionalDependencies ?? {})) names.add(n);
  } catch {
    /* no package.json: only what is installed */
  }
  const nm = path.join(root, 'node_modules');
  const list = (d: string): string[] => {
    try {
      return fs.readdirSync(d);
    } catch {
      return [];
    }
  };
  for (const n of list(path.join(nm, '@tensorflow'))) names.add(`@tensorflow/${n}`);
  for (const n of list(nm)) if (n.startsWith('onnxruntime')) names.add(n);
  const out: Record<string, string> = {};
  for (const n of [...names].sort()) out[n] = installedVersion(root, n);
  return out;
}

/** GPU facts from nvidia-smi; an empty device list (with a note) when there is none. */
export function gpuInfo(): RunInfo['gpu'] {
  const q = run(
    'nvidia-smi',
    ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader,nounits'],
    process.cwd(),
  );
  if (q === null)
    return { devices: [], cudaVersion: null, note: 'nvidia-smi not found or failed: no NVIDIA GPU visible' };
  const devices = q
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, driver, mem] = line.split(',').map((s) => s.trim());
      const m = Number(mem);
      return { name, driver, memoryMiB: Number.isFinite(m) ? m : null };
    });
  const header = run('nvidia-smi', [], process.cwd()) ?? '';
  const cuda = /CUDA Version:\s*([0-9.]+)/.exec(header);
  return { devices, cudaVersion: cuda ? cuda[1] : null };
}

export function precisionOf(descriptions: Record<string, AdapterDescription | null>): RunInfo['precision'] {
  const out: RunInfo['precision'] = {};
  for (const [id, d] of Object.entries(descriptions)) {
    if (d) out[id] = { precision: d.precision, settings: { ...d.settings } };
  }
  return out;
}

export function collectRunInfo(
  descriptions: Record<string, AdapterDescription | null> = {},
  root = packageRoot(),
): RunInfo {
  const cpus = os.cpus();
  return {
    os: { platform: os.platform(), release: os.release(), arch: os.arch(), distro: distro() },
    cpu: {
      model: cpus[0]?.model.trim() ?? 'unknown',
      cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    },
    node: { version: process.version, v8: process.versions.v8 },
    git: gitInfo(root),
    packages: runtimePackages(root),
    gpu: gpuInfo(),
    precision: precisionOf(descriptions),
  };
}
