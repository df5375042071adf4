/**
 * onnxruntime-web in this Node process: the package's "node" export (dist/ort.node.min.js), its
 * wasm build (ort-wasm-simd-threaded.wasm from the package's dist/). No browser.
 */
import * as os from 'node:os';
import { checkProbeOutput, PROBE_INPUT, probeModelBytes } from '../../onnx/probe-model';
import type { Tensor } from '../../tensor';
import type { ProbeResult } from '../types';
import type { OrtWebDriver, OrtWebLevel } from './adapter';

type OrtWeb = typeof import('onnxruntime-web');
type Session = import('onnxruntime-web').InferenceSession;

function loadOrtWeb(): OrtWeb {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('onnxruntime-web') as OrtWeb;
}

export class NodeOrtWebDriver implements OrtWebDriver {
  readonly epoch = 0;
  /** onnxruntime-web copies the model into the wasm heap inside InferenceSession.create. */
  readonly keepsModelBytes = 'nothing';
  private readonly sessions = new Map<string, Session>();
  private readonly threads: number;

  constructor(threads?: number) {
    this.threads =
      threads ?? (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  }

  private ort(): OrtWeb {
    const ort = loadOrtWeb();
    ort.env.wasm.numThreads = this.threads;
    ort.env.logLevel = 'warning';
    return ort;
  }

  async probe(): Promise<ProbeResult> {
    let ort: OrtWeb;
    try {
      ort = this.ort();
    } catch (err) {
      return {
        available: false,
        reason: `onnxruntime-web does not load: ${(err as Error).message.split('\n')[0]}`,
        fix: 'npm ci (onnxruntime-web is a dependency)',
      };
    }
    try {
      const bytes = probeModelBytes();
      const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
      const y = (await s.run({ x: new ort.Tensor('float32', Float32Array.from(PROBE_INPUT), [2]) })).y
        .data as Float32Array;
      await s.release();
      checkProbeOutput(y);
      return { available: true };
    } catch (err) {
      return {
        available: false,
        reason: `onnxruntime-web wasm session failed in Node: ${(err as Error).message.split('\n')[0]}`,
        fix: 'reinstall onnxruntime-web (npm ci)',
      };
    }
  }

  async describe() {
    const ort = this.ort();
    return {
      runtime: 'onnxruntime-web (Node.js, wasm build)',
      version: ort.env.versions.web ?? 'unknown',
      device: 'cpu',
      precision: 'float32 (ONNX Runtime CPU kernels compiled to WebAssembly, SIMD)',
      settings: {
        executionProvider: 'wasm',
        numThreads: ort.env.wasm.numThreads ?? this.threads,
        simd: true,
        wasmBinary: 'ort-wasm-simd-threaded.wasm',
        node: process.version,
      },
      notes: ['onnxruntime-web resolves to dist/ort.node.min.js in Node.js; wasm threads run on worker_threads'],
    };
  }

  async create(key: string, model: Uint8Array, level: OrtWebLevel): Promise<number> {
    const ort = this.ort();
    await this.release(key);
    const t = performance.now();
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: level,
      executionMode: 'sequential',
    });
    const ms = performance.now() - t;
    this.sessions.set(key, session);
    return ms;
  }

  async run(
    key: string,
    inputName: string,
    input: { shape: number[]; data: Float32Array },
    fetches: string[],
  ): Promise<Map<string, Tensor>> {
    const ort = this.ort();
    const s = this.sessions.get(key);
    if (!s) throw new Error(`onnxruntime-web: no session '${key}'`);
    const res = await s.run({ [inputName]: new ort.Tensor('float32', input.data, input.shape) }, fetches);
    const out = new Map<string, Tensor>();
    for (const name of fetches) {
      const t = res[name];
      if (!t) throw new Error(`onnxruntime-web: session returned no output '${name}'`);
      out.set(name, { shape: t.dims.map(Number), data: new Float32Array(t.data as Float32Array) });
    }
    for (const t of Object.values(res)) t.dispose();
    return out;
  }

  async release(key?: string): Promise<void> {
    for (const [k, s] of [...this.sessions]) {
      if (key !== undefined && k !== key) continue;
      this.sessions.delete(k);
      await s.release().catch(() => undefined);
    }
  }

  async dispose(): Promise<void> {
    await this.release();
  }
}
