/**
 * The LiteRT.js driver of the page: loads @litertjs/core (bundled on its own by ../bundle.ts and
 * served as /litert.js, so that the tfjs/ORT page code does not need the package) with its wasm
 * files from the package's wasm/ folder (/litert-wasm/), compiles the flatbuffers the host converted
 * for the 'wasm' or the 'webgpu' accelerator and runs them. Called through ./entry.ts.
 *
 * LiteRT.js falls back silently (a console warning) to a wasm model when a model does not compile
 * fully for WebGPU and the page has no JSPI build loaded; a run on that fallback would be reported as
 * WebGPU. So the compiled model's accelerator and isFullyAccelerated are checked, and a model that
 * is not wholly on the requested accelerator is an error.
 */
import type { WireIndex, WireTensor } from './wire';
import {
  adapterInfo,
  fetchBlob,
  g,
  receive,
  send,
  watchDevice,
  type GpuAdapterLike,
  type GpuDeviceLike,
} from './page-env';

/* eslint-disable @typescript-eslint/no-explicit-any */
type LiteRtLib = any;
type CompiledModel = any;

interface LitertInit {
  accelerator: 'wasm' | 'webgpu';
  /** Load the threaded wasm build (needs a crossOriginIsolated page and relaxed SIMD). */
  threads: boolean;
}

interface LitertState {
  lib: LiteRtLib;
  init: LitertInit;
  models: Map<string, CompiledModel>;
  device?: GpuDeviceLike;
}

let state: LitertState | undefined;

export async function litertInit(p: LitertInit): Promise<unknown> {
  if (state) throw new Error('page: LiteRT.js is loaded already in this page (one loadLiteRt per page)');
  if (p.threads && !g.crossOriginIsolated)
    throw new Error('the threaded LiteRT.js build needs a crossOriginIsolated page; crossOriginIsolated is false');
  const url = '/litert.js';
  const lib = (await import(/* @vite-ignore */ url)) as LiteRtLib;
  const features = {
    relaxedSimd: Boolean(await lib.supportsFeature('relaxedSimd')),
    threads: Boolean(await lib.supportsFeature('threads')),
    jspi: Boolean(await lib.supportsFeature('jspi')),
  };
  // Which of the package's four builds loadLiteRt picks from these (its load.ts): relaxed SIMD and
  // threads -> threaded; relaxed SIMD -> internal; else compat. JSPI (partial WebGPU delegation) is not asked for.
  const wasmBuild = !features.relaxedSimd
    ? 'litert_wasm_compat_internal'
    : p.threads
      ? 'litert_wasm_threaded_internal'
      : 'litert_wasm_internal';
  const liteRt = await lib.loadLiteRt('/litert-wasm/', { threads: p.threads });
  const threadCount = Number(liteRt.liteRtWasm.getThreadCount());
  let adapter: Record<string, unknown> | null = null;
  let deviceFeatures: string[] = [];
  const s: LitertState = { lib, init: p, models: new Map() };
  if (p.accelerator === 'webgpu') {
    // loadLiteRt made its default environment with a device of its own (createDefaultWebGpuDevice:
    // adapter limits, shader-f16 and subgroups when offered); that device runs the models.
    const device = lib.getWebGpuDevice() as (GpuDeviceLike & { features: Iterable<string> }) | null;
    if (!device)
      throw new Error(
        "LiteRT.js created no WebGPU device (its default environment has none: see the page console's 'Failed to create default WebGPU device')",
      );
    const gpu = g.navigator.gpu;
    const a = gpu ? await gpu.requestAdapter({ powerPreference: 'high-performance' }) : null;
    adapter = a ? adapterInfo(a as GpuAdapterLike) : null;
    deviceFeatures = [...device.features].sort();
    s.device = device;
    watchDevice(device, 'LiteRT.js');
  }
  state = s;
  return {
    features,
    wasmBuild,
    threadCount,
    adapter,
    deviceFeatures,
    crossOriginIsolated: g.crossOriginIsolated,
  };
}

function need(): LitertState {
  if (!state) throw new Error('page: litertInit has not run');
  return state;
}

export async function litertCompile(p: { key: string; model: string; precision?: 'fp16' | 'fp32' }): Promise<unknown> {
  const s = need();
  const bytes = await fetchBlob(p.model);
  s.models.get(p.key)?.delete();
  s.models.delete(p.key);
  const accelerator = s.init.accelerator;
  const options: Record<string, unknown> = { accelerator };
  if (accelerator === 'webgpu' && p.precision) options.gpuOptions = { precision: p.precision };
  const model = await s.lib.loadAndCompile(bytes, options);
  const got = model.options?.accelerator;
  const fully = accelerator === 'wasm' ? true : Boolean(model.isFullyAccelerated);
  if (got !== accelerator || !fully) {
    model.delete();
    throw new Error(
      `LiteRT.js did not compile the model wholly for '${accelerator}' (compiled for '${got}', isFullyAccelerated ${fully}): ` +
        'a run would not be on the requested accelerator',
    );
  }
  s.models.set(p.key, model);
  const outputs = (model.getOutputDetails() as { name: string; shape: Int32Array }[]).map((d) => ({
    name: d.name,
    shape: [...d.shape],
  }));
  return { outputs, isFullyAccelerated: fully, gpuOptions: model.options?.gpuOptions ?? {} };
}

export async function litertRun(p: { key: string; input: WireIndex }): Promise<unknown> {
  const s = need();
  const model = s.models.get(p.key);
  if (!model) throw new Error(`page: no compiled LiteRT.js model '${p.key}'`);
  const x = [...(await receive(p.input)).values()][0];
  const input = new s.lib.Tensor(x.data, x.shape);
  let outs: any[];
  try {
    outs = await model.run(input); // inputs in host memory are copied to the accelerator by LiteRT.js
  } finally {
    input.delete();
  }
  const details = model.getOutputDetails() as { name: string; shape: Int32Array }[];
  const tensors: WireTensor[] = [];
  try {
    for (let i = 0; i < details.length; i++) {
      const t = outs[i];
      const data = (await t.data()) as Float32Array; // read back from the GPU buffer on webgpu
      if (!(data instanceof Float32Array))
        throw new Error(`output '${details[i].name}' is ${Object.prototype.toString.call(data)}, not a Float32Array`);
      tensors.push({ key: details[i].name, shape: [...details[i].shape], data: new Float32Array(data) });
    }
  } finally {
    for (const t of outs) t.delete();
  }
  return send(tensors);
}

export async function litertRelease(p: { key?: string }): Promise<unknown> {
  const s = state;
  if (!s) return null;
  for (const [k, m] of [...s.models]) {
    if (p.key !== undefined && k !== p.key) continue;
    m.delete();
    s.models.delete(k);
  }
  return null;
}
