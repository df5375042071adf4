/**
 * Per-layer error budgets (the per-layer part of the tolerance table; the end-to-end table is
 * ./tolerances.ts). Used by `resnet-conformance diagnose` (src/diagnose) to name the first layer
 * whose error leaves its budget.
 *
 * WHAT is budgeted: the error a layer INTRODUCES. The layer is re-evaluated in float64 on the
 * adapter's own captured inputs (src/diagnose/layer-eval.ts) and the adapter's output is compared
 * with that. Errors inherited from earlier layers are therefore not charged to the layer — a
 * cumulative budget (output vs the chained fp64 reference) would have to model how every earlier
 * error propagates (BatchNorm with batch statistics divides by small per-channel deviations, ReLU
 * clips), which cannot be derived from one layer's shape and kind. The cumulative error along depth
 * is still measured and shown (with the ideal fp32 curve for context), just not budgeted.
 *
 * HOW it is budgeted (in the spirit of WebNN's conformance tolerances, e.g. conv2d: kH·kW·Cin·2 ULP):
 * every element i gets   |actual_i − exact_i| ≤ ulps · ULP(S_i)
 * where exact_i is the float64 value on the same inputs, ULP() is the float32 unit in the last place
 * (float64 for the fp64 reference profile) and S_i is the MAGNITUDE the rounding errors scale with
 * (for a dot product Σ|x·w|, not |Σ x·w|): rounding errors of a sum are bounded relative to the sum
 * of absolute values, so a ULP of the result itself would blow up under cancellation (a conv output
 * near zero made of large terms), while a ULP of S is what any summation order can actually promise.
 *
 * The budgets are worst-case bounds (Higham, Accuracy and Stability of Numerical Algorithms, §3.1:
 * |fl(Σ x_i·w_i) − Σ x_i·w_i| ≤ γ_K Σ|x_i·w_i|, γ_K = K·u/(1 − K·u), u = 2^-24 ≤ ULP(S)/S), so an
 * fp32 kernel in ANY summation order, with or without FMA, blocked or pairwise, stays inside them.
 * They are loose for large K: a perturbation smaller than the bound passes the budget. The precision
 * diagnosis (src/diagnose/precision.ts) compares distances, not bounds, and flags outputs no
 * arithmetic explains ("unexplained") even when they are inside their budget.
 */
import type { PrecisionProfile } from '../adapters/types';

/** The layer kinds that have a budget rule. Dense is split into its matmul (logits) and its softmax. */
export type LayerBudgetKind =
  | 'Conv2D'
  | 'Dense'
  | 'softmax'
  | 'BatchNormalization:inference'
  | 'BatchNormalization:training'
  | 'Add'
  | 'AveragePooling2D'
  | 'exact';

export interface LayerBudgetRule {
  /** S_i: what the error of element i is measured against. */
  scale: string;
  /** The budget in ULP(S_i), as a formula of the layer's shape. */
  ulps: string;
  /** Why. */
  reason: string;
}

/** Shape facts the formulas use. */
export interface LayerBudgetContext {
  /** Conv2D: kH·kW·Cin; Dense: input features. Products summed into one output element. */
  k?: number;
  /** BatchNormalization (training): elements per channel reduced into the batch mean/variance (N·H·W). */
  count?: number;
  /** AveragePooling2D: window size pH·pW. */
  window?: number;
  /** softmax: number of classes. */
  units?: number;
}

/** TF32 operand rounding: relative error ≤ 2^-10 per operand (covers truncation as well as round-to-nearest). */
const TF32_PRODUCT_ULPS = 2 ** 15;

export const LAYER_BUDGET_RULES: Readonly<Record<LayerBudgetKind, LayerBudgetRule>> = {
  Conv2D: {
    scale: 'S = Σ|x|·|w| + |b| over the kH·kW·Cin products of the output element',
    ulps: 'fp32: 2·K + 2 with K = kH·kW·Cin; tf32-gpu profile: 2·K + 2 + 2^15',
    reason:
      'K products and K−1 additions, each rounding at most 1 ULP(S) since every partial sum is ≤ S ' +
      '(γ_K ≤ K·ULP(S)/S; 2·K as WebNN conv2d); +1 bias addition, +1 final rounding. TF32: each operand ' +
      'rounded with relative error ≤ 2^-10 (2^-11 round-to-nearest; 2^-10 also covers truncating hardware), ' +
      'so each product errs by ≤ 2^-9·|x·w|, ≤ 2^15 ULP(S) in total.',
  },
  Dense: {
    scale: 'S = Σ|x|·|w| + |b| over the input features (the logits, before softmax)',
    ulps: 'fp32: 2·K + 2 with K = input features; tf32-gpu profile: 2·K + 2 + 2^15',
    reason: 'a dot product of length K: the Conv2D rule with K = input features.',
  },
  softmax: {
    scale: "S = the probability y_i itself (evaluated on the adapter's own logits)",
    ulps: 'units + 8 + |z_i − max z| (per element)',
    reason:
      'z_i − max z rounds with error ≤ |z_i − max z|·u, which exp turns into a relative error of the same ' +
      'size; exp ≤ 2 ULP, the sum of `units` exponentials ≤ units ULP, the division and the roundings ≤ 6 more.',
  },
  'BatchNormalization:inference': {
    scale: 'S = (|x| + |moving_mean|)·|γ|/sqrt(moving_var + ε) + |β|',
    ulps: '8',
    reason:
      'x − mean, var + ε, sqrt, division (or rsqrt and a product), ×γ, +β: six roundings of at most 1 ULP of S ' +
      'each, whether the implementation folds them into x·scale + shift or not; 2 more for the folded scale/shift.',
  },
  'BatchNormalization:training': {
    scale: 'S = (|x| + mean|x|)·|γ|/σ + |β| + |x − mean|·|γ|/σ · E[x²]/(2σ²), σ² = batch var + ε (per channel)',
    ulps: '2·count + 8, count = N·H·W elements per channel',
    reason:
      'the batch mean is a sum of count terms (error ≤ count·ULP of mean|x|) and the batch variance one ' +
      'of count squares, computed two-pass (tf.nn.moments, which Keras 3 uses on TensorFlow) or one-pass as ' +
      'E[x²] − mean² (Keras synchronized BatchNorm): either way its error is ≤ count·u·E[x²], which moves y by ' +
      '|x − mean|·|γ|/σ · Δvar/(2σ²); then the inference rule (8).',
  },
  Add: {
    scale: 'S = |a| + |b|',
    ulps: '1',
    reason: 'one correctly rounded addition: ≤ 0.5 ULP(|a + b|) ≤ 0.5 ULP(S); 1 leaves room for flushing subnormals.',
  },
  AveragePooling2D: {
    scale: 'S = mean of |x| over the window',
    ulps: 'pH·pW + 1',
    reason:
      'a sum of pH·pW terms (≤ 1 ULP of the running sum each, relative to the mean after the division) and ' +
      'one division.',
  },
  exact: {
    scale: 'S = |y|',
    ulps: '0',
    reason:
      'ZeroPadding2D, ReLU (Activation), MaxPooling2D and Flatten only move, select or clip values: any ' +
      'implementation must reproduce them exactly from the same input.',
  },
};

/** ULP of the profile's storage format relative to the float32 ULP (float64 has 29 more mantissa bits, float16 13 fewer). */
export function profileUlpFactor(profile: PrecisionProfile): number {
  if (profile === 'fp64-reference') return 2 ** -29;
  if (profile === 'webgl-f16') return 2 ** 13;
  return 1;
}

function need(v: number | undefined, what: string, kind: LayerBudgetKind): number {
  if (v === undefined || !Number.isFinite(v) || v < 0)
    throw new Error(`layer budget ${kind}: needs ${what} (got ${String(v)})`);
  return v;
}

/**
 * The budget of a layer kind in ULP(S) (of the profile's format), for the shape facts in `ctx`.
 * softmax: the per-element term |z_i − max z| is added by the caller.
 */
export function layerBudgetUlps(kind: LayerBudgetKind, ctx: LayerBudgetContext, profile: PrecisionProfile): number {
  switch (kind) {
    case 'Conv2D':
    case 'Dense': {
      const k = need(ctx.k, 'k (products per output element)', kind);
      return 2 * k + 2 + (profile === 'tf32-gpu' ? TF32_PRODUCT_ULPS : 0);
    }
    case 'softmax':
      return need(ctx.units, 'units', kind) + 8;
    case 'BatchNormalization:inference':
      return 8;
    case 'BatchNormalization:training':
      return 2 * need(ctx.count, 'count (elements per channel)', kind) + 8;
    case 'Add':
      return 1;
    case 'AveragePooling2D':
      return need(ctx.window, 'window (pH·pW)', kind) + 1;
    case 'exact':
      return 0;
    default: {
      const bad: never = kind;
      throw new Error(`no layer budget rule for '${String(bad)}'`);
    }
  }
}
