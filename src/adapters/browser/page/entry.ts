/**
 * The code that runs inside the Chromium page (bundled by ../bundle.ts with esbuild, served by the
 * host). It exposes `globalThis.__rc.call(method, params)` to the host; tensors come and go as
 * blobs on the host's server (./wire). The tfjs model is built by the same tfjs-layers code the Node
 * adapters use (../../tfjs/layers-model); ONNX Runtime Web is loaded from the package's dist files,
 * LiteRT.js from its own bundle, and so is the tfjs driver (loaded by the first tfjs call). This
 * file only dispatches: the drivers are ./tfjs-driver.ts, ./ort-driver.ts and ./litert-driver.ts,
 * what they share ./page-env.ts.
 *
 * Faults the host must hear about outside of a call (a lost GPU device, a lost WebGL context) go to
 * the function the host exposes as `__rcFault(kind, message)`.
 */
import { litertCompile, litertInit, litertRelease, litertRun } from './litert-driver';
import { ortCreate, ortInit, ortRelease, ortRun } from './ort-driver';
import { env, fault, g, info, receive, send } from './page-env';
import type { WireIndex, WireItem } from './wire';

type TfjsDriver = typeof import('./tfjs-driver');
let tfjsDriver: Promise<TfjsDriver> | undefined;

/**
 * The tfjs driver is its own module (/page-tfjs.js, ../bundle.ts: tfjs and its backends, 3 MB), loaded
 * by the first tfjs call: the pages of the other adapters never load or compile it.
 */
function tfjs(): Promise<TfjsDriver> {
  const url = '/page-tfjs.js';
  if (!tfjsDriver) {
    const p = import(/* @vite-ignore */ url) as Promise<TfjsDriver>;
    tfjsDriver = p;
    p.catch(() => {
      if (tfjsDriver === p) tfjsDriver = undefined;
    });
  }
  return tfjsDriver;
}

// ------------------------------------------------------------------------------------------------
// test hooks

async function echo(p: { tensors: WireIndex }): Promise<unknown> {
  const got = await receive(p.tensors);
  return send([...got.values()]);
}

const METHODS: Record<string, (p: never) => Promise<unknown>> = {
  env,
  info,
  tfjsInit: async (p: never) => (await tfjs()).tfjsInit(p),
  tfjsBuild: async (p: never) => (await tfjs()).tfjsBuild(p),
  tfjsRun: async (p: never) => (await tfjs()).tfjsRun(p),
  tfjsDispose: async () => {
    (await tfjs()).tfjsDisposeModel();
    return null;
  },
  ortInit,
  ortCreate,
  ortRun,
  ortRelease,
  litertInit,
  litertCompile,
  litertRun,
  litertRelease,
  echo,
  tfjsTamperHeld: async (p: never) => (await tfjs()).tfjsTamperHeld(p),
  /** Never answers (fault injection: the host's timeout). */
  hang: () => new Promise<never>(() => undefined),
  /** Reports a lost GPU device the way a real loss does (fault injection). */
  injectDeviceLost: async (p: { message: string }) => {
    fault('gpu-device-lost', `injected: ${p.message}`);
    return null;
  },
};

g.__rc = {
  async call(method: string, params: unknown): Promise<unknown> {
    const f = METHODS[method];
    if (!f) throw new Error(`page: unknown method '${method}'`);
    return f(params as never);
  },
};
g.__rcReady = true;

export type { WireItem };
