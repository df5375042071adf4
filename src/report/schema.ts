/**
 * The canonical conformance report: one JSON document every other format (JUnit, Markdown, HTML)
 * is rendered from. Documented field by field in docs/report-schema.md; bump REPORT_SCHEMA_VERSION
 * on any change a reader could notice (renamed/removed field, changed meaning).
 *
 * Determinism: two runs on the same machine produce identical reports except in the fields listed
 * in VOLATILE_KEYS (times, dates, the run id derived from the date).
 */
import type { CompareResult, FiniteMetrics, JsonNumber, MetricNumber, WorstElement } from '../compare/metrics';
import type { ResolvedTolerance } from '../compare/tolerances';
import type { KnownCrashReport } from '../adapters/known-crashes';
import type { AdapterDescription } from '../adapters/types';
import type { RunPhaseTimings } from './overhead';
import type { PerfSection } from './perf-section';
import type { Diagnosis } from '../diagnose/types';
import type { RunInfo } from '../environment/run-info';
import type { RuntimePackageState } from '../adapters/runtime-packages';

export type { RunInfo } from '../environment/run-info';
export type { RuntimePackageState } from '../adapters/runtime-packages';

/**
 * 2: tolerance objects name (caseClass, role, profile) and their kind, and lose maxUlp; statuses
 * 'expected-divergence' and 'unexpected-match'; checks[].outcome.
 * 3: a non-finite metric is the string 'NaN' or 'Infinity' (null: not measured), with metrics.finite
 * (the error over the finite elements); cases[].fixtureSha256; `partial` on a merge of an incomplete
 * or mixed set of parts. Versions 1 and 2 are still read (./read.ts upgrades them in memory; their
 * null metrics keep meaning "infinite or undefined").
 */
export const REPORT_SCHEMA_VERSION = 3;

// The statuses, how each counts and what it means: ./status-table.ts (the one status table).
export { CASE_STATUSES, FAILING_STATUSES, STATUS_TABLE, statusInfo, statusRank, type CaseStatus } from './status-table';
import { CASE_STATUSES, type CaseStatus } from './status-table';

/**
 * The tolerance-table row a comparison was judged by (case class x tensor role x profile), and why.
 * kind 'tolerance': pass when |actual - expected| <= atol + rtol*|expected| everywhere. kind
 * 'expected-divergence': atol/rtol are the tight bound the tensors under the row must not all meet
 * (tightBoundFrom: where it comes from) and reason is the divergence's.
 */
export type AppliedTolerance = ResolvedTolerance;

/** Human name of a status (the summary lines; the JSON keeps the id). */
export function statusLabel(s: CaseStatus): string {
  return s === 'expected-divergence'
    ? 'expected divergence'
    : s === 'unexpected-match'
      ? 'unexpected match'
      : s === 'not-applicable'
        ? 'not applicable'
        : s;
}

/**
 * The not-applicable results grouped by adapter and reason, for the renderers' one line per group
 * ("litertjs-wasm: 12 cases not applicable — inference-only runtime ...").
 */
export function notApplicableGroups(
  results: readonly CaseResult[],
): Array<{ adapter: string; reason: string; cases: number }> {
  const groups = new Map<string, { adapter: string; reason: string; cases: number }>();
  for (const r of results) {
    if (r.status !== 'not-applicable') continue;
    const k = `${r.adapter}\u0000${r.reason}`;
    const g = groups.get(k) ?? { adapter: r.adapter, reason: r.reason, cases: 0 };
    g.cases++;
    groups.set(k, g);
  }
  return [...groups.values()];
}

/** "150 pass, 4 expected divergence" for the non-zero counts, in CASE_STATUSES order. */
export function countsText(counts: Record<CaseStatus, number>): string {
  return CASE_STATUSES.filter((st) => counts[st] > 0)
    .map((st) => `${counts[st]} ${statusLabel(st)}`)
    .join(', ');
}

/**
 * Metrics of one comparison (a subset of CompareResult, all JSON-safe): a non-finite error is 'NaN' or
 * 'Infinity'; null = not measured (and, in reports before schema 3, infinite or undefined).
 */
export interface CheckMetrics {
  n: number;
  mismatches: number;
  mismatchPct: number;
  maxAbs: MetricNumber;
  maxRel: MetricNumber;
  maxUlp: MetricNumber;
  /** The error over the elements where both values are finite: present only when some are not (schema 3). */
  finite?: FiniteMetrics;
  worst: WorstElement | null;
  nanActual: number;
  infMismatch: number;
  /**
   * The tolerance this comparison would have needed: the smallest atol that passes at the row's rtol
   * (compare/metrics.ts neededAtol; 'Infinity': no atol passes, NaN/Inf). Absent in older reports and
   * where shapes differ.
   */
  neededTolerance?: { atol: MetricNumber; rtol: number };
}

/**
 * One comparison inside a case: the final output, one intermediate activation (kind 'boundary',
 * with its block-boundary label), a parameter count or a shape.
 */
export interface CheckResult {
  /** Stable name: 'output', 'boundary:<label>', 'paramCount', ... */
  name: string;
  kind: 'output' | 'boundary' | 'paramCount' | 'shape' | 'other';
  /** Block-boundary label for kind 'boundary' (e.g. 'stage1', 'stage2.block1'). */
  label?: string;
  /** Layer whose output was compared (kind 'output' / 'boundary'). */
  layer?: string;
  pass: boolean;
  /** Element-wise metrics (value checks only). */
  metrics: CheckMetrics | null;
  /** Tolerance this comparison was judged by (a tensor may have its own row of the table, e.g. logits). */
  tolerance?: AppliedTolerance;
  /**
   * Under an expected-divergence row: 'expected-divergence' (pass false; diverged as the row says) or
   * 'unexpected-match' (pass false; every tensor under the row matched tightly). Absent otherwise.
   */
  outcome?: 'expected-divergence' | 'unexpected-match';
  actualShape?: number[];
  expectedShape?: number[];
  /** Non-tensor checks (parameter counts): the values compared. */
  actualValue?: unknown;
  expectedValue?: unknown;
  /** Why it failed, in one line (absent on pass). */
  reason?: string;
}

export interface CaseTimings {
  /** Model build (spec + weights + adapter.build). 0 when the model built for an earlier case was reused. */
  buildMs: number;
  runMs: number;
  compareMs: number;
  totalMs: number;
  /** Obtaining the initial weights (initModelWeights, or the worker's weight cache): part of buildMs. */
  initMs?: number;
  /** Loading the case's input and expected tensors in the worker (part of totalMs, not of buildMs). */
  fixtureMs?: number;
  /**
   * The runtime's own model/session creation inside the build (part of buildMs), for adapters that
   * record it (Adapter.runtimeSetupMs, src/adapters/setup-clock.ts).
   */
  setupMs?: number;
  /**
   * The runtime's own session creation inside this case's runs (part of runMs): sessions an adapter
   * creates on the first run of a BatchNormalization mode or capture set. Absent when not recorded.
   */
  runSetupMs?: number;
  /**
   * The adapter's own preparation inside this case's runs (part of runMs; Adapter.harnessPrepMs):
   * exporting and serializing the model for a session created on a first run. The harness's build
   * work, not inference. Absent when not recorded.
   */
  runPrepMs?: number;
  /**
   * The adapter's own compute time for the case's runs, as an external program reports it (the
   * protocol's optional `computeMs` per run, docs/adapter-protocol.md): part of runMs, the rest being
   * the protocol's cost. Absent when the adapter does not report one for every run.
   */
  programComputeMs?: number;
}

/** How a case compares with the same adapter × case in the baseline report. */
export interface RegressionInfo {
  kind: 'error-growth' | 'newly-failing';
  baselineStatus: CaseStatus;
  /** The check whose error grew most (error-growth). */
  check?: string;
  baselineMaxAbs?: JsonNumber;
  maxAbs?: JsonNumber;
  /** maxAbs / baselineMaxAbs; null when the baseline was exact (0) — growth from bit-exact. */
  growth?: number | null;
  factor: number;
}

export interface CaseResult {
  adapter: string;
  case: string;
  status: CaseStatus;
  /** One line; always present (for pass: a summary of the worst error). */
  reason: string;
  /** Tolerance of the case's own case class (individual checks may use another row: see checks[].tolerance). */
  tolerance: AppliedTolerance | null;
  /** Headline metrics: those of the 'output' check (null when nothing was compared). */
  metrics: CheckMetrics | null;
  checks: CheckResult[];
  timings: CaseTimings | null;
  /** Whether this case reused a model built for an earlier case in the same worker. */
  modelReused: boolean;
  /**
   * The case asked for a computation an earlier case of the same model and weights already ran (same
   * input, BatchNormalization mode, captures among those): that case's id; its output was judged
   * here, and timings.runMs is 0. Absent when the adapter ran for this case.
   */
  runReusedFrom?: string;
  /** Set when a baseline was given and this case regressed against it. */
  regression: RegressionInfo | null;
  /** Index into ConformanceReport.parts: which run (shard) produced the result. */
  part: number;
  /**
   * 'fail-numeric' and 'regressed' (error growth against --baseline) only: the per-layer diagnosis of the case on the adapter (first layer out of its
   * error budget, error along depth, arithmetic per layer; src/diagnose/types.ts, docs/diagnose.md).
   * Absent with `run --no-diagnose`, for other statuses, and in reports of earlier versions.
   */
  diagnosis?: Diagnosis;
  /** 'fail-numeric' and 'regressed' only: why there is no diagnosis (it threw, the worker died or the budget ran out). Never changes `status`. */
  diagnosisError?: string;
}

export interface CaseInfo {
  id: string;
  caseClass: string;
  /** Human description of the model and its arguments, e.g. "resnet50 64x64x3, 6 classes". */
  model: string;
  modelArgs: Record<string, unknown>;
  training: boolean;
  inputShape: number[] | null;
  /** Block-boundary labels with expected activations, in model order (the chart's x axis). */
  boundaries: string[];
  /** Where the expected values come from (notebook-published / keras-generated + provenance). */
  source: Record<string, unknown>;
  description?: string;
  /**
   * sha256 of the case's manifest entry as run (model, input, expected tensors with their digests,
   * checks, weights): equal digests = the same fixture. `compare` names the cases whose digest differs.
   * Absent in reports before schema 3.
   */
  fixtureSha256?: string;
}

export interface WorkerInfo {
  /** Worker processes started for this adapter (more than one after a crash: the rest of the cases run in a fresh worker). */
  processes: number;
  exits: Array<{ code: number | null; signal: string | null; reason: string }>;
  /** Last lines the worker wrote to stderr (only when it crashed or timed out). */
  stderrTail?: string;
}

export interface AdapterReport {
  id: string;
  summary: string;
  profile: string;
  outOfTheBox: boolean;
  /** Named in --adapters (an unavailable explicitly requested adapter fails the run). */
  explicitlyRequested: boolean;
  available: boolean;
  unavailableReason?: string;
  fix?: string;
  /** A known native crash of the runtime on this CPU (src/adapters/known-crashes.ts): its cases are 'crashed', not run. */
  knownCrash?: KnownCrashReport;
  /** adapter.describe(): runtime, version, device, precision and settings (null if it never answered). */
  description: AdapterDescription | null;
  /**
   * The npm packages its runtime needs: the exact version the tolerances were measured on
   * (package.json peerDependencies) and the one installed here (null: not installed). A difference
   * is named in every rendering (runtimeDriftLines). Absent for adapters that need none, and in
   * reports written before it was recorded.
   */
  runtimePackages?: RuntimePackageState[];
  worker: WorkerInfo | null;
  durationMs: number;
  /**
   * Of durationMs: adapter.probe() and describe() in its workers (loading the runtime, a smoke run, a
   * browser launch). Absent in reports written before it was recorded.
   */
  probeMs?: number;
  /**
   * Of durationMs: the exit of the workers it was the last adapter of (the worker's last message to
   * its exit: the kernel freeing the process's memory). Absent in reports written before it was recorded.
   */
  exitMs?: number;
  counts: Record<CaseStatus, number>;
  /** Parts (shards) this adapter ran in. */
  parts: number[];
}

export interface RunOptionsRecord {
  adapters: string[];
  adapterSelection: 'default' | 'all' | 'explicit';
  cases: string | null;
  shard: { index: number; count: number } | null;
  timeoutS: number;
  jobs: number;
  regressionFactor: number;
  baseline: string | null;
  /** Whether 'fail-numeric' cases were diagnosed (false with --no-diagnose; absent in reports of earlier versions). */
  diagnose?: boolean;
}

/** One run (a whole run, or one shard of it). A merged report has several parts. */
export interface PartInfo {
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  options: RunOptionsRecord;
  environment: RunInfo;
  /** Phases of the run's parent process (absent in reports written before they were recorded). */
  timings?: RunPhaseTimings;
  /**
   * How the adapter workers were started: 'precompiled' (an esbuild bundle of the worker, cached in
   * node_modules/.cache) or 'tsx' (with the reason); prepareMs = checking or building the bundle.
   * Absent in reports written before it was recorded.
   */
  workers?: { launch: 'precompiled' | 'tsx'; reason?: string; prepareMs: number };
}

export interface BaselineInfo {
  path: string;
  runId: string;
  factor: number;
  regressed: number;
  newlyFailing: number;
  improved: number;
  /** adapter/case pairs in this run but not in the baseline. */
  newPairs: number;
  /** adapter/case pairs in the baseline but not in this run. */
  missingPairs: number;
}

export interface ReportSummary {
  total: number;
  byStatus: Record<CaseStatus, number>;
  /** Unavailable results that fail the run (the adapter was named explicitly in --adapters). */
  requiredUnavailable: number;
  verdict: 'pass' | 'fail';
  exitCode: 0 | 1;
  /** One line per reason the verdict is 'fail'. */
  failures: string[];
}

/** Why a merged report is not one whole run (`merge --allow-partial`): a shard missing, mixed sets. */
export interface PartialInfo {
  reasons: string[];
}

export interface ConformanceReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  tool: { name: 'resnet-conformance'; version: string };
  runId: string;
  createdAt: string;
  fixtures: { manifest: string; sha256: string; caseCount: number };
  parts: PartInfo[];
  /** Every case selected by --cases (before sharding), in manifest order. */
  cases: CaseInfo[];
  adapters: AdapterReport[];
  /** Sorted by adapter (registry order), then case (manifest order). */
  results: CaseResult[];
  baseline: BaselineInfo | null;
  /**
   * Present only on a merge of an incomplete or mixed set of parts made with --allow-partial (schema 3):
   * the reasons. Such a report's verdict is 'fail'.
   */
  partial?: PartialInfo;
  summary: ReportSummary;
  /**
   * Performance: the run's own cost by phase, plus the digest of a bench result given with
   * `run --bench` (src/report/perf-section.ts). Absent in merged reports and in older reports.
   */
  perf?: PerfSection | null;
}

/**
 * Keys whose values legitimately differ between two otherwise identical runs (see docs/report-schema.md):
 * times, dates, the run id made from the date, crashed workers' raw stderr (may hold addresses, pids),
 * and the diagnoses' times (`diagnosis.timingsMs`).
 */
export const VOLATILE_KEYS: readonly string[] = [
  'runId',
  'createdAt',
  'startedAt',
  'finishedAt',
  'durationMs',
  'buildMs',
  'runMs',
  'compareMs',
  'totalMs',
  'stderrTail',
  'initMs',
  'fixtureMs',
  'startupMs',
  'fixturesMs',
  'weightsMs',
  'adaptersMs',
  'workerStartupMs',
  'probeMs',
  'exitMs',
  'reportMs',
  'perf',
  'timingsMs',
  'prepareMs',
  'programComputeMs',
  'setupMs',
  'runSetupMs',
  'runPrepMs',
];

/** A result with nothing measured (not run, unavailable, crashed, not applicable...): status and reason only. */
export function blankResult(
  adapter: string,
  caseId: string,
  status: CaseStatus,
  reason: string,
  tolerance: AppliedTolerance | null = null,
): CaseResult {
  return {
    adapter,
    case: caseId,
    status,
    reason,
    tolerance,
    metrics: null,
    checks: [],
    timings: null,
    modelReused: false,
    regression: null,
    part: 0,
  };
}

export function emptyCounts(): Record<CaseStatus, number> {
  const c = {} as Record<CaseStatus, number>;
  for (const s of CASE_STATUSES) c[s] = 0;
  return c;
}

export function checkMetricsOf(r: CompareResult): CheckMetrics {
  return {
    n: r.n,
    mismatches: r.mismatches,
    mismatchPct: r.mismatchPct,
    maxAbs: r.maxAbs,
    maxRel: r.maxRel,
    maxUlp: r.maxUlp,
    ...(r.finite ? { finite: { ...r.finite } } : {}),
    worst: r.worst,
    nanActual: r.nanActual,
    infMismatch: r.infMismatch,
    ...(r.neededAtol !== null ? { neededTolerance: { atol: r.neededAtol, rtol: r.tolerance.rtol } } : {}),
  };
}

/**
 * One line per adapter whose runtime package is installed at a version other than the one the
 * tolerances were measured on, e.g. "onnxruntime-cpu: onnxruntime-node 1.31.1 (tolerances measured on 1.30.0)".
 */
export function runtimeDriftLines(report: Pick<ConformanceReport, 'adapters'>): string[] {
  const lines: string[] = [];
  for (const a of report.adapters) {
    const drift = (a.runtimePackages ?? []).filter((s) => s.installed !== null && s.installed !== s.measured);
    if (drift.length)
      lines.push(
        `${a.id}: ${drift.map((s) => `${s.name} ${s.installed} (tolerances measured on ${s.measured})`).join(', ')}`,
      );
  }
  return lines;
}
