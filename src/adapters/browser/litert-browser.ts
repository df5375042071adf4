/**
 * LiteRT.js (@litertjs/core) in headless Chromium: `litertjs-wasm-browser` (the wasm accelerator,
 * XNNPACK, the threaded build in the crossOriginIsolated page) and `litertjs-webgpu` (the WebGPU
 * accelerator; SwiftShader without a GPU). The model is the notebook's Keras model with the handed
 * weights, converted in inference mode in this process by fixtures/generate/tflite_convert.py
 * (../litert/convert.ts, the cache the tflite* and litertjs-wasm adapters share); the page compiles
 * the flatbuffer and runs it (./page/litert-driver.ts). Inference only: training-mode cases are
 * not-applicable (the registry entry's inferenceOnly), and run(training=true) is refused.
 *
 * Captures are extra outputs of the converted model (a capture set is its own flatbuffer), so a
 * diagnosis sees exactly the tensors the converter kept: LiteRT.js itself exposes only a model's outputs.
 */
import * as fs from 'fs';
import { checkInput } from '../input-check';
import type { ModelSpec, ModelWeights, ParamCount } from '../../model/types';
import type { Tensor } from '../../tensor';
import { litertCacheDir, TFLITE_INFERENCE_ONLY } from '../external/tflite';
import { probePython } from '../keras/python-env';
import { LitertConversion, outputIndex, runResultFromOutputs, type Converted } from '../litert/convert';
import type { Adapter, AdapterDescription, ProbeOptions, ProbeResult, RunOptions, RunResult } from '../types';
import type { BrowserHost } from './host';
import { describeWebgpu, PageClient, probePage, softwareFallbackProblem } from './page-client';
import type { WireIndex } from './page/wire';

export type LitertAccelerator = 'wasm' | 'webgpu';

export interface LitertBrowserOptions {
  host?: BrowserHost;
  /**
   * WebGPU precision (gpuOptions.precision). Unset: LiteRT.js's default, which on SwiftShader (no
   * shader-f16) gave the same outputs as 'fp32' and on a device with shader-f16 is not measured here
   * (docs/litert.md); the litertjs-webgpu entry asks for 'fp32' so that its profile holds on any device.
   */
  precision?: 'fp16' | 'fp32';
  /** Conversion cache (default: $RESNET_CONFORMANCE_LITERT_CACHE or .cache/litert). */
  cacheDir?: string;
}

interface LitertInitResult {
  features: { relaxedSimd: boolean; threads: boolean; jspi: boolean };
  wasmBuild: string;
  threadCount: number;
  adapter: Record<string, unknown> | null;
  deviceFeatures: string[];
  crossOriginIsolated: boolean;
}

const FIX = `npm install (@litertjs/core and puppeteer-core, pinned in package.json), npm run setup:python (the converter's TensorFlow) and Chromium; see docs/litert.md`;

export class LitertBrowserAdapter implements Adapter {
  private readonly client: PageClient;
  private readonly conversion: LitertConversion;
  private init: LitertInitResult | undefined;
  private initEpoch = -1;
  private spec: ModelSpec | undefined;
  /** The model compiled in the page: conversion key, page epoch, and the converter's provenance. */
  private compiled: { key: string; epoch: number; info: Converted } | undefined;

  constructor(
    readonly id: string,
    readonly accelerator: LitertAccelerator,
    private readonly opts: LitertBrowserOptions = {},
  ) {
    this.client = new PageClient(id, opts.host);
    this.conversion = new LitertConversion(opts.cacheDir ?? litertCacheDir());
  }

  private async ready(timeoutMs?: number): Promise<LitertInitResult> {
    const info = await this.client.info();
    if (this.initEpoch !== this.client.epoch || !this.init) {
      if (!info.crossOriginIsolated)
        throw new Error(`${this.id}: the page is not crossOriginIsolated (no threaded LiteRT.js build)`);
      if (this.accelerator === 'webgpu') {
        if (!info.webgpu.available) throw new Error(`${this.id}: no WebGPU adapter in Chromium: ${info.webgpu.reason}`);
        const fallback = softwareFallbackProblem(this.client.browserHost, info, 'webgpu');
        if (fallback) throw new Error(`${this.id}: ${fallback}`);
      }
      // The wasm accelerator runs XNNPACK's thread pool (the threaded build); the WebGPU page needs no threads.
      this.init = await this.client.call<LitertInitResult>(
        'litertInit',
        { accelerator: this.accelerator, threads: this.accelerator === 'wasm' },
        { timeoutMs },
      );
      this.initEpoch = this.client.epoch;
      this.compiled = undefined;
    }
    return this.init;
  }

  async probe(_opts?: ProbeOptions): Promise<ProbeResult> {
    const p = probePython();
    if (!p.ok)
      return {
        available: false,
        reason: `the .tflite converter needs the pinned TensorFlow: ${p.reason ?? 'Python not found'}`,
        fix: 'npm run setup:python',
      };
    return probePage((t) => this.ready(t), this.accelerator === 'webgpu', FIX);
  }

  private get precision(): string {
    if (this.accelerator === 'wasm')
      return 'float32 (XNNPACK WebAssembly kernels; BatchNormalization folded into the convolutions)';
    return this.opts.precision === 'fp32'
      ? "float32 (WebGPU accelerator, gpuOptions.precision 'fp32'; BatchNormalization folded into the convolutions)"
      : `WebGPU accelerator, gpuOptions.precision ${this.opts.precision ?? "unset (LiteRT.js's default)"}`;
  }

  async describe(): Promise<AdapterDescription> {
    const init = await this.ready();
    const info = await this.client.info();
    const host = this.client.browserHost;
    const settings: Record<string, string | number | boolean> = {
      accelerator: this.accelerator,
      wasmBuild: init.wasmBuild,
      threadCount: init.threadCount,
      relaxedSimd: init.features.relaxedSimd,
      jspi: init.features.jspi,
      crossOriginIsolated: init.crossOriginIsolated,
      chromium: host.version ?? 'unknown',
      gpuMode: host.mode,
      converter: 'TFLiteConverter (tensorflow in .venv), float32, no quantization',
    };
    if (this.accelerator === 'webgpu') {
      settings.gpuPrecision = this.opts.precision ?? 'default';
      settings.webgpuAdapter = describeWebgpu(info.webgpu);
      settings.shaderF16 = init.deviceFeatures.includes('shader-f16');
      settings.deviceFeatures = init.deviceFeatures.join(' ') || 'none';
      settings.maxStorageBufferBindingSize = info.webgpu.maxStorageBufferBindingSize ?? 0;
    }
    const notes = [
      "the notebook's Keras model with the handed weights, converted in inference mode by fixtures/generate/tflite_convert.py: BatchNormalization folded into the convolution kernels and biases, ReLU fused into CONV_2D/ADD",
      'captures are extra outputs of the converted model (its own flatbuffer per capture set): LiteRT.js exposes model outputs only',
      'parameter count: the handed Keras weights (the flatbuffer holds the folded constants instead)',
      ...(this.accelerator === 'webgpu'
        ? [
            'a model that LiteRT.js does not compile wholly for WebGPU (its silent fallback to wasm) is an error, never a WebGPU result',
          ]
        : []),
      `Chromium flags: ${host.flags.join(' ')}`,
      ...this.client.logTail(5).map((l) => `page console: ${l}`),
    ];
    const last = this.compiled?.info;
    if (last)
      notes.push(
        `last model: ${last.operators.length} operators (${[...new Set(last.operators)].sort().join(', ')}), ${last.bytes} bytes, sha256 ${last.sha256.slice(0, 12)}`,
      );
    return {
      runtime: `LiteRT.js (@litertjs/core) in headless Chromium (${this.accelerator} accelerator)`,
      version: await this.packageVersion(),
      device: this.accelerator === 'webgpu' ? `webgpu: ${describeWebgpu(info.webgpu)}` : 'cpu (wasm in Chromium)',
      precision: this.precision,
      settings,
      notes,
    };
  }

  private async packageVersion(): Promise<string> {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require('@litertjs/core/package.json') as { version: string }).version;
    } catch {
      return 'unknown';
    }
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    this.spec = undefined;
    await this.release();
    this.conversion.build(spec, weights);
    this.spec = spec;
  }

  private async release(): Promise<void> {
    const had = this.compiled;
    this.compiled = undefined;
    if (had && had.epoch === this.client.epoch && this.initEpoch === this.client.epoch)
      await this.client.call('litertRelease', {});
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    if (!this.spec) throw new Error(`${this.id}: build() must be called before run()`);
    if (opts.training)
      throw new Error(`${this.id}: inference only: ${TFLITE_INFERENCE_ONLY}; training=true cannot be run`);
    checkInput(this.id, this.spec, input);
    const capture = [...new Set(opts.capture ?? [])];
    await this.ready();
    const key = JSON.stringify([input.shape, capture]);
    if (this.compiled?.key !== key || this.compiled.epoch !== this.client.epoch) {
      await this.release();
      const info = await this.conversion.convert(input.shape, capture);
      const bytes = new Uint8Array(fs.readFileSync(info.path));
      await this.ready(); // the page may have been replaced while converting
      await this.client.call('litertCompile', {
        key,
        model: this.client.offerBytes(bytes),
        precision: this.accelerator === 'webgpu' ? this.opts.precision : undefined,
      });
      this.compiled = { key, epoch: this.client.epoch, info };
    }
    const x = input.data instanceof Float32Array ? input.data : Float32Array.from(input.data);
    const idx = await this.client.call<WireIndex>('litertRun', {
      key,
      input: this.client.offer([{ key: 'input', shape: [...input.shape], data: x }]),
    });
    const byIndex = new Map<number, Tensor>();
    for (const [name, t] of this.client.take(idx)) byIndex.set(outputIndex(name), t);
    return runResultFromOutputs(byIndex, capture, this.id);
  }

  async paramCount(): Promise<ParamCount> {
    const counts = this.conversion.paramCount;
    if (!counts) throw new Error(`${this.id}: build() must be called before paramCount()`);
    return counts;
  }

  async dispose(): Promise<void> {
    this.spec = undefined;
    this.compiled = undefined;
    this.init = undefined;
    this.initEpoch = -1;
    this.conversion.dispose();
    await this.client.close();
  }
}
