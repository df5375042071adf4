/**
 * The `litertjs-wasm` program: LiteRT.js (@litertjs/core) in this Node process, served over the
 * external adapter protocol (../external/serve.ts). Started by ./index.ts.
 *
 * LiteRT.js is written for browsers and web workers: its loader runs the emscripten glue with
 * `importScripts` (a worker) or a <script> tag. Here `self` is the global object, `importScripts`
 * runs the glue file in this context, and `require`/`__dirname` are what the glue's Node branch
 * reads the .wasm with. Node 20 has no relaxed SIMD, so LiteRT.js picks its compat build (describe
 * says which).
 *
 * build() keeps the weights; run() converts the model for the input's shape and the capture set
 * (fixtures/generate/tflite_convert.py in the pinned Python, cached by content), compiles it for
 * the wasm accelerator and runs it. Outputs are named Identity, Identity_1, ... in capture order.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
import type { ModelSpec, ModelWeights, ParamCount } from '../../model/types';
import type { Tensor } from '../../tensor';
import { serveAdapter } from '../external/serve';
import { probePython, repoRoot } from '../keras/python-env';
import type { Adapter, AdapterDescription, ProbeResult, RunOptions, RunResult } from '../types';
import { LitertConversion, outputIndex, runResultFromOutputs, type Converted } from './convert';
import { LITERT_FIX, LITERT_PACKAGE } from './index';

const ID = process.env.RESNET_CONFORMANCE_LITERT_ID || 'litertjs-wasm';
const CACHE = process.env.RESNET_CONFORMANCE_LITERT_CACHE || path.join(repoRoot(), '.cache', 'litert');

/* eslint-disable @typescript-eslint/no-explicit-any */
type LiteRtModule = any;
type CompiledModel = any;

let lib: LiteRtModule | undefined;
let relaxedSimd: boolean | undefined;

function packageDir(): string {
  return path.dirname(require.resolve(`${LITERT_PACKAGE}/package.json`));
}

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(packageDir(), 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'not installed';
  }
}

async function loadRuntime(): Promise<LiteRtModule> {
  if (lib) return lib;
  const g = globalThis as any;
  g.self ??= globalThis;
  g.require ??= require;
  g.importScripts ??= (url: string) => {
    const file = url.startsWith('file:') ? new URL(url).pathname : url;
    vm.runInThisContext(fs.readFileSync(file, 'utf8'), { filename: file });
  };
  const wasmDir = path.join(packageDir(), 'wasm');
  g.__dirname = wasmDir; // the glue's Node branch locates its .wasm beside "__dirname"
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const m = require(LITERT_PACKAGE) as LiteRtModule; // an ES module: require(esm), Node >= 20.19
  relaxedSimd = Boolean(await m.supportsFeature('relaxedSimd'));
  await m.loadLiteRt(wasmDir + path.sep);
  lib = m;
  return m;
}

class LiteRtJsAdapter implements Adapter {
  readonly id = ID;
  private readonly conversion = new LitertConversion(CACHE);
  private compiled: { key: string; model: CompiledModel; info: Converted } | undefined;
  private lastInfo: Converted | undefined;

  async probe(): Promise<ProbeResult> {
    try {
      require.resolve(`${LITERT_PACKAGE}/package.json`);
    } catch {
      return { available: false, reason: `${LITERT_PACKAGE} is not installed`, fix: LITERT_FIX };
    }
    const p = probePython();
    if (!p.ok)
      return {
        available: false,
        reason: `the .tflite converter needs the pinned TensorFlow: ${p.reason ?? 'Python not found'}`,
        fix: 'npm run setup:python',
      };
    try {
      await loadRuntime();
    } catch (err) {
      return {
        available: false,
        reason: `${LITERT_PACKAGE} ${packageVersion()} does not load in Node ${process.version}: ${(err as Error).message.split('\n')[0]}`,
        fix: LITERT_FIX,
      };
    }
    return { available: true };
  }

  async describe(): Promise<AdapterDescription> {
    const notes = [
      "the notebook's Keras model (fixtures/generate/notebook_model.py) with the handed weights, converted in inference mode by fixtures/generate/tflite_convert.py: BatchNormalization folded into the convolution kernels and biases, ReLU fused into CONV_2D/ADD",
      `flatbuffers cached by content in ${CACHE}`,
      'parameter count: the handed Keras weights (the flatbuffer holds the folded constants instead)',
      'browser globals shimmed in this program only (self, importScripts, require) so that the web package loads in Node',
    ];
    const i = this.lastInfo;
    if (i)
      notes.push(
        `last model: ${i.operators.length} operators (${[...new Set(i.operators)].sort().join(', ')}), ${i.bytes} bytes, sha256 ${i.sha256.slice(0, 12)}`,
      );
    return {
      runtime: 'LiteRT.js (@litertjs/core) in Node.js',
      version: packageVersion(),
      device: 'cpu (wasm accelerator: XNNPACK in WebAssembly)',
      precision: 'float32 (BatchNormalization folded into the convolutions)',
      settings: {
        accelerator: 'wasm',
        wasmBuild:
          relaxedSimd === undefined
            ? 'not loaded'
            : relaxedSimd
              ? 'litert_wasm_internal (relaxed SIMD)'
              : 'litert_wasm_compat_internal (no relaxed SIMD in this Node)',
        node: process.version,
        converter: 'TFLiteConverter (tensorflow in .venv), float32, no quantization',
      },
      notes,
    };
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    await this.dispose();
    this.conversion.build(spec, weights);
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    if (!this.conversion.built) throw new Error(`${this.id}: build() must be called before run()`);
    if (opts.training)
      throw new Error(
        `${this.id}: inference only: a .tflite model has BatchNormalization folded into constants (no batch statistics); training=true cannot be run`,
      );
    const capture = opts.capture ?? [];
    const key = JSON.stringify([input.shape, capture]);
    const m = await loadRuntime();
    if (this.compiled?.key !== key) {
      this.compiled?.model.delete?.();
      this.compiled = undefined;
      const info = await this.conversion.convert(input.shape, capture);
      const bytes = new Uint8Array(fs.readFileSync(info.path));
      const model = await m.loadAndCompile(bytes, { accelerator: 'wasm' });
      this.compiled = { key, model, info };
      this.lastInfo = info;
    }
    const { model } = this.compiled;
    const data = input.data instanceof Float32Array ? input.data : Float32Array.from(input.data);
    const x = new m.Tensor(data, [...input.shape]);
    let outs: any[];
    try {
      outs = await model.run(x);
    } finally {
      x.delete();
    }
    const details = model.getOutputDetails() as { name: string; shape: Record<string, number> }[];
    const byIndex = new Map<number, Tensor>();
    try {
      details.forEach((d, i) => {
        const shape = Object.values(d.shape).map(Number);
        const arr = outs[i].toTypedArray() as Float32Array;
        byIndex.set(outputIndex(d.name), { shape, data: Float32Array.from(arr) });
      });
    } finally {
      for (const t of outs) t.delete();
    }
    return runResultFromOutputs(byIndex, capture, ID);
  }

  async paramCount(): Promise<ParamCount> {
    const counts = this.conversion.paramCount;
    if (!counts) throw new Error(`${this.id}: build() must be called before paramCount()`);
    return counts;
  }

  async dispose(): Promise<void> {
    this.compiled?.model.delete?.();
    this.compiled = undefined;
    this.conversion.dispose();
  }
}

serveAdapter(new LiteRtJsAdapter(), ID, packageVersion());
