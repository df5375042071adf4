/**
 * The tfjs driver of the page: initializes a backend (webgl, webgpu, wasm, cpu), builds the model
 * with the same tfjs-layers code the Node adapters use (../../tfjs/layers-model) and runs it with
 * captures. Called through ./entry.ts.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import type { ModelSpec, ModelWeights, WeightTensor } from '../../../model/types';
import { buildCapturePlan, type CapturePlan } from '../../tfjs/capture-plan';
import { buildLayersModel, countParams } from '../../tfjs/layers-model';
import { HELD_MISMATCH, type WireIndex, type WireTensor } from './wire';
import { fault, receive, send, watchDevice, type GpuDeviceLike, type WebGlLike } from './page-env';

type LayersModel = tf.LayersModel;
type SymbolicTensor = tf.SymbolicTensor;

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

/**
 * Weights of earlier builds, by key, with the digest the host gave them (the shape and the sha256 of the bytes,
 * computed in Node from the bytes it served): a later build names the ones it keeps by key and
 * digest instead of sending them again (the perturbed-parameters set shares every kernel with the
 * initial weights). Two sets are kept: the last build's and the largest build's so far (a run builds
 * small models between its two ResNet-50s); the host
 * (../tfjs-browser.ts) mirrors the same rule.
 * Views of the fetched blobs, read only: the backends copy them into their own memory.
 */
type HeldSet = { bytes: number; weights: Map<string, { digest: string; tensor: WireTensor }> };
let held: { last?: HeldSet; largest?: HeldSet } = {};

function heldWeight(sets: typeof held, key: string, digest: string): WireTensor | undefined {
  for (const set of [sets.last, sets.largest]) {
    const h = set?.weights.get(key);
    if (h && h.digest === digest) return h.tensor;
  }
  return undefined;
}

export async function tfjsInit(p: TfjsInit): Promise<Record<string, unknown>> {
  held = {};
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

export function tfjsDisposeModel(): void {
  const s = tfjsRequire();
  s.model?.dispose();
  s.model = undefined;
  s.outputs = undefined;
  s.spec = undefined;
  s.plans.clear();
}

export async function tfjsBuild(p: {
  spec: ModelSpec;
  /** `held`: not in the blob, kept from an earlier build (where it had the same key and digest). */
  weights: { layer: string; name: string; trainable: boolean; key: string; digest: string; held?: boolean }[];
  tensors: WireIndex;
}): Promise<unknown> {
  const s = tfjsRequire();
  tfjsDisposeModel();
  const t0 = performance.now();
  const got = await receive(p.tensors);
  const fetchMs = performance.now() - t0;
  const prev = held;
  held = {}; // a failed build keeps nothing: the next one is sent whole
  const next = new Map<string, { digest: string; tensor: WireTensor }>();
  const weights: ModelWeights = new Map();
  for (const w of p.weights) {
    let t: WireTensor | undefined;
    if (w.held) {
      t = heldWeight(prev, w.key, w.digest);
      if (!t) throw new Error(`${HELD_MISMATCH}: '${w.key}' is not held with digest ${w.digest}`);
    } else t = got.get(w.key);
    if (!t) throw new Error(`page: weight tensor '${w.key}' is missing from the blob`);
    next.set(w.key, { digest: w.digest, tensor: t });
    const list = weights.get(w.layer) ?? [];
    list.push({ name: w.name, shape: t.shape, data: t.data, trainable: w.trainable } satisfies WeightTensor);
    weights.set(w.layer, list);
  }
  const t = performance.now();
  const { model, outputs } = buildLayersModel(tf, p.spec, weights);
  const buildMs = performance.now() - t;
  const set: HeldSet = { bytes: 0, weights: next };
  for (const w of next.values()) set.bytes += w.tensor.data.byteLength;
  held = { last: set, largest: prev.largest && prev.largest.bytes > set.bytes ? prev.largest : set };
  s.model = model;
  s.outputs = outputs;
  s.spec = p.spec;
  return {
    params: countParams(model),
    layers: model.layers.length,
    numTensors: tf.memory().numTensors,
    buildMs,
    fetchMs,
  };
}

/**
 * Test hook: the page's held copy of weight `key` becomes other values under digest `digest` (as if the
 * page held another version of it than the host recorded).
 */
export async function tfjsTamperHeld(p: { key: string; digest: string }): Promise<unknown> {
  const h = held.last?.weights.get(p.key);
  if (!h) throw new Error(`page: no held weight '${p.key}'`);
  const tampered = { digest: p.digest, tensor: { ...h.tensor, data: h.tensor.data.map((v) => v + 1) } };
  held.last!.weights.set(p.key, tampered);
  held.largest?.weights.set(p.key, tampered);
  return null;
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

export async function tfjsRun(p: { input: WireIndex; training: boolean; capture: string[] }): Promise<unknown> {
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
