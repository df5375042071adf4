/**
 * A hand-made report for the renderer tests: three adapters × three cases covering every status,
 * boundary errors for the chart (including an exact 0 and an infinite value), a baseline, and reasons
 * with characters that must be escaped in XML, HTML and Markdown.
 */
import {
  REPORT_SCHEMA_VERSION,
  emptyCounts,
  type AdapterReport,
  type AppliedTolerance,
  type CaseResult,
  type CaseStatus,
  type CheckResult,
  type ConformanceReport,
} from '../../src/report/schema';
import { countsFor, summarize } from '../../src/runner/summary';

export const NASTY = 'a <b> & "c" \'d\' | e\nf \u0001g';

const TOL: AppliedTolerance = {
  caseClass: 'resnet50-inference',
  role: 'probabilities',
  profile: 'fp32-cpu',
  kind: 'tolerance',
  atol: 1e-6,
  rtol: 1e-5,
  reason: 'measured: ≤ 3e-7 on onnxruntime-cpu',
};

function metrics(maxAbs: number | null, mismatches = 0, n = 6) {
  return {
    n,
    mismatches,
    mismatchPct: (100 * mismatches) / n,
    maxAbs,
    maxRel: maxAbs === null ? null : maxAbs * 10,
    maxUlp: maxAbs === null ? null : 3,
    worst: {
      flatIndex: 2,
      index: [0, 2],
      actual: 0.25,
      expected: 0.2500001,
      absErr: maxAbs,
      relErr: null,
      ulp: 3,
      fails: mismatches > 0,
    },
    nanActual: maxAbs === null ? 1 : 0,
    infMismatch: 0,
  };
}

const LABELS = ['stage1', 'stage2_block1_conv', 'stage2_block2_identity', 'avgpool', 'logits', 'probabilities'];

function boundaryChecks(errors: Array<number | null>): CheckResult[] {
  return errors.map((e, i) => {
    const label = LABELS[i];
    const isOut = label === 'probabilities';
    return {
      name: isOut ? 'output' : `intermediates/${label}_layer`,
      kind: isOut ? 'output' : 'boundary',
      label,
      layer: `${label}_layer`,
      pass: e !== null && e < 1e-3,
      metrics: metrics(e, e !== null && e < 1e-3 ? 0 : 1),
      tolerance: TOL,
    };
  });
}

function res(adapter: string, c: string, status: CaseStatus, reason: string, checks: CheckResult[] = []): CaseResult {
  const out = checks.find((x) => x.kind === 'output');
  return {
    adapter,
    case: c,
    status,
    reason,
    tolerance: checks.length ? TOL : null,
    metrics: out?.metrics ?? null,
    checks,
    timings: checks.length ? { buildMs: 120, runMs: 80, compareMs: 2, totalMs: 202 } : null,
    modelReused: false,
    regression: null,
    part: 0,
  };
}

export function sampleReport(): ConformanceReport {
  const results: CaseResult[] = [
    res('alpha', 'resnet50/b1', 'pass', 'within tolerance', boundaryChecks([0, 1e-9, 3e-8, 1e-7, 2e-7, 5e-8])),
    res(
      'alpha',
      'block/inference',
      'regressed',
      `regressed: ${NASTY}`,
      boundaryChecks([1e-7]).map((c) => ({ ...c, kind: 'output', label: undefined })),
    ),
    res('alpha', 'block/training', 'fail-shape', 'output: shape [2,4,4,2], expected [2,4,4,3]', [
      {
        name: 'output',
        kind: 'output',
        pass: false,
        metrics: null,
        actualShape: [2, 4, 4, 2],
        expectedShape: [2, 4, 4, 3],
        reason: 'shape',
      },
    ]),
    res(
      'beta',
      'resnet50/b1',
      'fail-numeric',
      `output: 1/6 mismatches ${NASTY}`,
      boundaryChecks([1e-6, 1e-5, 1e-4, 1e-3, 1e-2, null]),
    ),
    res('beta', 'block/inference', 'error', `run failed: ${NASTY}`),
    res(
      'beta',
      'block/training',
      'crashed',
      'worker killed by SIGSEGV (segmentation fault in native code) while running this case',
    ),
    res('gamma', 'resnet50/b1', 'timeout', "no result within the adapter's 5 s budget"),
    res('gamma', 'block/inference', 'skipped', 'not run: the budget ran out'),
    res('gamma', 'block/training', 'unavailable', 'not installed (fix: npm i thing)'),
  ];
  results[1].regression = {
    kind: 'error-growth',
    baselineStatus: 'pass',
    check: 'output',
    baselineMaxAbs: 1e-8,
    maxAbs: 1e-7,
    growth: 10,
    factor: 2,
  };
  results[3].regression = { kind: 'newly-failing', baselineStatus: 'pass', factor: 2 };
  const adapter = (id: string, extra: Partial<AdapterReport> = {}): AdapterReport => ({
    id,
    summary: `${id} runtime <x>`,
    profile: 'fp32-cpu',
    outOfTheBox: true,
    explicitlyRequested: false,
    available: true,
    description: {
      runtime: id,
      version: '1.0',
      device: 'cpu',
      precision: 'float32',
      settings: { graphOptimizationLevel: 'all', tf32: false },
      notes: [],
    },
    worker: { processes: 1, exits: [{ code: 0, signal: null, reason: 'finished' }] },
    durationMs: 1234,
    counts: emptyCounts(),
    parts: [0],
    ...extra,
  });
  const adapters = [
    adapter('alpha'),
    adapter('beta', {
      worker: {
        processes: 2,
        exits: [
          { code: null, signal: 'SIGSEGV', reason: 'worker killed by SIGSEGV' },
          { code: 0, signal: null, reason: 'finished' },
        ],
      },
    }),
    adapter('gamma', { available: true, explicitlyRequested: true }),
  ];
  for (const a of adapters) a.counts = countsFor(results, a.id);
  const caseInfo = (id: string, boundaries: string[]) => ({
    id,
    caseClass: 'resnet50-inference',
    model: 'resnet50 64×64×3 6 classes',
    modelArgs: { model: 'resnet50' },
    training: false,
    inputShape: [1, 64, 64, 3],
    boundaries,
    source: { kind: 'keras-generated' },
    description: `case ${id}`,
  });
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'resnet-conformance', version: '0.1.0' },
    runId: '20250101T000000Z',
    createdAt: '2025-01-01T00:00:10.000Z',
    fixtures: { manifest: 'fixtures/manifest.json', sha256: 'a'.repeat(64), caseCount: 3 },
    parts: [
      {
        runId: '20250101T000000Z',
        startedAt: '2025-01-01T00:00:00.000Z',
        finishedAt: '2025-01-01T00:00:10.000Z',
        durationMs: 10_000,
        options: {
          adapters: ['alpha', 'beta', 'gamma'],
          adapterSelection: 'explicit',
          cases: null,
          shard: null,
          timeoutS: 5,
          jobs: 2,
          regressionFactor: 2,
          baseline: 'old.json',
        },
        environment: {
          os: { platform: 'linux', release: '6.1', arch: 'x64', distro: 'Debian GNU/Linux 12 (bookworm)' },
          cpu: { model: 'Test CPU', cores: 2, memoryGiB: 8 },
          node: { version: 'v20.0.0', v8: '11.3' },
          git: { commit: '0123456789abcdef0123456789abcdef01234567', dirty: false },
          packages: { 'onnxruntime-node': '1.30.0' },
          gpu: { devices: [], cudaVersion: null, note: 'no GPU' },
          precision: { alpha: { precision: 'float32', settings: { tf32: false } } },
        },
      },
    ],
    cases: [caseInfo('resnet50/b1', LABELS), caseInfo('block/inference', []), caseInfo('block/training', [])],
    adapters,
    results,
    baseline: {
      path: 'old.json',
      runId: '20241231T000000Z',
      factor: 2,
      regressed: 1,
      newlyFailing: 1,
      improved: 0,
      newPairs: 0,
      missingPairs: 0,
    },
    summary: summarize(results, adapters),
  };
}

export const DIVERGENCE_REASON = 'measured tf32: 2.93 abs <stage 5> & "decorrelates"';

/**
 * A report of one tf32-gpu adapter on three ResNet-50 training cases whose activations fall under an
 * expected-divergence row: one diverges as expected, one matches tightly (unexpected-match), one passes
 * (no tensor under the row).
 */
export function divergenceReport(): ConformanceReport {
  const r = sampleReport();
  const xd: AppliedTolerance = {
    caseClass: 'resnet50-training',
    role: 'activations',
    profile: 'tf32-gpu',
    kind: 'expected-divergence',
    atol: 2e-2,
    rtol: 1e-2,
    tightBoundFrom: 'the fp32-cpu row of resnet50-training x activations',
    reason: DIVERGENCE_REASON,
  };
  const probs: AppliedTolerance = {
    ...TOL,
    caseClass: 'resnet50-training',
    profile: 'tf32-gpu',
    atol: 4e-2,
    rtol: 1e-3,
  };
  const out: CheckResult = {
    name: 'output',
    kind: 'output',
    label: 'probabilities',
    pass: true,
    metrics: metrics(1.4e-2),
    tolerance: probs,
  };
  const act = (label: string, maxAbs: number, outcome?: CheckResult['outcome']): CheckResult => ({
    name: `intermediates/${label}_layer`,
    kind: 'boundary',
    label,
    layer: `${label}_layer`,
    pass: outcome === undefined,
    metrics: metrics(maxAbs, outcome === 'expected-divergence' ? 1 : 0),
    tolerance: xd,
    ...(outcome
      ? {
          outcome,
          reason:
            outcome === 'expected-divergence'
              ? 'expected divergence: beyond the tight bound'
              : 'expected divergence did not happen: the row is stale, fix it',
        }
      : {}),
  });
  const results: CaseResult[] = [
    res('tf32', 'resnet50/b1', 'pass', 'within tolerance; max abs error 0.014', [out]),
    res(
      'tf32',
      'block/inference',
      'expected-divergence',
      `expected divergence: stage5 (max abs 2.93) beyond the tight bound — resnet50-training x activations x tf32-gpu: ${DIVERGENCE_REASON}`,
      [out, act('stage1', 1e-4), act('stage5', 2.93, 'expected-divergence')],
    ),
    res(
      'tf32',
      'block/training',
      'unexpected-match',
      'intermediates/stage5_layer: expected divergence did not happen: the row is stale, fix it',
      [out, act('stage1', 1e-4, 'unexpected-match'), act('stage5', 1e-3, 'unexpected-match')],
    ),
  ];
  for (const x of results) x.tolerance = probs;
  const adapters = [
    {
      ...r.adapters[0],
      id: 'tf32',
      profile: 'tf32-gpu',
      explicitlyRequested: true,
      counts: countsFor(results, 'tf32'),
    },
  ];
  return { ...r, adapters, results, baseline: null, summary: summarize(results, adapters) };
}
