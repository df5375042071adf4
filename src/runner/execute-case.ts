/**
 * executeCase: the single place that turns (adapter, fixture case) into a report CaseResult —
 * status with reason, metrics of every comparison, the tolerance applied with its reason, timings.
 *
 * The comparison itself is src/golden/run-case.ts (runFixtureCase: output, resume, intermediates,
 * named checks); this adds model building (one build per model arguments, reused by the following
 * cases of the same model; initial weights from the on-disk weight cache, ./weight-cache), timing
 * of each phase (fixture loading, weight init, build, run, compare), the tolerance lookup, the
 * parameter-count check against the manifest's Keras summary, exception handling and the status
 * rules:
 *   error        tolerance/fixture problem, build or run threw, a requested capture is missing, or
 *                paramCount() threw (nothing to compare with Keras's count)
 *   crashed / timeout  an external program adapter (src/adapters/external) or a browser page
 *                (src/adapters/browser) crashed, lost its GPU device or did not answer during the build or
 *                the run (adapterFaultStatus); it is restarted for the next case
 *   fail-shape   a compared tensor has the wrong shape (an external program's wrong output shape
 *                included), or the parameter count differs from Keras
 *   fail-numeric a comparison outside tolerance (NaN/Inf included) or a named check failed
 *   unexpected-match  the tensors under an expected-divergence row all matched its tight bound
 *   unexplained  an imported check no configuration reproduces (the case's `unexplained`): what the
 *                comparisons gave (pass, fail-numeric, a divergence) is measured and reported, never a pass
 *   expected-divergence  tensors under an expected-divergence row diverged as it says, the rest passed
 *   pass         otherwise
 *   not-applicable  an inference-only adapter (AdapterEntry.inferenceOnly) and a training-mode case:
 *                returned before anything is loaded, built or run
 * (error > fail-shape > fail-numeric > unexpected-match > expected-divergence when several apply.)
 */
import { adapterFaultStatus } from '../adapters/faults';
import { growthSince, harnessPrepOf, runtimeSetupOf } from '../adapters/setup-clock';
import { ObservedAdapter } from '../adapters/observed-adapter';
import { notApplicableBecause } from '../adapters/inference-only';
import type { Adapter, AdapterEntry, RunOptions, RunResult } from '../adapters/types';
import { metricRank } from '../compare/metrics';
import { caseTensorRefs, findSummary, loadCaseTensors, type LoadedCaseTensors } from '../golden/load';
import type { FixtureCase, FixtureManifest } from '../golden/manifest';
import {
  caseRows,
  divergenceText,
  formatMetrics,
  runFixtureCase,
  type CaseRows,
  type CaseRun,
  type TensorComparison,
} from '../golden/run-case';
import { builtKeyOf } from '../golden/by-model';
import { buildModel } from '../model/model-args';
import type { ModelSpec, ParamCount } from '../model/types';
import type { Tensor } from '../tensor';
import {
  blankResult,
  CASE_STATUSES,
  checkMetricsOf,
  statusInfo,
  type AppliedTolerance,
  type CaseResult,
  type CaseStatus,
  type CheckResult,
} from '../report/schema';
import { divergenceReason, passReason } from './summary';
import { formatNumber } from '../util/format';
import { cachedInitModelWeights } from '../init/weight-cache';
import { StatefulRandomSession } from '../init/stateful-philox';
import { statefulModelWeights } from '../init/stateful-weights';
import { perturbModelWeights } from '../init/perturb';
import type { ModelWeights } from '../model/types';

/**
 * The initial weights of case `k`: Keras 3's (weight cache), or the stateful stream its weights
 * record names (an imported notebook revision's, src/golden/manifest.ts CaseWeights), with the
 * perturbed-parameters set applied when the record names one.
 */
export function caseInitialWeights(k: FixtureCase, spec: ModelSpec): ModelWeights {
  const w = k.weights;
  const initial =
    w?.rng === 'stateful'
      ? statefulModelWeights(spec, StatefulRandomSession.at(w.globalSeed!, w.streamPosition ?? []))
      : cachedInitModelWeights(spec).weights;
  // The perturbed-parameters set replaces every bias and BatchNorm parameter (src/init/perturb.ts);
  // its digest must be the generator's, or the golden values were made with other weights.
  return w?.perturb ? perturbModelWeights(initial, w.perturb, w.perturb.sha256).weights : initial;
}

export interface EvaluationContext {
  /** Folder holding manifest.json and the .npy files. */
  fixturesDir: string;
  manifest: FixtureManifest;
  /** The model currently built in the adapter (managed by executeCase; start with undefined). */
  built?: { key: string; spec: ModelSpec; paramCount: ParamCount | Error; runs: RunMemo[] };
  /**
   * A case asking for what an earlier case of the same built model ran (RunMemo) is judged on that
   * run. Only where adapter.run is a function of the built model, the input and the run options: the
   * runner's workers set it; not the pack judge, whose RecordedAdapter reads the selected case's files.
   */
  reuseRuns?: boolean;
  /**
   * The case tensors of this process (a worker running several adapters of a process group): read
   * and checked once, each adapter given its own copy. Absent: every case reads its files.
   */
  caseTensors?: CaseTensorCache;
}

function copyTensor(t: Tensor): Tensor {
  return { shape: [...t.shape], data: t.data.slice() };
}

/**
 * A case's tensors loaded once (read, sha256 against the manifest, parsed) for the adapters that
 * run one after the other in one worker. Each load hands out fresh copies, so an adapter that
 * writes into its input cannot change what a later adapter gets. Keyed by the fixture folder, the
 * case and the digests of its files: another manifest's version of the case is read anew.
 */
export class CaseTensorCache {
  private readonly loaded = new Map<string, LoadedCaseTensors>();

  load(dir: string, k: FixtureCase): LoadedCaseTensors {
    const key = JSON.stringify([dir, k.id, caseTensorRefs(k).map((r) => [r.role, r.ref.file, r.ref.sha256])]);
    let t = this.loaded.get(key);
    if (!t) {
      t = loadCaseTensors(dir, k);
      this.loaded.set(key, t);
    }
    const out: LoadedCaseTensors = { input: copyTensor(t.input), intermediates: {} };
    if (t.output) out.output = copyTensor(t.output);
    if (t.resume) out.resume = copyTensor(t.resume);
    if (t.view) out.view = copyTensor(t.view);
    for (const [name, x] of Object.entries(t.intermediates)) out.intermediates[name] = copyTensor(x);
    return out;
  }
}

function now(): number {
  return performance.now();
}

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}`;
  return String(err);
}

/**
 * Times adapter.run while runFixtureCase drives it; keeps the shape of the last output returned, and
 * adds up the compute time an external program reports for each run (`computeMs` of the protocol,
 * CommandAdapter.lastComputeMs): undefined unless every run reported one.
 */
function timedAdapter(inner: Adapter): ObservedAdapter & {
  runMs: number;
  outputShape: number[] | undefined;
  programComputeMs: number | undefined;
  runSetupMs: number | undefined;
  runPrepMs: number | undefined;
} {
  let runs = 0;
  let reported = 0;
  let sum = 0;
  const timed = Object.assign(
    new ObservedAdapter(inner, async (call) => {
      const t = now();
      const setupGrowth = growthSince(() => runtimeSetupOf(inner));
      const prepGrowth = growthSince(() => harnessPrepOf(inner));
      try {
        const r = await call();
        timed.outputShape = r?.output?.shape ? [...r.output.shape] : undefined;
        return r;
      } finally {
        timed.runMs += now() - t;
        const s = setupGrowth();
        if (s !== undefined) timed.runSetupMs = (timed.runSetupMs ?? 0) + s;
        const p = prepGrowth();
        if (p !== undefined) timed.runPrepMs = (timed.runPrepMs ?? 0) + p;
        runs++;
        const c = (inner as { lastComputeMs?: unknown }).lastComputeMs;
        if (typeof c === 'number' && Number.isFinite(c) && c >= 0) {
          reported++;
          sum += c;
        }
        timed.programComputeMs = reported === runs ? sum : undefined;
      }
    }),
    {
      runMs: 0,
      outputShape: undefined as number[] | undefined,
      programComputeMs: undefined as number | undefined,
      runSetupMs: undefined as number | undefined,
      runPrepMs: undefined as number | undefined,
    },
  );
  return timed;
}

/** Maps capture names (layer names) and the output layer to their block-boundary labels. */
function boundaryLabels(spec: ModelSpec): Map<string, string> {
  return new Map(spec.boundaries.map((b) => [b.layer, b.label]));
}

function tensorCheck(comparison: TensorComparison, labels: Map<string, string>, spec: ModelSpec): CheckResult {
  const { tensor: name, result: r, missing, verdict } = comparison;
  let kind: CheckResult['kind'] = 'other';
  let layer: string | undefined;
  if (name === 'output') {
    kind = 'output';
    layer = spec.output;
  } else if (name.startsWith('intermediates/')) {
    kind = 'boundary';
    layer = name.slice('intermediates/'.length);
  }
  const label = layer !== undefined ? (labels.get(layer) ?? (kind === 'boundary' ? layer : undefined)) : undefined;
  const base: CheckResult = { name, kind, pass: false, metrics: null };
  if (label !== undefined) base.label = label;
  if (layer !== undefined) base.layer = layer;
  if (!r) return { ...base, reason: missing ?? 'not compared' };
  const out: CheckResult = { ...base, pass: verdict === 'pass', metrics: checkMetricsOf(r) };
  if (r.shapeMismatch) {
    out.actualShape = r.shapeMismatch.actual;
    out.expectedShape = r.shapeMismatch.expected;
  }
  if (verdict === 'fail') out.reason = formatMetrics(r);
  else if (verdict !== 'pass') {
    out.outcome = verdict;
    out.reason = divergenceText(comparison);
  }
  return out;
}

/** What the comparisons of an unexplained case can give that becomes 'unexplained' (adapter faults stay). */
const UNEXPLAINED_OVERRIDES: readonly CaseStatus[] = CASE_STATUSES.filter((s) => statusInfo(s).becomesUnexplained);

/** Statuses a case's checks can give, weakest first (the strongest one found wins). */
const CHECK_STATUS_ORDER: readonly CaseStatus[] = CASE_STATUSES.filter(
  (s) => statusInfo(s).fromComparisons !== undefined,
).sort((a, b) => statusInfo(a).fromComparisons! - statusInfo(b).fromComparisons!);

function statusOf(checks: CheckResult[]): CaseStatus {
  let s: CaseStatus = 'pass';
  const atLeast = (x: CaseStatus) => {
    if (CHECK_STATUS_ORDER.indexOf(x) > CHECK_STATUS_ORDER.indexOf(s)) s = x;
  };
  for (const c of checks) {
    if (c.pass) continue;
    if (c.outcome) atLeast(c.outcome);
    // The notebook's resume needs an NHWC output: without one, the output's shape is the problem.
    else if (!c.metrics && (c.name === 'resume' || c.name === 'view')) atLeast('fail-shape');
    else if (!c.metrics && c.kind !== 'paramCount' && !c.name.startsWith('check:')) return 'error';
    // A parameter count that could not be obtained (paramCount() threw) measured nothing: an error, not a wrong count.
    else if (c.kind === 'paramCount' && c.actualValue === undefined) return 'error';
    else if (c.kind === 'paramCount' || c.expectedShape) atLeast('fail-shape');
    else atLeast('fail-numeric');
  }
  return s;
}

function result(
  adapter: string,
  k: FixtureCase,
  status: CaseStatus,
  reason: string,
  tolerance: AppliedTolerance | null,
): CaseResult {
  return blankResult(adapter, k.id, status, reason, tolerance);
}

export interface BuildOutcome {
  /** The model built for an earlier case had the same arguments: nothing was built. */
  reused: boolean;
  /** Spec, weights and adapter.build (0 when reused). */
  buildMs: number;
  /** Obtaining the initial weights (part of buildMs). */
  initMs: number;
  /** The runtime's own model/session creation inside adapter.build (part of buildMs; Adapter.runtimeSetupMs), when recorded. */
  setupMs?: number;
  /** What build threw (ctx.built is then undefined). */
  error?: unknown;
}

export { builtKeyOf, casesByModel } from '../golden/by-model';

/**
 * Makes the adapter hold the model of case `k` (built with the notebook's initial weights from the
 * weight cache, or the weights and BatchNorm epsilon its `weights` record names), reusing the one
 * already built when the model arguments and weights are the same.
 */
export async function ensureBuilt(adapter: Adapter, k: FixtureCase, ctx: EvaluationContext): Promise<BuildOutcome> {
  const key = builtKeyOf(k);
  if (ctx.built?.key === key) return { reused: true, buildMs: 0, initMs: 0 };
  ctx.built = undefined;
  let initMs = 0;
  const setupGrowth = growthSince(() => runtimeSetupOf(adapter));
  const setup = (): { setupMs?: number } => {
    const setupMs = setupGrowth();
    return setupMs === undefined ? {} : { setupMs };
  };
  const tb = now();
  try {
    const spec = buildModel(k.model, { bnEpsilon: k.weights?.bnEpsilon });
    const ti = now();
    const weights = caseInitialWeights(k, spec);
    initMs = now() - ti;
    await adapter.build(spec, weights);
    let paramCount: ParamCount | Error;
    try {
      paramCount = await adapter.paramCount();
    } catch (err) {
      paramCount = err instanceof Error ? err : new Error(String(err));
    }
    ctx.built = { key, spec, paramCount, runs: [] };
  } catch (err) {
    return { reused: false, buildMs: now() - tb, initMs, ...setup(), error: err };
  }
  return { reused: false, buildMs: now() - tb, initMs, ...setup() };
}

/**
 * One adapter.run per computation: a case that asks for what an earlier case of the same built model
 * already ran (same input bytes, same BatchNormalization mode, its captures among those returned then)
 * is given that run's tensors, e.g. resnet50-float64/batch1/training, which judges the run of
 * resnet50/batch1/training against the float64 values. Kept until the next build.
 */
interface RunMemo {
  key: string;
  caseId: string;
  captures: Set<string>;
  result: RunResult;
}

function runKey(k: FixtureCase): string {
  return JSON.stringify([k.input.sha256, k.input.dtype, k.input.shape, k.training]);
}

/** `inner` for case `k`: a run already made for an earlier case is reused (`reusedFrom` says which), a new one kept in `runs`. */
class MemoizedAdapter extends ObservedAdapter {
  reusedFrom: string | undefined;
  private readonly key: string;

  constructor(
    inner: Adapter,
    private readonly k: FixtureCase,
    private readonly runs: RunMemo[] | null,
  ) {
    super(inner, (call) => call());
    this.key = runKey(k);
  }

  override async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    const capture = opts.capture ?? [];
    const hit = this.runs?.find((m) => m.key === this.key && capture.every((c) => m.captures.has(c)));
    if (hit) {
      this.reusedFrom = hit.caseId;
      const intermediates: Record<string, Tensor> = {};
      for (const c of capture) if (hit.result.intermediates[c]) intermediates[c] = hit.result.intermediates[c];
      return { output: hit.result.output, intermediates };
    }
    const result = await this.inner.run(input, opts);
    this.runs?.push({ key: this.key, caseId: this.k.id, captures: new Set(capture), result });
    return result;
  }
}

/** The result of a case whose run (or the evaluation of its output) threw. */
function runFailure(
  id: string,
  k: FixtureCase,
  err: unknown,
  expectedShape: readonly number[] | undefined,
  gotShape: number[] | undefined,
  tolerance: AppliedTolerance,
): CaseResult {
  const fault = adapterFaultStatus(err);
  if (fault)
    return result(
      id,
      k,
      fault,
      `${fault === 'fail-shape' ? 'wrong output shape' : 'run failed'}: ${errorText(err)}`,
      tolerance,
    );
  if (gotShape && expectedShape && gotShape.join(',') !== expectedShape.join(','))
    return result(
      id,
      k,
      'fail-shape',
      `output shape [${gotShape.join(',')}], expected [${expectedShape.join(',')}] (evaluating it failed: ${errorText(err)})`,
      tolerance,
    );
  return result(
    id,
    k,
    'error',
    `${gotShape ? 'evaluating the output failed' : 'run failed'}: ${errorText(err)}`,
    tolerance,
  );
}

/** The parameter count against the manifest's Keras summary of the model (null: no summary to compare with). */
function paramCountCheck(pc: ParamCount | Error, summary: ParamCount | undefined): CheckResult | null {
  if (!summary) return null;
  if (pc instanceof Error) {
    return {
      name: 'paramCount',
      kind: 'paramCount',
      pass: false,
      metrics: null,
      expectedValue: summary,
      reason: `paramCount() threw: ${errorText(pc)}`,
    };
  }
  const same =
    pc.total === summary.total && pc.trainable === summary.trainable && pc.nonTrainable === summary.nonTrainable;
  return {
    name: 'paramCount',
    kind: 'paramCount',
    pass: same,
    metrics: null,
    actualValue: { total: pc.total, trainable: pc.trainable, nonTrainable: pc.nonTrainable },
    expectedValue: summary,
    ...(same
      ? {}
      : {
          reason: `parameter count ${pc.total} (trainable ${pc.trainable}, non-trainable ${pc.nonTrainable}) but Keras reports ${summary.total} (${summary.trainable}, ${summary.nonTrainable})`,
        }),
  };
}

/** Every check of a case that ran: its tensor comparisons, named checks and the parameter count. */
function caseChecks(
  run: CaseRun,
  built: NonNullable<EvaluationContext['built']>,
  ctx: EvaluationContext,
  k: FixtureCase,
) {
  const labels = boundaryLabels(built.spec);
  const checks: CheckResult[] = run.comparisons.map((c) => ({
    ...tensorCheck(c, labels, built.spec),
    tolerance: c.tolerance,
  }));
  for (const c of run.checks) {
    checks.push({
      name: `check:${c.name}`,
      kind: 'other',
      pass: c.result.pass,
      metrics: null,
      ...(c.result.pass ? {} : { reason: c.result.detail }),
      actualValue: c.result.detail,
    });
  }
  const pc = paramCountCheck(built.paramCount, findSummary(ctx.manifest, k.model)?.totals);
  if (pc) checks.push(pc);
  return checks;
}

/** The status of a case from its checks, and the one-line reason (measured error for passes too). */
function verdictOf(k: FixtureCase, checks: CheckResult[]): { status: CaseStatus; reason: string } {
  const compared = statusOf(checks);
  const status: CaseStatus = k.unexplained && UNEXPLAINED_OVERRIDES.includes(compared) ? 'unexplained' : compared;
  if (status === 'pass' || status === 'expected-divergence') {
    let maxAbs = 0;
    let maxUlp = 0;
    for (const c of checks) {
      if (!c.metrics || c.outcome) continue;
      maxAbs = Math.max(maxAbs, metricRank(c.metrics.maxAbs));
      maxUlp = Math.max(maxUlp, metricRank(c.metrics.maxUlp));
    }
    const passing = checks.filter((c) => !c.outcome).length;
    const measured = checks.filter((c) => !c.outcome && c.metrics).length;
    const reason =
      status === 'pass'
        ? passReason(maxAbs, maxUlp, passing)
        : divergenceReason(checks, maxAbs, maxUlp, passing, measured);
    return { status, reason };
  }
  if (status === 'unexplained') {
    // the measured error all the same (the comparison's own status said in words)
    const measured = checks
      .filter((c) => c.metrics)
      .map(
        (c) =>
          `${c.name}: max abs error ${formatNumber(c.metrics!.maxAbs)}, ${c.metrics!.mismatches}/${c.metrics!.n} outside the tolerance`,
      );
    return {
      status,
      reason: `unexplained: ${k.unexplained!.reason}; compared here: ${compared === 'pass' ? 'within the tolerance (this adapter reproduces what explain did not: look at it)' : compared}${measured.length ? `; ${measured.join('; ')}` : ''}`,
    };
  }
  const failing = checks.filter((c) => !c.pass);
  const reason =
    failing
      .map((c) => `${c.name}: ${c.reason ?? 'failed'}`)
      .slice(0, 3)
      .join('; ') + (failing.length > 3 ? `; and ${failing.length - 3} more` : '');
  return { status, reason };
}

/** Evaluates one fixture case on one adapter (the adapter must have passed its probe). */
export async function executeCase(
  adapter: Adapter,
  entry: AdapterEntry,
  k: FixtureCase,
  ctx: EvaluationContext,
): Promise<CaseResult> {
  const t0 = now();
  const na = notApplicableBecause(entry, k);
  if (na) return result(entry.id, k, 'not-applicable', na, null);
  let rows: CaseRows;
  try {
    rows = caseRows(k, { adapter: entry.id, profile: entry.profile });
  } catch (err) {
    return result(entry.id, k, 'error', errorText(err), null);
  }
  const tolerance: AppliedTolerance = rows.own;

  let tensors;
  const tf = now();
  try {
    tensors = ctx.caseTensors ? ctx.caseTensors.load(ctx.fixturesDir, k) : loadCaseTensors(ctx.fixturesDir, k);
  } catch (err) {
    return result(entry.id, k, 'error', `fixture: ${errorText(err)}`, tolerance);
  }
  const fixtureMs = now() - tf;

  const b = await ensureBuilt(adapter, k, ctx);
  const { buildMs, initMs, reused } = b;
  const setupMs = b.setupMs !== undefined ? { setupMs: b.setupMs } : {};
  if ('error' in b) {
    const r = result(
      entry.id,
      k,
      adapterFaultStatus(b.error) ?? 'error',
      `build failed: ${errorText(b.error)}`,
      tolerance,
    );
    r.timings = { buildMs, runMs: 0, compareMs: 0, totalMs: now() - t0, initMs, fixtureMs, ...setupMs };
    return r;
  }
  const built = ctx.built!;

  // Timed inside the memo: a reused run calls nothing and takes 0 ms.
  const timed = timedAdapter(adapter);
  const memo = new MemoizedAdapter(timed, k, ctx.reuseRuns ? built.runs : null);
  /** The timings of a case that got as far as its run. */
  const caseTimings = (compareMs: number) => ({
    buildMs,
    runMs: timed.runMs,
    compareMs,
    totalMs: now() - t0,
    initMs,
    fixtureMs,
    ...setupMs,
    ...(timed.runSetupMs !== undefined ? { runSetupMs: timed.runSetupMs } : {}),
    ...(timed.runPrepMs !== undefined ? { runPrepMs: timed.runPrepMs } : {}),
  });
  const tr = now();
  let run;
  try {
    run = await runFixtureCase(memo, k, tensors, rows.rowFor);
  } catch (err) {
    const r = runFailure(entry.id, k, err, tensors.output?.shape, timed.outputShape, tolerance);
    r.timings = caseTimings(0);
    r.modelReused = reused;
    if (memo.reusedFrom !== undefined) r.runReusedFrom = memo.reusedFrom;
    return r;
  }
  const runMs = timed.runMs;
  const compareMs = now() - tr - runMs;
  const checks = caseChecks(run, built, ctx, k);
  const { status, reason } = verdictOf(k, checks);
  const headline = checks.find((c) => c.kind === 'output' && c.metrics) ?? checks.find((c) => c.metrics);
  return {
    adapter: entry.id,
    case: k.id,
    status,
    reason,
    tolerance,
    metrics: headline?.metrics ?? null,
    checks,
    timings: {
      ...caseTimings(compareMs),
      ...(timed.programComputeMs !== undefined ? { programComputeMs: timed.programComputeMs } : {}),
    },
    modelReused: reused,
    ...(memo.reusedFrom !== undefined ? { runReusedFrom: memo.reusedFrom } : {}),
    regression: null,
    part: 0,
  };
}
