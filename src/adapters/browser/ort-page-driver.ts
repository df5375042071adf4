/** onnxruntime-web sessions in a Chromium page (wasm or webgpu execution provider), for OrtWebAdapter. */
import type { Tensor } from '../../tensor';
import type { ProbeResult } from '../types';
import type { OrtWebDriver, OrtWebLevel } from '../onnxruntime-web/adapter';
import type { BrowserHost } from './host';
import { describeWebgpu, PageClient, probePage, softwareFallbackProblem } from './page-client';
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
  private readonly client: PageClient;
  private initEpoch = -1;
  private init: OrtInitResult | undefined;
  /** Which GPUDevice the last session runs on (webgpu). */
  private sessionDevice: string | undefined;

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
    const info = await this.client.info();
    if (this.initEpoch !== this.client.epoch || !this.init) {
      if (!info.crossOriginIsolated)
        throw new Error(
          `${this.opts.id}: the page is not crossOriginIsolated (ONNX Runtime Web would silently run 1 thread)`,
        );
      if (this.opts.ep === 'webgpu' && !info.webgpu.available)
        throw new Error(`${this.opts.id}: no WebGPU adapter in Chromium: ${info.webgpu.reason}`);
      const fallback =
        this.opts.ep === 'webgpu' ? softwareFallbackProblem(this.client.browserHost, info, 'webgpu') : null;
      if (fallback) throw new Error(`${this.opts.id}: ${fallback}`);
      const numThreads = this.opts.numThreads ?? info.hardwareConcurrency;
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
    const info = await this.client.info();
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
      device: this.opts.ep === 'webgpu' ? `webgpu: ${describeWebgpu(info.webgpu)}` : 'cpu (wasm in Chromium)',
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

  async create(key: string, model: Uint8Array, level: OrtWebLevel): Promise<number> {
    await this.ready();
    const id = this.client.offerBytes(model);
    const r = await this.client.call<{ device: string; createMs: number }>('ortCreate', {
      key,
      model: id,
      graphOptimizationLevel: level,
    });
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
