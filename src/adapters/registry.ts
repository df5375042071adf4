import { ReferenceAdapter } from './reference';
import { JAX_ENTRY } from './external/jax';
import { TORCH_ENTRIES } from './external/torch';
import { TFLITE_ENTRIES } from './external/tflite';
import { LITERT_ENTRIES } from './litert';
import { LITERT_SUITE_OPT_IN, TFLITE_INFERENCE_ONLY } from './external/tflite';
import { KerasAdapter } from './keras';
import { OnnxRuntimeAdapter } from './onnxruntime';
import { TfjsAdapter } from './tfjs';
import { BROWSER_PROCESS_GROUP, litertBrowserAdapter, ortWebBrowserAdapter, tfjsBrowserAdapter } from './browser';
import { ortWebNodeAdapter } from './onnxruntime-web';
import { tfjsDawnAdapter } from './dawn';
import { withRuntimePackages } from './runtime-packages';
import type { Adapter, AdapterEntry, AdapterHost } from './types';

/**
 * AdapterEntry.processGroup of the three reference adapters: our own TypeScript/wasm code, with no
 * runtime of its own, so one worker runs them one after the other (one start-up, one read of the
 * weight cache and the fixtures, code compiled once). Why other adapters keep their own process:
 * docs/performance.md, "Which adapters share a process".
 */
export const REFERENCE_PROCESS_GROUP = 'reference';

/** A registry entry states where its runtime executes. */
export type RegistryEntry = AdapterEntry & { host: AdapterHost };

// The npm packages each adapter's runtime needs (optional peer dependencies: ./runtime-packages.ts).
const ORT_NODE = ['onnxruntime-node'];
const TFJS = ['@tensorflow/tfjs'];
const TFJS_WASM = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'];
const ORT_WEB = ['onnxruntime-web'];
const DAWN = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', 'webgpu'];
/** One page bundle (tfjs + its wasm and webgpu backends) and one server (also ORT Web's files) serve every browser adapter. */
const BROWSER = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  'onnxruntime-web',
  'puppeteer-core',
];
/** The LiteRT.js pages: their own bundle of @litertjs/core on the same host. */
const LITERT_BROWSER = ['@litertjs/core', 'puppeteer-core'];

/**
 * The one list of adapters. Adding a runtime = one adapter module + one line here.
 * Adapter modules must not load their runtime package at import time (only in probe/build),
 * so that a missing runtime makes the adapter "unavailable", never the whole harness fail.
 * Everything the harness needs to know about an adapter is a field of its entry (types.ts); the
 * README's adapter table names every id here (suites/readme-adapters.test.ts). typicalDurationMs:
 * docs/notes/adapter-typical-durations.md.
 */
const ENTRIES: readonly RegistryEntry[] = [
  {
    id: 'reference',
    processGroup: REFERENCE_PROCESS_GROUP,
    summary: 'pure TypeScript oracle, float64 throughout',
    profile: 'fp64-reference',
    outOfTheBox: true,
    host: 'node',
    typicalDurationMs: 8_000,
    create: () => new ReferenceAdapter({ id: 'reference', precision: 'fp64' }),
  },
  {
    id: 'reference-fp32',
    processGroup: REFERENCE_PROCESS_GROUP,
    summary: 'TypeScript reference, every layer output rounded to float32',
    profile: 'fp32-cpu',
    outOfTheBox: true,
    host: 'node',
    typicalDurationMs: 8_000,
    create: () => new ReferenceAdapter({ id: 'reference-fp32', precision: 'fp32' }),
  },
  {
    id: 'reference-tf32',
    processGroup: REFERENCE_PROCESS_GROUP,
    summary: 'TypeScript reference emulating TF32 conv/dense operands (GPU emulator)',
    profile: 'tf32-gpu',
    outOfTheBox: true,
    host: 'node',
    typicalDurationMs: 9_100,
    create: () => new ReferenceAdapter({ id: 'reference-tf32', precision: 'tf32' }),
  },
  {
    id: 'keras',
    summary: 'real Keras 3.15 / TensorFlow 2.21 CPU in a Python subprocess (.venv), the notebook layer code',
    profile: 'fp32-cpu',
    outOfTheBox: false,
    host: 'python',
    create: () => new KerasAdapter(),
  },
  {
    id: 'onnxruntime-cpu',
    packages: ORT_NODE,
    summary: 'ONNX Runtime (onnxruntime-node) CPU, graph optimizations all (Conv+BN fusion)',
    profile: 'fp32-cpu',
    outOfTheBox: true,
    host: 'node',
    typicalDurationMs: 10_200,
    create: () =>
      new OnnxRuntimeAdapter({ id: 'onnxruntime-cpu', executionProvider: 'cpu', graphOptimizationLevel: 'all' }),
  },
  {
    id: 'onnxruntime-cpu-noopt',
    packages: ORT_NODE,
    summary: 'ONNX Runtime (onnxruntime-node) CPU, graph optimizations disabled',
    profile: 'fp32-cpu',
    outOfTheBox: true,
    host: 'node',
    typicalDurationMs: 7_200,
    create: () =>
      new OnnxRuntimeAdapter({
        id: 'onnxruntime-cpu-noopt',
        executionProvider: 'cpu',
        graphOptimizationLevel: 'disabled',
      }),
  },
  {
    id: 'onnxruntime-cuda',
    packages: ORT_NODE,
    summary: 'ONNX Runtime CUDA EP, TF32 on (provider default), graph optimizations all',
    profile: 'tf32-gpu',
    outOfTheBox: false,
    host: 'node',
    create: () =>
      new OnnxRuntimeAdapter({
        id: 'onnxruntime-cuda',
        executionProvider: 'cuda',
        graphOptimizationLevel: 'all',
        useTf32: true,
      }),
  },
  {
    id: 'onnxruntime-cuda-no-tf32',
    packages: ORT_NODE,
    summary: 'ONNX Runtime CUDA EP, TF32 off (NVIDIA_TF32_OVERRIDE=0), graph optimizations all',
    profile: 'fp32-cpu',
    outOfTheBox: false,
    host: 'node',
    processEnv: { NVIDIA_TF32_OVERRIDE: '0' },
    create: () =>
      new OnnxRuntimeAdapter({
        id: 'onnxruntime-cuda-no-tf32',
        executionProvider: 'cuda',
        graphOptimizationLevel: 'all',
        useTf32: false,
      }),
  },
  {
    id: 'tfjs-cpu',
    packages: TFJS,
    summary: 'TensorFlow.js layers model, tfjs-backend-cpu (JavaScript kernels)',
    profile: 'fp32-cpu',
    outOfTheBox: true,
    host: 'node',
    typicalDurationMs: 28_300,
    create: () => new TfjsAdapter('tfjs-cpu'),
  },
  {
    id: 'tfjs-wasm',
    packages: TFJS_WASM,
    summary: 'TensorFlow.js layers model, tfjs-backend-wasm (XNNPACK; SIMD/threads state in describe)',
    profile: 'fp32-cpu',
    outOfTheBox: true,
    host: 'node',
    typicalDurationMs: 2_700,
    create: () => new TfjsAdapter('tfjs-wasm'),
  },
  {
    id: 'tfjs-node',
    packages: TFJS,
    summary: 'TensorFlow.js layers model, tfjs-node (libtensorflow CPU; needs npm run setup:tfjs-node)',
    profile: 'fp32-cpu',
    outOfTheBox: false,
    host: 'node',
    isolate: true,
    create: () => new TfjsAdapter('tfjs-node'),
  },
  {
    id: 'tfjs-node-gpu',
    packages: TFJS,
    summary: 'TensorFlow.js layers model, tfjs-node-gpu (libtensorflow 2.9.1 CUDA), TF32 on (default)',
    profile: 'tf32-gpu',
    outOfTheBox: false,
    host: 'node',
    isolate: true,
    create: () => new TfjsAdapter('tfjs-node-gpu'),
  },
  {
    id: 'tfjs-node-gpu-no-tf32',
    packages: TFJS,
    summary: 'TensorFlow.js layers model, tfjs-node-gpu, TF32 off (NVIDIA_TF32_OVERRIDE=0)',
    profile: 'fp32-cpu',
    outOfTheBox: false,
    host: 'node',
    processEnv: { NVIDIA_TF32_OVERRIDE: '0' },
    isolate: true,
    create: () => new TfjsAdapter('tfjs-node-gpu-no-tf32'),
  },
  {
    id: 'onnxruntime-web-wasm',
    packages: ORT_WEB,
    suiteOptIn:
      "onnxruntime-web loads its wasm glue with import(), which Jest's vm refuses without --experimental-vm-modules; `resnet-conformance run` (plain Node) covers it",
    summary: 'onnxruntime-web in Node.js (its wasm build, SIMD + threads), graph optimizations all',
    profile: 'fp32-cpu',
    outOfTheBox: true,
    host: 'node',
    create: () => ortWebNodeAdapter('onnxruntime-web-wasm'),
  },
  {
    id: 'tfjs-webgl',
    packages: BROWSER,
    suiteOptIn: 'software-GPU (SwiftShader) run time; suites/browser.test.ts runs it on the block cases',
    summary:
      'TensorFlow.js layers model in headless Chromium, webgl backend (float32 textures; SwiftShader without a GPU)',
    profile: 'fp32-cpu',
    outOfTheBox: false,
    host: 'browser',
    processGroup: BROWSER_PROCESS_GROUP,
    create: () => tfjsBrowserAdapter('tfjs-webgl'),
  },
  {
    id: 'tfjs-webgl-f16',
    packages: BROWSER,
    suiteOptIn:
      'software-GPU run time and known-lossy float16 (no rows for the pretrained classes yet); suites/browser.test.ts runs it on the block cases',
    summary: 'TensorFlow.js webgl backend in Chromium with WEBGL_FORCE_F16_TEXTURES=true (known-lossy float16)',
    profile: 'webgl-f16',
    outOfTheBox: false,
    host: 'browser',
    processGroup: BROWSER_PROCESS_GROUP,
    create: () => tfjsBrowserAdapter('tfjs-webgl-f16'),
  },
  {
    id: 'tfjs-webgpu',
    packages: BROWSER,
    suiteOptIn: 'software-GPU (SwiftShader) run time; suites/browser.test.ts runs it on the block cases',
    summary: 'TensorFlow.js layers model in headless Chromium, webgpu backend (WGSL; SwiftShader without a GPU)',
    profile: 'fp32-cpu',
    outOfTheBox: false,
    host: 'browser',
    processGroup: BROWSER_PROCESS_GROUP,
    create: () => tfjsBrowserAdapter('tfjs-webgpu'),
  },
  {
    id: 'tfjs-wasm-browser',
    packages: BROWSER,
    summary:
      'TensorFlow.js layers model in headless Chromium, wasm backend (XNNPACK, threaded-SIMD binary, crossOriginIsolated; pool size in describe)',
    profile: 'fp32-cpu',
    outOfTheBox: true,
    host: 'browser',
    processGroup: BROWSER_PROCESS_GROUP,
    create: () => tfjsBrowserAdapter('tfjs-wasm-browser'),
  },
  {
    id: 'onnxruntime-web-wasm-browser',
    packages: BROWSER,
    summary: 'onnxruntime-web in headless Chromium, wasm execution provider (SIMD + threads)',
    profile: 'fp32-cpu',
    outOfTheBox: true,
    host: 'browser',
    processGroup: BROWSER_PROCESS_GROUP,
    create: () => ortWebBrowserAdapter('onnxruntime-web-wasm-browser', 'wasm'),
  },
  {
    id: 'onnxruntime-web-webgpu',
    packages: BROWSER,
    suiteOptIn:
      'software-GPU run time and a known divergence on convolutional_block f2-s2 (docs/browser.md); suites/browser.test.ts runs it on the block cases',
    summary: 'onnxruntime-web in headless Chromium, webgpu execution provider (SwiftShader without a GPU)',
    profile: 'fp32-cpu',
    outOfTheBox: false,
    host: 'browser',
    processGroup: BROWSER_PROCESS_GROUP,
    create: () => ortWebBrowserAdapter('onnxruntime-web-webgpu', 'webgpu'),
  },
  {
    id: 'litertjs-wasm-browser',
    packages: LITERT_BROWSER,
    suiteOptIn: LITERT_SUITE_OPT_IN,
    summary:
      'LiteRT.js (@litertjs/core) in headless Chromium, wasm accelerator (XNNPACK, threaded build), on the .tflite converted in inference mode (.venv)',
    profile: 'fp32-cpu',
    outOfTheBox: false,
    host: 'browser',
    processGroup: BROWSER_PROCESS_GROUP,
    inferenceOnly: TFLITE_INFERENCE_ONLY,
    create: () => litertBrowserAdapter('litertjs-wasm-browser', 'wasm'),
  },
  {
    id: 'litertjs-webgpu',
    packages: LITERT_BROWSER,
    suiteOptIn: LITERT_SUITE_OPT_IN,
    summary:
      "LiteRT.js in headless Chromium, WebGPU accelerator with gpuOptions.precision 'fp32' (SwiftShader without a GPU), on the converted .tflite",
    profile: 'fp32-cpu',
    outOfTheBox: false,
    host: 'browser',
    processGroup: BROWSER_PROCESS_GROUP,
    inferenceOnly: TFLITE_INFERENCE_ONLY,
    create: () => litertBrowserAdapter('litertjs-webgpu', 'webgpu', { precision: 'fp32' }),
  },
  {
    id: 'tfjs-webgpu-node',
    packages: DAWN,
    suiteOptIn: 'software-GPU (SwiftShader) run time; suites/dawn.test.ts runs it on the block cases',
    summary:
      'TensorFlow.js layers model in Node.js, webgpu backend on Dawn (the webgpu package; SwiftShader Vulkan without a GPU), in its own process',
    profile: 'fp32-cpu',
    outOfTheBox: false,
    host: 'child',
    create: () => tfjsDawnAdapter('tfjs-webgpu-node'),
  },
  JAX_ENTRY,
  ...TORCH_ENTRIES,
  ...TFLITE_ENTRIES,
  ...LITERT_ENTRIES,
];

/** The registry: each entry's probe first checks its runtime packages (missing: unavailable with the npm install). */
export const ADAPTERS: readonly RegistryEntry[] = ENTRIES.map((e) => withRuntimePackages(e) as RegistryEntry); // withRuntimePackages keeps every field

export function adapterIds(): string[] {
  return ADAPTERS.map((a) => a.id);
}

export class UnknownAdapterError extends Error {
  constructor(id: string) {
    super(`unknown adapter '${id}'; known adapters: ${adapterIds().join(', ')}`);
    this.name = 'UnknownAdapterError';
  }
}

export function getAdapterEntry(id: string): AdapterEntry {
  const e = ADAPTERS.find((a) => a.id === id);
  if (!e) throw new UnknownAdapterError(id);
  return e;
}

export function createAdapter(id: string): Adapter {
  return getAdapterEntry(id).create();
}
