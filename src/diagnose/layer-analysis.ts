/**
 * Step 3 of diagnoseCase (./diagnose.ts): one layer of the model analysed on the ADAPTER's own
 * captured inputs. fp64 gives the error the layer introduced, judged by its budget
 * (src/compare/layer-budgets.ts); the arithmetic hypotheses give the precision verdict
 * (./precision.ts). Feeding each layer the adapter's own input keeps upstream differences out of both.
 */
import type { PrecisionProfile } from '../adapters/types';
import { layerBudgetUlps, type LayerBudgetKind } from '../compare/layer-budgets';
import { compareArrays, unravelIndex, type JsonNumber, type JsonValue, type MetricNumber } from '../compare/metrics';
import { LOGITS_SUFFIX } from '../model/builders';
import type { DenseSpec, LayerSpec, ModelSpec } from '../model/types';
import { sizeOf, type Tensor } from '../tensor';
import { isFloat32Exact, ulp32, type Arithmetic } from './formats';
import { hasLogitsStep, LayerEvaluator, type LayerInput } from './layer-eval';
import { classifyLayer } from './precision';
import type { LayerRole } from './roles';
import type { CumulativeError, LayerRow, LocalError, PrecisionVerdict } from './types';

/*
 * Math/Number are read once into module constants: inside Jest's vm context every global lookup in
 * a hot loop is slow (two orders of magnitude slower than plain Node: docs/notes/measured-in-code-comments.md).
 */
const M = Math;
const N = Number;

export const DEFAULT_ARITHMETICS: readonly Arithmetic[] = ['fp32', 'tf32', 'bf16', 'fp16'];

export interface DiagnosisRow {
  name: string;
  layer: LayerSpec;
  part: 'output' | 'logits';
}

/** Rows in creation order: every layer but the input; a softmax Dense gives `:logits` then its output. */
export function diagnosisRows(spec: ModelSpec): DiagnosisRow[] {
  const rows: DiagnosisRow[] = [];
  for (const l of spec.layers) {
    if (l.className === 'InputLayer') continue;
    if (hasLogitsStep(l)) rows.push({ name: `${l.name}${LOGITS_SUFFIX}`, layer: l, part: 'logits' });
    rows.push({ name: l.name, layer: l, part: 'output' });
  }
  return rows;
}

export const json = (x: number): JsonNumber => (N.isFinite(x) ? x : null);
/** compareArrays' metric in the diagnosis's own convention (null = NaN or infinite; types.ts). */
export const jsonMetric = (x: MetricNumber): JsonNumber => (typeof x === 'number' ? x : null);

function jsonVal(x: number): JsonValue {
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x;
}

export function relRms(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < e.length; i++) {
    const d = a[i] - e[i];
    num += d * d;
    den += e[i] * e[i];
  }
  if (num !== num) return Infinity;
  if (den === 0) return num === 0 ? 0 : Infinity;
  return M.sqrt(num / den);
}

export function cumulative(actual: Tensor, expected: Tensor): CumulativeError {
  const c = compareArrays(actual.data, expected.data, { atol: 0, rtol: 0 }, expected.shape);
  return {
    maxAbs: jsonMetric(c.maxAbs),
    maxRel: jsonMetric(c.maxRel),
    maxUlp: jsonMetric(c.maxUlp),
    relRms: json(relRms(actual.data, expected.data)),
  };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Budget kind and shape facts of a row. */
function budgetOf(
  row: DiagnosisRow,
  inShape: number[],
  training: boolean,
  logitsCaptured: boolean,
): { kind: LayerBudgetKind; ctx: Parameters<typeof layerBudgetUlps>[1] } {
  const l = row.layer;
  switch (l.className) {
    case 'Conv2D':
      return { kind: 'Conv2D', ctx: { k: l.kernelSize[0] * l.kernelSize[1] * inShape[inShape.length - 1] } };
    case 'Dense':
      if (row.part === 'logits' || l.activation === 'linear')
        return { kind: 'Dense', ctx: { k: inShape[inShape.length - 1] } };
      return { kind: 'softmax', ctx: { units: l.units, k: logitsCaptured ? undefined : inShape[inShape.length - 1] } };
    case 'BatchNormalization':
      return training
        ? { kind: 'BatchNormalization:training', ctx: { count: sizeOf(inShape) / inShape[inShape.length - 1] } }
        : { kind: 'BatchNormalization:inference', ctx: {} };
    case 'Add':
      return { kind: 'Add', ctx: {} };
    case 'AveragePooling2D':
      return { kind: 'AveragePooling2D', ctx: { window: l.poolSize[0] * l.poolSize[1] } };
    default:
      return { kind: 'exact', ctx: {} };
  }
}

export function toInput(t: Tensor): LayerInput {
  return { shape: t.shape, data: t.data instanceof Float64Array ? t.data : Float64Array.from(t.data) };
}

/** What every layer's analysis shares: the adapter's captures, the reference curves, the evaluator. */
export interface LayerAnalysisContext {
  spec: ModelSpec;
  training: boolean;
  profile: PrecisionProfile;
  /** Hypotheses asked for (fp64 is never one: it is the exact value). */
  wanted: ReadonlySet<Arithmetic>;
  evaluator: LayerEvaluator;
  roles: Map<string, LayerRole>;
  /** The profile's ULP factor (src/compare/layer-budgets.ts). */
  ulpFactor: number;
  /** Batch size. */
  n: number;
  /** The adapter's captured outputs, by row name. */
  captured: Record<string, Tensor>;
  /** The fp64 reference chained on its own outputs (the oracle). */
  r64: Record<string, Tensor>;
  /** The fp32 reference chained likewise (context), or null. */
  r32: Record<string, Tensor> | null;
  /** A layer's input as the adapter computed it (the model input for the first layer), or undefined. */
  inputOf(name: string): LayerInput | undefined;
}

/** The adapter-side facts of one analysable step. */
interface LayerStep {
  row: DiagnosisRow;
  layer: LayerSpec;
  inputs: LayerInput[];
  /** The softmax of a Dense whose logits were captured: evaluated from those logits. */
  softmaxStep: boolean;
  /** Conv2D or a linear Dense (or a Dense's logits). */
  isLinear: boolean;
  kind: LayerBudgetKind;
  budgetCtx: Parameters<typeof layerBudgetUlps>[1];
}

/** The layer's output under each hypothesis, all on the adapter's inputs, and the exact (fp64) one. */
function hypotheses(
  c: LayerAnalysisContext,
  s: LayerStep,
  float64Storage: boolean,
): { exact: Float64Array; hyp: Map<Arithmetic, Float64Array> } {
  const { evaluator, training, wanted } = c;
  const l = s.layer;
  const layerIns = s.inputs;
  const hyp = new Map<Arithmetic, Float64Array>();
  let exact: Float64Array;
  const evalAs = (ar: Arithmetic): Float64Array => {
    if (s.isLinear) return evaluator.linear(l as Parameters<LayerEvaluator['linear']>[0], layerIns[0], ar);
    if (s.softmaxStep) return evaluator.softmax(l as Parameters<LayerEvaluator['softmax']>[0], layerIns[0], ar);
    return evaluator.evaluate(l, layerIns, training, ar);
  };
  if (s.isLinear) {
    const inputFloat32 = layerIns.every((x) => isFloat32Exact(x.data));
    const h = evaluator.linearHypotheses(
      l as Parameters<LayerEvaluator['linear']>[0],
      layerIns[0],
      wanted,
      inputFloat32,
    );
    exact = h.fp64;
    for (const ar of DEFAULT_ARITHMETICS) if (h.hypotheses.has(ar)) hyp.set(ar, h.hypotheses.get(ar)!);
  } else {
    exact = evalAs('fp64');
    if (wanted.has('fp32')) hyp.set('fp32', evalAs('fp32'));
    const matmulOperands = l.className === 'Dense' && !s.softmaxStep;
    for (const ar of ['tf32', 'bf16', 'fp16'] as const) {
      if (!wanted.has(ar) || s.kind === 'exact') continue;
      if ((ar === 'tf32' || ar === 'bf16') && !matmulOperands) continue; // identical to fp32 outside matmuls
      hyp.set(ar, evalAs(ar));
    }
  }
  if (float64Storage) hyp.set('fp64', exact);
  return { exact, hyp };
}

/** Budget: |actual − exact| ≤ ulps_i · ULP(S_i), element by element; the worst element named. */
function localError(
  c: LayerAnalysisContext,
  s: LayerStep,
  actualTensor: Tensor,
  exact: Float64Array,
): { local: LocalError; unit: Float64Array } {
  const { evaluator, training, profile, ulpFactor, n } = c;
  const l = s.layer;
  const layerIns = s.inputs;
  const { kind, budgetCtx: ctx } = s;
  const actual = actualTensor.data;
  const scale = evaluator.scale(l, layerIns, training, exact, s.softmaxStep ? 'output' : s.row.part);
  const unit = new Float64Array(scale.length);
  for (let i = 0; i < scale.length; i++) unit[i] = ulp32(scale[i]);
  const ulps = layerBudgetUlps(kind, ctx, profile);
  // Dense analysed whole (logits not captured): the matmul's error moves each probability by ≤ 2·max|Δz|·y.
  let logitsSlack: Float64Array | null = null;
  if (kind === 'softmax' && !s.softmaxStep) {
    const lin = l as DenseSpec;
    const z = evaluator.linear(lin, layerIns[0], 'fp64');
    const zScale = evaluator.scale(l, layerIns, training, z, 'logits');
    const kUlps = layerBudgetUlps('Dense', { k: ctx.k }, profile);
    logitsSlack = new Float64Array(exact.length);
    for (let b = 0; b < n; b++) {
      let m = 0;
      for (let j = 0; j < lin.units; j++) m = M.max(m, kUlps * ulp32(zScale[b * lin.units + j]) * ulpFactor);
      for (let j = 0; j < lin.units; j++) logitsSlack[b * lin.units + j] = 2 * m * M.abs(exact[b * lin.units + j]);
    }
  }
  let zMaxRow: Float64Array | null = null;
  let zData: Float64Array | null = null;
  if (kind === 'softmax') {
    const units = (l as { units: number }).units;
    zData = s.softmaxStep
      ? layerIns[0].data
      : evaluator.linear(l as Parameters<LayerEvaluator['linear']>[0], layerIns[0], 'fp64');
    zMaxRow = new Float64Array(n);
    for (let b = 0; b < n; b++) {
      let m = -Infinity;
      for (let j = 0; j < units; j++) m = M.max(m, zData[b * units + j]);
      zMaxRow[b] = m;
    }
  }
  let maxRatio = 0;
  let maxErrUlp = 0;
  let maxAbs = 0;
  let outside = 0;
  let worstI = -1;
  let worstUlps = 0;
  let budgetMax = ulps;
  for (let i = 0; i < actual.length; i++) {
    let elemUlps = ulps;
    if (zData && zMaxRow) {
      const units = (l as { units: number }).units;
      elemUlps += M.abs(zData[i] - zMaxRow[M.floor(i / units)]);
      if (elemUlps > budgetMax) budgetMax = elemUlps;
    }
    const x = actual[i];
    const e = exact[i];
    let err: number;
    if (x !== x || e !== e) err = x !== x && e !== e ? 0 : Infinity;
    else err = x === e ? 0 : M.abs(x - e);
    const u = unit[i] * ulpFactor;
    const bound = elemUlps * u + (logitsSlack ? logitsSlack[i] : 0);
    const ratio = err === 0 ? 0 : bound > 0 ? err / bound : Infinity;
    if (err > maxAbs) maxAbs = err;
    if (err / u > maxErrUlp) maxErrUlp = err / u;
    if (ratio > 1) outside++;
    if (ratio > maxRatio || worstI < 0) {
      if (ratio > maxRatio) maxRatio = ratio;
      worstI = i;
      worstUlps = err / u;
    }
  }
  const local: LocalError = {
    budgetKind: kind,
    budgetUlp: budgetMax,
    errorUlp: json(maxErrUlp),
    ratio: json(maxRatio),
    withinBudget: outside === 0,
    outside,
    maxAbs: json(maxAbs),
    worst:
      worstI >= 0
        ? {
            index: unravelIndex(worstI, actualTensor.shape),
            actual: jsonVal(actual[worstI]),
            exact: jsonVal(exact[worstI]),
            scale: scale[worstI],
            ulps: json(worstUlps),
          }
        : null,
  };
  return { local, unit };
}

/**
 * One row of the diagnosis: the adapter's capture against the fp64 reference along depth, and the
 * layer's own error and arithmetic on the adapter's inputs. null: a Dense's logits row that was not
 * captured (the Dense is then analysed whole in its output row).
 */
export function analyseLayer(c: LayerAnalysisContext, row: DiagnosisRow): LayerRow | null {
  const { captured, r64, r32, n, training } = c;
  const l = row.layer;
  const role = c.roles.get(l.name) ?? { block: '', role: l.className, inResidualBlock: false };
  const expectedShape = row.part === 'logits' && l.className === 'Dense' ? [n, l.units] : [n, ...l.outputShape];
  const base: Omit<LayerRow, 'cumulative' | 'fp32Envelope' | 'local' | 'precision'> = {
    name: row.name,
    layer: l.name,
    className: l.className,
    part: row.part,
    block: role.block,
    role: role.role,
    shape: expectedShape,
  };
  const notAnalysed = (problem: string): LayerRow => ({
    ...base,
    problem,
    cumulative: null,
    fp32Envelope: null,
    local: null,
    precision: { status: 'not-analysed', best: null, runnerUp: null, gapUlp: null, distances: [] },
  });
  const a = captured[row.name];
  if (!a) {
    if (row.part === 'logits') return null; // Dense is then analysed whole in its output row
    return notAnalysed('not captured by the adapter');
  }
  if (!sameShape(a.shape, expectedShape)) {
    return notAnalysed(`captured shape [${a.shape.join(',')}] differs from the spec's [${expectedShape.join(',')}]`);
  }
  const r = r64[row.name];
  const cum = cumulative(a, r);
  const env = r32
    ? {
        relRms: json(relRms(r32[row.name].data, r.data)),
        maxAbs: jsonMetric(compareArrays(r32[row.name].data, r.data, { atol: 0, rtol: 0 }).maxAbs),
      }
    : null;

  // Inputs of this step (the adapter's own).
  const logitsName = `${l.name}${LOGITS_SUFFIX}`;
  const softmaxStep = hasLogitsStep(l) && row.part === 'output' && captured[logitsName] !== undefined;
  const inNames = softmaxStep ? [logitsName] : l.inbound;
  const ins = inNames.map((name) => c.inputOf(name));
  const missingIn = inNames.filter((_, i) => !ins[i]);
  if (missingIn.length) {
    return { ...notAnalysed(`input ${missingIn.join(', ')} not captured`), cumulative: cum, fp32Envelope: env };
  }
  const layerIns = ins as LayerInput[];
  const isLinear =
    l.className === 'Conv2D' || (l.className === 'Dense' && (row.part === 'logits' || l.activation === 'linear'));
  const { kind, ctx } = budgetOf(row, layerIns[0].shape, training, softmaxStep || !hasLogitsStep(l));
  const step: LayerStep = { row, layer: l, inputs: layerIns, softmaxStep, isLinear, kind, budgetCtx: ctx };
  const float64Storage = !isFloat32Exact(a.data);
  const { exact, hyp } = hypotheses(c, step, float64Storage);
  const { local, unit } = localError(c, step, a, exact);

  let precision: PrecisionVerdict;
  if (kind === 'exact') {
    precision = {
      status: local.outside === 0 ? 'exact' : 'unexplained',
      best: null,
      runnerUp: null,
      gapUlp: null,
      distances: [],
    };
  } else {
    precision = classifyLayer(a.data, hyp, unit, float64Storage);
  }
  return { ...base, cumulative: cum, fp32Envelope: env, local, precision };
}
