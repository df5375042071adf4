/** onnxruntime-web: the adapter over a session driver; in Node (this file) and in Chromium (../browser). */
import { OrtWebAdapter } from './adapter';
import { NodeOrtWebDriver } from './node-driver';

export { OrtWebAdapter } from './adapter';
export type { OrtWebDriver, OrtWebLevel } from './adapter';
export { NodeOrtWebDriver } from './node-driver';

export function ortWebNodeAdapter(id = 'onnxruntime-web-wasm'): OrtWebAdapter {
  return new OrtWebAdapter(id, new NodeOrtWebDriver());
}
