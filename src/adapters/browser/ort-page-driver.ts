/** onnxruntime-web sessions in a Chromium page (wasm or webgpu execution provider), for OrtWebAdapter. */
import type { Tensor } from '../../tensor';
import type { ProbeResult } from '../types';
import type { OrtWebDriver, OrtWebLevel } from '../onnxruntime-web/adapter';
import type { BrowserHost } from './host';
import { describeWebgpu, PageClient, probePage, softwareFallbackProblem, type PageInfo } from './page-client';
import { encodeDelta } from './delta';
import { DELTA_MISMATCH } from './page/delta';
import type { WireIndex } from './page/wire';

export interface OrtPageOptions {
  id: string;
  ep: 'wasm' | 'webgpu';
  /** wasm threads (default: the page's navigator.hardwareConcurrency). */
  numThreads?: number;
  host?: BrowserHost;
}

interface OrtInitResult {
  version: Record<string, string>;
  numThreads: number;
  adapter: Record<string, unknown> | null;
  crossOriginIsolated: boolean;
}

export class PageOrtWebDriver implements OrtWebDriver {
  /** create() holds on to its latest model only (`sent`, the base of the next delta); the page fetches a model within its create call. */
  readonly keepsModelBytes = 'last' as const;
  private readonly client: PageClient;
  private initEpoch = -1;
  private init: OrtInitResult | undefined;
  /** Which GPUDevice the last session runs on (webgpu). */
  private sessionDevice: string | undefined;
  /** The model bytes the page holds (its last ortCreate) and the page's epoch then. */
  private sent: { epoch: number; bytes: Uint8Array } | undefined;
  /** Models sent as a delta / whole, and the bytes that travelled (for the tests). */
  readonly transfers = { delta: 0, whole: 0, bytes: 0, deltaRefused: 0 };

  constructor(private readonly opts: OrtPageOptions) {
    this.client = new PageClient(opts.id, opts.host);
  }

  get epoch(): number {
    return this.client.epoch;
  }

  private get bundle(): string {
    return this.opts.ep === 'webgpu' ? 'ort.webgpu.min.mjs' : 'ort.wasm.min.mjs';
  }

  private async ready(timeoutMs?: number): Promise<OrtInitResult> {
    // the wasm execution provider touches no GPU API, so its page is not asked for its WebGL/WebGPU (PageClient.info)
    const env = this.opts.ep === 'webgpu' ? await this.client.info() : await this.client.env();
    if (this.initEpoch !== this.client.epoch || !this.init) {
      if (!env.crossOriginIsolated)
        throw new Error(
          `${this.opts.id}: the page is not crossOriginIsolated (ONNX Runtime Web would silently run 1 thread)`,
        );
      if (this.opts.ep === 'webgpu') {
        const info = env as PageInfo;
        if (!info.webgpu.available)
          throw new Error(`${this.opts.id}: no WebGPU adapter in Chromium: ${info.webgpu.reason}`);
        const fallback = softwareFallbackProblem(this.client.browserHost, info, 'webgpu');
        if (fallback) throw new Error(`${this.opts.id}: ${fallback}`);
      }
      const numThreads = this.opts.numThreads ?? env.hardwareConcurrency;
      this.init = await this.client.call<OrtInitResult>(
        'ortInit',
        { bundle: this.bundle, ep: this.opts.ep, numThreads },
        { timeoutMs },
      );
      this.initEpoch = this.client.epoch;
    }
    return this.init;
  }

  async probe(): Promise<ProbeResult> {
    return probePage(
      (t) => this.ready(t),
      this.opts.ep === 'webgpu',
      'see docs/browser.md (the page must be crossOriginIsolated and load onnxruntime-web from node_modules)',
    );
  }

  async describe() {
    const init = await this.ready();
    const host = this.client.browserHost;
    const settings: Record<string, string | number | boolean> = {
      executionProvider: this.opts.ep,
      numThreads: init.numThreads,
      crossOriginIsolated: init.crossOriginIsolated,
      bundle: this.bundle,
      chromium: host.version ?? 'unknown',
      gpuMode: host.mode,
    };
    if (this.opts.ep === 'webgpu') {
      const a = init.adapter ?? {};
      settings.webgpuAdapter = describeWebgpu({ available: true, ...(a as object) });
      settings.shaderF16 = Array.isArray(a.features) && (a.features as string[]).includes('shader-f16');
      settings.maxStorageBufferBindingSize = Number(a.maxStorageBufferBindingSize ?? 0);
      if (this.sessionDevice) settings.sessionDevice = this.sessionDevice;
    }
    return {
      runtime: `onnxruntime-web in headless Chromium (${this.opts.ep} execution provider)`,
      version: init.version.web ?? 'unknown',
      device:
        this.opts.ep === 'webgpu'
          ? `webgpu: ${describeWebgpu((await this.client.info()).webgpu)}`
          : 'cpu (wasm in Chromium)',
      precision:
        this.opts.ep === 'webgpu'
          ? 'float32 (WGSL kernels of the WebGPU execution provider)'
          : 'float32 (ONNX Runtime CPU kernels compiled to WebAssembly, SIMD, threads)',
      settings,
      notes: [
        `Chromium flags: ${host.flags.join(' ')}`,
        ...(this.opts.ep === 'webgpu'
          ? [
              'the page offers ONNX Runtime a GPUDevice (env.webgpu.device, adapter limits) and watches the device the sessions use for loss (settings.sessionDevice)',
            ]
          : []),
        ...this.client.logTail(5).map((l) => `page console: ${l}`),
      ],
    };
  }

  /**
   * The model travels as a delta against the one the page got last when that saves most of the bytes
   * (the sessions of one model share their initializers: ./page/delta.ts); the page checks the
   * rebuilt model's sha256 and refuses a mismatch, and then it is sent whole.
   */
  async create(key: string, model: Uint8Array, level: OrtWebLevel): Promise<number> {
    await this.ready();
    const epoch = this.client.epoch;
    this.sent = this.sent?.epoch === epoch ? this.sent : undefined;
    const delta = this.sent ? encodeDelta(this.sent.bytes, model) : null;
    this.sent = undefined; // the page forgets its last model when a create starts
    let r: { device: string; createMs: number } | undefined;
    if (delta) {
      try {
        r = await this.client.call<{ device: string; createMs: number }>('ortCreate', {
          key,
          model: this.client.offerBytes(delta.parts),
          graphOptimizationLevel: level,
          delta: { ops: delta.ops, size: delta.size, sha256: delta.sha256 },
        });
        this.transfers.delta++;
        this.transfers.bytes += delta.literalBytes;
      } catch (err) {
        if (!(err instanceof Error) || !err.message.includes(DELTA_MISMATCH)) throw err;
        this.transfers.deltaRefused++;
      }
    }
    if (!r) {
      r = await this.client.call<{ device: string; createMs: number }>('ortCreate', {
        key,
        model: this.client.offerBytes(model),
        graphOptimizationLevel: level,
      });
      this.transfers.whole++;
      this.transfers.bytes += model.byteLength;
    }
    this.sent = { epoch: this.client.epoch, bytes: model };
    this.sessionDevice = r.device;
    return r.createMs;
  }

  async run(
    key: string,
    inputName: string,
    input: { shape: number[]; data: Float32Array },
    fetches: string[],
  ): Promise<Map<string, Tensor>> {
    await this.ready();
    const idx = await this.client.call<WireIndex>('ortRun', {
      key,
      inputName,
      input: this.client.offer([{ key: 'input', ...input }]),
      fetches,
    });
    return this.client.take(idx);
  }

  async release(key?: string): Promise<void> {
    if (this.initEpoch !== this.client.epoch || !this.init) return;
    await this.client.call('ortRelease', { key });
  }

  async dispose(): Promise<void> {
    this.init = undefined;
    this.initEpoch = -1;
    await this.client.close();
  }
}
