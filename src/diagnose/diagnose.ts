/**
 * diagnoseCase: per-layer capture, error along depth, per-layer budgets, the first diverging layer
 * and the precision diagnosis of one adapter on one model, input and BatchNorm mode.
 *
 * Steps:
 *  1. the adapter runs once capturing every layer (and `<dense>:logits`); once more without capture
 *     to see whether capturing changed its result (it may disable fusions);
 *  2. the reference runs chained in fp64 (the oracle) and fp32 (the ideal fp32 curve, for context);
 *  3. every layer is re-evaluated on the ADAPTER's own captured inputs under each arithmetic
 *     hypothesis (src/diagnose/layer-eval.ts): fp64 gives the error the layer introduced, judged by
 *     its budget (src/compare/layer-budgets.ts); the hypotheses give the precision diagnosis
 *     (src/diagnose/precision.ts). Feeding each layer the adapter's own input keeps upstream
 *     differences out of both.
 */
import { ReferenceAdapter } from '../adapters/reference';
import type { Adapter, PrecisionProfile } from '../adapters/types';
import { layerBudgetUlps, profileUlpFactor, type LayerBudgetKind } from '../compare/layer-budgets';
import { compareArrays, unravelIndex, type JsonNumber, type JsonValue, type MetricNumber } from '../compare/metrics';
import { LOGITS_SUFFIX } from '../model/builders';
import type { DenseSpec, LayerSpec, ModelSpec, ModelWeights } from '../model/types';
import { sizeOf, type Tensor } from '../tensor';
import { isFloat32Exact, ulp32, type Arithmetic } from './formats';
import { hasLogitsStep, LayerEvaluator, type LayerInput } from './layer-eval';
import { classifyLayer, summarizePrecision } from './precision';
import { layerRoles, roleText } from './roles';
import {
  DIAGNOSIS_SCHEMA,
  DIAGNOSIS_VERSION,
  type CumulativeError,
  type Diagnosis,
  type LayerRow,
  type LocalError,
  type PrecisionVerdict,
} from './types';

/*
 * Math/Number are read once into module constants: inside Jest's vm context every global lookup in
 * a hot loop is slow (two orders of magnitude slower than plain Node: docs/notes/measured-in-code-comments.md).
 */
const M = Math;
const N = Number;

export interface DiagnoseOptions {
  training: boolean;
  /** Budget column: the adapter's precision profile (registry entry). */
  profile: PrecisionProfile;
  /** Hypotheses to test (default fp32, tf32, bf16, fp16; fp64 is added when the adapter stores float64). */
  arithmetics?: Arithmetic[];
  /** How the input was made, for the report (default 'given'). */
  inputSource?: string;
  /** Run the adapter once more without capture to see whether capturing changes its output (default true). */
  checkCaptureEffect?: boolean;
  /** Compute the reference-fp32 curve along depth (default true). */
  fp32Envelope?: boolean;
}

export const DEFAULT_ARITHMETICS: readonly Arithmetic[] = ['fp32', 'tf32', 'bf16', 'fp16'];

interface Row {
  name: string;
  layer: LayerSpec;
  part: 'output' | 'logits';
}

/** Rows in creation order: every layer but the input; a softmax Dense gives `:logits` then its output. */
export function diagnosisRows(spec: ModelSpec): Row[] {
  const rows: Row[] = [];
  for (const l of spec.layers) {
    if (l.className === 'InputLayer') continue;
    if (hasLogitsStep(l)) rows.push({ name: `${l.name}${LOGITS_SUFFIX}`, layer: l, part: 'logits' });
    rows.push({ name: l.name, layer: l, part: 'output' });
  }
  return rows;
}

/** Capture names the diagnosis asks for: every row. */
export function captureNamesFor(spec: ModelSpec): string[] {
  return diagnosisRows(spec).map((r) => r.name);
}

function now(): number {
  return performance.now();
}

const json = (x: number): JsonNumber => (N.isFinite(x) ? x : null);
/** compareArrays' metric in the diagnosis's own convention (null = NaN or infinite; types.ts). */
const jsonMetric = (x: MetricNumber): JsonNumber => (typeof x === 'number' ? x : null);

function jsonVal(x: number): JsonValue {
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x;
}

function relRms(a: ArrayLike<number>, e: ArrayLike<number>): number {
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

function cumulative(actual: Tensor, expected: Tensor): CumulativeError {
  const c = compareArrays(actual.data, expected.data, { atol: 0, rtol: 0 }, expected.shape);
  return {
    maxAbs: jsonMetric(c.maxAbs),
    maxRel: jsonMetric(c.maxRel),
    maxUlp: jsonMetric(c.maxUlp),
    relRms: json(relRms(actual.data, expected.data)),
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Budget kind and shape facts of a row. */
function budgetOf(
  row: Row,
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

/**
 * Runs the adapter with every layer captured. Adapters that cannot capture `:logits` are retried
 * without those names; anything else they cannot capture is an error naming the adapter.
 */
async function captureAll(
  adapter: Adapter,
  input: Tensor,
  training: boolean,
  names: string[],
  issues: string[],
): Promise<{ output: Tensor; intermediates: Record<string, Tensor> }> {
  try {
    return await adapter.run(input, { training, capture: names });
  } catch (err) {
    const withoutLogits = names.filter((n) => !n.endsWith(LOGITS_SUFFIX));
    if (withoutLogits.length === names.length) {
      throw new Error(`adapter '${adapter.id}' cannot capture every layer: ${(err as Error).message}`);
    }
    issues.push(
      `capture of ${names.filter((n) => n.endsWith(LOGITS_SUFFIX)).join(', ')} failed (${(err as Error).message}); Dense analysed as a whole`,
    );
    try {
      return await adapter.run(input, { training, capture: withoutLogits });
    } catch (err2) {
      throw new Error(`adapter '${adapter.id}' cannot capture every layer: ${(err2 as Error).message}`);
    }
  }
}

function toInput(t: Tensor): LayerInput {
  return { shape: t.shape, data: t.data instanceof Float64Array ? t.data : Float64Array.from(t.data) };
}

/**
 * Diagnoses a BUILT adapter on `spec`/`weights` (the same the adapter was built with) and `input`.
 * The result is JSON-serializable.
 */
export async function diagnoseCase(
  adapter: Adapter,
  spec: ModelSpec,
  weights: ModelWeights,
  input: Tensor,
  opts: DiagnoseOptions,
): Promise<Diagnosis> {
  const t0 = now();
  const { training, profile } = opts;
  const rows = diagnosisRows(spec);
  const names = rows.map((r) => r.name);
  const issues: string[] = [];

  // 1. adapter
  const tA = now();
  const run = await captureAll(adapter, input, training, names, issues);
  let captureEffect: Diagnosis['captureEffect'] = null;
  if (opts.checkCaptureEffect ?? true) {
    const plain = await adapter.run(input, { training });
    if (sameShape(plain.output.shape, run.output.shape)) {
      const c = compareArrays(run.output.data, plain.output.data, { atol: 0, rtol: 0 });
      captureEffect = { maxAbs: jsonMetric(c.maxAbs), identical: c.maxAbs === 0 && c.nanActual === c.nanExpected };
      if (!captureEffect.identical) {
        issues.push(
          `capturing changes the adapter's final output (max |Δ| ${c.maxAbs}): the per-layer view is of the captured run`,
        );
      }
    } else {
      issues.push(
        `output shape differs with and without capture: [${run.output.shape.join(',')}] vs [${plain.output.shape.join(',')}]`,
      );
    }
  }
  const captured = run.intermediates;
  const missing = names.filter((n) => !(n in captured));
  const missingNonLogits = missing.filter((n) => !n.endsWith(LOGITS_SUFFIX));
  if (missingNonLogits.length)
    issues.push(
      `adapter did not return ${missingNonLogits.length} requested capture(s): ${missingNonLogits.slice(0, 8).join(', ')}${missingNonLogits.length > 8 ? ', ...' : ''}`,
    );
  const logitsMissing = missing.filter((n) => n.endsWith(LOGITS_SUFFIX));
  if (logitsMissing.length && !issues.some((i) => i.includes(LOGITS_SUFFIX))) {
    issues.push(`adapter did not return ${logitsMissing.join(', ')}; Dense analysed as a whole`);
  }
  const adapterMs = now() - tA;

  // 2. chained references
  const tR = now();
  const refNames = names;
  const ref64 = new ReferenceAdapter({ precision: 'fp64' });
  await ref64.build(spec, weights);
  const r64 = (await ref64.run(input, { training, capture: refNames })).intermediates;
  await ref64.dispose();
  let r32: Record<string, Tensor> | null = null;
  if (opts.fp32Envelope ?? true) {
    const ref32 = new ReferenceAdapter({ precision: 'fp32' });
    await ref32.build(spec, weights);
    r32 = (await ref32.run(input, { training, capture: refNames })).intermediates;
    await ref32.dispose();
  }
  const refMs = now() - tR;

  // 3. per-layer local analysis
  const tL = now();
  const evaluator = new LayerEvaluator(spec, weights);
  const roles = layerRoles(spec);
  const singleBlock = spec.model !== 'resnet50';
  const ulpFactor = profileUlpFactor(profile);
  const n = input.shape[0];
  const inputs = new Map<string, LayerInput>();
  const inputOf = (name: string): LayerInput | undefined => {
    const hit = inputs.get(name);
    if (hit) return hit;
    const t = name === spec.input ? input : captured[name];
    if (!t) return undefined;
    const li = toInput(t);
    inputs.set(name, li);
    return li;
  };
  const wanted = new Set(opts.arithmetics ?? DEFAULT_ARITHMETICS);
  wanted.delete('fp64');
  const out: LayerRow[] = [];
  for (const row of rows) {
    const l = row.layer;
    const role = roles.get(l.name) ?? { block: '', role: l.className, inResidualBlock: false };
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
      if (row.part === 'logits') continue; // Dense is then analysed whole in its output row
      out.push(notAnalysed('not captured by the adapter'));
      continue;
    }
    if (!sameShape(a.shape, expectedShape)) {
      out.push(
        notAnalysed(`captured shape [${a.shape.join(',')}] differs from the spec's [${expectedShape.join(',')}]`),
      );
      continue;
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
    const ins = inNames.map(inputOf);
    const missingIn = inNames.filter((_, i) => !ins[i]);
    if (missingIn.length) {
      out.push({ ...notAnalysed(`input ${missingIn.join(', ')} not captured`), cumulative: cum, fp32Envelope: env });
      continue;
    }
    const layerIns = ins as LayerInput[];
    const isLinear =
      l.className === 'Conv2D' || (l.className === 'Dense' && (row.part === 'logits' || l.activation === 'linear'));
    const inputFloat32 = layerIns.every((x) => isFloat32Exact(x.data));
    const actual = a.data;
    const float64Storage = !isFloat32Exact(actual);

    // Hypotheses, all on the adapter's inputs.
    const hyp = new Map<Arithmetic, Float64Array>();
    let exact: Float64Array;
    const evalAs = (ar: Arithmetic): Float64Array => {
      if (isLinear) return evaluator.linear(l as Parameters<LayerEvaluator['linear']>[0], layerIns[0], ar);
      if (softmaxStep) return evaluator.softmax(l as Parameters<LayerEvaluator['softmax']>[0], layerIns[0], ar);
      return evaluator.evaluate(l, layerIns, training, ar);
    };
    const { kind, ctx } = budgetOf(row, layerIns[0].shape, training, softmaxStep || !hasLogitsStep(l));
    const isExactKind = kind === 'exact';
    if (isLinear) {
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
      const matmulOperands = l.className === 'Dense' && !softmaxStep;
      for (const ar of ['tf32', 'bf16', 'fp16'] as const) {
        if (!wanted.has(ar) || isExactKind) continue;
        if ((ar === 'tf32' || ar === 'bf16') && !matmulOperands) continue; // identical to fp32 outside matmuls
        hyp.set(ar, evalAs(ar));
      }
    }
    if (float64Storage) hyp.set('fp64', exact);

    // Budget: |actual − exact| ≤ ulps_i · ULP(S_i).
    const scale = evaluator.scale(l, layerIns, training, exact, softmaxStep ? 'output' : row.part);
    const unit = new Float64Array(scale.length);
    for (let i = 0; i < scale.length; i++) unit[i] = ulp32(scale[i]);
    const ulps = layerBudgetUlps(kind, ctx, profile);
    // Dense analysed whole (logits not captured): the matmul's error moves each probability by ≤ 2·max|Δz|·y.
    let logitsSlack: Float64Array | null = null;
    if (kind === 'softmax' && !softmaxStep) {
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
      zData = softmaxStep
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
              index: unravelIndex(worstI, a.shape),
              actual: jsonVal(actual[worstI]),
              exact: jsonVal(exact[worstI]),
              scale: scale[worstI],
              ulps: json(worstUlps),
            }
          : null,
    };

    let precision: PrecisionVerdict;
    if (isExactKind) {
      precision = {
        status: outside === 0 ? 'exact' : 'unexplained',
        best: null,
        runnerUp: null,
        gapUlp: null,
        distances: [],
      };
    } else {
      precision = classifyLayer(actual, hyp, unit, float64Storage);
    }
    out.push({ ...base, cumulative: cum, fp32Envelope: env, local, precision });
  }
  const localMs = now() - tL;

  const bad = out.filter((r) => r.local && !r.local.withinBudget);
  const first = bad[0];
  const unexplained = out
    .filter((r) => r.precision.status === 'unexplained' && r.local?.withinBudget)
    .map((r) => r.name);
  const notAnalysedRows = out.filter((r) => r.precision.status === 'not-analysed').map((r) => r.name);
  const precision = summarizePrecision(out, singleBlock);
  const where = (r: LayerRow): string =>
    `${r.name} (${r.className}, ${roleText({ block: r.block, role: r.role, inResidualBlock: false }, singleBlock)})`;
  const verdictParts: string[] = [];
  if (first) {
    verdictParts.push(
      `first layer out of budget: ${where(first)}: error ${fmtNum(first.local!.errorUlp)} ULP(S) > budget ${fmtNum(first.local!.budgetUlp)} ULP(S)` +
        ` (max |Δ| ${fmtNum(first.local!.maxAbs)}, ${first.local!.outside} element(s) outside)${bad.length > 1 ? `; ${bad.length - 1} more layer(s) out of budget after it` : ''}`,
    );
  } else if (notAnalysedRows.length === out.length) {
    verdictParts.push('no layer could be analysed');
  } else {
    verdictParts.push(`every analysed layer within its budget (${out.length - notAnalysedRows.length}/${out.length})`);
    if (unexplained.length)
      verdictParts.push(
        `suspect (inside the budget but matching no arithmetic): ${unexplained.slice(0, 5).join(', ')}${unexplained.length > 5 ? ', ...' : ''}`,
      );
  }
  verdictParts.push(`arithmetic: ${precision.text}`);
  if (issues.length) verdictParts.push(`capture: ${issues.join('; ')}`);

  return {
    schema: DIAGNOSIS_SCHEMA,
    version: DIAGNOSIS_VERSION,
    adapter: adapter.id,
    profile,
    model: spec.model,
    modelArgs: spec.args,
    training,
    input: { shape: [...input.shape], source: opts.inputSource ?? 'given' },
    arithmetics: [
      ...(out.some((r) => r.precision.distances.some((d) => d.arithmetic === 'fp64')) ? ['fp64' as const] : []),
      ...DEFAULT_ARITHMETICS.filter((x) => wanted.has(x)),
    ],
    rows: out,
    firstDiverging: first
      ? {
          name: first.name,
          className: first.className,
          role: first.role,
          block: first.block,
          errorUlp: first.local!.errorUlp,
          budgetUlp: first.local!.budgetUlp,
          ratio: first.local!.ratio,
        }
      : null,
    outOfBudget: bad.map((r) => r.name),
    unexplained,
    notAnalysed: notAnalysedRows,
    precision,
    captureIssues: issues,
    captureEffect,
    verdict: verdictParts.join('. '),
    timingsMs: {
      adapterRun: M.round(adapterMs),
      reference: M.round(refMs),
      local: M.round(localMs),
      total: M.round(now() - t0),
    },
  };
}

/** Compact number for verdicts and tables: 3 significant digits, null as 'inf'. */
export function fmtNum(x: JsonNumber | undefined): string {
  if (x === null || x === undefined) return 'inf';
  if (x === 0) return '0';
  const a = M.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(2);
  if (N.isInteger(x)) return String(x);
  return Number(x.toPrecision(3)).toString();
}
