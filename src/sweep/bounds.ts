/**
 * Error bounds derived from the arithmetic (docs/error-bounds.md): the float64 oracle's value of
 * every output element and a bound on how far any correct implementation in the precision profile's
 * arithmetic may be from it, whatever its summation order. The bound is the classical worst-case
 * one (γ_n = n·u / (1 − n·u), Higham, Accuracy and Stability of Numerical Algorithms, §3.1) applied
 * to Σ|x·w|, which the oracle itself computes by running the layer on |x| and |w| (as TOSA's
 * reference model does for dot products), and carried forward through every layer of the model: a
 * layer's input error bound (from the layers before it) is propagated through the layer and its own
 * rounding is added. Worst case, not probabilistic, so an output outside its bound is a defect, never
 * noise; docs/error-bounds.md gives the derivation, the constants and how much headroom they leave.
 */
import { conv2d } from '../adapters/reference/conv2d';
import { matmul } from '../adapters/reference/dense';
import { zeroPad2d } from '../adapters/reference/elementwise';
import { convGeometryOf } from '../adapters/reference/interpreter';
import { avgPool2d, maxPool2d, poolGeometry } from '../adapters/reference/pooling';
import { ReferenceExecutor } from '../adapters/reference/executor';
import type { PrecisionProfile } from '../adapters/types';
import type { LayerSpec, ModelSpec, ModelWeights } from '../model/types';
import type { Tensor } from '../tensor';

/** The unit roundoffs a precision profile's arithmetic is allowed. */
export interface BoundProfile {
  profile: PrecisionProfile;
  /** Unit roundoff of accumulation (sums, products of stored values). */
  uAcc: number;
  /** Extra relative rounding of each product operand (TF32: 10-bit mantissa operands); 0 when none. */
  uOp: number;
  /** Unit roundoff of the stored tensors (each layer's output). */
  uStore: number;
  /** Smallest normal number of the storage format: a flushed subnormal costs at most this per operation. */
  eta: number;
}

export const BOUND_PROFILES: Record<PrecisionProfile, BoundProfile> = {
  'fp64-reference': { profile: 'fp64-reference', uAcc: 2 ** -53, uOp: 0, uStore: 2 ** -53, eta: 2 ** -1022 },
  'fp32-cpu': { profile: 'fp32-cpu', uAcc: 2 ** -24, uOp: 0, uStore: 2 ** -24, eta: 2 ** -126 },
  'tf32-gpu': { profile: 'tf32-gpu', uAcc: 2 ** -24, uOp: 2 ** -11, uStore: 2 ** -24, eta: 2 ** -126 },
  'webgl-f16': { profile: 'webgl-f16', uAcc: 2 ** -11, uOp: 2 ** -11, uStore: 2 ** -11, eta: 2 ** -14 },
};

/**
 * Extra terms in every Conv2D/Dense accumulation length beyond the products: the bias, the runtime
 * folding a following BatchNormalization into the weights (one more rounding of each weight, ONNX
 * Runtime's Conv+BN fusion), and the final store.
 */
export const LINEAR_EXTRA_TERMS = 3;

/**
 * Relative roundings in a BatchNormalization output, counted per term (docs/error-bounds.md): x − m
 * (1), v + ε with ε itself rounded (2), sqrt and reciprocal or rsqrt (≤ 2 ulp each: 4), times γ (1),
 * times the normalized value (1), + β (1) = 10.
 */
export const BN_ROUNDINGS = 10;

/** Relative roundings in 1/sqrt(v + ε) from a computed v (add, ε's rounding, sqrt, reciprocal at ≤ 2 ulp each). */
const RSQRT_ROUNDINGS = 6;

/** γ_n = n·u / (1 − n·u): worst-case relative error of an n-term sum of products (Infinity when n·u ≥ 1). */
export function gamma(n: number, u: number): number {
  const nu = n * u;
  return nu >= 1 ? Infinity : nu / (1 - nu);
}

export interface OracleBound {
  shape: number[];
  /** The float64 oracle's output. */
  value: Float64Array;
  /** Per element: the largest |got − value| a correct implementation in the profile may show. */
  bound: Float64Array;
}

function absOf(a: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.abs(a[i]);
  return out;
}

function anyNonZero(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return true;
  return false;
}

/** Error bound of a Conv2D or Dense output from its input's value and error bound. */
function linearBound(
  l: LayerSpec & { className: 'Conv2D' | 'Dense' },
  weights: ModelWeights,
  v: Float64Array,
  e: Float64Array,
  inShape: number[],
  p: BoundProfile,
): Float64Array {
  const [kw, bw] = weights.get(l.name)!;
  const absK = absOf(Float64Array.from(kw.data));
  const absB = Float64Array.from(bw.data, Math.abs);
  const n = inShape[0];
  let run: (x: Float64Array) => Float64Array;
  let terms: number;
  if (l.className === 'Conv2D') {
    const g = convGeometryOf(l, inShape);
    run = (x) => conv2d(x, g, absK, true);
    terms = g.kh * g.kw * g.cin;
  } else {
    const din = v.length / n;
    run = (x) => matmul(x, n, din, absK, l.units, true);
    terms = din;
  }
  // Σ|x|·|w| per output element: the oracle run on absolute values.
  const s = run(absOf(v));
  // Σ e·|w|: how far the input's own error can move the exact sum.
  const se = anyNonZero(e) ? run(e) : new Float64Array(s.length);
  const len = terms + LINEAR_EXTRA_TERMS;
  const ops = 2 * p.uOp + p.uOp * p.uOp;
  const c = gamma(len, p.uAcc) + ops * (1 + gamma(len, p.uAcc));
  const units = absB.length;
  const out = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) {
    out[i] = se[i] + c * (s[i] + se[i] + absB[i % units]) + len * p.eta;
  }
  return out;
}

function batchNormBound(
  l: LayerSpec,
  weights: ModelWeights,
  v: Float64Array,
  e: Float64Array,
  y: Float64Array,
  training: boolean,
  p: BoundProfile,
  eps: number,
): Float64Array {
  const [gw, bw, mw, vw] = weights.get(l.name)!.map((t) => Float64Array.from(t.data));
  const c = gw.length;
  const count = v.length / c;
  const u = p.uStore;
  const cbn = BN_ROUNDINGS * u;
  const out = new Float64Array(v.length);
  if (!training) {
    for (let ch = 0; ch < c; ch++) {
      const a = Math.abs(gw[ch]) / Math.sqrt(vw[ch] + eps);
      for (let i = ch; i < v.length; i += c) {
        out[i] =
          a * e[i] + cbn * (a * (Math.abs(v[i]) + e[i] + Math.abs(mw[ch])) + Math.abs(bw[ch])) + u * Math.abs(y[i]);
        out[i] += BN_ROUNDINGS * p.eta;
      }
    }
    return out;
  }
  for (let ch = 0; ch < c; ch++) {
    if (count === 1) {
      // One value per channel: its mean is itself and x − mean is exactly 0 in any arithmetic, so
      // the output is β (whatever the input's error); only β's store rounds.
      for (let i = ch; i < v.length; i += c) out[i] = u * Math.abs(bw[ch]) + p.eta;
      continue;
    }
    let sum = 0;
    let sumAbs = 0;
    let sumE = 0;
    for (let i = ch; i < v.length; i += c) {
      sum += v[i];
      sumAbs += Math.abs(v[i]);
      sumE += e[i];
    }
    const mu = sum / count;
    const gM = gamma(count + 1, p.uAcc);
    const eMu = sumE / count + gM * (sumAbs / count + sumE / count) + p.eta;
    // Variance: bound both the two-pass form mean((x − μ)²) and the one-pass form mean(x²) − μ²,
    // since a correct runtime may use either (docs/error-bounds.md).
    let twoData = 0;
    let twoMag = 0;
    let oneData = 0;
    let oneMag = 0;
    let variance = 0;
    for (let i = ch; i < v.length; i += c) {
      const dev = Math.abs(v[i] - mu);
      const d = e[i] + eMu;
      variance += (v[i] - mu) * (v[i] - mu);
      twoData += (2 * dev + d) * d;
      twoMag += (dev + d) * (dev + d);
      oneData += (2 * Math.abs(v[i]) + e[i]) * e[i];
      oneMag += (Math.abs(v[i]) + e[i]) * (Math.abs(v[i]) + e[i]);
    }
    variance /= count;
    const gV = gamma(count + 3, p.uAcc);
    const aMu = Math.abs(mu) + eMu;
    const eTwo = twoData / count + gV * (twoMag / count);
    const eOne = oneData / count + (2 * Math.abs(mu) + eMu) * eMu + gV * (oneMag / count + aMu * aMu);
    const eVar = Math.max(eTwo, eOne) + p.eta;
    const den = variance + eps;
    // A variance error as large as half of v + ε leaves 1/sqrt unbounded in practice: no bound.
    if (!(eVar < den / 2)) {
      for (let i = ch; i < v.length; i += c) out[i] = Infinity;
      continue;
    }
    const s = 1 / Math.sqrt(den);
    const sHi = 1 / Math.sqrt(den - eVar);
    const eS = sHi - s + RSQRT_ROUNDINGS * u * sHi;
    const g = Math.abs(gw[ch]);
    for (let i = ch; i < v.length; i += c) {
      const dev = Math.abs(v[i] - mu);
      const d = e[i] + eMu;
      out[i] =
        g * (sHi * d + (dev + d) * eS) +
        cbn * (g * sHi * (dev + d) + Math.abs(bw[ch])) +
        u * Math.abs(y[i]) +
        BN_ROUNDINGS * p.eta;
    }
  }
  return out;
}

/**
 * The float64 oracle's output of `spec` on `input` and, per element, the error bound of profile
 * `p`. Inputs and weights are taken as exact (they are float32 values every runtime receives as is).
 */
export function oracleWithBound(
  spec: ModelSpec,
  weights: ModelWeights,
  input: Tensor,
  training: boolean,
  p: BoundProfile,
): OracleBound {
  const exec = new ReferenceExecutor(spec, weights, { precision: 'fp64', tf32Layers: new Set() });
  const n = input.shape[0];
  const x0 = Float64Array.from(input.data);
  const names = spec.layers.slice(1).map((l) => l.name);
  const res = exec.run(x0, n, training, names);
  const value = new Map<string, Float64Array>([[spec.input, x0]]);
  for (const [name, t] of res.captured) value.set(name, t.data);
  value.set(spec.output, res.output);
  const err = new Map<string, Float64Array>([[spec.input, new Float64Array(x0.length)]]);
  const shapeOf = (name: string): number[] => [n, ...spec.layers.find((l) => l.name === name)!.outputShape];

  for (const l of spec.layers.slice(1)) {
    const src = l.inbound[0];
    const v = value.get(src)!;
    const e = err.get(src)!;
    const inShape = shapeOf(src);
    const y = value.get(l.name)!;
    let out: Float64Array;
    switch (l.className) {
      case 'Conv2D':
        out = linearBound(l, weights, v, e, inShape, p);
        break;
      case 'Dense':
        if (l.activation !== 'linear') throw new Error(`error bound: Dense '${l.name}' with softmax is not bounded`);
        out = linearBound(l, weights, v, e, inShape, p);
        break;
      case 'BatchNormalization':
        out = batchNormBound(l, weights, v, e, y, training, p, l.epsilon);
        break;
      case 'Activation':
      case 'Flatten':
        out = e; // ReLU is 1-Lipschitz and exact; Flatten moves nothing
        break;
      case 'ZeroPadding2D': {
        const [b, h, w, ch] = inShape;
        out = zeroPad2d(e, b, h, w, ch, l.padding);
        break;
      }
      case 'MaxPooling2D': {
        const [b, h, w, ch] = inShape;
        // |max x̂ − max x| ≤ max |x̂ − x| over the window; the max itself is exact.
        out = maxPool2d(e, poolGeometry({ n: b, h, w, c: ch }, l.poolSize, l.strides, l.padding));
        break;
      }
      case 'AveragePooling2D': {
        const [b, h, w, ch] = inShape;
        const g = poolGeometry({ n: b, h, w, c: ch }, l.poolSize, l.strides, l.padding);
        const ea = avgPool2d(e, g);
        const va = avgPool2d(absOf(v), g);
        const gk = gamma(l.poolSize[0] * l.poolSize[1] + 2, p.uAcc);
        out = new Float64Array(ea.length);
        for (let i = 0; i < out.length; i++) out[i] = ea[i] + gk * (va[i] + ea[i]) + 4 * p.eta;
        break;
      }
      case 'Add': {
        const e2 = err.get(l.inbound[1])!;
        out = new Float64Array(e.length);
        for (let i = 0; i < out.length; i++) out[i] = e[i] + e2[i] + p.uStore * (Math.abs(y[i]) + e[i] + e2[i]);
        break;
      }
      case 'InputLayer':
        throw new Error('error bound: a second InputLayer');
    }
    err.set(l.name, out);
  }
  return { shape: res.outputShape, value: res.output, bound: err.get(spec.output)! };
}

export type JudgeStatus = 'pass' | 'fail' | 'unbounded';

export interface Judgement {
  status: JudgeStatus;
  /** Why it failed or could not be judged (null on pass). */
  reason: string | null;
  elements: number;
  /** Elements outside their bound (non-finite ones included). */
  violations: number;
  /** Largest |got − expected| / bound (Infinity for a non-finite value or an error where the bound is 0). */
  worstRatio: number;
  /** Flat NHWC index of the worst element, or -1 when there is none. */
  worstIndex: number;
  worst: { expected: number; got: number; bound: number } | null;
  maxAbsError: number;
}

/**
 * Judges `got` against the oracle and its bound. Passes only when the shapes match and every value
 * is finite and within its (finite) bound; a non-finite bound is 'unbounded', never a pass.
 */
export function judgeAgainstBound(ob: OracleBound, got: Tensor): Judgement {
  const n = ob.value.length;
  const base = { elements: n, violations: 0, worstRatio: 0, worstIndex: -1, worst: null, maxAbsError: 0 };
  if (got.shape.join(',') !== ob.shape.join(',') || got.data.length !== n) {
    return {
      ...base,
      status: 'fail',
      reason: `shape [${got.shape.join(',')}] where the oracle gives [${ob.shape.join(',')}]`,
      worstRatio: Infinity,
    };
  }
  let violations = 0;
  let worstRatio = -1;
  let worstIndex = -1;
  let maxAbs = 0;
  let unbounded = 0;
  let nonFinite = 0;
  for (let i = 0; i < n; i++) {
    const g = got.data[i];
    const x = ob.value[i];
    const b = ob.bound[i];
    if (!Number.isFinite(x) || !Number.isFinite(b)) {
      unbounded++;
      continue;
    }
    let ratio: number;
    if (!Number.isFinite(g)) {
      nonFinite++;
      ratio = Infinity;
    } else {
      const d = Math.abs(g - x);
      if (d > maxAbs) maxAbs = d;
      ratio = d === 0 ? 0 : b > 0 ? d / b : Infinity;
    }
    if (ratio > 1) violations++;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worstIndex = i;
    }
  }
  const worst =
    worstIndex >= 0 ? { expected: ob.value[worstIndex], got: got.data[worstIndex], bound: ob.bound[worstIndex] } : null;
  const out = { elements: n, violations, worstRatio: Math.max(0, worstRatio), worstIndex, worst, maxAbsError: maxAbs };
  if (violations > 0) {
    const what = nonFinite ? `${nonFinite} non-finite value(s); ` : '';
    return { ...out, status: 'fail', reason: `${what}${violations} of ${n} element(s) outside the error bound` };
  }
  if (unbounded > 0 || worstIndex < 0) {
    return {
      ...out,
      status: 'unbounded',
      reason: n === 0 ? 'no output elements' : `${unbounded} of ${n} element(s) have no finite oracle value or bound`,
    };
  }
  return { ...out, status: 'pass', reason: null };
}
