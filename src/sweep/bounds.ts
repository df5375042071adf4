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
 * Relative roundings in a BatchNormalization output, counted per term (docs/error-bounds.md): x − m
 * (1), v + ε with ε itself rounded (2), sqrt and reciprocal or rsqrt (≤ 2 ulp each: 4), times γ (1),
 * times the normalized value (1), + β (1) = 10.
 */
export const BN_ROUNDINGS = 10;

/**
 * How a runtime computes BatchNormalization with batch statistics (training mode): `variance`
 * 'two-pass' when it is mean((x − mean)²), 'either' when it may be the one-pass mean(x²) − mean²
 * (whose cancellation needs a far wider bound); `output` 'centered' when it computes
 * (x − mean)·scale + β, 'either' when it may fold to x·scale + (β − mean·scale). Which runtime does
 * what is ./capabilities.ts (`batchNormFormsOf`), checked by a planted large-offset channel in
 * suites/sweep.test.ts.
 */
export interface BatchNormForms {
  variance: 'two-pass' | 'either';
  output: 'centered' | 'either';
}

/** The forms assumed for a runtime nothing is known about: the bound covers all of them. */
export const ANY_BATCH_NORM_FORMS: BatchNormForms = { variance: 'either', output: 'either' };

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

/**
 * Rounding error of a sum of n terms computed in floating point with unit roundoff u in any order
 * (any binary summation tree: sequential, blocked, pairwise, SIMD lanes, with or without FMA), from
 * A = Σ|tᵢ| and |T| = |Σ tᵢ| of the terms as computed (docs/error-bounds.md). Each of the n − 1
 * additions rounds its result, a subset sum, whose exact value is at most max(P, N) = (A + |T|)/2
 * (P, N: the sums of the positive and of the negative terms), plus the error its children already
 * carry (≤ γ_n·A). So |error| ≤ u·(n − 1)·((A + |T|)/2 + γ_n·A): half of γ_n·A when the terms cancel.
 */
export function sumRoundingBound(n: number, absSum: number, sum: number, u: number): number {
  if (n <= 1) return 0;
  return u * (n - 1) * ((absSum + Math.abs(sum)) / 2 + gamma(n, u) * absSum);
}

/** Error bound of a Conv2D or Dense output from its input's value and error bound. */
function linearBound(
  l: LayerSpec & { className: 'Conv2D' | 'Dense' },
  weights: ModelWeights,
  v: Float64Array,
  e: Float64Array,
  y: Float64Array,
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
  // Each summand (product, or the bias) as the runtime forms it: the product rounded (no FMA), the
  // weight rounded once more when a following BatchNormalization is folded into it (ONNX Runtime's
  // Conv+BN fusion), TF32 operands rounded to 10 mantissa bits: relative cOp each.
  const cOp = (1 + p.uAcc) ** 2 * (1 + p.uOp) ** 2 - 1;
  const len = terms + 1; // the products and the bias
  const units = absB.length;
  const out = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const b = absB[i % units];
    // The terms the runtime sums are those of the computed input x̂ (|x̂ − v| ≤ e), each rounded.
    const a = (s[i] + se[i]) * (1 + cOp) + b;
    const t = Math.abs(y[i]) + se[i] + cOp * (s[i] + se[i]);
    const sumErr = cOp * (s[i] + se[i]) + sumRoundingBound(len, a, Math.min(t, a), p.uAcc);
    // The final store rounds the computed sum once more.
    out[i] = se[i] + sumErr + p.uStore * (Math.abs(y[i]) + se[i] + sumErr) + len * p.eta;
  }
  return out;
}

/**
 * For each i: the largest over κ in `kappas` of Σ_j |δ_ij − (1 + κ·z_i·z_j)/M|·e_j / s' is returned
 * without the 1/s' (the caller's J sums use s' = 1 since z is already scaled). Sorting z makes it
 * O(M log M): 1 + w·z_j changes sign once, at z_j = −1/w.
 */
function jacobianSums(z: number[], e: number[], kappas: number[]): Float64Array {
  const m = z.length;
  const order = z.map((_, j) => j).sort((a, b) => z[a] - z[b]);
  const zs = order.map((j) => z[j]);
  const pe = new Float64Array(m + 1);
  const pz = new Float64Array(m + 1);
  for (let k = 0; k < m; k++) {
    pe[k + 1] = pe[k] + e[order[k]];
    pz[k + 1] = pz[k] + zs[k] * e[order[k]];
  }
  // First sorted position whose z is ≥ t (strict: > t).
  const lower = (t: number, strict: boolean): number => {
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (strict ? zs[mid] > t : zs[mid] >= t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const zMax = Math.max(Math.abs(zs[0]), Math.abs(zs[m - 1]));
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let best = 0;
    for (const kappa of kappas) {
      const w = kappa * z[i];
      // Σ_j |1 + w·z_j|·e_j over all j.
      let total: number;
      if (w === 0) total = pe[m];
      else if (w > 0) {
        const k = lower(-1 / w, false);
        total = -(pe[k] + w * pz[k]) + (pe[m] - pe[k] + w * (pz[m] - pz[k]));
      } else {
        const k = lower(-1 / w, true);
        total = pe[k] + w * pz[k] - (pe[m] - pe[k] + w * (pz[m] - pz[k]));
      }
      const self = 1 + w * z[i];
      const sum = (total - Math.abs(self) * e[i]) / m + Math.abs(1 - self / m) * e[i];
      best = Math.max(best, sum);
    }
    // The prefix sums are float64: 1e-12 of the largest term they add up covers their rounding.
    const wMax = Math.max(...kappas) * Math.abs(z[i]);
    out[i] = best + 1e-12 * pe[m] * (1 + wMax * zMax);
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
  forms: BatchNormForms,
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
    const idx: number[] = [];
    for (let i = ch; i < v.length; i += c) idx.push(i);
    let sum = 0;
    let sumAbs = 0;
    let sumE = 0;
    for (const i of idx) {
      sum += v[i];
      sumAbs += Math.abs(v[i]);
      sumE += e[i];
    }
    const mu = sum / count;
    const eBar = sumE / count;
    let variance = 0;
    let devE = 0;
    let eSq = 0;
    let sq = 0;
    for (const i of idx) {
      const dev = Math.abs(v[i] - mu);
      variance += dev * dev;
      devE += dev * e[i];
      eSq += e[i] * e[i];
      sq += (Math.abs(v[i]) + e[i]) ** 2;
    }
    variance /= count;
    const den = variance + eps;
    const sp = Math.sqrt(den);

    // (1) The input's error, carried through the exact function z(x) = (x − mean x)/√(var x + ε).
    // With x̂ = v + δ, D² = var(x̂) + ε = s'² + 2·mean((v − μ)·δ) + mean((δ − δ̄)²) (s'² = var(v) + ε)
    // and, exactly,
    //   z_i(x̂) − z_i(v) = Σ_j J_ij(κ)·δ_j + (δ_i − δ̄)·(1/D − 1/s') − (v_i − μ)·mean((δ − δ̄)²)/(D·s'·(D + s'))
    //   J_ij(κ) = (δ_ij − (1 + κ·ẑ_i·ẑ_j)/M)/s',  ẑ = (v − μ)/s',  κ = 2s'²/(D·(D + s')) ≈ 1.
    // Σ_j |J_ij| e_j keeps the signs: a shift of the whole channel, and (ε aside) a scaling of it, do
    // not move z at all — with a few values per channel most of the input's error is such a shift
    // or scaling, which the triangle inequality (e_i + ē + |ẑ_i|·mean(|ẑ|·e)) would count in full.
    const eVarX = (2 * devE + eSq) / count;
    if (!(eVarX < den / 2)) {
      for (const i of idx) out[i] = Infinity;
      continue;
    }
    const dLo = Math.sqrt(den - eVarX);
    const dHi = Math.sqrt(den + eVarX);
    const kappas = [(2 * den) / (dLo * (dLo + sp)), (2 * den) / (dHi * (dHi + sp))];
    const zs = idx.map((i) => (v[i] - mu) / sp);
    const jac = jacobianSums(
      zs,
      idx.map((i) => e[i]),
      kappas,
    );
    const invDiff = 1 / dLo - 1 / sp;
    const secondOrder = eSq / count / (dLo * sp * (dLo + sp));

    // (2) The runtime's own rounding, computing from x̂. μ̂ = fl(Σx̂ / M): |μ̂ − mean(x̂)| ≤ rMu.
    const sumHat = Math.abs(sum) + sumE;
    const rSum = sumRoundingBound(count, sumAbs + sumE, Math.min(sumHat, sumAbs + sumE), p.uAcc);
    const rMu = (rSum + u * (sumHat + rSum)) / count + p.eta;
    const gV = gamma(count + 3, p.uAcc);
    const varHi = variance + eVarX;
    // Two-pass mean((x̂ − μ̂)²) = var(x̂) + (mean(x̂) − μ̂)², rounded by at most γ_{M+3} (M
    // non-negative terms, the subtraction, the square, the division).
    let eVarR = rMu * rMu + gV * (varHi + rMu * rMu);
    if (forms.variance === 'either') {
      // One-pass mean(x̂²) − μ̂²: the cancellation costs γ_{M+3}·(mean(x̂²) + μ̂²).
      const aMu = Math.abs(mu) + eBar;
      const eOne = gV * (sq / count + (aMu + rMu) ** 2) + (2 * aMu + rMu) * rMu;
      eVarR = Math.max(eVarR, eOne);
    }
    eVarR += p.eta;
    if (!(eVarX + eVarR < den / 2)) {
      for (const i of idx) out[i] = Infinity;
      continue;
    }
    // ŝ = 1/√(v̂ + ε) against 1/D (D² ≥ den − eVarX): add, ε's rounding, sqrt, reciprocal at ≤ 2 ulp each.
    const sHiR = 1 / Math.sqrt(den - eVarX - eVarR);
    const eS = sHiR - 1 / dLo + RSQRT_ROUNDINGS * u * sHiR;
    const g = Math.abs(gw[ch]);
    idx.forEach((i, k) => {
      const dev = Math.abs(v[i] - mu);
      const carried = jac[k] / sp + (e[i] + eBar) * invDiff + dev * secondOrder;
      const centred = dev + e[i] + eBar; // |x̂_i − mean(x̂)|
      // The roundings of the output: of (x − μ)·s·γ + β when the runtime centres first; of
      // x·(s·γ) + (β − μ·(s·γ)) when it folds (Keras through tf.nn.batch_normalization), whose
      // products are as large as |x| and |μ|, not |x − μ|.
      const mag = forms.output === 'centered' ? centred + rMu : Math.abs(v[i]) + e[i] + Math.abs(mu) + eBar + rMu;
      out[i] =
        g * (carried + rMu * sHiR + centred * eS) +
        cbn * (g * sHiR * mag + Math.abs(bw[ch])) +
        u * Math.abs(y[i]) +
        BN_ROUNDINGS * p.eta;
    });
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
  forms: BatchNormForms = ANY_BATCH_NORM_FORMS,
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
        out = linearBound(l, weights, v, e, y, inShape, p);
        break;
      case 'Dense':
        if (l.activation !== 'linear') throw new Error(`error bound: Dense '${l.name}' with softmax is not bounded`);
        out = linearBound(l, weights, v, e, y, inShape, p);
        break;
      case 'BatchNormalization':
        out = batchNormBound(l, weights, v, e, y, training, p, l.epsilon, forms);
        break;
      case 'Activation':
        // ReLU is exact and 1-Lipschitz; where the exact input is ≤ −e every input within the bound
        // is ≤ 0 and the output is exactly 0: |relu(x̂) − relu(v)| ≤ e for v ≥ 0, ≤ max(0, v + e) below.
        out = new Float64Array(e.length);
        for (let i = 0; i < e.length; i++) out[i] = v[i] >= 0 ? e[i] : Math.max(0, v[i] + e[i]);
        break;
      case 'Flatten':
        out = e; // moves nothing
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
