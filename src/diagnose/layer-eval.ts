/**
 * One layer of a ModelSpec evaluated on given inputs under a chosen arithmetic, by the reference
 * adapter's layer interpreter (src/adapters/reference/interpreter.ts, the same code the reference
 * executor runs whole models with). This is what lets the diagnosis feed every layer the SAME input
 * (the adapter's own captured input to that layer), so that the difference between the adapter's
 * output and these candidates is the error that layer introduced. What is diagnosis-specific stays
 * here: weights prepared per arithmetic for the layer under analysis, candidates that share a
 * product, and the error magnitude S of each output element.
 */
import { batchMoments } from '../adapters/reference/batchnorm';
import { conv2d } from '../adapters/reference/conv2d';
import { matmul } from '../adapters/reference/dense';
import { addBiasInPlace } from '../adapters/reference/elementwise';
import {
  convGeometryOf,
  denseSoftmax,
  evaluateLayer,
  linearFinish,
  linearProduct,
  prepareLayer,
  type LayerInput,
  type PreparedLayer,
  type SamePaddingSide,
} from '../adapters/reference/interpreter';
import { avgPool2d, poolGeometry } from '../adapters/reference/pooling';
import { FP16_MAX, type Arithmetic } from '../adapters/reference/precision';
import { allFinite } from '../adapters/reference/weights';
import type { Conv2DSpec, DenseSpec, LayerSpec, ModelSpec, ModelWeights } from '../model/types';

export { hasLogitsStep, type LayerInput, type SamePaddingSide } from '../adapters/reference/interpreter';

/*
 * Math/Number are read once into module constants: inside Jest's vm context every global lookup in
 * a hot loop is slow (two orders of magnitude slower than plain Node: docs/notes/measured-in-code-comments.md).
 */
const M = Math;

export interface LayerEvalOptions {
  /** Conv2D 'same' padding variant (see LayerMode.samePadding); only the test-only perturbed adapter sets it. */
  samePadding?: SamePaddingSide;
}

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
  /** Weights of the most recently used layer, per arithmetic (layers are analysed one at a time). */
  private cached: { layer: string; byArithmetic: Map<Arithmetic, PreparedLayer> } | undefined;

  constructor(
    readonly spec: ModelSpec,
    private readonly weights: ModelWeights,
  ) {
    this.byName = new Map(spec.layers.map((l) => [l.name, l]));
  }

  /** `l`'s weights prepared for `a`. Shared: callers must not modify them. */
  private prepared(l: LayerSpec, a: Arithmetic): PreparedLayer {
    if (this.cached?.layer !== l.name) this.cached = { layer: l.name, byArithmetic: new Map() };
    let p = this.cached.byArithmetic.get(a);
    if (!p) {
      try {
        p = prepareLayer(l, this.weights, a);
      } catch (err) {
        throw new Error(`diagnose: ${(err as Error).message}`);
      }
      this.cached.byArithmetic.set(a, p);
    }
    return p;
  }

  layer(name: string): LayerSpec {
    const l = this.byName.get(name);
    if (!l) throw new Error(`diagnose: no layer named '${name}' in ${this.spec.model}`);
    return l;
  }

  /** Conv2D or Dense output before any activation (Dense: the logits). */
  linear(l: Conv2DSpec | DenseSpec, x: LayerInput, a: Arithmetic, opts: LayerEvalOptions = {}): Float64Array {
    const p = this.prepared(l, a);
    return linearFinish(l, linearProduct(l, x, p, opts), p);
  }

  /**
   * The fp64 output and the hypotheses in `wanted` of a Conv2D/Dense, sharing products where the
   * operands are the same: fp32 reuses the fp64 product when the input is float32-exact (the weights
   * always are); fp16 reuses the TF32 product when no operand exceeds binary16's range — both keep
   * 10 mantissa bits, and below binary16's normal range (2^-14) the two roundings differ by at most
   * 2^-25 per operand, far below one ULP of the error magnitude S.
   */
  linearHypotheses(
    l: Conv2DSpec | DenseSpec,
    x: LayerInput,
    wanted: ReadonlySet<Arithmetic>,
    inputIsFloat32: boolean,
  ): { fp64: Float64Array; hypotheses: Map<Arithmetic, Float64Array> } {
    const hypotheses = new Map<Arithmetic, Float64Array>();
    const p64 = this.prepared(l, 'fp64');
    const product64 = linearProduct(l, x, p64);
    if (wanted.has('fp32')) {
      hypotheses.set(
        'fp32',
        inputIsFloat32 ? linearFinish(l, product64.slice(), this.prepared(l, 'fp32')) : this.linear(l, x, 'fp32'),
      );
    }
    const fp64 = linearFinish(l, product64, p64);
    let productTf32: Float64Array | undefined;
    if (wanted.has('tf32') || wanted.has('fp16')) productTf32 = linearProduct(l, x, this.prepared(l, 'tf32'));
    if (wanted.has('bf16')) hypotheses.set('bf16', this.linear(l, x, 'bf16'));
    if (wanted.has('fp16')) {
      const inRange = maxAbs(x.data) <= FP16_MAX && maxAbs(p64.linear!.kernel) <= FP16_MAX;
      hypotheses.set(
        'fp16',
        inRange ? linearFinish(l, productTf32!.slice(), this.prepared(l, 'fp16')) : this.linear(l, x, 'fp16'),
      );
    }
    if (wanted.has('tf32')) hypotheses.set('tf32', linearFinish(l, productTf32!, this.prepared(l, 'tf32')));
    return { fp64, hypotheses };
  }

  /** A softmax Dense layer's output from (the adapter's) logits. */
  softmax(l: DenseSpec, logits: LayerInput, a: Arithmetic): Float64Array {
    return denseSoftmax(l, logits.data, a);
  }

  /**
   * Output of `l` on `inputs` (in inbound order) under arithmetic `a`. A Dense layer is evaluated
   * whole (logits, then its activation); use linear() and softmax() for the two steps. The output may
   * be an input buffer itself (Flatten).
   */
  evaluate(
    l: LayerSpec,
    inputs: LayerInput[],
    training: boolean,
    a: Arithmetic,
    opts: LayerEvalOptions = {},
  ): Float64Array {
    if (l.className === 'InputLayer') throw new Error(`diagnose: the input layer '${l.name}' is not evaluated`);
    if (inputs.length !== l.inbound.length) {
      throw new Error(`diagnose: layer '${l.name}' takes ${l.inbound.length} input(s), got ${inputs.length}`);
    }
    return evaluateLayer(l, inputs, this.prepared(l, a), { training, samePadding: opts.samePadding }).output;
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
  scale(
    l: LayerSpec,
    inputs: LayerInput[],
    training: boolean,
    reference: Float64Array,
    part: 'logits' | 'output' = 'output',
  ): Float64Array {
    if ((l.className === 'Dense' && (part === 'logits' || l.activation === 'linear')) || l.className === 'Conv2D') {
      const lin = l as Conv2DSpec | DenseSpec;
      const { kernel, bias } = this.prepared(l, 'fp64').linear!;
      const x = inputs[0];
      const ax = abs(x.data);
      const ak = abs(kernel);
      const s =
        lin.className === 'Conv2D'
          ? conv2d(ax, convGeometryOf(lin, x.shape), ak, allFinite(ak))
          : matmul(ax, x.shape[0], x.data.length / x.shape[0], ak, lin.units, allFinite(ak));
      addBiasInPlace(s, abs(bias));
      return s;
    }
    switch (l.className) {
      case 'BatchNormalization': {
        const x = inputs[0].data;
        const c = l.outputShape[l.outputShape.length - 1];
        const { gamma, beta, movingMean, movingVariance } = this.prepared(l, 'fp64').batchNorm!;
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
