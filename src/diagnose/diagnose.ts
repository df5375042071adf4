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
import { profileUlpFactor } from '../compare/layer-budgets';
import { compareArrays, type JsonNumber } from '../compare/metrics';
import { LOGITS_SUFFIX } from '../model/builders';
import type { ModelSpec, ModelWeights } from '../model/types';
import type { Tensor } from '../tensor';
import type { Arithmetic } from './formats';
import {
  DEFAULT_ARITHMETICS,
  analyseLayer,
  diagnosisRows,
  jsonMetric,
  sameShape,
  toInput,
  type LayerAnalysisContext,
} from './layer-analysis';
import { LayerEvaluator, type LayerInput } from './layer-eval';
import { summarizePrecision } from './precision';
import { layerRoles, roleText } from './roles';
import { DIAGNOSIS_SCHEMA, DIAGNOSIS_VERSION, type Diagnosis, type LayerRow, type PrecisionSummary } from './types';

export { DEFAULT_ARITHMETICS, diagnosisRows } from './layer-analysis';

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

/** Capture names the diagnosis asks for: every row. */
export function captureNamesFor(spec: ModelSpec): string[] {
  return diagnosisRows(spec).map((r) => r.name);
}

function now(): number {
  return performance.now();
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

/**
 * Step 1: the adapter runs once capturing every row, and (checkCaptureEffect) once more without
 * capture to see whether capturing changed its result (it may disable fusions). What it could not
 * capture, or what capturing changed, is added to `issues`.
 */
async function runAdapterCaptured(
  adapter: Adapter,
  input: Tensor,
  training: boolean,
  names: string[],
  checkCaptureEffect: boolean,
  issues: string[],
): Promise<{ captured: Record<string, Tensor>; captureEffect: Diagnosis['captureEffect'] }> {
  const run = await captureAll(adapter, input, training, names, issues);
  let captureEffect: Diagnosis['captureEffect'] = null;
  if (checkCaptureEffect) {
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
  return { captured, captureEffect };
}

/** Step 2: the reference chained in fp64 (the oracle) and, when asked, fp32 (the ideal fp32 curve). */
async function chainedReferences(
  spec: ModelSpec,
  weights: ModelWeights,
  input: Tensor,
  training: boolean,
  names: string[],
  fp32Envelope: boolean,
): Promise<{ r64: Record<string, Tensor>; r32: Record<string, Tensor> | null }> {
  const ref64 = new ReferenceAdapter({ precision: 'fp64' });
  await ref64.build(spec, weights);
  const r64 = (await ref64.run(input, { training, capture: names })).intermediates;
  await ref64.dispose();
  let r32: Record<string, Tensor> | null = null;
  if (fp32Envelope) {
    const ref32 = new ReferenceAdapter({ precision: 'fp32' });
    await ref32.build(spec, weights);
    r32 = (await ref32.run(input, { training, capture: names })).intermediates;
    await ref32.dispose();
  }
  return { r64, r32 };
}

/** The verdict in words: the first layer out of budget (or that every analysed one is within), the arithmetic, capture issues. */
function verdictText(
  out: LayerRow[],
  bad: LayerRow[],
  unexplained: string[],
  notAnalysedRows: string[],
  precision: PrecisionSummary,
  issues: string[],
  singleBlock: boolean,
): string {
  const first = bad[0];
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
  return verdictParts.join('. ');
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
  const { captured, captureEffect } = await runAdapterCaptured(
    adapter,
    input,
    training,
    names,
    opts.checkCaptureEffect ?? true,
    issues,
  );
  const adapterMs = now() - tA;

  // 2. chained references
  const tR = now();
  const { r64, r32 } = await chainedReferences(spec, weights, input, training, names, opts.fp32Envelope ?? true);
  const refMs = now() - tR;

  // 3. per-layer local analysis
  const tL = now();
  const singleBlock = spec.model !== 'resnet50';
  const inputs = new Map<string, LayerInput>();
  const wanted = new Set(opts.arithmetics ?? DEFAULT_ARITHMETICS);
  wanted.delete('fp64');
  const ctx: LayerAnalysisContext = {
    spec,
    training,
    profile,
    wanted,
    evaluator: new LayerEvaluator(spec, weights),
    roles: layerRoles(spec),
    ulpFactor: profileUlpFactor(profile),
    n: input.shape[0],
    captured,
    r64,
    r32,
    inputOf(name: string): LayerInput | undefined {
      const hit = inputs.get(name);
      if (hit) return hit;
      const t = name === spec.input ? input : captured[name];
      if (!t) return undefined;
      const li = toInput(t);
      inputs.set(name, li);
      return li;
    },
  };
  const out: LayerRow[] = [];
  for (const row of rows) {
    const analysed = analyseLayer(ctx, row);
    if (analysed) out.push(analysed);
  }
  const localMs = now() - tL;

  const bad = out.filter((r) => r.local && !r.local.withinBudget);
  const first = bad[0];
  const unexplained = out
    .filter((r) => r.precision.status === 'unexplained' && r.local?.withinBudget)
    .map((r) => r.name);
  const notAnalysedRows = out.filter((r) => r.precision.status === 'not-analysed').map((r) => r.name);
  const precision = summarizePrecision(out, singleBlock);

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
    verdict: verdictText(out, bad, unexplained, notAnalysedRows, precision, issues, singleBlock),
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
