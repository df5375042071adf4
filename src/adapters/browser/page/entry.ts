/**
 * The code that runs inside the Chromium page (bundled by ../bundle.ts with esbuild, served by the
 * host). It exposes `globalThis.__rc.call(method, params)` to the host; tensors come and go as
 * blobs on the host's server (./wire). The tfjs model is built by the same tfjs-layers code the Node
 * adapters use (../../tfjs/layers-model); ONNX Runtime Web is loaded from the package's dist files.
 *
 * Faults the host must hear about outside of a call (a lost GPU device, a lost WebGL context) go to
 * the function the host exposes as `__rcFault(kind, message)`.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import type { ModelSpec, ModelWeights, WeightTensor } from '../../../model/types';
import { buildCapturePlan, type CapturePlan } from '../../tfjs/capture-plan';
import { buildLayersModel, countParams } from '../../tfjs/layers-model';
import { packTensors, unpackTensors, type WireIndex, type WireItem, type WireTensor } from './wire';

type Ort = typeof import('onnxruntime-web');
type LayersModel = tf.LayersModel;
type SymbolicTensor = tf.SymbolicTensor;

/** The few browser APIs used here (the project's tsconfig has no DOM library). */
interface GpuAdapterLike {
  info?: Record<string, unknown>;
  features: Iterable<string>;
  limits: Record<string, number>;
  isFallbackAdapter?: boolean;
  requestDevice(d?: unknown): Promise<GpuDeviceLike>;
}
interface GpuDeviceLike {
  lost: Promise<{ reason: string; message: string }>;
  queue: unknown;
  destroy(): void;
}
interface PageGlobal {
  __rc: { call(method: string, params: unknown): Promise<unknown> };
  __rcReady: boolean;
  __rcFault?: (kind: string, message: string) => Promise<void>;
  crossOriginIsolated: boolean;
  navigator: {
    userAgent: string;
    hardwareConcurrency: number;
    gpu?: { requestAdapter(o?: unknown): Promise<GpuAdapterLike | null> };
  };
  document: { createElement(tag: string): { getContext(kind: string): WebGlLike | null } };
  SharedArrayBuffer?: unknown;
  crypto: { getRandomValues(a: Uint8Array): Uint8Array };
  location: { hash: string };
}
interface WebGlLike {
  getExtension(name: string): Record<string, number> | null;
  getParameter(p: number): unknown;
  getSupportedExtensions(): string[] | null;
  VERSION: number;
  SHADING_LANGUAGE_VERSION: number;
  canvas?: { addEventListener(ev: string, f: (e: { statusMessage?: string }) => void): void };
}

const g = globalThis as unknown as PageGlobal;

function fault(kind: string, message: string): void {
  void g.__rcFault?.(kind, message).catch(() => undefined);
}

/** Reports a GPUDevice loss; reason 'destroyed' is a deliberate destroy() (ONNX Runtime does that when its sessions are released): logged only. */
function watchDevice(dev: GpuDeviceLike, owner: string): void {
  void dev.lost.then((l) => {
    if (l.reason === 'destroyed') console.info(`${owner}: GPUDevice destroyed (${l.message})`);
    else fault('gpu-device-lost', `${l.reason || 'unknown'}: ${l.message}`);
  });
}

// ------------------------------------------------------------------------------------------------
// blobs

/**
 * The server's token for /blob/ requests: the host puts it in the page URL's fragment (#token=...),
 * which the browser never sends to a server, so another local process cannot read it.
 */
const BLOB_HEADERS: Record<string, string> = {
  'x-rc-token': new URLSearchParams(g.location.hash.slice(1)).get('token') ?? '',
};

function newId(): string {
  const b = g.crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

async function fetchBlob(id: string): Promise<Uint8Array> {
  const r = await fetch(`/blob/${id}`, { headers: BLOB_HEADERS });
  if (!r.ok) throw new Error(`page: GET /blob/${id}: HTTP ${r.status} ${await r.text()}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function receive(index: WireIndex): Promise<Map<string, WireTensor>> {
  const bytes = await fetchBlob(index.blob);
  return new Map(unpackTensors(bytes, index.items).map((t) => [t.key, t]));
}

async function send(tensors: WireTensor[]): Promise<WireIndex> {
  const { bytes, items } = packTensors(tensors);
  const blob = newId();
  const r = await fetch(`/blob/${blob}`, {
    method: 'POST',
    body: bytes,
    headers: { 'Content-Type': 'application/octet-stream', ...BLOB_HEADERS },
  });
  if (!r.ok) throw new Error(`page: POST /blob/${blob}: HTTP ${r.status} ${await r.text()}`);
  return { blob, items };
}

// ------------------------------------------------------------------------------------------------
// environment

const GL_RENDERER = 0x1f01;
const GL_VENDOR = 0x1f00;

function webglInfo(): Record<string, unknown> {
  const gl = g.document.createElement('canvas').getContext('webgl2');
  if (!gl) return { available: false };
  const dbg = gl.getExtension('WEBGL_debug_renderer_info');
  const exts = gl.getSupportedExtensions() ?? [];
  return {
    available: true,
    renderer: String(gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : GL_RENDERER)),
    vendor: String(gl.getParameter(dbg ? dbg.UNMASKED_VENDOR_WEBGL : GL_VENDOR)),
    version: String(gl.getParameter(gl.VERSION)),
    EXT_color_buffer_float: exts.includes('EXT_color_buffer_float'),
  };
}

function adapterInfo(a: GpuAdapterLike): Record<string, unknown> {
  const info = a.info ?? {};
  const limits = a.limits;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? a.isFallbackAdapter ?? null,
    features: [...a.features].sort(),
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxBufferSize: limits.maxBufferSize,
  };
}

async function webgpuInfo(): Promise<Record<string, unknown>> {
  const gpu = g.navigator.gpu;
  if (!gpu)
    return {
      available: false,
      reason: 'navigator.gpu is undefined (WebGPU not exposed: Chromium needs --enable-unsafe-webgpu on Linux)',
    };
  const a = await gpu.requestAdapter();
  if (!a) return { available: false, reason: 'navigator.gpu.requestAdapter() returned null (no WebGPU adapter)' };
  return { available: true, ...adapterInfo(a) };
}

async function info(): Promise<Record<string, unknown>> {
  return {
    crossOriginIsolated: g.crossOriginIsolated,
    sharedArrayBuffer: typeof g.SharedArrayBuffer === 'function',
    userAgent: g.navigator.userAgent,
    hardwareConcurrency: g.navigator.hardwareConcurrency,
    webgl: webglInfo(),
    webgpu: await webgpuInfo(),
  };
}

// ------------------------------------------------------------------------------------------------
// tfjs

interface TfjsInit {
  backend: 'webgl' | 'webgpu' | 'wasm' | 'cpu';
  flags: Record<string, boolean | number>;
  /** wasm only: XNNPACK thread pool size (0: tfjs default). */
  threads?: number;
}

let tfjsState:
  | {
      backend: string;
      spec?: ModelSpec;
      model?: LayersModel;
      outputs?: Map<string, SymbolicTensor>;
      plans: Map<string, CapturePlan>;
    }
  | undefined;

async function tfjsInit(p: TfjsInit): Promise<Record<string, unknown>> {
  tf.env().set('PROD', true);
  for (const [k, v] of Object.entries(p.flags)) tf.env().set(k, v);
  if (p.backend === 'wasm') {
    tfwasm.setWasmPaths('/tfjs-wasm/');
    if (p.threads) tfwasm.setThreadsCount(p.threads);
  }
  const ok = await tf.setBackend(p.backend);
  await tf.ready();
  const now = tf.getBackend();
  if (!ok || now !== p.backend) {
    throw new Error(
      `tf.setBackend('${p.backend}') returned ${ok} and the current backend is '${now}': the ${p.backend} backend did not initialize (no fallback is accepted)`,
    );
  }
  tfjsState = { backend: p.backend, plans: new Map() };
  const y = tf.tidy(() => tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync());
  if (y[0] !== 4 || y[1] !== 6) throw new Error(`[1,2] + [3,4] gave [${Array.from(y).join(',')}] on ${p.backend}`);
  const flags: Record<string, unknown> = {};
  const settings: Record<string, unknown> = { backend: now, floatPrecision: tf.backend().floatPrecision() };
  if (p.backend === 'webgl') {
    for (const f of [
      'WEBGL_VERSION',
      'WEBGL_RENDER_FLOAT32_ENABLED',
      'WEBGL_RENDER_FLOAT32_CAPABLE',
      'WEBGL_FORCE_F16_TEXTURES',
      'WEBGL_PACK',
      'WEBGL_DOWNLOAD_FLOAT_ENABLED',
      'WEBGL_USE_SHAPES_UNIFORMS',
      'WEBGL_CONV_IM2COL',
    ])
      flags[f] = tf.env().get(f);
    const gl = (tf.backend() as unknown as { gpgpu: { gl: WebGlLike } }).gpgpu.gl;
    gl.canvas?.addEventListener('webglcontextlost', (e) =>
      fault('webgl-context-lost', e.statusMessage || 'webglcontextlost'),
    );
  }
  if (p.backend === 'webgpu') {
    for (const f of [
      'WEBGPU_USE_GLSL',
      'WEBGPU_CPU_FORWARD',
      'WEBGPU_MATMUL_PROGRAM_TYPE',
      'WEBGPU_USE_NAIVE_CONV2D_DEBUG',
      'WEBGPU_CONV_SEPARATE_IM2COL_SHADER',
      'WEBGPU_USE_LOW_POWER_GPU',
    ]) {
      try {
        flags[f] = tf.env().get(f);
      } catch {
        /* flag not registered in this version */
      }
    }
    const b = tf.backend() as unknown as {
      device: GpuDeviceLike;
      adapterInfo?: { vendor?: string; architecture?: string };
    };
    settings.tfjsAdapterInfo = `${b.adapterInfo?.vendor ?? '?'} / ${b.adapterInfo?.architecture ?? '?'}`;
    watchDevice(b.device, 'tfjs-webgpu');
  }
  if (p.backend === 'wasm') {
    flags.WASM_HAS_SIMD_SUPPORT = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    flags.WASM_HAS_MULTITHREAD_SUPPORT = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    settings.threads = tfwasm.getThreadsCount();
  }
  return { settings, flags, tfjs: tf.version.tfjs, layers: tf.version_layers };
}

function tfjsRequire(): NonNullable<typeof tfjsState> {
  if (!tfjsState) throw new Error('page: tfjsInit has not run');
  return tfjsState;
}

function tfjsDisposeModel(): void {
  const s = tfjsRequire();
  s.model?.dispose();
  s.model = undefined;
  s.outputs = undefined;
  s.spec = undefined;
  s.plans.clear();
}

async function tfjsBuild(p: {
  spec: ModelSpec;
  weights: { layer: string; name: string; trainable: boolean; key: string }[];
  tensors: WireIndex;
}): Promise<unknown> {
  const s = tfjsRequire();
  tfjsDisposeModel();
  const got = await receive(p.tensors);
  const weights: ModelWeights = new Map();
  for (const w of p.weights) {
    const t = got.get(w.key);
    if (!t) throw new Error(`page: weight tensor '${w.key}' is missing from the blob`);
    const list = weights.get(w.layer) ?? [];
    list.push({ name: w.name, shape: t.shape, data: t.data, trainable: w.trainable } satisfies WeightTensor);
    weights.set(w.layer, list);
  }
  const { model, outputs } = buildLayersModel(tf, p.spec, weights);
  s.model = model;
  s.outputs = outputs;
  s.spec = p.spec;
  return { params: countParams(model), layers: model.layers.length, numTensors: tf.memory().numTensors };
}

function capturePlan(capture: string[]): CapturePlan {
  const s = tfjsRequire();
  const key = capture.join('\u0000');
  const cached = s.plans.get(key);
  if (cached) return cached;
  const plan = buildCapturePlan(tf, s.spec!, s.model!, s.outputs!, capture, 'page', s.plans.size);
  s.plans.set(key, plan);
  return plan;
}

async function tfjsRun(p: { input: WireIndex; training: boolean; capture: string[] }): Promise<unknown> {
  const s = tfjsRequire();
  if (!s.model) throw new Error('page: no model built');
  if (tf.getBackend() !== s.backend)
    throw new Error(`the tfjs backend changed to '${tf.getBackend()}' (expected '${s.backend}')`);
  const x32 = [...(await receive(p.input)).values()][0];
  const plan = capturePlan(p.capture);
  const model = s.model;
  const saved = p.training ? model.nonTrainableWeights.map((w) => tf.clone(w.read())) : [];
  let results: tf.Tensor[];
  try {
    results = tf.tidy(() => {
      const x = tf.tensor(x32.data, x32.shape, 'float32');
      const raw = p.training
        ? (plan.model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[])
        : (plan.model.predict(x, { batchSize: x32.shape[0] }) as tf.Tensor | tf.Tensor[]);
      const outs = Array.isArray(raw) ? raw : [raw];
      const logits = plan.logits.map((c) => {
        const dense = model.getLayer(c.dense);
        const kernel = dense.weights.find((w) => w.originalName.endsWith('/kernel'))!.read();
        const bias = dense.weights.find((w) => w.originalName.endsWith('/bias'))!.read();
        return tf.add(tf.fused.matMul({ a: outs[c.inputIndex] as tf.Tensor2D, b: kernel as tf.Tensor2D }), bias);
      });
      return [...outs, ...logits];
    });
  } finally {
    if (p.training) {
      model.nonTrainableWeights.forEach((w, i) => w.write(saved[i]));
      tf.dispose(saved);
    }
  }
  try {
    const data = await Promise.all(results.map(async (t) => new Float32Array((await t.data()) as Float32Array)));
    const out: WireTensor[] = [{ key: 'output', shape: [...results[0].shape], data: data[0] }];
    for (const name of p.capture) {
      const k = plan.logits.findIndex((c) => c.name === name);
      const i = k >= 0 ? 1 + plan.extraLayers.length + k : plan.layerIndex.get(name)!;
      out.push({ key: `capture/${name}`, shape: [...results[i].shape], data: data[i] });
    }
    return await send(out);
  } finally {
    tf.dispose(results);
  }
}

// ------------------------------------------------------------------------------------------------
// ONNX Runtime Web

interface OrtInit {
  /** dist file: ort.wasm.min.mjs (wasm EP) or ort.webgpu.min.mjs (webgpu EP). */
  bundle: string;
  ep: 'wasm' | 'webgpu';
  numThreads: number;
}

let ortState:
  | {
      ort: Ort;
      init: OrtInit;
      sessions: Map<string, import('onnxruntime-web').InferenceSession>;
      device?: GpuDeviceLike;
      adapter?: Record<string, unknown>;
      watched: Set<GpuDeviceLike>;
    }
  | undefined;

async function ortInit(p: OrtInit): Promise<unknown> {
  if (p.numThreads > 1 && !g.crossOriginIsolated) {
    throw new Error(
      `numThreads ${p.numThreads} needs a crossOriginIsolated page (ONNX Runtime Web would silently use 1 thread); crossOriginIsolated is false`,
    );
  }
  const url = `/ort/${p.bundle}`;
  const ort = (await import(/* @vite-ignore */ url)) as Ort;
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = p.numThreads;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'warning';
  const state: NonNullable<typeof ortState> = { ort, init: p, sessions: new Map(), watched: new Set() };
  if (p.ep === 'webgpu') {
    const gpu = g.navigator.gpu;
    if (!gpu) throw new Error('navigator.gpu is undefined: no WebGPU in this page');
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned null: no WebGPU adapter');
    state.adapter = adapterInfo(adapter);
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
    (ort.env.webgpu as unknown as { device: unknown }).device = device;
    state.device = device;
    watchDevice(device, 'page');
  }
  ortState = state;
  return {
    version: ort.env.versions,
    numThreads: ort.env.wasm.numThreads,
    adapter: state.adapter ?? null,
    crossOriginIsolated: g.crossOriginIsolated,
  };
}

function ortRequire(): NonNullable<typeof ortState> {
  if (!ortState) throw new Error('page: ortInit has not run');
  return ortState;
}

async function ortCreate(p: {
  key: string;
  model: string;
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
}): Promise<unknown> {
  const s = ortRequire();
  const bytes = await fetchBlob(p.model);
  await s.sessions.get(p.key)?.release();
  s.sessions.delete(p.key);
  const session = await s.ort.InferenceSession.create(bytes, {
    executionProviders: [s.init.ep],
    graphOptimizationLevel: p.graphOptimizationLevel,
    executionMode: 'sequential',
  });
  s.sessions.set(p.key, session);
  let device = 'n/a';
  if (s.init.ep === 'webgpu') {
    // ORT's WebGPU EP (1.30, the asyncify build) may create its own GPUDevice; then watch that one for loss too.
    const dev = (await (s.ort.env.webgpu as unknown as { device: Promise<unknown> | unknown }).device) as
      GpuDeviceLike | undefined;
    if (dev === s.device) device = "the page's GPUDevice (env.webgpu.device)";
    else if (dev && typeof dev === 'object' && 'lost' in dev) {
      device = "ONNX Runtime's own GPUDevice";
      if (!s.watched.has(dev)) {
        s.watched.add(dev);
        watchDevice(dev, 'onnxruntime-web');
      }
    } else device = `unknown (env.webgpu.device is ${typeof dev})`;
  }
  return { inputNames: session.inputNames, outputNames: session.outputNames, device };
}

async function ortRun(p: { key: string; inputName: string; input: WireIndex; fetches: string[] }): Promise<unknown> {
  const s = ortRequire();
  const session = s.sessions.get(p.key);
  if (!session) throw new Error(`page: no ONNX Runtime session '${p.key}'`);
  const x = [...(await receive(p.input)).values()][0];
  const feeds = { [p.inputName]: new s.ort.Tensor('float32', x.data, x.shape) };
  const res = await session.run(feeds, p.fetches);
  const out: WireTensor[] = [];
  for (const name of p.fetches) {
    const t = res[name];
    if (!t) throw new Error(`session returned no output '${name}'`);
    const data = t.location === 'cpu' ? (t.data as Float32Array) : ((await t.getData()) as Float32Array);
    out.push({ key: name, shape: t.dims.map(Number), data: new Float32Array(data) });
  }
  for (const t of Object.values(res)) t.dispose();
  return send(out);
}

async function ortRelease(p: { key?: string }): Promise<unknown> {
  const s = ortState;
  if (!s) return null;
  for (const [k, sess] of [...s.sessions]) {
    if (p.key !== undefined && k !== p.key) continue;
    await sess.release();
    s.sessions.delete(k);
  }
  return null;
}

// ------------------------------------------------------------------------------------------------
// test hooks

async function echo(p: { tensors: WireIndex }): Promise<unknown> {
  const got = await receive(p.tensors);
  return send([...got.values()]);
}

const METHODS: Record<string, (p: never) => Promise<unknown>> = {
  info,
  tfjsInit,
  tfjsBuild,
  tfjsRun,
  tfjsDispose: async () => {
    tfjsDisposeModel();
    return null;
  },
  ortInit,
  ortCreate,
  ortRun,
  ortRelease,
  echo,
  /** Never answers (fault injection: the host's timeout). */
  hang: () => new Promise<never>(() => undefined),
  /** Reports a lost GPU device the way a real loss does (fault injection). */
  injectDeviceLost: async (p: { message: string }) => {
    fault('gpu-device-lost', `injected: ${p.message}`);
    return null;
  },
};

g.__rc = {
  async call(method: string, params: unknown): Promise<unknown> {
    const f = METHODS[method];
    if (!f) throw new Error(`page: unknown method '${method}'`);
    return f(params as never);
  },
};
g.__rcReady = true;

export type { WireItem };
