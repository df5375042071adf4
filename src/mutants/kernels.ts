/**
 * The numerics of the mutant bank: each function is one layer computed the way a defective (or, for
 * the controls, a legitimately different) float32 runtime computes it. Everything else is the
 * reference interpreter's own code (src/adapters/reference/interpreter.ts): a mutant replaces one
 * step (the padding side, the kernel layout, the BatchNorm statistics, ...) and calls back into the
 * interpreter for the rest, so that the only difference from `reference-fp32` is the defect.
 *
 * Inputs arrive as the executor stores them (float32 values in float64 buffers, LayerMode.inputsStored).
 */
import { batchMoments, type BatchNormParams } from '../adapters/reference/batchnorm';
import { conv2d, type ConvGeometry } from '../adapters/reference/conv2d';
import {
  convGeometryOf,
  evaluateLayer,
  linearFinish,
  linearProduct,
  type LayerEvaluation,
  type LayerInput,
  type LayerMode,
  type PreparedLayer,
} from '../adapters/reference/interpreter';
import { avgPool2d, maxPool2d, poolGeometry, type PoolGeometry } from '../adapters/reference/pooling';
import { roundToFp16, stored, storeInPlace } from '../adapters/reference/precision';
import type {
  AveragePooling2DSpec,
  BatchNormalizationSpec,
  Conv2DSpec,
  DenseSpec,
  LayerSpec,
  MaxPooling2DSpec,
} from '../model/types';

const fround = Math.fround;

/** The layer's stored input `i` (the executor's buffers are stored already). */
function input(inputs: readonly LayerInput[], i: number, p: PreparedLayer, mode: LayerMode): Float64Array {
  return mode.inputsStored ? inputs[i].data : stored(inputs[i].data, p.arithmetic);
}

function linear(l: LayerSpec, p: PreparedLayer): NonNullable<PreparedLayer['linear']> {
  if (!p.linear) throw new Error(`mutant: '${l.name}' has no Conv2D/Dense weights`);
  return p.linear;
}

/** The layer evaluated by the interpreter with different prepared weights. */
export function withWeights(l: LayerSpec, p: PreparedLayer): LayerEvaluation {
  return (inputs, mode) => evaluateLayer(l, inputs, p, mode);
}

/** Conv2D/Dense weights with the kernel and/or bias replaced. */
export function replaceLinear(
  l: LayerSpec,
  p: PreparedLayer,
  change: { kernel?: (k: Float64Array) => Float64Array; bias?: (b: Float64Array) => Float64Array },
): PreparedLayer {
  const lin = linear(l, p);
  return {
    ...p,
    linear: {
      ...lin,
      kernel: change.kernel ? change.kernel(lin.kernel) : lin.kernel,
      bias: change.bias ? change.bias(lin.bias) : lin.bias,
    },
  };
}

/** An HWIO kernel with its spatial taps permuted: new[ky][kx] = old[map(ky, kx)]. */
export function permuteTaps(
  l: Conv2DSpec,
  k: Float64Array,
  map: (ky: number, kx: number) => [number, number],
): Float64Array {
  const [kh, kw] = l.kernelSize;
  const block = k.length / (kh * kw);
  const out = new Float64Array(k.length);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const [sy, sx] = map(ky, kx);
      out.set(k.subarray((sy * kw + sx) * block, (sy * kw + sx + 1) * block), (ky * kw + kx) * block);
    }
  }
  return out;
}

/** A Conv2D whose product is computed with a different geometry (same output shape), then finished as usual. */
export function convWithGeometry(
  l: Conv2DSpec,
  p: PreparedLayer,
  change: (g: ConvGeometry) => ConvGeometry,
): LayerEvaluation {
  const lin = linear(l, p);
  return (inputs, mode) => {
    const x = input(inputs, 0, p, mode);
    const g = change(convGeometryOf(l, inputs[0].shape));
    return { output: linearFinish(l, conv2d(x, g, lin.kernel, lin.kernelFinite), p) };
  };
}

/** A Conv2D/Dense whose product (before the bias) is changed in place by `edit`, then finished as usual. */
export function editProduct(
  l: Conv2DSpec | DenseSpec,
  p: PreparedLayer,
  edit: (product: Float64Array, inShape: readonly number[]) => void,
  productMode: Omit<LayerMode, 'training'> = {},
): LayerEvaluation {
  return (inputs, mode) => {
    const product = linearProduct(l, inputs[0], p, { ...mode, ...productMode });
    edit(product, inputs[0].shape);
    return { output: linearFinish(l, product, p) };
  };
}

/** The layer evaluated on a changed input (e.g. channels reversed, every image replaced by the first). */
export function withInput(
  l: LayerSpec,
  p: PreparedLayer,
  change: (x: Float64Array, shape: readonly number[]) => Float64Array,
): LayerEvaluation {
  return (inputs, mode) => {
    const x = input(inputs, 0, p, mode);
    return evaluateLayer(l, [{ data: change(x, inputs[0].shape), shape: inputs[0].shape }], p, mode);
  };
}

export function reverseChannels(x: Float64Array, shape: readonly number[]): Float64Array {
  const c = shape[shape.length - 1];
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i += c) for (let ch = 0; ch < c; ch++) y[i + ch] = x[i + c - 1 - ch];
  return y;
}

export function firstImageEverywhere(x: Float64Array, shape: readonly number[]): Float64Array {
  const per = x.length / shape[0];
  const y = new Float64Array(x.length);
  for (let b = 0; b < shape[0]; b++) y.set(x.subarray(0, per), b * per);
  return y;
}

/** What a defective BatchNormalization does differently (each mutant sets one field). */
export interface BatchNormDefect {
  epsilon?: number;
  meanZero?: boolean;
  varianceOne?: boolean;
  gammaOne?: boolean;
  betaZero?: boolean;
  swapGammaBeta?: boolean;
  unbiasedVariance?: boolean;
  perSample?: boolean;
  /** Overrides the model-level training flag: always 'moving' or always 'batch' statistics. */
  statistics?: 'moving' | 'batch';
}

function perSampleNormalize(
  x: Float64Array,
  n: number,
  c: number,
  q: BatchNormParams,
  unbiased: boolean,
): Float64Array {
  const per = x.length / n;
  const y = new Float64Array(x.length);
  for (let b = 0; b < n; b++) {
    const part = x.subarray(b * per, (b + 1) * per);
    const { mean, variance } = batchMoments(part, c);
    if (unbiased) scaleUnbiased(variance, per / c);
    y.set(normalize(part, c, mean, variance, q), b * per);
  }
  return y;
}

function scaleUnbiased(variance: Float64Array, count: number): void {
  for (let ch = 0; ch < variance.length; ch++) variance[ch] = count > 1 ? (variance[ch] * count) / (count - 1) : 0;
}

/** The reference's normalization formula (src/adapters/reference/batchnorm.ts). */
function normalize(x: Float64Array, c: number, mean: Float64Array, variance: Float64Array, q: BatchNormParams) {
  const y = new Float64Array(x.length);
  const denom = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) denom[ch] = Math.sqrt(variance[ch] + q.epsilon);
  for (let i = 0; i < x.length; i += c) {
    for (let ch = 0; ch < c; ch++) y[i + ch] = ((x[i + ch] - mean[ch]) / denom[ch]) * q.gamma[ch] + q.beta[ch];
  }
  return y;
}

export function defectiveBatchNorm(l: BatchNormalizationSpec, p: PreparedLayer, d: BatchNormDefect): LayerEvaluation {
  const base = p.batchNorm;
  if (!base) throw new Error(`mutant: '${l.name}' has no BatchNormalization weights`);
  const c = l.outputShape[l.outputShape.length - 1];
  const fill = (v: number) => new Float64Array(c).fill(v);
  const q: BatchNormParams = {
    gamma: d.gammaOne ? fill(1) : d.swapGammaBeta ? base.beta : base.gamma,
    beta: d.betaZero ? fill(0) : d.swapGammaBeta ? base.gamma : base.beta,
    movingMean: d.meanZero ? fill(0) : base.movingMean,
    movingVariance: d.varianceOne ? fill(1) : base.movingVariance,
    epsilon: d.epsilon === undefined ? base.epsilon : fround(d.epsilon),
  };
  return (inputs, mode) => {
    const x = input(inputs, 0, p, mode);
    const training = d.statistics ? d.statistics === 'batch' : mode.training;
    let y: Float64Array;
    if (!training) y = normalize(x, c, q.movingMean, q.movingVariance, q);
    else if (d.perSample) y = perSampleNormalize(x, inputs[0].shape[0], c, q, false);
    else {
      const { mean, variance } = batchMoments(x, c);
      if (d.unbiasedVariance) scaleUnbiased(variance, x.length / c);
      y = normalize(x, c, mean, variance, q);
    }
    return { output: storeInPlace(y, p.arithmetic) };
  };
}

/** A pooling layer run with a different window and/or stride, output shape as the graph says. */
export function poolWith(
  l: MaxPooling2DSpec | AveragePooling2DSpec,
  p: PreparedLayer,
  change: (g: PoolGeometry) => PoolGeometry,
): LayerEvaluation {
  return (inputs, mode) => {
    const x = input(inputs, 0, p, mode);
    const [n, h, w, c] = inputs[0].shape;
    const g = change(poolGeometry({ n, h, w, c }, l.poolSize, l.strides, l.padding));
    if (l.className === 'MaxPooling2D') return { output: maxPool2d(x, g) };
    return { output: storeInPlace(avgPool2d(x, g), p.arithmetic) };
  };
}

/** Flatten in channel-major (NCHW) order instead of Keras's NHWC order. */
export function flattenChannelMajor(p: PreparedLayer): LayerEvaluation {
  return (inputs, mode) => {
    const x = input(inputs, 0, p, mode);
    const [n, h, w, c] = inputs[0].shape;
    const y = new Float64Array(x.length);
    for (let b = 0; b < n; b++)
      for (let iy = 0; iy < h; iy++)
        for (let ix = 0; ix < w; ix++)
          for (let ch = 0; ch < c; ch++) y[((b * c + ch) * h + iy) * w + ix] = x[((b * h + iy) * w + ix) * c + ch];
    return { output: y };
  };
}

/** A softmax Dense layer normalizing over the batch axis instead of the class axis. */
export function softmaxOverBatch(l: DenseSpec, p: PreparedLayer): LayerEvaluation {
  return (inputs, mode) => {
    const logits = linearFinish(l, linearProduct(l, inputs[0], p, mode), p);
    const n = inputs[0].shape[0];
    const u = l.units;
    const y = new Float64Array(logits.length);
    for (let j = 0; j < u; j++) {
      let max = -Infinity;
      for (let b = 0; b < n; b++) max = Math.max(max, logits[b * u + j]);
      let sum = 0;
      for (let b = 0; b < n; b++) sum += y[b * u + j] = Math.exp(logits[b * u + j] - max);
      for (let b = 0; b < n; b++) y[b * u + j] /= sum;
    }
    return { output: storeInPlace(y, p.arithmetic), logits };
  };
}

/**
 * A direct NHWC convolution whose every product and partial sum is rounded by `round` (the
 * accumulator's format), with the taps visited in `order`: 'reference' (ky, kx, ci ascending) or
 * 'reversed' (ci, kx, ky descending). Out-of-range taps (zero padding) are skipped.
 */
export function roundedAccumulationConv(
  l: Conv2DSpec,
  p: PreparedLayer,
  round: (v: number) => number,
  order: 'reference' | 'reversed',
): LayerEvaluation {
  const lin = linear(l, p);
  return (inputs, mode) => {
    const x = input(inputs, 0, p, mode);
    const g = convGeometryOf(l, inputs[0].shape);
    const { n, h, w, cin, kh, kw, cout, sh, sw, padTop, padLeft, oh, ow } = g;
    const k = lin.kernel;
    const y = new Float64Array(n * oh * ow * cout);
    // The taps in visiting order, as (input offset within the window, kernel row offset).
    const taps: [number, number, number, number][] = [];
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++)
        for (let ci = 0; ci < cin; ci++) taps.push([ky, kx, ci, ((ky * kw + kx) * cin + ci) * cout]);
    if (order === 'reversed') taps.reverse();
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const o = ((b * oh + oy) * ow + ox) * cout;
          for (const [ky, kx, ci, kr] of taps) {
            const iy = oy * sh - padTop + ky;
            const ix = ox * sw - padLeft + kx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const xv = x[((b * h + iy) * w + ix) * cin + ci];
            if (xv === 0) continue;
            for (let co = 0; co < cout; co++) y[o + co] = round(y[o + co] + round(xv * k[kr + co]));
          }
        }
      }
    }
    // linearFinish rounds to the float32 accumulator (a no-op for float16 and float32 sums) and adds the bias.
    return { output: linearFinish(l, y, p) };
  };
}

export { fround as roundToFloat32, roundToFp16 };

/** The next float32 away from zero (0 stays 0: a runtime computes exact zeros exactly). */
export function ulpAwayFromZero(v: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer);
  u[0] += 1;
  return f[0];
}
