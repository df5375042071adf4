/**
 * The tfjs webgpu backend in Node on Dawn (the `webgpu` npm package): `tfjs-webgpu-node`. It runs
 * in its own process only (src/adapters/dawn/: the Vulkan library path must be set before that
 * process starts), where register() puts Dawn's WebGPU globals and `navigator.gpu` in place BEFORE
 * @tensorflow/tfjs-backend-webgpu is loaded (the backend reads them when it is imported).
 */
import type { ProbeResult } from '../types';
import type { Settings, TfjsBackendDef } from './backend-def';
import { installedVersion, resolvePackageDir, type Tf } from './tf-loader';

const WEBGPU_PKG = '@tensorflow/tfjs-backend-webgpu';

/** What Dawn's requestAdapter() found (null: no adapter). */
export interface DawnAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
}

interface GpuAdapterLike {
  info: Record<string, unknown>;
  features: Iterable<string>;
  limits: Record<string, number>;
  isFallbackAdapter?: boolean;
}
interface DeviceLike {
  lost: Promise<{ reason: string; message: string }>;
}

let installed: { adapter: DawnAdapterInfo | null } | undefined;

const LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxStorageBuffersPerShaderStage',
];

/** Dawn's globals and navigator.gpu in this process (once); the adapter Dawn finds. */
export async function installDawn(): Promise<DawnAdapterInfo | null> {
  if (installed) return installed.adapter;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { create, globals } = require('webgpu') as {
    create(flags: string[]): { requestAdapter(): Promise<GpuAdapterLike | null> };
    globals: object;
  };
  Object.assign(globalThis, globals);
  const gpu = create([]);
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu, userAgent: `Node.js ${process.version} (Dawn)`, hardwareConcurrency: 1 },
    configurable: true,
    writable: true,
  });
  const a = await gpu.requestAdapter();
  const info = a?.info ?? {};
  const adapter: DawnAdapterInfo | null = a
    ? {
        vendor: String(info.vendor ?? ''),
        architecture: String(info.architecture ?? ''),
        device: String(info.device ?? ''),
        description: String(info.description ?? ''),
        isFallbackAdapter: Boolean(info.isFallbackAdapter ?? a.isFallbackAdapter),
        features: [...a.features].sort(),
        limits: Object.fromEntries(LIMITS.map((k) => [k, Number(a.limits[k])])),
      }
    : null;
  installed = { adapter };
  return adapter;
}

export function describeDawnAdapter(a: DawnAdapterInfo): string {
  return `${a.vendor || '?'} / ${a.architecture || '?'} / ${a.device || '?'} (${a.description || '?'})${a.isFallbackAdapter ? ', fallback adapter' : ''}`;
}

/** Called with the backend's GPUDevice once it exists (the Dawn program exits on a real loss). */
let onDevice: ((device: DeviceLike) => void) | undefined;
export function watchDawnDevice(f: (device: DeviceLike) => void): void {
  onDevice = f;
}

const FLAGS = [
  'WEBGPU_CPU_FORWARD',
  'WEBGPU_MATMUL_PROGRAM_TYPE',
  'WEBGPU_USE_NAIVE_CONV2D_DEBUG',
  'WEBGPU_CONV_SEPARATE_IM2COL_SHADER',
  'WEBGPU_USE_LOW_POWER_GPU',
  'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE',
];

export const WEBGPU_DAWN_BACKEND: TfjsBackendDef = {
  id: 'tfjs-webgpu-node',
  backendName: 'webgpu',
  packageName: WEBGPU_PKG,
  device: 'gpu',
  precision: 'float32 (WGSL compute shaders on Dawn)',
  notes: [
    'tfjs-backend-webgpu in Node.js on Dawn (the `webgpu` npm package), in its own process (src/adapters/dawn/); the Vulkan ICD is chosen by RESNET_CONFORMANCE_DAWN_ICD (docs/browser.md, "WebGPU in Node (Dawn)")',
  ],
  fix: 'npm ci (webgpu, @tensorflow/tfjs-backend-webgpu are dependencies)',
  preflight(): ProbeResult {
    for (const pkg of ['webgpu', WEBGPU_PKG, '@tensorflow/tfjs'])
      if (!resolvePackageDir(pkg))
        return { available: false, reason: `${pkg} is not installed`, fix: 'npm ci (it is a package.json dependency)' };
    return { available: true };
  },
  async register(tf: Tf): Promise<void> {
    const adapter = await installDawn();
    if (!adapter)
      throw new Error(
        `Dawn found no WebGPU adapter (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}, LD_LIBRARY_PATH=${process.env.LD_LIBRARY_PATH ?? 'unset'})`,
      );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(WEBGPU_PKG);
    if (tf.getBackend() !== 'webgpu') {
      const ok = await tf.setBackend('webgpu');
      await tf.ready();
      if (!ok || tf.getBackend() !== 'webgpu')
        throw new Error(
          `tf.setBackend('webgpu') returned ${ok} and the current backend is '${tf.getBackend()}': the webgpu backend did not initialize on Dawn (no fallback is accepted)`,
        );
      const device = (tf.backend() as unknown as { device?: DeviceLike }).device;
      if (device) onDevice?.(device);
    }
  },
  childProbe: () => null,
  async settings(tf: Tf): Promise<Settings> {
    const a = installed?.adapter;
    const s: Settings = {
      backend: tf.getBackend(),
      [WEBGPU_PKG]: installedVersion(WEBGPU_PKG) ?? 'unknown',
      webgpu: installedVersion('webgpu') ?? 'unknown',
      node: process.version,
      VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? '(system Vulkan loader default)',
      dawnBackend: 'vulkan',
    };
    if (a) {
      s.webgpuAdapter = describeDawnAdapter(a);
      s.vendor = a.vendor;
      s.architecture = a.architecture;
      s.adapterDevice = a.device;
      s.description = a.description;
      s.isFallbackAdapter = a.isFallbackAdapter;
      s.shaderF16 = a.features.includes('shader-f16');
      for (const [k, v] of Object.entries(a.limits)) s[k] = v;
    }
    for (const f of FLAGS) {
      try {
        const v = tf.env().get(f);
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') s[f] = v;
      } catch {
        /* flag not registered in this version */
      }
    }
    return s;
  },
};
