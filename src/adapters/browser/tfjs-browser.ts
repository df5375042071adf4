/**
 * TensorFlow.js in headless Chromium: the webgl, webgpu and wasm backends. The model is built in the
 * page by the same tfjs-layers builder as the Node tfjs adapters (../tfjs/layers-model), with the
 * same run semantics (model.predict; training-mode BatchNormalization through
 * model.apply(x, {training: true}) with the moving statistics restored after the run; `<dense>:logits`
 * captures as fused.matMul + bias). A backend that does not come up (tf.setBackend false, or
 * tf.getBackend() another backend) makes the adapter unavailable: no run on a fallback backend.
 */
import { float32Sha256 } from '../../util/array-digest';
import { SetupClock } from '../setup-clock';
import { checkInput } from '../input-check';
import { LOGITS_SUFFIX } from '../../model/builders';
import type { ModelSpec, ModelWeights, ParamCount } from '../../model/types';
import { formatShape, sizeOf, type Tensor } from '../../tensor';
import type { Adapter, AdapterDescription, ProbeOptions, ProbeResult, RunOptions, RunResult } from '../types';
import { BrowserHost } from './host';
import { describeWebgpu, PageClient, probePage, softwareFallbackProblem, type PageInfo } from './page-client';
import { HELD_MISMATCH, type WireIndex, type WireTensor } from './page/wire';

interface HeldSet {
  bytes: number;
  digests: Map<string, string>;
}

/** A weight's shape and the sha256 of its float32 bytes: the name under which the page keeps it between builds. */
function weightDigest(shape: readonly number[], data: Float32Array): string {
  return `${shape.join('x')}:${float32Sha256(data)}`;
}

export interface TfjsBrowserVariant {
  id: string;
  backend: 'webgl' | 'webgpu' | 'wasm';
  /** tf.env() flags set before the backend initializes. */
  flags: Record<string, boolean | number>;
  precision: string;
  notes: string[];
}

export const TFJS_BROWSER_VARIANTS: readonly TfjsBrowserVariant[] = [
  {
    id: 'tfjs-webgl',
    backend: 'webgl',
    flags: {},
    precision: 'float32 textures (WEBGL_RENDER_FLOAT32_ENABLED), GLSL ES 3.0 shaders',
    notes: [],
  },
  {
    id: 'tfjs-webgl-f16',
    backend: 'webgl',
    flags: { WEBGL_FORCE_F16_TEXTURES: true },
    precision:
      'float16 textures (WEBGL_FORCE_F16_TEXTURES=true): every stored intermediate rounded to 11 significant bits',
    notes: [
      'a known-lossy variant (the precision of WebGL devices without float32 render targets, e.g. many mobile GPUs): judged by the webgl-f16 profile',
    ],
  },
  {
    id: 'tfjs-webgpu',
    backend: 'webgpu',
    flags: {},
    precision: 'float32 (WGSL compute shaders)',
    notes: [],
  },
  {
    id: 'tfjs-wasm-browser',
    backend: 'wasm',
    flags: {},
    precision: 'float32 (XNNPACK WebAssembly kernels, threaded-SIMD binary)',
    notes: [
      'unlike tfjs-wasm in Node (threads off in tfjs 4.22 under Node), the page is crossOriginIsolated, so the threaded-SIMD binary ' +
        '(tfjs-backend-wasm-threaded-simd.wasm, pthread workers) loads',
      'measured in Chromium 156 with 2 cores: tfjs 4.22 getThreadsCount() reports an XNNPACK pool of 1 thread whatever setThreadsCount() asks for ' +
        '(8 pthread workers preloaded, none running); settings.threads is what tfjs reports',
    ],
  },
];

interface InitResult {
  settings: Record<string, string | number | boolean>;
  flags: Record<string, string | number | boolean>;
  tfjs: string;
  layers: string;
}

export class TfjsBrowserAdapter implements Adapter {
  /** Time building the tfjs-layers model in the page, as the page measured it (Adapter.runtimeSetupMs). */
  private readonly setup = new SetupClock();
  readonly id: string;
  private readonly client: PageClient;
  private init: InitResult | undefined;
  private initEpoch = -1;
  private spec: ModelSpec | undefined;
  private weights: ModelWeights | undefined;
  private builtEpoch = -1;
  private params: ParamCount | undefined;
  /**
   * The weights the page holds (key -> digest), by the page's rule (./page/tfjs-driver.ts): its last build's and its
   * largest build's so far; and the page's epoch then.
   */
  private held: { epoch: number; last: HeldSet; largest: HeldSet } | undefined;
  /** Weights sent / kept by the page from the previous build, bytes sent, builds whose keeps the page refused (tests). */
  readonly transfers = { sent: 0, kept: 0, bytes: 0, keptRefused: 0 };

  constructor(
    readonly variant: TfjsBrowserVariant,
    opts: { host?: BrowserHost } = {},
  ) {
    this.id = variant.id;
    this.client = new PageClient(variant.id, opts.host ?? BrowserHost.shared(), 'tfjs.html');
  }

  /** The page with tfjs on this backend (initialized again after the page was replaced). */
  private async ready(timeoutMs?: number): Promise<InitResult> {
    const v = this.variant;
    // the wasm backend touches no GPU API, so its page is not asked for its WebGL/WebGPU (PageClient.info)
    const env = v.backend === 'wasm' ? await this.client.env() : await this.client.info();
    if (this.initEpoch !== this.client.epoch || !this.init) {
      if (v.backend !== 'wasm') {
        const info = env as PageInfo;
        if (v.backend === 'webgpu' && !info.webgpu.available)
          throw new Error(`${this.id}: no WebGPU adapter in Chromium: ${info.webgpu.reason}`);
        if (v.backend === 'webgl' && !info.webgl.available)
          throw new Error(`${this.id}: no WebGL2 context in Chromium`);
        const fallback = softwareFallbackProblem(this.client.browserHost, info, v.backend);
        if (fallback) throw new Error(`${this.id}: ${fallback}`);
      }
      if (v.backend === 'wasm' && !env.crossOriginIsolated)
        throw new Error(`${this.id}: the page is not crossOriginIsolated, so wasm threads are off`);
      const init = await this.client.call<InitResult>(
        'tfjsInit',
        { backend: v.backend, flags: v.flags },
        { timeoutMs },
      );
      for (const [k, want] of Object.entries(v.flags)) {
        if (init.flags[k] !== want)
          throw new Error(`${this.id}: tfjs flag ${k} is ${init.flags[k]} in the page, expected ${want}`);
      }
      if (
        v.backend === 'webgl' &&
        init.flags.WEBGL_RENDER_FLOAT32_ENABLED !== true &&
        v.flags.WEBGL_FORCE_F16_TEXTURES !== true
      ) {
        throw new Error(
          `${this.id}: WEBGL_RENDER_FLOAT32_ENABLED is false (no float32 render targets): this WebGL would compute in float16`,
        );
      }
      if (v.backend === 'wasm') {
        // The threaded-SIMD binary must load (WASM_HAS_MULTITHREAD_SUPPORT), else this is the single-threaded tfjs-wasm again.
        if (init.flags.WASM_HAS_MULTITHREAD_SUPPORT !== true)
          throw new Error(`${this.id}: WASM_HAS_MULTITHREAD_SUPPORT is false in the page (not crossOriginIsolated?)`);
      }
      this.init = init;
      this.initEpoch = this.client.epoch;
      this.builtEpoch = -1;
    }
    return this.init;
  }

  async probe(_opts?: ProbeOptions): Promise<ProbeResult> {
    return probePage((t) => this.ready(t), this.variant.backend === 'webgpu', 'see docs/browser.md');
  }

  async describe(): Promise<AdapterDescription> {
    const init = await this.ready();
    const v = this.variant;
    const env = v.backend === 'wasm' ? await this.client.env() : await this.client.info();
    const host = this.client.browserHost;
    const settings: Record<string, string | number | boolean> = {
      ...init.settings,
      ...init.flags,
      'tfjs-layers': init.layers,
      crossOriginIsolated: env.crossOriginIsolated,
      chromium: host.version ?? 'unknown',
      gpuMode: host.mode,
    };
    let device = 'cpu (wasm in Chromium)';
    const info = env as PageInfo;
    if (v.backend === 'webgl') {
      settings.webglRenderer = info.webgl.renderer ?? 'unknown';
      settings.webglVersion = info.webgl.version ?? 'unknown';
      settings.EXT_color_buffer_float = info.webgl.EXT_color_buffer_float ?? false;
      device = `webgl: ${info.webgl.renderer}`;
    } else if (v.backend === 'webgpu') {
      settings.webgpuAdapter = describeWebgpu(info.webgpu);
      settings.shaderF16 = info.webgpu.features?.includes('shader-f16') ?? false;
      settings.maxStorageBufferBindingSize = info.webgpu.maxStorageBufferBindingSize ?? 0;
      device = `webgpu: ${describeWebgpu(info.webgpu)}`;
    }
    delete settings.floatPrecision;
    return {
      runtime: `TensorFlow.js in headless Chromium (tfjs-layers, ${v.backend} backend)`,
      version: init.tfjs,
      device,
      precision: v.precision,
      settings,
      notes: [
        ...v.notes,
        "model built in the page with tfjs-layers by src/adapters/tfjs/layers-model.ts (the Node tfjs adapters' builder); inference with model.predict, " +
          'training-mode BatchNormalization with model.apply(x, {training: true}), moving statistics restored after each run',
        `'<dense>${LOGITS_SUFFIX}' captures: tf.fused.matMul(input, kernel) + bias in the page`,
        `Chromium flags: ${host.flags.join(' ')}`,
        ...this.client.logTail(5).map((l) => `page console: ${l}`),
      ],
    };
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    this.spec = undefined;
    this.weights = undefined;
    this.params = undefined;
    this.builtEpoch = -1;
    await this.buildInPage(spec, weights);
    this.spec = spec;
    this.weights = weights;
  }

  private async buildInPage(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    await this.ready();
    const all: (WireTensor & { layer: string; name: string; trainable: boolean; digest: string })[] = [];
    for (const [layer, list] of weights) {
      for (const w of list) {
        all.push({
          key: `${layer}/${w.name}`,
          shape: w.shape,
          data: w.data,
          layer,
          name: w.name,
          trainable: w.trainable,
          digest: weightDigest(w.shape, w.data),
        });
      }
    }
    const epoch = this.client.epoch;
    const held = this.held?.epoch === epoch ? this.held : undefined;
    this.held = undefined; // the page forgets what it holds when a build starts
    // A weight whose shape and bytes the page holds from an earlier build (same key, same sha256) is not sent again.
    const attempt = async (keep: typeof held) => {
      const send: WireTensor[] = [];
      const index = all.map(({ layer, name, trainable, key, digest, shape, data }) => {
        const isHeld =
          keep !== undefined && (keep.last.digests.get(key) === digest || keep.largest.digests.get(key) === digest);
        if (!isHeld) send.push({ key, shape, data });
        return { layer, name, trainable, key, digest, ...(isHeld ? { held: true } : {}) };
      });
      const r = await this.client.call<{ params: ParamCount; buildMs: number }>('tfjsBuild', {
        spec,
        weights: index,
        tensors: this.client.offer(send),
      });
      this.transfers.sent += send.length;
      this.transfers.kept += all.length - send.length;
      for (const t of send) this.transfers.bytes += t.data.byteLength;
      return r;
    };
    let r: { params: ParamCount; buildMs: number } | undefined;
    let refused = false;
    if (held) {
      try {
        r = await attempt(held);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.includes(HELD_MISMATCH)) throw err;
        this.transfers.keptRefused++;
        refused = true;
      }
    }
    r ??= await attempt(undefined);
    const set: HeldSet = { bytes: 0, digests: new Map(all.map((t) => [t.key, t.digest])) };
    for (const t of all) set.bytes += t.data.byteLength;
    // after a refused keep the page held nothing before this build
    const before = refused ? undefined : held;
    this.held = {
      epoch: this.client.epoch,
      last: set,
      largest: before && before.largest.bytes > set.bytes ? before.largest : set,
    };
    this.params = r.params;
    this.setup.add(r.buildMs);
    this.builtEpoch = this.client.epoch;
  }

  /** The model in the current page (built again when the page was replaced after a crash). */
  private async ensureBuilt(): Promise<ModelSpec> {
    if (!this.spec || !this.weights) throw new Error(`${this.id}: build() must be called before run() or paramCount()`);
    await this.ready();
    if (this.builtEpoch !== this.client.epoch) await this.buildInPage(this.spec, this.weights);
    return this.spec;
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    if (!this.spec) throw new Error(`${this.id}: build() must be called before run() or paramCount()`);
    const spec = this.spec;
    checkInput(this.id, spec, input);
    if (input.data.length !== sizeOf(input.shape))
      throw new Error(`${this.id}: input has ${input.data.length} values for shape ${formatShape(input.shape)}`);
    const capture = [...new Set(opts.capture ?? [])];
    await this.ensureBuilt();
    const x = input.data instanceof Float32Array ? input.data : Float32Array.from(input.data);
    const idx = await this.client.call<WireIndex>('tfjsRun', {
      input: this.client.offer([{ key: 'input', shape: input.shape, data: x }]),
      training: opts.training,
      capture,
    });
    const got = this.client.take(idx);
    const intermediates: Record<string, Tensor> = {};
    for (const name of capture) intermediates[name] = got.get(`capture/${name}`)!;
    return { output: got.get('output')!, intermediates };
  }

  async paramCount(): Promise<ParamCount> {
    await this.ensureBuilt();
    return { ...this.params! };
  }

  runtimeSetupMs(): number {
    return this.setup.ms;
  }

  async dispose(): Promise<void> {
    this.spec = undefined;
    this.weights = undefined;
    this.params = undefined;
    this.init = undefined;
    this.initEpoch = -1;
    this.builtEpoch = -1;
    this.held = undefined;
    await this.client.close();
  }
}
