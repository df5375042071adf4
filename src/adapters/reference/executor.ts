/**
 * Runs a ModelSpec layer by layer on float64 NHWC buffers, emulating the requested precision.
 */
import { LOGITS_SUFFIX } from '../../spec/builders';
import type { LayerSpec, ModelSpec, ModelWeights } from '../../spec/types';
import { batchNorm, type BatchNormParams } from './batchnorm';
import { conv2d, convGeometry } from './conv2d';
import { matmul, softmax } from './dense';
import { add, addBiasInPlace, relu, zeroPad2d } from './elementwise';
import { avgPool2d, maxPool2d, poolGeometry } from './pooling';
import { roundFloat32InPlace, tf32Copy, type ReferencePrecision } from './precision';
import { allFinite, toFloat64, validateWeights } from './weights';

export interface ExecutorOptions {
  precision: ReferencePrecision;
  /** Conv2D/Dense layers whose matmul operands are rounded to TF32 (precision 'tf32' only). */
  tf32Layers: ReadonlySet<string>;
}

interface MatmulWeights {
  /** Kernel as used in the product (TF32-rounded for TF32 layers). */
  kernel: Float64Array;
  bias: Float64Array;
  tf32: boolean;
  /** Kernel has no NaN/Inf, so products with exact-zero activations may be skipped. */
  kernelFinite: boolean;
}

/** Captured and output buffers of one run, float64, batch first. */
export interface ExecutionResult {
  output: Float64Array;
  outputShape: number[];
  captured: Map<string, { shape: number[]; data: Float64Array }>;
}

export class ReferenceExecutor {
  private readonly layers: LayerSpec[];
  private readonly index = new Map<string, number>();
  private readonly matmulWeights = new Map<string, MatmulWeights>();
  private readonly bnWeights = new Map<string, BatchNormParams>();
  /** Per layer index: earlier layers whose buffers are no longer needed once it has run. */
  private readonly releaseAfter: number[][];
  private readonly f32: boolean;

  constructor(readonly spec: ModelSpec, weights: ModelWeights, readonly opts: ExecutorOptions) {
    validateWeights(spec, weights);
    this.f32 = opts.precision !== 'fp64';
    this.layers = spec.layers;
    this.layers.forEach((l, i) => {
      if (this.index.has(l.name)) throw new Error(`${spec.model}: duplicate layer name '${l.name}'`);
      for (const src of l.inbound) {
        if (!this.index.has(src)) throw new Error(`${spec.model}: layer '${l.name}' uses '${src}', which is not created before it`);
      }
      this.index.set(l.name, i);
    });
    if (!this.index.has(spec.output)) throw new Error(`${spec.model}: output layer '${spec.output}' is not in the spec`);
    if (this.layers[0]?.className !== 'InputLayer' || this.layers[0].name !== spec.input) {
      throw new Error(`${spec.model}: the first layer must be the input layer '${spec.input}'`);
    }
    for (const name of opts.tf32Layers) {
      const l = this.layers[this.index.get(name) ?? -1];
      if (!l) throw new Error(`tf32Layers: no layer named '${name}' in ${spec.model}`);
      if (l.className !== 'Conv2D' && l.className !== 'Dense') {
        throw new Error(`tf32Layers: '${name}' is a ${l.className}; only Conv2D and Dense layers have TF32 matmuls`);
      }
    }
    if (opts.tf32Layers.size > 0 && opts.precision !== 'tf32') {
      throw new Error(`tf32Layers only applies to precision 'tf32' (precision is '${opts.precision}')`);
    }
    for (const l of this.layers) {
      if (l.className === 'Conv2D' || l.className === 'Dense') {
        const [kernel, bias] = toFloat64(weights, l.name, this.f32);
        const tf32 = opts.tf32Layers.has(l.name);
        this.matmulWeights.set(l.name, {
          kernel: tf32 ? tf32Copy(kernel) : kernel, bias, tf32, kernelFinite: allFinite(kernel),
        });
      } else if (l.className === 'BatchNormalization') {
        const [gamma, beta, movingMean, movingVariance] = toFloat64(weights, l.name, this.f32);
        const epsilon = this.f32 ? Math.fround(l.epsilon) : l.epsilon;
        this.bnWeights.set(l.name, { gamma, beta, movingMean, movingVariance, epsilon });
      }
    }
    const lastUse = this.layers.map(() => -1);
    this.layers.forEach((l, i) => { for (const src of l.inbound) lastUse[this.index.get(src)!] = i; });
    this.releaseAfter = this.layers.map(() => []);
    lastUse.forEach((user, j) => { if (user >= 0) this.releaseAfter[user].push(j); });
  }

  /** Names accepted by `capture`: every layer, plus `<dense>:logits` for Dense layers. */
  captureNames(): string[] {
    const names = this.layers.map((l) => l.name);
    for (const l of this.layers) if (l.className === 'Dense') names.push(`${l.name}${LOGITS_SUFFIX}`);
    return names;
  }

  private checkCapture(capture: readonly string[]): void {
    for (const name of capture) {
      if (this.index.has(name)) continue;
      if (name.endsWith(LOGITS_SUFFIX)) {
        const base = name.slice(0, -LOGITS_SUFFIX.length);
        const l = this.layers[this.index.get(base) ?? -1];
        if (l?.className === 'Dense') continue;
        throw new Error(`capture '${name}': '${base}' is not a Dense layer of ${this.spec.model}, so it has no logits`);
      }
      throw new Error(`capture '${name}': no such layer in ${this.spec.model} (${this.layers.length} layers from '${this.spec.input}' to '${this.spec.output}'; Dense logits are '<dense>${LOGITS_SUFFIX}')`);
    }
  }

  private round(a: Float64Array): Float64Array {
    if (this.f32) roundFloat32InPlace(a);
    return a;
  }

  /**
   * Runs the model on `input` (NHWC float64, batch `n`, already rounded to the precision's format).
   * `training` selects batch statistics in every BatchNormalization layer.
   */
  run(input: Float64Array, n: number, training: boolean, capture: readonly string[] = []): ExecutionResult {
    this.checkCapture(capture);
    const wanted = new Set(capture);
    const keep = new Set<string>([...capture, this.spec.output]);
    const bufs: (Float64Array | undefined)[] = this.layers.map(() => undefined);
    const captured = new Map<string, { shape: number[]; data: Float64Array }>();
    const shapeOf = (l: LayerSpec): number[] => [n, ...l.outputShape];

    this.layers.forEach((l, i) => {
      const ins = l.inbound.map((src) => {
        const b = bufs[this.index.get(src)!];
        if (!b) throw new Error(`internal: buffer of '${src}' was released before '${l.name}' used it`);
        return b;
      });
      const inShape = l.inbound.length ? shapeOf(this.layers[this.index.get(l.inbound[0])!]) : [];
      let out: Float64Array;
      switch (l.className) {
        case 'InputLayer':
          out = input;
          break;
        case 'ZeroPadding2D': {
          const [, h, w, c] = inShape;
          out = zeroPad2d(ins[0], n, h, w, c, l.padding);
          break;
        }
        case 'Conv2D': {
          const mw = this.matmulWeights.get(l.name)!;
          const [, h, w, cin] = inShape;
          const g = convGeometry({ n, h, w, cin }, { kh: l.kernelSize[0], kw: l.kernelSize[1], cout: l.filters }, l.strides, l.padding);
          const x = mw.tf32 ? tf32Copy(ins[0]) : ins[0];
          out = this.round(conv2d(x, g, mw.kernel, mw.kernelFinite));
          addBiasInPlace(out, mw.bias);
          this.round(out);
          break;
        }
        case 'BatchNormalization': {
          const c = l.outputShape[l.outputShape.length - 1];
          out = this.round(batchNorm(ins[0], c, this.bnWeights.get(l.name)!, training));
          break;
        }
        case 'Activation':
          out = relu(ins[0]);
          break;
        case 'MaxPooling2D': {
          const [, h, w, c] = inShape;
          out = maxPool2d(ins[0], poolGeometry({ n, h, w, c }, l.poolSize, l.strides, l.padding));
          break;
        }
        case 'AveragePooling2D': {
          const [, h, w, c] = inShape;
          out = this.round(avgPool2d(ins[0], poolGeometry({ n, h, w, c }, l.poolSize, l.strides, l.padding)));
          break;
        }
        case 'Add':
          out = this.round(add(ins[0], ins[1]));
          break;
        case 'Flatten':
          out = ins[0]; // NHWC row-major is already Keras's flatten order
          break;
        case 'Dense': {
          const mw = this.matmulWeights.get(l.name)!;
          const din = inShape[inShape.length - 1];
          const x = mw.tf32 ? tf32Copy(ins[0]) : ins[0];
          const logits = this.round(matmul(x, n, din, mw.kernel, l.units, mw.kernelFinite));
          addBiasInPlace(logits, mw.bias);
          this.round(logits);
          const logitsName = `${l.name}${LOGITS_SUFFIX}`;
          if (wanted.has(logitsName)) captured.set(logitsName, { shape: [n, l.units], data: logits });
          out = l.activation === 'softmax' ? this.round(softmax(logits, l.units)) : logits;
          break;
        }
        default: {
          const bad: never = l;
          throw new Error(`reference: unsupported layer class '${(bad as LayerSpec).className}'`);
        }
      }
      bufs[i] = out;
      if (wanted.has(l.name)) captured.set(l.name, { shape: shapeOf(l), data: out });
      for (const j of this.releaseAfter[i]) if (!keep.has(this.layers[j].name)) bufs[j] = undefined;
    });
    const outLayer = this.layers[this.index.get(this.spec.output)!];
    return { output: bufs[this.index.get(this.spec.output)!]!, outputShape: shapeOf(outLayer), captured };
  }
}
