/**
 * The reference layer interpreter: the one implementation of every layer type's semantics and
 * rounding sequence under an arithmetic (./precision.ts). ReferenceExecutor runs whole models by
 * calling evaluateLayer() for each layer; the diagnosis (src/diagnose/layer-eval.ts) calls the same
 * functions to evaluate one layer on an adapter's own captured inputs. A layer's weights are
 * prepared once per arithmetic (prepareLayer) so the executor does it at build time.
 *
 * Rounding sequence (non-fp64 arithmetics; fp64 rounds nothing):
 *   inputs      in the storage format (rounded here unless the caller says they already are)
 *   Conv2D/Dense  operands rounded for the arithmetic, Σ x·k in float64, rounded to float32 (the
 *               accumulator), plus the bias in the storage format, rounded to the storage format;
 *               Dense softmax: softmax of the stored logits in float64, rounded to storage
 *   BatchNorm, AveragePooling2D, Add   float64 on stored operands, result rounded to storage
 *   ZeroPadding2D, ReLU, MaxPooling2D, Flatten   exact, nothing to round
 */
import type {
  BatchNormalizationSpec,
  Conv2DSpec,
  DenseSpec,
  LayerSpec,
  ModelSpec,
  ModelWeights,
} from '../../model/types';
import { samePadding } from '../../model/shapes';
import { batchNorm, type BatchNormParams } from './batchnorm';
import { conv2d, convGeometry, type ConvGeometry } from './conv2d';
import { matmul, softmax } from './dense';
import { add, addBiasInPlace, relu, zeroPad2d } from './elementwise';
import { avgPool2d, maxPool2d, poolGeometry } from './pooling';
import {
  isFloat32Exact,
  operand,
  roundFloat32InPlace,
  storageRounder,
  storeInPlace,
  stored,
  type Arithmetic,
} from './precision';
import { sharedKernel } from './kernel-cache';
import { markKernelConstant } from './simd-kernel';
import { allFinite } from './weights';

/** A layer's input: a float64 buffer and its shape (batch first). */
export interface LayerInput {
  data: Float64Array;
  shape: number[];
}

/** Which side gets the extra row/column when Conv2D 'same' padding is uneven. */
export type SamePaddingSide = 'tf' | 'before';

/** Conv2D/Dense weights prepared for one arithmetic. */
export interface LinearParams {
  /** Kernel as used in the product (rounded to the arithmetic's operand format). */
  kernel: Float64Array;
  /** Bias in the storage format. */
  bias: Float64Array;
  /** The kernel has no NaN/Inf, so products with exact-zero activations may be skipped. */
  kernelFinite: boolean;
}

/** One layer's weights prepared for one arithmetic (weightless layers have neither field). */
export interface PreparedLayer {
  arithmetic: Arithmetic;
  linear?: LinearParams;
  batchNorm?: BatchNormParams;
}

export interface LayerMode {
  /** BatchNormalization uses batch statistics (true) or the moving ones. */
  training: boolean;
  /**
   * Conv2D 'same' padding variant: 'tf' (TensorFlow / ONNX SAME_UPPER: the extra row and column
   * go after, bottom/right) or 'before' (ONNX SAME_LOWER: top/left). Default 'tf'. Only the
   * diagnosis's test-only perturbed adapter uses 'before'.
   */
  samePadding?: SamePaddingSide;
  /**
   * The inputs are already in the arithmetic's storage format (the executor's own buffers), so they
   * are neither checked nor rounded again. Default false: inputs from elsewhere are rounded.
   */
  inputsStored?: boolean;
}

/** What evaluateLayer produces; `logits` for Dense layers (the output itself when linear). */
export interface LayerOutput {
  output: Float64Array;
  logits?: Float64Array;
}

/** One layer's replacement evaluation: the same inputs and mode as evaluateLayer, same contract for the output. */
export type LayerEvaluation = (inputs: readonly LayerInput[], mode: LayerMode) => LayerOutput;

/**
 * The per-layer seam of the executor (ExecutorOptions.override): called once per layer at build time
 * with the layer, its weights prepared for its arithmetic and the model's weights; returns a
 * replacement evaluation for that layer, or undefined to keep evaluateLayer. It exists so that a
 * runtime differing from the reference in one place (the mutant bank, src/mutants) is the
 * reference executor plus one override, not a copy of this interpreter.
 */
export type LayerOverride = (
  l: LayerSpec,
  ctx: { spec: ModelSpec; weights: ModelWeights; prepared: PreparedLayer },
) => LayerEvaluation | undefined;

function weightData(weights: ModelWeights, l: LayerSpec, count: number): ArrayLike<number>[] {
  const w = weights.get(l.name);
  if (!w || w.length !== count) {
    throw new Error(`layer '${l.name}' (${l.className}) needs ${count} weight tensors, ${w ? w.length : 'none'} given`);
  }
  return w.map((t) => t.data);
}

/** `data` as float64 in the storage format of `a` (float32 tensors are copied without a scan). */
function storedCopy(data: ArrayLike<number>, a: Arithmetic): Float64Array {
  const raw = new Float64Array(data);
  if (a === 'fp64' || (a !== 'fp16' && isFloat32Exact(data))) return raw;
  return stored(raw, a);
}

/** Conv2D/Dense kernel of `k` prepared for `a`: shared (./kernel-cache.ts) when allowed and cacheable. */
function linearKernel(k: ArrayLike<number>, a: Arithmetic, share: boolean): { kernel: Float64Array; finite: boolean } {
  if (share && k instanceof Float32Array && (a === 'fp64' || a === 'fp32' || a === 'tf32')) {
    const s = sharedKernel(k, a);
    if (s) return s;
  }
  const raw = new Float64Array(k);
  const kernel = a === 'fp32' && isFloat32Exact(k) ? raw : operand(raw, a);
  return { kernel, finite: allFinite(kernel) };
}

/**
 * Prepares `l`'s weights for arithmetic `a` (validated weights in Keras order). `share`: the kernel
 * may be one shared with other callers preparing the same weight array (./kernel-cache.ts); only
 * for callers that never modify it nor hand it to code that might (the executor without overrides).
 */
export function prepareLayer(
  l: LayerSpec,
  weights: ModelWeights,
  a: Arithmetic,
  opts: { share?: boolean } = {},
): PreparedLayer {
  if (l.className === 'Conv2D' || l.className === 'Dense') {
    const [k, b] = weightData(weights, l, 2);
    const { kernel, finite } = linearKernel(k, a, opts.share === true);
    // A prepared layer's kernel is never modified (overrides replace it with a new array), so the
    // SIMD path may keep a packed copy of it.
    markKernelConstant(kernel);
    return { arithmetic: a, linear: { kernel, bias: storedCopy(b, a), kernelFinite: finite } };
  }
  if (l.className === 'BatchNormalization') {
    const [gamma, beta, movingMean, movingVariance] = weightData(weights, l, 4).map((d) => storedCopy(d, a));
    return {
      arithmetic: a,
      batchNorm: { gamma, beta, movingMean, movingVariance, epsilon: storageRounder(a)(l.epsilon) },
    };
  }
  return { arithmetic: a };
}

/** Conv2D geometry for an NHWC input shape, with the extra 'same' padding on `side`. */
export function convGeometryOf(l: Conv2DSpec, inShape: readonly number[], side: SamePaddingSide = 'tf'): ConvGeometry {
  const [n, h, w, cin] = inShape;
  const g = convGeometry(
    { n, h, w, cin },
    { kh: l.kernelSize[0], kw: l.kernelSize[1], cout: l.filters },
    l.strides,
    l.padding,
  );
  if (l.padding === 'same' && side === 'before') {
    const [, bottom] = samePadding(h, l.kernelSize[0], l.strides[0]);
    const [, right] = samePadding(w, l.kernelSize[1], l.strides[1]);
    return { ...g, padTop: bottom, padLeft: right };
  }
  return g;
}

function linearParams(l: LayerSpec, p: PreparedLayer): LinearParams {
  if (!p.linear)
    throw new Error(`layer '${l.name}' (${l.className}): weights were not prepared as a Conv2D/Dense layer`);
  return p.linear;
}

/** Σ x·k (no bias) in float64 on operands rounded for the prepared arithmetic. */
export function linearProduct(
  l: Conv2DSpec | DenseSpec,
  x: LayerInput,
  p: PreparedLayer,
  mode: Omit<LayerMode, 'training'> = {},
): Float64Array {
  const { kernel, kernelFinite } = linearParams(l, p);
  const a = p.arithmetic;
  // Stored fp64/fp32 inputs are their own operands; the other arithmetics round them further.
  const xr = mode.inputsStored && (a === 'fp64' || a === 'fp32') ? x.data : operand(x.data, a);
  if (l.className === 'Conv2D') return conv2d(xr, convGeometryOf(l, x.shape, mode.samePadding), kernel, kernelFinite);
  const n = x.shape[0];
  return matmul(xr, n, x.data.length / n, kernel, l.units, kernelFinite);
}

/**
 * A Conv2D/Dense product (modified in place) made the layer's output: rounded to the float32
 * accumulator, plus the stored bias, rounded to storage. fp64 adds the bias only.
 */
export function linearFinish(l: Conv2DSpec | DenseSpec, product: Float64Array, p: PreparedLayer): Float64Array {
  const { bias } = linearParams(l, p);
  if (p.arithmetic === 'fp64') {
    addBiasInPlace(product, bias);
    return product;
  }
  // Accumulation is float32 in every non-fp64 arithmetic; fp16 then stores the result in fp16.
  roundFloat32InPlace(product);
  addBiasInPlace(product, bias);
  return storeInPlace(product, p.arithmetic);
}

/** A Dense layer's softmax of `logits` (rounded to storage first unless `logitsStored`). */
export function denseSoftmax(l: DenseSpec, logits: Float64Array, a: Arithmetic, logitsStored = false): Float64Array {
  const z = logitsStored ? logits : stored(logits, a);
  return storeInPlace(softmax(z, l.units), a);
}

/** Dense layers whose activation is applied after the matmul (softmax) have a separate logits step. */
export function hasLogitsStep(l: LayerSpec): l is DenseSpec {
  return l.className === 'Dense' && l.activation !== 'linear';
}

function batchNormParams(l: BatchNormalizationSpec, p: PreparedLayer): BatchNormParams {
  if (!p.batchNorm)
    throw new Error(`layer '${l.name}' (BatchNormalization): weights were not prepared as a BatchNormalization layer`);
  return p.batchNorm;
}

/**
 * Output of `l` on `inputs` (in inbound order) under the arithmetic `p` was prepared for. The output
 * may be an input buffer itself (Flatten); callers that modify outputs in place must copy first.
 */
export function evaluateLayer(
  l: LayerSpec,
  inputs: readonly LayerInput[],
  p: PreparedLayer,
  mode: LayerMode,
): LayerOutput {
  if (inputs.length !== l.inbound.length) {
    throw new Error(`layer '${l.name}' takes ${l.inbound.length} input(s), got ${inputs.length}`);
  }
  const a = p.arithmetic;
  const x = (i: number): Float64Array => (mode.inputsStored ? inputs[i].data : stored(inputs[i].data, a));
  switch (l.className) {
    case 'InputLayer':
      throw new Error(`the input layer '${l.name}' is not evaluated`);
    case 'ZeroPadding2D': {
      const [n, h, w, c] = inputs[0].shape;
      return { output: zeroPad2d(x(0), n, h, w, c, l.padding) };
    }
    case 'Conv2D':
      return { output: linearFinish(l, linearProduct(l, inputs[0], p, mode), p) };
    case 'BatchNormalization': {
      const c = l.outputShape[l.outputShape.length - 1];
      return { output: storeInPlace(batchNorm(x(0), c, batchNormParams(l, p), mode.training), a) };
    }
    case 'Activation':
      return { output: relu(x(0)) };
    case 'MaxPooling2D': {
      const [n, h, w, c] = inputs[0].shape;
      return { output: maxPool2d(x(0), poolGeometry({ n, h, w, c }, l.poolSize, l.strides, l.padding)) };
    }
    case 'AveragePooling2D': {
      const [n, h, w, c] = inputs[0].shape;
      return {
        output: storeInPlace(avgPool2d(x(0), poolGeometry({ n, h, w, c }, l.poolSize, l.strides, l.padding)), a),
      };
    }
    case 'Add':
      return { output: storeInPlace(add(x(0), x(1)), a) };
    case 'Flatten':
      return { output: x(0) }; // NHWC row-major is already Keras's flatten order
    case 'Dense': {
      const logits = linearFinish(l, linearProduct(l, inputs[0], p, mode), p);
      return { output: hasLogitsStep(l) ? denseSoftmax(l, logits, a, true) : logits, logits };
    }
    default: {
      const bad: never = l;
      throw new Error(`reference: unsupported layer class '${(bad as LayerSpec).className}'`);
    }
  }
}
