/**
 * What the browser adapters share: a lazily opened page of the process's BrowserHost, the page
 * environment (crossOriginIsolated, WebGL renderer, WebGPU adapter), tensors to and from the page as
 * bytes, and turning host failures into probe results.
 */
import type { Tensor } from '../../tensor';
import type { ProbeResult } from '../types';
import { CHROMIUM_FIX, findChromium } from './chromium';
import { BrowserHost, type CallOptions, type HostPage, type PageDocument } from './host';
import { layoutTensors, unpackTensors, type WireIndex, type WireTensor } from './page/wire';

/** The page itself (page method 'env'; no GPU API touched). */
export interface PageEnv {
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  userAgent: string;
  hardwareConcurrency: number;
}

/** PageEnv plus the page's WebGL renderer and WebGPU adapter (page method 'info'). */
export interface PageInfo extends PageEnv {
  webgl: { available: boolean; renderer?: string; vendor?: string; version?: string; EXT_color_buffer_float?: boolean };
  webgpu: {
    available: boolean;
    reason?: string;
    vendor?: string;
    architecture?: string;
    device?: string;
    description?: string;
    isFallbackAdapter?: boolean | null;
    features?: string[];
    maxStorageBufferBindingSize?: number;
  };
}

/** Probe timeout: launch + page load + backend init (seconds on a loaded machine; far below this). */
export const PROBE_TIMEOUT_MS = 90_000;

export class PageClient {
  private handle: HostPage | undefined;
  private acquired = false;
  private infoCache: { epoch: number; info: PageInfo } | undefined;
  private envCache: { epoch: number; env: PageEnv } | undefined;

  constructor(
    readonly label: string,
    private readonly host: BrowserHost = BrowserHost.shared(),
    private readonly document: PageDocument = 'index.html',
  ) {}

  get browserHost(): BrowserHost {
    return this.host;
  }

  /** The page handle (acquires the host on first use). */
  page(): HostPage {
    if (!this.handle) {
      if (!this.acquired) {
        this.host.acquire();
        this.acquired = true;
      }
      this.handle = this.host.page(this.label, this.document);
    }
    return this.handle;
  }

  get epoch(): number {
    return this.handle?.epoch ?? 0;
  }

  async call<T>(method: string, params: unknown, opts?: CallOptions): Promise<T> {
    return this.page().call<T>(method, params, opts);
  }

  /** The page's environment without its GPU APIs (the wasm adapters need no more). */
  async env(): Promise<PageEnv> {
    const p = this.page();
    await p.ensure();
    if (this.infoCache?.epoch === p.epoch) return this.infoCache.info;
    if (this.envCache?.epoch !== p.epoch)
      this.envCache = { epoch: p.epoch, env: await p.call<PageEnv>('env', {}, { timeoutMs: PROBE_TIMEOUT_MS }) };
    return this.envCache.env;
  }

  /** env() plus the WebGL renderer and the WebGPU adapter (seconds on SwiftShader the first time in a browser). */
  async info(): Promise<PageInfo> {
    const p = this.page();
    await p.ensure();
    if (this.infoCache?.epoch !== p.epoch)
      this.infoCache = { epoch: p.epoch, info: await p.call<PageInfo>('info', {}, { timeoutMs: PROBE_TIMEOUT_MS }) };
    return this.infoCache.info;
  }

  /**
   * Offers tensors to the page; returns the index the page passes to receive(). The server sends the
   * tensors' own bytes (no concatenated copy): the caller's tensors must not change until the page
   * has fetched them, which it does within the call the index is passed to.
   */
  offer(tensors: WireTensor[]): WireIndex {
    const { parts, items } = layoutTensors(tensors);
    return { blob: this.page().offer(parts), items };
  }

  offerBytes(bytes: Uint8Array | readonly Uint8Array[]): string {
    return this.page().offer(bytes);
  }

  /** Tensors the page sent (the index its call returned). */
  take(index: WireIndex): Map<string, Tensor> {
    const bytes = this.page().take(index.blob);
    const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new Map(unpackTensors(u8, index.items).map((t) => [t.key, { shape: t.shape, data: t.data }]));
  }

  logTail(n?: number): string[] {
    return this.handle?.logTail(n) ?? [];
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    this.infoCache = undefined;
    this.envCache = undefined;
    if (h) await h.close();
    if (this.acquired) {
      this.acquired = false;
      this.host.release();
    }
  }
}

/** Chromium present? (no launch) */
export function chromiumProblem(): ProbeResult | null {
  const c = findChromium();
  if ('path' in c) return null;
  return { available: false, reason: c.reason, fix: c.fix ?? CHROMIUM_FIX };
}

const WEBGPU_FIX =
  'a WebGPU adapter in Chromium: without a GPU the host runs SwiftShader (--enable-unsafe-webgpu --enable-unsafe-swiftshader, RESNET_CONFORMANCE_BROWSER_GPU=software, the default); see docs/browser.md';

/**
 * The probe of every page adapter: Chromium present, then the page made ready (its backend loaded and
 * checked) within PROBE_TIMEOUT_MS; otherwise unavailable with the page's reason and a fix.
 */
export async function probePage(
  ready: (timeoutMs: number) => Promise<unknown>,
  webgpu: boolean,
  otherFix: string,
): Promise<ProbeResult> {
  const c = chromiumProblem();
  if (c) return c;
  try {
    await ready(PROBE_TIMEOUT_MS);
    return { available: true };
  } catch (err) {
    return { available: false, reason: firstLine(err), fix: webgpu ? WEBGPU_FIX : otherFix };
  }
}

export function firstLine(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split('\n')[0];
}

export function describeWebgpu(i: PageInfo['webgpu']): string {
  if (!i.available) return `none (${i.reason})`;
  return `${i.vendor || '?'} / ${i.architecture || '?'}${i.description ? ` (${i.description})` : ''}${i.isFallbackAdapter ? ', fallback adapter' : ''}`;
}

/**
 * RESNET_CONFORMANCE_BROWSER_GPU=hardware asks for the real GPU, but Chromium falls back to
 * SwiftShader when it finds none (measured: Chromium 156 without a GPU, without the SwiftShader
 * flags, still offers the SwiftShader WebGPU adapter and ANGLE-on-SwiftShader WebGL). That is a
 * fallback: the GPU adapter is then unavailable, with the reason.
 */
export function softwareFallbackProblem(host: BrowserHost, info: PageInfo, api: 'webgl' | 'webgpu'): string | null {
  if (host.mode !== 'hardware') return null;
  if (
    api === 'webgpu' &&
    info.webgpu.available &&
    (info.webgpu.isFallbackAdapter || /swiftshader/i.test(`${info.webgpu.architecture} ${info.webgpu.description}`))
  ) {
    return `RESNET_CONFORMANCE_BROWSER_GPU=hardware, but Chromium's WebGPU adapter is the software fallback (${describeWebgpu(info.webgpu)})`;
  }
  if (api === 'webgl' && /swiftshader|llvmpipe|software/i.test(info.webgl.renderer ?? '')) {
    return `RESNET_CONFORMANCE_BROWSER_GPU=hardware, but Chromium's WebGL renderer is software (${info.webgl.renderer})`;
  }
  return null;
}
