/**
 * One layer of a ModelSpec evaluated on given inputs under a chosen arithmetic, built from the
 * reference adapter's kernels (conv2d, batchNorm, pooling, ...). This is what lets the diagnosis
 * feed every layer the SAME input (the adapter's own captured input to that layer), so that the
 * difference between the adapter's output and these candidates is the error that layer introduced.
 *
 * The rounding sequence of fp32 and tf32 is the reference executor's (src/adapters/reference/
 * executor.ts), so chaining these layers reproduces ReferenceAdapter bit for bit (suites/diagnose.test.ts
 * checks it). The executor runs whole models only; if it ever exposes a per-layer entry point,
 * this module should call it instead.
 */
import { batchMoments, batchNorm, type BatchNormParams } from '../adapters/reference/batchnorm';
import { conv2d, convGeometry, type ConvGeometry } from '../adapters/reference/conv2d';
import { matmul, softmax } from '../adapters/reference/dense';
import { add, addBiasInPlace, relu, zeroPad2d } from '../adapters/reference/elementwise';
import { avgPool2d, maxPool2d, poolGeometry } from '../adapters/reference/pooling';
import { samePadding } from '../spec/shapes';
import type { BatchNormalizationSpec, Conv2DSpec, DenseSpec, LayerSpec, ModelSpec, ModelWeights } from '../spec/types';
import { isFloat32Exact, mapRound, operandRounder, roundInPlace, storageRounder, type Arithmetic } from './formats';

/*
 * Math/Number are read once into module constants: inside Jest's vm context every global lookup in
 * a hot loop is slow (measured: Number.isFinite over ResNet-50's kernels took 20 s under Jest, 0.1 s
 * under plain Node).
 */
const M = Math;

/** Which side gets the extra row/column when 'same' padding is uneven. */
export type SamePaddingSide = 'tf' | 'before';

export interface LayerEvalOptions {
  /**
   * Conv2D 'same' padding variant: 'tf' (TensorFlow / ONNX SAME_UPPER: the extra row and column
   * go after, bottom/right) or 'before' (ONNX SAME_LOWER: top/left). Default 'tf'.
   * Only the test-only perturbed adapter uses 'before'.
   */
  samePadding?: SamePaddingSide;
}

/** A layer's inputs: float64 buffers in inbound order and their shapes (batch first). */
export interface LayerInput {
  data: Float64Array;
  shape: number[];
}

function checkedWeights(weights: ModelWeights, layer: string, count: number): Float32Array[] | Float64Array[] {
  const w = weights.get(layer);
  if (!w || w.length !== count) {
    throw new Error(`diagnose: layer '${layer}' needs ${count} weight tensors, ${w ? w.length : 'none'} given`);
  }
  return w.map((t) => t.data) as Float32Array[];
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] - a[i] !== 0) return false; // NaN and ±Inf give NaN
  return true;
}

/** Largest finite binary16 value. */
const FP16_MAX = 65504;

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = M.abs(a[i]);
    if (v > m || v !== v) m = v;
  }
  return m;
}

function abs(a: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = M.abs(a[i]);
  return out;
}

export class LayerEvaluator {
  private readonly byName: Map<string, LayerSpec>;
  /** float64 copies of the most recently used layer's weights (layers are analysed one at a time). */
  private cached: { layer: string; data: Float64Array[] } | undefined;

  constructor(readonly spec: ModelSpec, private readonly weights: ModelWeights) {
    this.byName = new Map(spec.layers.map((l) => [l.name, l]));
  }

  /** float64 copies of a layer's weights in Keras order. Shared: callers must not modify them. */
  private rawWeights(layer: string, count: number): readonly Float64Array[] {
    if (this.cached?.layer !== layer) {
      this.cached = { layer, data: checkedWeights(this.weights, layer, count).map((d) => Float64Array.from(d)) };
    }
    if (this.cached.data.length !== count) throw new Error(`diagnose: layer '${layer}' needs ${count} weight tensors`);
    return this.cached.data;
  }

  /** `src` rounded by `r`, or `src` itself when that changes nothing (float32 data under fp32). */
  private static rounded(src: Float64Array, a: Arithmetic): Float64Array {
    if (a === 'fp64' || (a === 'fp32' && isFloat32Exact(src))) return src;
    return mapRound(src, operandRounder(a));
  }

  layer(name: string): LayerSpec {
    const l = this.byName.get(name);
    if (!l) throw new Error(`diagnose: no layer named '${name}' in ${this.spec.model}`);
    return l;
  }

  private convGeometryFor(l: Conv2DSpec, inShape: number[], side: SamePaddingSide): ConvGeometry {
    const [n, h, w, cin] = inShape;
    const g = convGeometry({ n, h, w, cin }, { kh: l.kernelSize[0], kw: l.kernelSize[1], cout: l.filters }, l.strides, l.padding);
    if (l.padding === 'same' && side === 'before') {
      const [, bottom] = samePadding(h, l.kernelSize[0], l.strides[0]);
      const [, right] = samePadding(w, l.kernelSize[1], l.strides[1]);
      return { ...g, padTop: bottom, padLeft: right };
    }
    return g;
  }

  /** Σ x·k (no bias) in float64 on operands rounded for `a`. */
  private product(l: Conv2DSpec | DenseSpec, x: LayerInput, a: Arithmetic, opts: LayerEvalOptions): Float64Array {
    const [kernel] = this.rawWeights(l.name, 2);
    const xr = LayerEvaluator.rounded(x.data, a);
    const kr = LayerEvaluator.rounded(kernel, a);
    if (l.className === 'Conv2D') {
      return conv2d(xr, this.convGeometryFor(l, x.shape, opts.samePadding ?? 'tf'), kr, allFinite(kr));
    }
    const n = x.shape[0];
    return matmul(xr, n, x.data.length / n, kr, l.units, allFinite(kr));
  }

  /** Adds the bias the way the reference does: round the product to the storage format, add, round. */
  private biased(l: Conv2DSpec | DenseSpec, product: Float64Array, a: Arithmetic): Float64Array {
    const [, bias] = this.rawWeights(l.name, 2);
    if (a === 'fp64') {
      addBiasInPlace(product, bias);
      return product;
    }
    // Accumulation is float32 in every non-fp64 hypothesis; fp16 then stores the result in fp16.
    roundInPlace(product, M.fround);
    addBiasInPlace(product, mapRound(bias, storageRounder(a)));
    return roundInPlace(product, storageRounder(a));
  }

  /** Conv2D or Dense output before any activation (Dense: the logits). */
  linear(l: Conv2DSpec | DenseSpec, x: LayerInput, a: Arithmetic, opts: LayerEvalOptions = {}): Float64Array {
    return this.biased(l, this.product(l, x, a, opts), a);
  }

  /**
   * The fp64 output and the hypotheses in `wanted` of a Conv2D/Dense, sharing products where the
   * operands are the same: fp32 reuses the fp64 product when the input is float32-exact (the weights
   * always are); fp16 reuses the TF32 product when no operand exceeds binary16's range — both keep
   * 10 mantissa bits, and below binary16's normal range (2^-14) the two roundings differ by at most
   * 2^-25 per operand, far below one ULP of the error magnitude S.
   */
  linearHypotheses(l: Conv2DSpec | DenseSpec, x: LayerInput, wanted: ReadonlySet<Arithmetic>, inputIsFloat32: boolean): { fp64: Float64Array; hypotheses: Map<Arithmetic, Float64Array> } {
    const hypotheses = new Map<Arithmetic, Float64Array>();
    const p64 = this.product(l, x, 'fp64', {});
    if (wanted.has('fp32')) hypotheses.set('fp32', inputIsFloat32 ? this.biased(l, p64.slice(), 'fp32') : this.linear(l, x, 'fp32'));
    const fp64 = this.biased(l, p64, 'fp64');
    let pTf32: Float64Array | undefined;
    if (wanted.has('tf32') || wanted.has('fp16')) pTf32 = this.product(l, x, 'tf32', {});
    if (wanted.has('bf16')) hypotheses.set('bf16', this.linear(l, x, 'bf16'));
    if (wanted.has('fp16')) {
      const [kernel] = this.rawWeights(l.name, 2);
      const inRange = maxAbs(x.data) <= FP16_MAX && maxAbs(kernel) <= FP16_MAX;
      hypotheses.set('fp16', inRange ? this.biased(l, pTf32!.slice(), 'fp16') : this.linear(l, x, 'fp16'));
    }
    if (wanted.has('tf32')) hypotheses.set('tf32', this.biased(l, pTf32!, 'tf32'));
    return { fp64, hypotheses };
  }

  softmax(l: DenseSpec, logits: LayerInput, a: Arithmetic): Float64Array {
    const z = a === 'fp64' ? logits.data : mapRound(logits.data, storageRounder(a));
    const y = softmax(z, l.units);
    return a === 'fp64' ? y : roundInPlace(y, storageRounder(a));
  }

  private bnParams(l: BatchNormalizationSpec, a: Arithmetic): BatchNormParams {
    const r = storageRounder(a);
    const [gamma, beta, movingMean, movingVariance] = this.rawWeights(l.name, 4).map((w) => mapRound(w, r));
    return { gamma, beta, movingMean, movingVariance, epsilon: r(l.epsilon) };
  }

  /**
   * Output of `l` on `inputs` (in inbound order) under arithmetic `a`. A Dense layer is evaluated
   * whole (logits, then its activation); use linear() and softmax() for the two steps.
   */
  evaluate(l: LayerSpec, inputs: LayerInput[], training: boolean, a: Arithmetic, opts: LayerEvalOptions = {}): Float64Array {
    if (inputs.length !== l.inbound.length) {
      throw new Error(`diagnose: layer '${l.name}' takes ${l.inbound.length} input(s), got ${inputs.length}`);
    }
    const store = storageRounder(a);
    const x = inputs.map((t) => (a === 'fp64' || (a !== 'fp16' && isFloat32Exact(t.data)) ? t : { shape: t.shape, data: mapRound(t.data, store) }));
    switch (l.className) {
      case 'InputLayer':
        throw new Error(`diagnose: the input layer '${l.name}' is not evaluated`);
      case 'ZeroPadding2D': {
        const [n, h, w, c] = x[0].shape;
        return zeroPad2d(x[0].data, n, h, w, c, l.padding);
      }
      case 'Conv2D':
        return this.linear(l, inputs[0], a, opts);
      case 'BatchNormalization': {
        const c = l.outputShape[l.outputShape.length - 1];
        const y = batchNorm(x[0].data, c, this.bnParams(l, a), training);
        return a === 'fp64' ? y : roundInPlace(y, store);
      }
      case 'Activation':
        return relu(x[0].data);
      case 'MaxPooling2D': {
        const [n, h, w, c] = x[0].shape;
        return maxPool2d(x[0].data, poolGeometry({ n, h, w, c }, l.poolSize, l.strides, l.padding));
      }
      case 'AveragePooling2D': {
        const [n, h, w, c] = x[0].shape;
        const y = avgPool2d(x[0].data, poolGeometry({ n, h, w, c }, l.poolSize, l.strides, l.padding));
        return a === 'fp64' ? y : roundInPlace(y, store);
      }
      case 'Add': {
        const y = add(x[0].data, x[1].data);
        return a === 'fp64' ? y : roundInPlace(y, store);
      }
      case 'Flatten':
        return x[0].data.slice();
      case 'Dense': {
        const logits = this.linear(l, inputs[0], a, opts);
        if (l.activation === 'linear') return logits;
        return this.softmax(l, { shape: [inputs[0].shape[0], l.units], data: logits }, a);
      }
      default: {
        const bad: never = l;
        throw new Error(`diagnose: unsupported layer class '${(bad as LayerSpec).className}'`);
      }
    }
  }

  /**
   * The magnitude S each output element's rounding errors scale with (see src/compare/layer-budgets.ts):
   *   Conv2D / Dense logits   Σ|x|·|k| + |b|
   *   BatchNormalization      (|x| + |mean|)·|γ|/σ + |β|, training adds the batch-statistics terms
   *   Add                     |a| + |b|
   *   AveragePooling2D        mean of |x| over the window
   *   softmax                 the probability itself
   *   exact layers            |y|
   * `reference` is the layer's fp64 output on the same inputs.
   */
  scale(l: LayerSpec, inputs: LayerInput[], training: boolean, reference: Float64Array, part: 'logits' | 'output' = 'output'): Float64Array {
    if ((l.className === 'Dense' && (part === 'logits' || l.activation === 'linear')) || l.className === 'Conv2D') {
      const lin = l as Conv2DSpec | DenseSpec;
      const [kernel, bias] = this.rawWeights(l.name, 2);
      const x = inputs[0];
      const ax = abs(x.data);
      const ak = abs(kernel);
      const s = lin.className === 'Conv2D'
        ? conv2d(ax, this.convGeometryFor(lin, x.shape, 'tf'), ak, allFinite(ak))
        : matmul(ax, x.shape[0], x.data.length / x.shape[0], ak, lin.units, allFinite(ak));
      addBiasInPlace(s, abs(bias));
      return s;
    }
    switch (l.className) {
      case 'BatchNormalization': {
        const x = inputs[0].data;
        const c = l.outputShape[l.outputShape.length - 1];
        const [gamma, beta, movingMean, movingVariance] = this.rawWeights(l.name, 4);
        const s = new Float64Array(x.length);
        if (!training) {
          for (let i = 0; i < x.length; i += c) {
            for (let ch = 0; ch < c; ch++) {
              const inv = M.abs(gamma[ch]) / M.sqrt(movingVariance[ch] + l.epsilon);
              s[i + ch] = (M.abs(x[i + ch]) + M.abs(movingMean[ch])) * inv + M.abs(beta[ch]);
            }
          }
          return s;
        }
        const { mean, variance } = batchMoments(x, c);
        const meanAbs = batchMoments(abs(x), c).mean;
        const meanSq = new Float64Array(c);
        for (let ch = 0; ch < c; ch++) meanSq[ch] = variance[ch] + mean[ch] * mean[ch];
        for (let i = 0; i < x.length; i += c) {
          for (let ch = 0; ch < c; ch++) {
            const v = variance[ch] + l.epsilon;
            const inv = M.abs(gamma[ch]) / M.sqrt(v);
            const dev = M.abs(x[i + ch] - mean[ch]);
            s[i + ch] = (M.abs(x[i + ch]) + meanAbs[ch]) * inv + M.abs(beta[ch]) + dev * inv * (meanSq[ch] / (2 * v));
          }
        }
        return s;
      }
      case 'Add': {
        const [a, b] = inputs.map((t) => t.data);
        const s = new Float64Array(a.length);
        for (let i = 0; i < a.length; i++) s[i] = M.abs(a[i]) + M.abs(b[i]);
        return s;
      }
      case 'AveragePooling2D': {
        const [n, h, w, c] = inputs[0].shape;
        return avgPool2d(abs(inputs[0].data), poolGeometry({ n, h, w, c }, l.poolSize, l.strides, l.padding));
      }
      default:
        return abs(reference);
    }
  }
}

/** Dense layers whose activation is applied after the matmul (softmax) have a separate logits step. */
export function hasLogitsStep(l: LayerSpec): l is DenseSpec {
  return l.className === 'Dense' && l.activation !== 'linear';
}
