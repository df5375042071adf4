/**
 * The tfjs backends, one adapter id each. A backend definition says how to check the machine
 * (preflight, no loading), how to load and register the backend package into the tfjs engine,
 * and which settings belong to its results.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TF_ONEDNN_CONV_SIGFPE, tfjsNodeProbe } from '../known-crashes';
import type { ProbeResult } from '../types';
import type { Settings, TfjsBackendDef } from './backend-def';
import { gpuEnvironment, gpuEnvironmentProblems } from './gpu-probe';
import { fixFor, nodeInstallState, TFJS_NODE_VERSION, type TfjsNodePackage } from './node-install';
import { WEBGPU_DAWN_BACKEND } from './webgpu-dawn-backend';
import { installedVersion, loadTfjsWasm, resolvePackageDir, type Tf, type TfWasm } from './tf-loader';

export type { Settings, TfjsBackendDef, TfjsBackendName } from './backend-def';

interface Problem {
  reason: string;
  fix: string;
}

const available: ProbeResult = { available: true };

function missingPackage(pkg: string): ProbeResult | null {
  if (resolvePackageDir(pkg)) return null;
  return { available: false, reason: `${pkg} is not installed`, fix: 'npm ci (it is a package.json dependency)' };
}

// ---------------------------------------------------------------------------------------------
// cpu: @tensorflow/tfjs-backend-cpu (pure JavaScript kernels), part of the @tensorflow/tfjs union package
// ---------------------------------------------------------------------------------------------

export const CPU_BACKEND: TfjsBackendDef = {
  id: 'tfjs-cpu',
  backendName: 'cpu',
  packageName: '@tensorflow/tfjs-backend-cpu',
  device: 'cpu',
  precision:
    'float32 (JavaScript kernels: Conv2D accumulates in a float32 buffer, each multiply-add computed in float64 and rounded once; MatMul sums blocks in float64)',
  notes: ['kernels of @tensorflow/tfjs-backend-cpu, loaded through the @tensorflow/tfjs union package'],
  fix: 'npm ci',
  preflight: () => missingPackage('@tensorflow/tfjs') ?? available,
  register: async () => undefined, // the union package registers 'cpu' when it loads
  childProbe: () => null, // pure JavaScript: installed by npm ci is enough
  settings: async () => ({
    backend: 'cpu',
    'tfjs-backend-cpu': installedVersion('@tensorflow/tfjs-backend-cpu') ?? 'unknown',
  }),
};

// ---------------------------------------------------------------------------------------------
// wasm: @tensorflow/tfjs-backend-wasm (XNNPACK compiled to WebAssembly)
// ---------------------------------------------------------------------------------------------

const WASM_PKG = '@tensorflow/tfjs-backend-wasm';
const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
/** Wasm modules whose binary paths were set (setWasmPaths must run once, before the backend initializes). */
const wasmConfigured = new WeakSet<object>();

function wasmDir(): string | null {
  const dir = resolvePackageDir(WASM_PKG);
  return dir ? path.join(dir, 'dist') : null;
}

/** The binary tfjs-backend-wasm loads for these capabilities (its getPathToWasmBinary rule). */
export function wasmBinaryFor(simd: boolean, threads: boolean): string {
  if (simd && threads) return 'tfjs-backend-wasm-threaded-simd.wasm';
  if (simd) return 'tfjs-backend-wasm-simd.wasm';
  return 'tfjs-backend-wasm.wasm';
}

function configureWasm(wasm: TfWasm): void {
  if (wasmConfigured.has(wasm)) return;
  const dir = wasmDir();
  if (!dir) throw new Error(`${WASM_PKG} is not installed`);
  // Local files from the installed package: the Node build reads them with fs, no network.
  wasm.setWasmPaths(dir + path.sep);
  wasmConfigured.add(wasm);
}

export const WASM_BACKEND: TfjsBackendDef = {
  id: 'tfjs-wasm',
  backendName: 'wasm',
  packageName: WASM_PKG,
  device: 'cpu',
  precision: 'float32 (XNNPACK WebAssembly kernels)',
  notes: [
    'wasm binaries from node_modules/@tensorflow/tfjs-backend-wasm/dist/ (setWasmPaths, no network)',
    'tfjs-backend-wasm 4.22 disables wasm threads under Node.js (WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE; tfjs issue 3830)',
  ],
  fix: 'npm ci',
  preflight(): ProbeResult {
    const missing = missingPackage('@tensorflow/tfjs') ?? missingPackage(WASM_PKG);
    if (missing) return missing;
    const dir = wasmDir()!;
    const absent = WASM_BINARIES.filter((f) => !fs.existsSync(path.join(dir, f)));
    if (absent.length > 0) {
      return {
        available: false,
        reason: `${WASM_PKG} is missing its wasm binaries in ${dir}: ${absent.join(', ')}`,
        fix: 'rm -rf node_modules && npm ci',
      };
    }
    if (installedVersion(WASM_PKG) !== installedVersion('@tensorflow/tfjs')) {
      return {
        available: false,
        reason: `${WASM_PKG}@${installedVersion(WASM_PKG)} does not match @tensorflow/tfjs@${installedVersion('@tensorflow/tfjs')}`,
        fix: 'npm ci',
      };
    }
    return available;
  },
  async register(): Promise<void> {
    configureWasm(loadTfjsWasm());
  },
  childProbe: () => ({
    tfjs: resolvePackageDir('@tensorflow/tfjs')!,
    pkg: resolvePackageDir(WASM_PKG),
    backendName: 'wasm',
    wasmPrefix: wasmDir()! + path.sep,
  }),
  async settings(tf: Tf): Promise<Settings> {
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
    return {
      backend: 'wasm',
      'tfjs-backend-wasm': installedVersion(WASM_PKG) ?? 'unknown',
      wasmSimd: simd,
      wasmThreads: threads,
      wasmBinary: wasmBinaryFor(simd, threads),
      xnnpackThreads: loadTfjsWasm().getThreadsCount(),
      wasmPath: wasmDir() ?? 'unknown',
    };
  },
};

// ---------------------------------------------------------------------------------------------
// tensorflow: @tensorflow/tfjs-node (libtensorflow, CPU) and @tensorflow/tfjs-node-gpu (CUDA)
// ---------------------------------------------------------------------------------------------

interface NodeBackendInstance {
  isGPUPackage?: boolean;
  isUsingGpuDevice?: boolean;
  binding?: { TF_Version?: string };
}

function tensorflowBackend(tf: Tf): NodeBackendInstance | null {
  return ((tf.engine().registry as Record<string, unknown>).tensorflow as NodeBackendInstance | null) ?? null;
}

/** The 'tensorflow' backend already in this process comes from the other package (CPU vs GPU)? */
function otherPackageLoaded(tf: Tf, pkg: TfjsNodePackage): boolean {
  const b = tensorflowBackend(tf);
  return b !== null && b.isGPUPackage !== (pkg === '@tensorflow/tfjs-node-gpu');
}

function onednnSetting(): string {
  const v = process.env.TF_ENABLE_ONEDNN_OPTS;
  return v === undefined ? 'default (on: TensorFlow >= 2.9 on Linux x86)' : `TF_ENABLE_ONEDNN_OPTS=${v}`;
}

function tf32Override(): string {
  return process.env.NVIDIA_TF32_OVERRIDE === undefined ? 'unset' : process.env.NVIDIA_TF32_OVERRIDE;
}

function nodeBackend(opts: {
  id: string;
  pkg: TfjsNodePackage;
  device: 'cpu' | 'gpu';
  precision: string;
  notes: string[];
  /** Machine or environment problems, each with its fix. */
  envProblems: () => Problem[];
  /** A TF32 environment problem that must also stop build() (the variant would silently run the other way). */
  tf32Problem?: () => Problem | null;
}): TfjsBackendDef {
  const { pkg } = opts;
  return {
    id: opts.id,
    backendName: 'tensorflow',
    packageName: pkg,
    device: opts.device,
    precision: opts.precision,
    notes: opts.notes,
    fix: fixFor(pkg),
    preflight(): ProbeResult {
      const problems = opts.envProblems();
      const state = nodeInstallState(pkg);
      if (!state.ok) problems.push({ reason: state.reason!, fix: fixFor(pkg) });
      if (problems.length === 0) return available;
      const fixes = [...new Set(problems.map((p) => p.fix))];
      return { available: false, reason: problems.map((p) => p.reason).join('; '), fix: fixes.join('; then ') };
    },
    async register(tf: Tf): Promise<void> {
      const tf32 = opts.tf32Problem?.();
      if (tf32) throw new Error(`${opts.id}: ${tf32.reason}; fix: ${tf32.fix}`);
      if (otherPackageLoaded(tf, pkg)) {
        throw new Error(
          `the 'tensorflow' backend of this process comes from the other tfjs-node package; ` +
            `${pkg} needs its own process (the runner runs each adapter in a child process)`,
        );
      }
      if (tensorflowBackend(tf)) return;
      // Loading registers the 'tensorflow' backend (and makes it current) in the shared tfjs engine.
      require(pkg);
    },
    childProbe: () => ({
      tfjs: resolvePackageDir('@tensorflow/tfjs')!,
      pkg: resolvePackageDir(pkg),
      backendName: 'tensorflow',
      wasmPrefix: null,
    }),
    crashProbe() {
      // libtensorflow 2.21 (provisioned from the tensorflow-cpu wheel) shares TensorFlow's oneDNN crash.
      const state = nodeInstallState(pkg);
      const version = state.stamp?.tensorflowVersion;
      if (!state.ok || !state.packageDir || !version?.startsWith('2.21.')) return null;
      return { crash: TF_ONEDNN_CONV_SIGFPE, probe: tfjsNodeProbe(state.packageDir, version) };
    },
    async settings(tf: Tf): Promise<Settings> {
      const b = tensorflowBackend(tf);
      const state = nodeInstallState(pkg);
      const s: Settings = {
        backend: 'tensorflow',
        [pkg.slice('@tensorflow/'.length)]: installedVersion(pkg) ?? 'unknown',
        libtensorflow: b?.binding?.TF_Version ?? 'unknown',
        libtensorflowSource: state.stamp
          ? `${state.stamp.source} (${state.stamp.wheel})`
          : 'tfjs-node install script download (libtensorflow 2.9.1)',
        gpuDevice: Boolean(b?.isUsingGpuDevice),
        oneDNN: onednnSetting(),
        intraOpThreads: process.env.TF_NUM_INTRAOP_THREADS ?? 'TensorFlow default (one per core)',
      };
      if (opts.device === 'gpu') {
        s.NVIDIA_TF32_OVERRIDE = tf32Override();
        s.tf32 = process.env.NVIDIA_TF32_OVERRIDE !== '0';
      }
      return s;
    },
  };
}

export const NODE_BACKEND = nodeBackend({
  id: 'tfjs-node',
  pkg: '@tensorflow/tfjs-node',
  device: 'cpu',
  precision: 'float32 (libtensorflow CPU kernels, oneDNN when enabled)',
  notes: [
    `@tensorflow/tfjs-node@${TFJS_NODE_VERSION} is not a package.json dependency: npm run setup:tfjs-node provisions it (docs/tfjs.md)`,
  ],
  envProblems: () => [],
});

/** tfjs-node-gpu (TF32 on) must not run with NVIDIA_TF32_OVERRIDE=0. */
function tf32OnProblem(): Problem | null {
  if (process.env.NVIDIA_TF32_OVERRIDE !== '0') return null;
  return {
    reason:
      'NVIDIA_TF32_OVERRIDE=0 is set in this process, which turns TF32 off (that is the tfjs-node-gpu-no-tf32 variant)',
    fix: 'run tfjs-node-gpu in a process without NVIDIA_TF32_OVERRIDE=0 (unset NVIDIA_TF32_OVERRIDE)',
  };
}

/** tfjs-node-gpu-no-tf32 needs NVIDIA_TF32_OVERRIDE=0 from the start of the process. */
function tf32OffProblem(): Problem | null {
  if (process.env.NVIDIA_TF32_OVERRIDE === '0') return null;
  return {
    reason: `NVIDIA_TF32_OVERRIDE is ${tf32Override()} in this process, not 0 (it must be in the environment before libtensorflow and CUDA load)`,
    fix:
      'set it when starting the process: NVIDIA_TF32_OVERRIDE=0 resnet-conformance forward --adapter tfjs-node-gpu-no-tf32 ... ' +
      '(or NVIDIA_TF32_OVERRIDE=0 CONFORMANCE_ADAPTERS=tfjs-node-gpu-no-tf32 npm test)',
  };
}

function gpuProblems(): Problem[] {
  return gpuEnvironmentProblems(gpuEnvironment()).map((reason) => ({
    reason,
    fix: fixFor('@tensorflow/tfjs-node-gpu'),
  }));
}

export const NODE_GPU_BACKEND = nodeBackend({
  id: 'tfjs-node-gpu',
  pkg: '@tensorflow/tfjs-node-gpu',
  device: 'gpu',
  precision:
    'float32 storage; TF32 (10-bit mantissa) inputs in Conv2D/MatMul on Ampere or newer GPUs (TensorFlow default)',
  notes: ['needs libtensorflow 2.9.1 GPU, CUDA 11.2, cuDNN 8.1, NVIDIA driver > 450.x (docs/tfjs.md#tfjs-node-gpu)'],
  envProblems: () => [...gpuProblems(), ...[tf32OnProblem()].filter((x): x is Problem => x !== null)],
  tf32Problem: tf32OnProblem,
});

export const NODE_GPU_NO_TF32_BACKEND = nodeBackend({
  id: 'tfjs-node-gpu-no-tf32',
  pkg: '@tensorflow/tfjs-node-gpu',
  device: 'gpu',
  precision: 'float32 (TF32 disabled by NVIDIA_TF32_OVERRIDE=0)',
  notes: [
    'needs NVIDIA_TF32_OVERRIDE=0 in the process environment before libtensorflow and CUDA load',
    'needs libtensorflow 2.9.1 GPU, CUDA 11.2, cuDNN 8.1, NVIDIA driver > 450.x (docs/tfjs.md#tfjs-node-gpu)',
  ],
  envProblems: () => [...gpuProblems(), ...[tf32OffProblem()].filter((x): x is Problem => x !== null)],
  tf32Problem: tf32OffProblem,
});

export const TFJS_BACKENDS: readonly TfjsBackendDef[] = [
  CPU_BACKEND,
  WASM_BACKEND,
  NODE_BACKEND,
  NODE_GPU_BACKEND,
  NODE_GPU_NO_TF32_BACKEND,
  WEBGPU_DAWN_BACKEND,
];

export function tfjsBackend(id: string): TfjsBackendDef {
  const b = TFJS_BACKENDS.find((x) => x.id === id);
  if (!b) throw new Error(`unknown tfjs adapter '${id}'; known: ${TFJS_BACKENDS.map((x) => x.id).join(', ')}`);
  return b;
}
