/**
 * What the page's drivers (./tfjs-driver.ts, ./ort-driver.ts) share: the page's globals, faults
 * reported to the host outside of a call, tensors as blobs on the host's server (./wire), and the
 * page's environment (WebGL renderer, WebGPU adapter).
 */
import { packTensors, viewTensors, type WireIndex, type WireTensor } from './wire';

/** The few browser APIs the page code uses (the project's tsconfig has no DOM library). */
export interface GpuAdapterLike {
  info?: Record<string, unknown>;
  features: Iterable<string>;
  limits: Record<string, number>;
  isFallbackAdapter?: boolean;
  requestDevice(d?: unknown): Promise<GpuDeviceLike>;
}
export interface GpuDeviceLike {
  lost: Promise<{ reason: string; message: string }>;
  queue: unknown;
  destroy(): void;
}
export interface PageGlobal {
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
export interface WebGlLike {
  getExtension(name: string): Record<string, number> | null;
  getParameter(p: number): unknown;
  getSupportedExtensions(): string[] | null;
  VERSION: number;
  SHADING_LANGUAGE_VERSION: number;
  canvas?: { addEventListener(ev: string, f: (e: { statusMessage?: string }) => void): void };
}

export const g = globalThis as unknown as PageGlobal;

export function fault(kind: string, message: string): void {
  void g.__rcFault?.(kind, message).catch(() => undefined);
}

/** Reports a GPUDevice loss; reason 'destroyed' is a deliberate destroy() (ONNX Runtime does that when its sessions are released): logged only. */
export function watchDevice(dev: GpuDeviceLike, owner: string): void {
  void dev.lost.then((l) => {
    if (l.reason === 'destroyed') console.info(`${owner}: GPUDevice destroyed (${l.message})`);
    else fault('gpu-device-lost', `${l.reason || 'unknown'}: ${l.message}`);
  });
}

// ------------------------------------------------------------------------------------------------
// blobs

/**
 * The server's token for /blob/ requests: the host puts it in the page URL's fragment (#token=...),
 * which the browser never sends to a server, so another local process cannot read it. Read at each
 * request: the page Chromium opens at its launch gets its fragment only afterwards (history.replaceState;
 * a token on Chromium's command line would be readable by every local process).
 */
function blobHeaders(): Record<string, string> {
  return { 'x-rc-token': new URLSearchParams(g.location.hash.slice(1)).get('token') ?? '' };
}

function newId(): string {
  const b = g.crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export async function fetchBlob(id: string): Promise<Uint8Array> {
  const r = await fetch(`/blob/${id}`, { headers: blobHeaders() });
  if (!r.ok) throw new Error(`page: GET /blob/${id}: HTTP ${r.status} ${await r.text()}`);
  // Through a Blob: for a 94 MB body about 20% faster than Response.arrayBuffer() in Chromium 156
  // (docs/notes/2026-12-08-harness-share.md); the same bytes.
  return new Uint8Array(await (await r.blob()).arrayBuffer());
}

/** Tensors the host offered: views of the one blob (wire.viewTensors), read-only for the page code. */
export async function receive(index: WireIndex): Promise<Map<string, WireTensor>> {
  const bytes = await fetchBlob(index.blob);
  return new Map(viewTensors(bytes, index.items).map((t) => [t.key, t]));
}

export async function send(tensors: WireTensor[]): Promise<WireIndex> {
  const { bytes, items } = packTensors(tensors);
  const blob = newId();
  const r = await fetch(`/blob/${blob}`, {
    method: 'POST',
    body: bytes,
    headers: { 'Content-Type': 'application/octet-stream', ...blobHeaders() },
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

export function adapterInfo(a: GpuAdapterLike): Record<string, unknown> {
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

/** The page itself, without touching a GPU API (what the wasm adapters need). */
export async function env(): Promise<Record<string, unknown>> {
  return {
    crossOriginIsolated: g.crossOriginIsolated,
    sharedArrayBuffer: typeof g.SharedArrayBuffer === 'function',
    userAgent: g.navigator.userAgent,
    hardwareConcurrency: g.navigator.hardwareConcurrency,
  };
}

/**
 * env() plus the WebGL renderer and the WebGPU adapter: creating a WebGL2 context and requesting an
 * adapter start Chromium's GPU stack (SwiftShader here), so only the GPU adapters ask for this.
 */
export async function info(): Promise<Record<string, unknown>> {
  return { ...(await env()), webgl: webglInfo(), webgpu: await webgpuInfo() };
}
