/**
 * The ONNX Runtime Web driver of the page: loads onnxruntime-web from the package's dist files
 * (wasm or webgpu execution provider), creates sessions from the host's ONNX export and runs them.
 * Called through ./entry.ts.
 */
import { applyDelta, DELTA_MISMATCH, verifyBlob, type BlobDelta } from './delta';
import type { WireIndex, WireTensor } from './wire';
import { adapterInfo, fetchBlob, g, receive, send, watchDevice, type GpuDeviceLike } from './page-env';

type Ort = typeof import('onnxruntime-web');

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
      /** The bytes of the last model a session was created from: what the next one may come as a delta against. */
      lastModel?: Uint8Array;
      /**
       * A buffer no one else holds, where the next delta is rebuilt: writing into memory the page has touched
       * before is much cheaper than into a fresh allocation (page faults; measured).
       */
      spare?: Uint8Array;
    }
  | undefined;

export async function ortInit(p: OrtInit): Promise<unknown> {
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

export async function ortCreate(p: {
  key: string;
  model: string;
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  /** The blob is a delta against lastModel (./delta.ts), checked by sha256 before use. */
  delta?: BlobDelta;
}): Promise<unknown> {
  const s = ortRequire();
  const t0 = performance.now();
  const fetched = await fetchBlob(p.model);
  const fetchMs = performance.now() - t0;
  let rebuildMs = 0;
  const last = s.lastModel;
  s.lastModel = undefined;
  let bytes = fetched;
  if (p.delta) {
    if (!last) throw new Error(`${DELTA_MISMATCH}: the page holds no previous model`);
    const size = p.delta.size;
    const into = s.spare && s.spare.byteLength >= size ? s.spare : new Uint8Array(size + (size >>> 6));
    s.spare = undefined;
    bytes = applyDelta(last, fetched, p.delta, into);
    // checked before ONNX Runtime sees the bytes (and apart from createMs, ONNX Runtime's own time)
    await verifyBlob(bytes, p.delta.sha256);
    rebuildMs = performance.now() - t0 - fetchMs;
  }
  if (last) {
    const old = new Uint8Array(last.buffer);
    if (!s.spare || old.byteLength > s.spare.byteLength) s.spare = old;
  }
  await s.sessions.get(p.key)?.release();
  s.sessions.delete(p.key);
  const t = performance.now();
  const session = await s.ort.InferenceSession.create(bytes, {
    executionProviders: [s.init.ep],
    graphOptimizationLevel: p.graphOptimizationLevel,
    executionMode: 'sequential',
  });
  const createMs = performance.now() - t;
  s.lastModel = bytes;
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
  return { inputNames: session.inputNames, outputNames: session.outputNames, device, createMs, fetchMs, rebuildMs };
}

export async function ortRun(p: {
  key: string;
  inputName: string;
  input: WireIndex;
  fetches: string[];
}): Promise<unknown> {
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

export async function ortRelease(p: { key?: string }): Promise<unknown> {
  const s = ortState;
  if (!s) return null;
  for (const [k, sess] of [...s.sessions]) {
    if (p.key !== undefined && k !== p.key) continue;
    await sess.release();
    s.sessions.delete(k);
  }
  return null;
}
