/**
 * The `tfjs-webgpu-node` program: the Node tfjs adapter (../tfjs/adapter.ts, same model builder,
 * capture plan and run semantics as every tfjs adapter) on the webgpu backend on Dawn, served over
 * the external adapter protocol (../external/serve.ts). Started by ./index.ts with the Vulkan
 * environment of ./environment.ts; a Dawn crash or hang ends this process, never the harness.
 *
 * A lost GPUDevice (any reason but a deliberate destroy) ends the process with exit code 70 after a
 * "GPU device lost" line on stderr: the harness reports the call as crashed and restarts it.
 * RESNET_CONFORMANCE_DAWN_FAULT=exit|hang|device-lost (fault injection for suites/dawn.test.ts)
 * acts on training-mode runs only.
 */
import { serveAdapter } from '../external/serve';
import { TfjsAdapter } from '../tfjs/adapter';
import { describeDawnAdapter, installDawn, watchDawnDevice } from '../tfjs/webgpu-dawn-backend';
import type { Adapter, AdapterDescription, ProbeResult } from '../types';
import { DAWN_FIX, dawnEnvironment } from './environment';

const ID = 'tfjs-webgpu-node';
export const DEVICE_LOST_EXIT = 70;

function deviceLost(message: string): never {
  process.stderr.write(`GPU device lost: ${message}\n`);
  process.exit(DEVICE_LOST_EXIT);
}

watchDawnDevice((device) => {
  void device.lost.then((l) => {
    if (l.reason !== 'destroyed') deviceLost(`${l.reason || 'unknown'}: ${l.message}`);
  });
});

const tfjs = new TfjsAdapter(ID);
const mode = dawnEnvironment().mode;

async function probe(): Promise<ProbeResult> {
  const pre = tfjs.backend.preflight();
  if (!pre.available) return pre;
  const where = `VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}, LD_LIBRARY_PATH=${process.env.LD_LIBRARY_PATH ?? 'unset'}`;
  let a;
  try {
    a = await installDawn();
  } catch (err) {
    return {
      available: false,
      reason: `the webgpu package (Dawn) does not load: ${(err as Error).message}`,
      fix: DAWN_FIX,
    };
  }
  if (!a) return { available: false, reason: `Dawn found no WebGPU adapter (${where})`, fix: DAWN_FIX };
  if (
    mode === 'system' &&
    (a.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(`${a.architecture} ${a.description}`))
  )
    return {
      available: false,
      reason: `RESNET_CONFORMANCE_DAWN_ICD=system, but Dawn's adapter is a software one (${describeDawnAdapter(a)})`,
      fix: DAWN_FIX,
    };
  try {
    await tfjs.describe();
  } catch (err) {
    return { available: false, reason: (err as Error).message.split('\n')[0], fix: DAWN_FIX };
  }
  return { available: true };
}

async function describe(): Promise<AdapterDescription> {
  const d = await tfjs.describe();
  const a = await installDawn();
  return {
    ...d,
    runtime: 'TensorFlow.js in Node.js on Dawn (tfjs-layers, webgpu backend)',
    device: a ? `webgpu (Dawn, Vulkan): ${describeDawnAdapter(a)}` : 'webgpu: no adapter',
    settings: { ...d.settings, icdMode: mode },
  };
}

const fault = process.env.RESNET_CONFORMANCE_DAWN_FAULT ?? '';

const adapter: Adapter = {
  id: ID,
  probe,
  describe,
  build: (spec, weights) => tfjs.build(spec, weights),
  run: (input, opts) => tfjs.run(input, opts),
  paramCount: () => tfjs.paramCount(),
  dispose: () => tfjs.dispose(),
};

serveAdapter(adapter, ID, '1', {
  beforeRun(h) {
    if (!h.training || fault === '') return false;
    if (fault === 'exit') process.exit(3);
    if (fault === 'hang') {
      setInterval(() => undefined, 1000);
      return true;
    }
    if (fault === 'device-lost') deviceLost('injected (RESNET_CONFORMANCE_DAWN_FAULT=device-lost)');
    return false;
  },
});
