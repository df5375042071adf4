/** Browser runtimes (headless Chromium): tfjs webgl / webgl-f16 / webgpu / wasm, onnxruntime-web wasm / webgpu, LiteRT.js wasm / webgpu. Loads nothing at import. */
import { OrtWebAdapter } from '../onnxruntime-web/adapter';
import { PageOrtWebDriver } from './ort-page-driver';
import type { BrowserHost } from './host';
import { LitertBrowserAdapter, type LitertAccelerator } from './litert-browser';
import { TFJS_BROWSER_VARIANTS, TfjsBrowserAdapter } from './tfjs-browser';

export { BROWSER_PROCESS_GROUP, BrowserFault, BrowserHost, HostPage, defaultCallTimeoutMs } from './host';
export type { FaultKind } from './host';
export { CHROMIUM_FIX, chromiumFlags, findChromium, gpuMode } from './chromium';
export { TFJS_BROWSER_VARIANTS, TfjsBrowserAdapter } from './tfjs-browser';
export type { TfjsBrowserVariant } from './tfjs-browser';
export { PageClient } from './page-client';
export { PageOrtWebDriver } from './ort-page-driver';
export { LitertBrowserAdapter } from './litert-browser';
export type { LitertAccelerator, LitertBrowserOptions } from './litert-browser';

export function tfjsBrowserAdapter(id: string, opts: { host?: BrowserHost } = {}): TfjsBrowserAdapter {
  const v = TFJS_BROWSER_VARIANTS.find((x) => x.id === id);
  if (!v)
    throw new Error(
      `unknown browser tfjs adapter '${id}'; known: ${TFJS_BROWSER_VARIANTS.map((x) => x.id).join(', ')}`,
    );
  return new TfjsBrowserAdapter(v, opts);
}

export function ortWebBrowserAdapter(
  id: string,
  ep: 'wasm' | 'webgpu',
  opts: { host?: BrowserHost } = {},
): OrtWebAdapter {
  return new OrtWebAdapter(id, new PageOrtWebDriver({ id, ep, host: opts.host }));
}

export function litertBrowserAdapter(
  id: string,
  accelerator: LitertAccelerator,
  opts: { host?: BrowserHost; precision?: 'fp16' | 'fp32' } = {},
): LitertBrowserAdapter {
  return new LitertBrowserAdapter(id, accelerator, opts);
}
