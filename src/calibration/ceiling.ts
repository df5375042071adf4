/**
 * The machine's practical fp32 ceiling: the throughput of a large square matrix product (2048³ by
 * default, 17.2 GFLOP per run) on the fastest runtime available. A big GEMM is the most
 * compute-bound, best-tuned kernel every runtime has, so "achieved / ceiling" says how much of what
 * this machine can actually deliver right now a ResNet-50 forward pass gets — a ratio that survives
 * a noisy shared machine far better than absolute latencies.
 *
 * Runtimes, fastest first: onnxruntime-node (MLAS GEMM), @tensorflow/tfjs-node (libtensorflow /
 * oneDNN, when installed), @tensorflow/tfjs-backend-wasm (XNNPACK in WebAssembly SIMD128, measured
 * only when asked or when no native runtime loads: 128-bit wasm vectors cannot approach native
 * AVX2/AVX-512 GEMM). ONNX Runtime is measured with every core and with one thread; on a loaded
 * machine the single-thread configuration can be the faster one. The configurations are timed
 * round-robin; the ceiling is the best median. Inside adapter workers the same products are paired
 * with the adapter's runs (src/calibration/paired.ts).
 *
 * Runs inside a bench worker process (src/bench/worker.ts), never in the parent.
 */
import * as os from 'os';
import { DataType, encodeModel, type ValueInfoProto } from '../onnx/proto';
import { loadOrt, ortVersion } from '../adapters/onnxruntime/load';
import { installedVersion, loadTfjs, resolvePackageDir } from '../adapters/tfjs/tf-loader';
import { WASM_BACKEND } from '../adapters/tfjs/backends';
import { matmulFlops } from './matmul-flops';
import { timeRunsInterleaved, type RunPolicy, type Timings } from '../util/measure';
import { noiseBand } from './noise';
import type { CeilingConfigResult } from './records';
import { summarize } from '../util/stats';

export type CeilingRuntime = 'onnxruntime-node' | 'tfjs-node' | 'tfjs-wasm';
export const CEILING_RUNTIMES: readonly CeilingRuntime[] = ['onnxruntime-node', 'tfjs-node', 'tfjs-wasm'];
/** Measured by default: the native runtimes. */
export const DEFAULT_CEILING_RUNTIMES: readonly CeilingRuntime[] = ['onnxruntime-node', 'tfjs-node'];
export const DEFAULT_CEILING_N = 2048;

export const CEILING_POLICY: RunPolicy = {
  warmup: 1,
  minRuns: 5,
  minTimeMs: 600,
  maxRuns: 50,
  budgetMs: 8000,
  floorRuns: 3,
};

export interface CeilingJob {
  runtimes: CeilingRuntime[];
  n: number;
  policy: RunPolicy;
  /** Also measure tfjs-wasm when no native runtime could be measured. */
  wasmFallback: boolean;
}

export interface CeilingOutcome {
  configs: CeilingConfigResult[];
  unavailable: Array<{ runtime: string; reason: string }>;
}

export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Deterministic operand values in [−1, 1] (no denormals, no special values). */
export function operand(n: number, salt: number): Float32Array {
  const a = new Float32Array(n * n);
  for (let i = 0; i < a.length; i++) a[i] = (((Math.imul(i + salt, 2654435761) >>> 0) % 2001) - 1000) / 1000;
  return a;
}

/** An ONNX model computing c = a · b for n×n float32 matrices. */
export function matmulOnnx(n: number): Uint8Array {
  const vi = (name: string): ValueInfoProto => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: n }, { dimValue: n }] } } },
  });
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'resnet-conformance bench',
    producerVersion: '1',
    metadataProps: [],
    graph: {
      name: `matmul_${n}`,
      node: [{ input: ['a', 'b'], output: ['c'], name: 'matmul', opType: 'MatMul', attribute: [] }],
      initializer: [],
      input: [vi('a'), vi('b')],
      output: [vi('c')],
    },
  });
}

function result(p: Product, t: Timings): CeilingConfigResult {
  const latencyMs = summarize(t.samplesMs);
  const flops = matmulFlops(p.n, p.n, p.n);
  return {
    runtime: p.runtime,
    version: p.version,
    threads: p.threads,
    n: p.n,
    flops,
    gflops: flops / (latencyMs.median * 1e6),
    warmupMs: t.warmupMs,
    samplesMs: t.samplesMs,
    stoppedBy: t.stoppedBy,
    latencyMs,
    noise: noiseBand(t.samplesMs, latencyMs.median),
  };
}

/** One runtime configuration's matrix product, ready to time: `run` computes c = a · b once. */
export interface Product {
  runtime: string;
  version: string;
  /** Intra-op threads asked for (null: the runtime's default). */
  threads: number | null;
  n: number;
  run(): Promise<void> | void;
  release(): Promise<void> | void;
}

/** One ONNX Runtime MatMul session, ready to time. Spinning is off: idle pool threads must not steal CPU from whatever runs next. */
export interface OrtMatmul extends Product {
  threads: number;
  run(): Promise<void>;
  release(): Promise<void>;
}

export async function createOrtMatmul(n: number, threads: number): Promise<OrtMatmul> {
  const ort = loadOrt();
  const a = new ort.Tensor('float32', operand(n, 1), [n, n]);
  const b = new ort.Tensor('float32', operand(n, 2), [n, n]);
  const session = await ort.InferenceSession.create(matmulOnnx(n), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  return {
    runtime: 'onnxruntime-node',
    threads,
    version: ortVersion(ort),
    n,
    run: async () => {
      await session.run({ a, b });
    },
    release: () => session.release(),
  };
}

/** Thread counts the ONNX Runtime ceiling is measured with: every core, and one (faster on a loaded machine). */
export function ceilingThreadCounts(): number[] {
  const cores = availableCores();
  return cores > 1 ? [cores, 1] : [1];
}

/** c[i][j] of a · b (n×n, row-major), summed in float64: what a product's spot check compares with. */
export function productEntry(a: Float32Array, b: Float32Array, n: number, i: number, j: number): number {
  let sum = 0;
  for (let k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
  return sum;
}

/**
 * A tfjs MatMul on the tensorflow (libtensorflow/oneDNN) or wasm backend. Both backends execute an
 * op synchronously inside the call (the following dataSync is short and varies:
 * docs/notes/measured-in-code-comments.md), so a run is the product alone; reading the 16 MB result back to
 * JavaScript (an allocation and a copy that ONNX Runtime's timing has no counterpart of, and whose
 * cost varied eightfold) is not part of it. The result is read once at creation, untimed, and spot-checked.
 */
export async function createTfjsProduct(backend: 'tensorflow' | 'wasm', n: number): Promise<Product> {
  const tf = loadTfjs();
  let pkg: string;
  if (backend === 'tensorflow') {
    pkg = '@tensorflow/tfjs-node';
    if (!resolvePackageDir(pkg)) throw new Error(`${pkg} is not installed (npm run setup:tfjs-node)`);
    if (!process.env.TF_CPP_MIN_LOG_LEVEL) process.env.TF_CPP_MIN_LOG_LEVEL = '1';
    require(pkg);
  } else {
    pkg = '@tensorflow/tfjs-backend-wasm';
    const pre = WASM_BACKEND.preflight();
    if (!pre.available) throw new Error(pre.reason ?? `${pkg} is unavailable`);
    await WASM_BACKEND.register(tf);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  const av = operand(n, 1);
  const bv = operand(n, 2);
  const a = tf.tensor2d(av, [n, n]);
  const b = tf.tensor2d(bv, [n, n]);
  const check = tf.matMul(a, b);
  const c = check.dataSync() as Float32Array;
  check.dispose();
  for (const [i, j] of [
    [0, 0],
    [n - 1, n >> 1],
  ]) {
    const want = productEntry(av, bv, n, i, j);
    if (!(Math.abs(c[i * n + j] - want) <= 1e-3 * Math.max(1, Math.abs(want)))) {
      a.dispose();
      b.dispose();
      throw new Error(`tfjs ${backend} MatMul gave c[${i}][${j}] = ${c[i * n + j]}, expected ${want}`);
    }
  }
  return {
    runtime: backend === 'tensorflow' ? 'tfjs-node' : 'tfjs-wasm',
    version: installedVersion(pkg) ?? 'unknown',
    threads: null,
    n,
    run: () => {
      tf.matMul(a, b).dispose();
    },
    release: () => {
      a.dispose();
      b.dispose();
    },
  };
}

/** The first line of an error's message. */
export function reasonOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/**
 * Every configuration of every runtime that loads, timed round-robin (one product of each in turn,
 * src/util/measure.ts timeRunsInterleaved): the runtimes are compared under the same load, which
 * matters because the paired ceiling scales ONNX Runtime's rate by their ratio.
 */
export async function measureCeiling(job: CeilingJob): Promise<CeilingOutcome> {
  if (!(Number.isInteger(job.n) && job.n >= 16))
    throw new Error(`ceiling: matrix size must be an integer >= 16, got ${job.n}`);
  const out: CeilingOutcome = { configs: [], unavailable: [] };
  const products: Product[] = [];
  const tryRuntime = async (rt: CeilingRuntime): Promise<void> => {
    try {
      if (rt === 'onnxruntime-node') {
        for (const threads of ceilingThreadCounts()) products.push(await createOrtMatmul(job.n, threads));
      } else {
        products.push(await createTfjsProduct(rt === 'tfjs-node' ? 'tensorflow' : 'wasm', job.n));
      }
    } catch (err) {
      out.unavailable.push({ runtime: rt, reason: reasonOf(err) });
    }
  };
  try {
    for (const rt of job.runtimes) await tryRuntime(rt);
    if (products.length === 0 && job.wasmFallback && !job.runtimes.includes('tfjs-wasm')) await tryRuntime('tfjs-wasm');
    if (products.length) {
      const timings = await timeRunsInterleaved(
        products.map((p) => p.run),
        job.policy,
      );
      out.configs = products.map((p, k) => result(p, timings[k]));
    }
  } finally {
    for (const p of products) await p.release();
  }
  return out;
}

/** The best configuration (highest median GFLOP/s), or null. */
export function bestConfig(configs: readonly CeilingConfigResult[]): CeilingConfigResult | null {
  let best: CeilingConfigResult | null = null;
  for (const c of configs) if (!best || c.gflops > best.gflops) best = c;
  return best;
}
