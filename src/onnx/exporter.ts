/**
 * The ONNX exports of one built model for an adapter whose ONNX Runtime sessions take the model as
 * bytes: up to four per model (BatchNormalization mode × plain/capture graph), made when a session
 * is created. What is costly in an export is shared instead of repeated per export:
 *
 *   - the Conv kernels transposed to ONNX's [cout,cin,kh,kw] (23.5 M values for ResNet-50): once per
 *     kernel array, kept in an OihwKernelMemo that outlives a build, so that the perturbed weight set,
 *     which keeps the notebook set's kernel arrays (src/init/perturb.ts), transposes nothing. A model's
 *     kernels are transposed together into one allocation: one large block can be backed by huge
 *     pages (the workers ask glibc's malloc for them, src/runner/orchestrator.ts), dozens of separate
 *     arrays mostly cannot, and first touching memory is most of what a transpose costs;
 *   - the memory the model is serialized into: lend() writes every export into one buffer, reused.
 *     Memory touched for the first time is what a 94 MB export mostly costs on the machines measured
 *     (docs/notes/2026-12-08-harness-share.md), far more than copying into memory already touched.
 *
 * The bytes are those of encodeModel(buildOnnxModel(spec, weights, opts).proto) (suites/onnx-exporter.test.ts),
 * i.e. the exporter's output, made from the weights in memory: no file is read, no digest needed.
 *
 * Weights are taken to be immutable once handed to an adapter (as the adapters already assume when
 * they export lazily from the weights of their last build): a kernel array is transposed once, and
 * its transposed copy is only read.
 */
import type { ModelSpec, ModelWeights, WeightTensor } from '../model/types';
import { buildOnnxModel, convKernelToOihw, transposeKernel, type OnnxExportOptions, type OnnxModel } from './export';
import { encodeModel } from './proto';

/** An export without its ModelProto: the graph's input/output names and the serialized bytes. */
export type OnnxBytes = Omit<OnnxModel, 'proto'> & { bytes: Uint8Array };

/** Transposed Conv kernels by kernel array (weakly held: gone with the weights). */
export class OihwKernelMemo {
  private readonly memo = new WeakMap<Float32Array, { shape: string; oihw: Float32Array }>();

  readonly get = (kernel: WeightTensor): Float32Array => {
    const shape = kernel.shape.join(',');
    const have = this.memo.get(kernel.data);
    if (have && have.shape === shape) return have.oihw;
    const oihw = transposeKernel(kernel);
    this.memo.set(kernel.data, { shape, oihw });
    return oihw;
  };

  /**
   * Transposes those of `kernels` not held yet into one allocation, each one's copy a view of it (the
   * block lives while any of its kernel arrays does). A kernel whose shape does not match its values
   * is left to get() and the exporter's checks, which name it.
   */
  prepare(kernels: readonly WeightTensor[]): void {
    const todo = new Map<Float32Array, WeightTensor>();
    let total = 0;
    for (const k of kernels) {
      const n = k.shape.length === 4 ? k.shape.reduce((p, d) => p * d, 1) : -1;
      if (n !== k.data.length || todo.has(k.data)) continue;
      if (this.memo.get(k.data)?.shape === k.shape.join(',')) continue;
      todo.set(k.data, k);
      total += n;
    }
    if (todo.size < 2) return;
    const block = new Float32Array(total);
    let at = 0;
    for (const k of todo.values()) {
      const [kh, kw, cin, cout] = k.shape;
      const oihw = convKernelToOihw(k.data, kh, kw, cin, cout, block.subarray(at, at + k.data.length));
      this.memo.set(k.data, { shape: k.shape.join(','), oihw });
      at += k.data.length;
    }
  }
}

/** The kernels of the spec's Conv2D layers in `weights` (those present; the exporter checks the rest). */
function convKernels(spec: ModelSpec, weights: ModelWeights): WeightTensor[] {
  const out: WeightTensor[] = [];
  for (const l of spec.layers) {
    if (l.className !== 'Conv2D') continue;
    const k = weights.get(l.name)?.find((w) => w.name === 'kernel');
    if (k) out.push(k);
  }
  return out;
}

/**
 * Memory that serialized models are written into in turn, lent to one user at a time. Kept by an
 * adapter across builds; grown with some headroom, as a capture graph is a little larger than the
 * plain one (a few kB for ResNet-50's boundaries). With `slots` = 2 successive loans alternate
 * between two buffers, so the bytes of a loan stay intact during the next one (for a consumer that
 * keeps its last model, e.g. to send the next one as a delta against it).
 */
export class ReusedModelBuffer {
  private readonly buffers: (Buffer | undefined)[];
  private loans = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly slots: 1 | 2 = 1) {
    this.buffers = new Array<Buffer | undefined>(slots).fill(undefined);
  }

  /** Runs `use` once every earlier loan has settled, with `take` giving the first n bytes of this loan's buffer. */
  lend<T>(use: (take: (n: number) => Uint8Array) => Promise<T>): Promise<T> {
    const turn = this.queue.then(() => {
      const slot = this.loans++ % this.slots;
      return use((n) => this.take(slot, n));
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Drops the memory (the next loan allocates again). */
  release(): void {
    this.buffers.fill(undefined);
  }

  private take(slot: number, n: number): Uint8Array {
    let b = this.buffers[slot];
    if (!b || b.length < n) this.buffers[slot] = b = Buffer.allocUnsafe(n + Math.ceil(n / 64));
    return b.subarray(0, n);
  }
}

export interface OnnxExporterOptions {
  /** Transposed kernels to share with other exporters (e.g. an adapter's successive builds). */
  kernels?: OihwKernelMemo;
  /** The memory lend() writes into (default: the exporter's own). */
  buffer?: ReusedModelBuffer;
  /** Told the milliseconds each export took (building the graph and serializing it). */
  onExport?: (ms: number) => void;
}

export class OnnxExporter {
  private readonly kernels: OihwKernelMemo;
  private readonly buffer: ReusedModelBuffer;
  private prepared = false;

  constructor(
    readonly spec: ModelSpec,
    readonly weights: ModelWeights,
    private readonly opts: OnnxExporterOptions = {},
  ) {
    this.kernels = opts.kernels ?? new OihwKernelMemo();
    this.buffer = opts.buffer ?? new ReusedModelBuffer();
  }

  /** The export in bytes of its own, which the caller may keep. */
  export(opts: OnnxExportOptions): OnnxBytes {
    return this.make(opts, (n) => Buffer.allocUnsafe(n));
  }

  /**
   * Calls `use` with the export written into the reused buffer. The bytes are valid only until `use`
   * settles: `use` must not keep them, nor hand them to anything that keeps them past that (ONNX
   * Runtime's InferenceSession.create copies what it needs). Loans of one buffer run one at a time.
   */
  lend<T>(opts: OnnxExportOptions, use: (e: OnnxBytes) => Promise<T>): Promise<T> {
    return this.buffer.lend((take) => use(this.make(opts, take)));
  }

  private make(opts: OnnxExportOptions, alloc: (n: number) => Uint8Array): OnnxBytes {
    const t = performance.now();
    try {
      if (!this.prepared) {
        this.kernels.prepare(convKernels(this.spec, this.weights));
        this.prepared = true;
      }
      const { proto, ...io } = buildOnnxModel(this.spec, this.weights, opts, this.kernels.get);
      return { ...io, bytes: encodeModel(proto, alloc) };
    } finally {
      this.opts.onExport?.(performance.now() - t);
    }
  }
}
