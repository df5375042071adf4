/**
 * Which Vulkan driver Dawn uses in the `tfjs-webgpu-node` program: the environment its process
 * starts with (the Vulkan loader reads it once, at load).
 *
 *   RESNET_CONFORMANCE_DAWN_ICD unset or `swiftshader`: Chromium's SwiftShader Vulkan ICD (CPU),
 *     from RESNET_CONFORMANCE_SWIFTSHADER_DIR (default /usr/lib/chromium, the Debian chromium
 *     package): LD_LIBRARY_PATH=<dir> (its libvulkan.so.1), VK_ICD_FILENAMES=<dir>/vk_swiftshader_icd.json;
 *   `system`: nothing forced, the system's Vulkan loader and its installed ICDs (a real GPU); a
 *     software or fallback adapter is then refused (unavailable), never taken for the GPU;
 *   a path to an ICD .json: VK_ICD_FILENAMES=<path>.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ProbeResult } from '../types';

export const DAWN_ICD_ENV = 'RESNET_CONFORMANCE_DAWN_ICD';
export const SWIFTSHADER_DIR_ENV = 'RESNET_CONFORMANCE_SWIFTSHADER_DIR';
export const DAWN_TIMEOUT_ENV = 'RESNET_CONFORMANCE_DAWN_TIMEOUT_MS';
const SWIFTSHADER_ICD = 'vk_swiftshader_icd.json';

export type DawnIcdMode = 'swiftshader' | 'system' | 'file';

export interface DawnEnvironment {
  mode: DawnIcdMode;
  /** Added to the program's environment. */
  env: Record<string, string>;
  /** The ICD file that must exist (swiftshader, file). */
  icd?: string;
}

export function dawnEnvironment(vars: NodeJS.ProcessEnv = process.env): DawnEnvironment {
  const v = (vars[DAWN_ICD_ENV] ?? '').trim();
  if (v === 'system') return { mode: 'system', env: {} };
  if (v === '' || v === 'swiftshader') {
    const dir = vars[SWIFTSHADER_DIR_ENV] || '/usr/lib/chromium';
    const icd = path.join(dir, SWIFTSHADER_ICD);
    const ld = vars.LD_LIBRARY_PATH ? `${dir}${path.delimiter}${vars.LD_LIBRARY_PATH}` : dir;
    return { mode: 'swiftshader', env: { LD_LIBRARY_PATH: ld, VK_ICD_FILENAMES: icd }, icd };
  }
  if (!v.endsWith('.json'))
    throw new Error(
      `${DAWN_ICD_ENV} must be 'swiftshader', 'system' or the path of a Vulkan ICD .json file, got '${v}'`,
    );
  return { mode: 'file', env: { VK_ICD_FILENAMES: path.resolve(v) }, icd: path.resolve(v) };
}

export const DAWN_FIX =
  `apt-get install chromium (its SwiftShader Vulkan ICD: /usr/lib/chromium/${SWIFTSHADER_ICD}), or ${DAWN_ICD_ENV}=system ` +
  `(the system's Vulkan driver: libvulkan1 and a GPU's ICD) or ${DAWN_ICD_ENV}=/path/to/icd.json; see docs/browser.md, "WebGPU in Node (Dawn)"`;

/** What can be checked before starting the program: the ICD file exists. */
export function dawnEnvironmentProblem(vars: NodeJS.ProcessEnv = process.env): ProbeResult | null {
  let e: DawnEnvironment;
  try {
    e = dawnEnvironment(vars);
  } catch (err) {
    return { available: false, reason: (err as Error).message, fix: DAWN_FIX };
  }
  if (e.icd && !fs.existsSync(e.icd))
    return {
      available: false,
      reason: `the Vulkan ICD ${e.icd} does not exist (${DAWN_ICD_ENV}=${vars[DAWN_ICD_ENV] || 'swiftshader'})`,
      fix: DAWN_FIX,
    };
  return null;
}

/** Per-request limit of the program (build, run), default 600000 ms like the browser adapters. */
export function dawnTimeoutMs(vars: NodeJS.ProcessEnv = process.env): number {
  const v = vars[DAWN_TIMEOUT_ENV];
  if (v === undefined || v === '') return 600_000;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${DAWN_TIMEOUT_ENV} must be a positive number of milliseconds, got '${v}'`);
  return n;
}
