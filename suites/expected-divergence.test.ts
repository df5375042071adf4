/**
 * The expected-divergence status (src/compare/tolerances/ rows { expectedDivergence }): judged
 * strictly by the runner (src/runner/execute-case.ts via src/golden/run-case.ts), reported apart from
 * passes in every format, never a regression against a baseline, and turned into a failure by a tight
 * match (the row is stale), a NaN or a wrong shape.
 *
 * Synthetic and fast: block models with expected values from the float64 reference, relabelled as
 * ResNet-50 training activations so that the real tf32-gpu expected-divergence row applies, judged
 * for a fake tf32-gpu adapter that perturbs the reference's output in one way per case.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ReferenceAdapter } from '../src/adapters/reference';
import type { Adapter, AdapterEntry, RunOptions, RunResult } from '../src/adapters/types';
import { KNOWN_DEFECTS, resolveTolerance } from '../src/compare/tolerances';
import type { FixtureCase, FixtureManifest } from '../src/golden/manifest';
import { judgeDivergences, type TensorComparison } from '../src/golden/run-case';
import { renderHtml } from '../src/report/html';
import { renderJunit } from '../src/report/junit';
import { renderMarkdown } from '../src/report/markdown';
import { parseReport } from '../src/report/read';
import { renderJson } from '../src/report/render';
import { REPORT_SCHEMA_VERSION, type CaseResult, type ConformanceReport } from '../src/report/schema';
import { applyBaseline, diffReports } from '../src/runner/regression';
import { executeCase, type EvaluationContext } from '../src/runner/execute-case';
import { countsFor, summarize } from '../src/runner/summary';
import type { Tensor } from '../src/tensor';
import { DIVERGENCE_REASON, divergenceReport, sampleReport } from './helpers/sample-report';
import { writeSyntheticFixtures } from './helpers/synthetic-fixtures';
import { childrenNamed, parseXml } from './helpers/xml';

type Perturb = (t: Tensor, name: string) => Tensor;

const same: Perturb = (t) => t;
const shifted =
  (d: number): Perturb =>
  (t) => ({ shape: t.shape, data: t.data.map((v) => v + d) as Tensor['data'] });
const withNaN: Perturb = (t) => {
  const data = t.data.slice();
  data[0] = NaN;
  return { shape: t.shape, data };
};
const lastChannelDropped: Perturb = (t) => {
  const c = t.shape[t.shape.length - 1];
  const data = t.data.filter((_, i) => i % c !== c - 1);
  return { shape: [...t.shape.slice(0, -1), c - 1], data: data as Tensor['data'] };
};

/**
 * A tf32-gpu adapter over the float64 reference. The case's output is returned as is; captures
 * (named by the fake cases below) are the output, perturbed per capture name.
 */
class FakeTf32 implements Adapter {
  readonly id = 'fake-tf32';
  private readonly inner = new ReferenceAdapter({ precision: 'fp64' });
  constructor(
    private readonly perturb: Record<string, Perturb>,
    private readonly output: Perturb = same,
  ) {}
  probe() {
    return this.inner.probe();
  }
  describe() {
    return this.inner.describe();
  }
  build(...a: Parameters<Adapter['build']>) {
    return this.inner.build(...a);
  }
  paramCount() {
    return this.inner.paramCount();
  }
  dispose() {
    return this.inner.dispose();
  }
  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    const r = await this.inner.run(input, { training: opts.training });
    const intermediates: Record<string, Tensor> = {};
    for (const name of opts.capture ?? []) intermediates[name] = (this.perturb[name] ?? same)(r.output, name);
    return { ...r, output: this.output(r.output, 'output'), intermediates };
  }
}

const ENTRY: AdapterEntry = {
  id: 'fake-tf32',
  summary: 'test adapter',
  profile: 'tf32-gpu',
  outOfTheBox: true,
  create: () => new FakeTf32({}),
};

let dir: string;
let manifest: FixtureManifest;
let base: FixtureCase;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xdiv-'));
  manifest = await writeSyntheticFixtures(dir);
  base = manifest.cases.find((k) => k.id === 'identity/training')!;
}, 120_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * A ResNet-50 training case (by class) on the block's model: the output judged as probabilities
 * (tf32-gpu: a tolerance) and the captures as activations (tf32-gpu: an expected divergence).
 */
function relabelled(id: string, captures: string[]): FixtureCase {
  const out = base.expected.output!;
  return {
    ...base,
    id,
    caseClass: 'resnet50-training',
    expected: {
      output: out,
      intermediates: Object.fromEntries(
        captures.map((c) => [c, { ...out, caseClass: 'resnet50-training-activations' }]),
      ),
    },
  };
}

async function evaluate(k: FixtureCase, perturb: Record<string, Perturb>, output: Perturb = same): Promise<CaseResult> {
  const adapter = new FakeTf32(perturb, output);
  const ctx: EvaluationContext = { fixturesDir: dir, manifest };
  try {
    return await executeCase(adapter, ENTRY, k, ctx);
  } finally {
    await adapter.dispose();
  }
}

describe('the runner judges expected-divergence rows strictly', () => {
  test('diverging beyond the tight bound, finite and of the right shape: expected-divergence with the reason and the tensors named', async () => {
    const r = await evaluate(relabelled('xd/diverges', ['early', 'late']), { late: shifted(1) });
    expect(r.status).toBe('expected-divergence');
    const row = resolveTolerance('resnet50-training', 'activations', 'tf32-gpu');
    expect(r.reason).toContain('expected divergence');
    expect(r.reason).toContain(row.reason);
    // Named by boundary label (here the capture name) with its error; the tensor that matched is not named.
    expect(
      r.reason.startsWith(
        `expected divergence: resnet50-training x activations x tf32-gpu — ${row.reason} — beyond the tight bound: late (max abs 1) — `,
      ),
    ).toBe(true);
    expect(r.reason).not.toContain('early');
    const byName = Object.fromEntries(r.checks.map((c) => [c.name, c]));
    expect(byName['intermediates/late']).toMatchObject({
      pass: false,
      outcome: 'expected-divergence',
      tolerance: { kind: 'expected-divergence', role: 'activations' },
    });
    // Judged with the others under the row: 'early' matched tightly, which is fine since 'late' diverged.
    expect(byName['intermediates/early']).toMatchObject({ pass: true, tolerance: { kind: 'expected-divergence' } });
    expect(byName['intermediates/early'].outcome).toBeUndefined();
    expect(byName.output).toMatchObject({ pass: true, tolerance: { kind: 'tolerance', role: 'probabilities' } });
    // The measured max ULP is still reported for every comparison.
    for (const c of r.checks.filter((x) => x.metrics)) expect(typeof c.metrics!.maxUlp).toBe('number');
    expect(summarize([r], []).exitCode).toBe(0);
  }, 60_000);

  test('every tensor under the row within the tight bound: unexpected-match, a failure that says the row is stale', async () => {
    // 1e-3 is within the fp32-cpu activations row (atol 2e-2), the tight bound.
    const r = await evaluate(relabelled('xd/matches', ['early', 'late']), { late: shifted(1e-3) });
    expect(r.status).toBe('unexpected-match');
    expect(r.reason).toMatch(/expected divergence did not happen.*stale, fix it/);
    expect(r.checks.filter((c) => c.outcome === 'unexpected-match').map((c) => c.name)).toEqual([
      'intermediates/early',
      'intermediates/late',
    ]);
    expect(summarize([r], []).exitCode).toBe(1);
  }, 60_000);

  test('a NaN under the row: fail-numeric, not an expected divergence', async () => {
    const r = await evaluate(relabelled('xd/nan', ['early', 'late']), { late: withNaN });
    expect(r.status).toBe('fail-numeric');
    expect(r.checks.find((c) => c.name === 'intermediates/late')).toMatchObject({ pass: false });
    expect(r.checks.find((c) => c.name === 'intermediates/late')!.outcome).toBeUndefined();
  }, 60_000);

  test('a wrong shape under the row: fail-shape', async () => {
    const r = await evaluate(relabelled('xd/shape', ['late']), { late: lastChannelDropped });
    expect(r.status).toBe('fail-shape');
  }, 60_000);

  test('a real failure elsewhere in the case wins over the expected divergence', async () => {
    const r = await evaluate(relabelled('xd/output-fails', ['late']), { late: shifted(1) }, shifted(1));
    expect(r.status).toBe('fail-numeric');
    expect(r.reason).toContain('output');
  }, 60_000);

  test('judgeDivergences: a group with a failure is not turned into unexpected-match', () => {
    const tolerance = resolveTolerance('resnet50-training', 'activations', 'tf32-gpu');
    const c = (tensor: string, verdict: TensorComparison['verdict']): TensorComparison => ({
      tensor,
      caseClass: 'resnet50-training',
      role: 'activations',
      tolerance,
      result: null,
      verdict,
    });
    const group = [c('a', 'pass'), c('b', 'fail')];
    judgeDivergences(group);
    expect(group.map((x) => x.verdict)).toEqual(['pass', 'fail']);
    const matched = [c('a', 'pass'), c('b', 'pass')];
    judgeDivergences(matched);
    expect(matched.map((x) => x.verdict)).toEqual(['unexpected-match', 'unexpected-match']);
  });
});

describe('KNOWN_DEFECTS: a runtime bug, keyed by adapter and case, judged as a strict expected divergence', () => {
  const defect = KNOWN_DEFECTS[0];
  const defectAdapter = defect.adapters[0];
  const defectCase = defect.cases[0];
  const fp32Entry = (id: string): AdapterEntry => ({ ...ENTRY, id, profile: 'fp32-cpu' });
  // The block case under another id: the defect's own case id, or one the defect does not name.
  const asCase = (id: string): FixtureCase => ({ ...base, id });
  async function judge(id: string, caseId: string, output: Perturb): Promise<CaseResult> {
    const adapter = new FakeTf32({}, output);
    try {
      return await executeCase(adapter, fp32Entry(id), asCase(caseId), { fixturesDir: dir, manifest });
    } finally {
      await adapter.dispose();
    }
  }

  test('the defect case diverging on the adapter: expected-divergence, the reason names the adapter and the layer', async () => {
    const r = await judge(defectAdapter, defectCase, shifted(1));
    expect(r.status).toBe('expected-divergence');
    expect(r.reason).toContain(`known defect of ${defectAdapter}`);
    expect(r.reason).toContain(`first diverging layer ${defect.layer}`);
    // The block case compares one tensor, the diverging output; its other checks compare none (no 'max abs error 0').
    expect(r.reason).toMatch(/ — the other \d+ checks? pass \(none compares a tensor\)$/);
    expect(r.tolerance).toMatchObject({ kind: 'expected-divergence', profile: 'fp32-cpu', knownDefect: defectAdapter });
    // The tight bound is the profile's own row for the case class.
    const row = resolveTolerance(base.caseClass, 'output', 'fp32-cpu');
    expect([r.tolerance!.atol, r.tolerance!.rtol]).toEqual([row.atol, row.rtol]);
    expect(summarize([r], []).exitCode).toBe(0);
  }, 60_000);

  test('the defect case matching on the adapter: unexpected-match (the bug is fixed, the entry is stale)', async () => {
    const r = await judge(defectAdapter, defectCase, same);
    expect(r.status).toBe('unexpected-match');
    expect(summarize([r], []).exitCode).toBe(1);
  }, 60_000);

  test('another adapter of the profile on the defect case, or the adapter on another case: judged by the table (a failure)', async () => {
    const other = await judge('onnxruntime-web-wasm-browser', defectCase, shifted(1));
    expect(other.status).toBe('fail-numeric');
    expect(other.tolerance).toMatchObject({ kind: 'tolerance' });
    const elsewhere = await judge(defectAdapter, 'identity/not-a-defect-case', shifted(1));
    expect(elsewhere.status).toBe('fail-numeric');
    expect(resolveTolerance(base.caseClass, 'output', 'fp32-cpu', { adapter: 'x', caseId: defectCase }).kind).toBe(
      'tolerance',
    );
  }, 60_000);
});

describe('expected divergence in every report format', () => {
  const report = divergenceReport();

  test('report.json: status and reason, the row with its kind and tight bound; read back as is', () => {
    const back = parseReport(renderJson(report), 'r.json');
    const xd = back.results.find((r) => r.status === 'expected-divergence')!;
    expect(xd.reason).toContain(DIVERGENCE_REASON);
    expect(xd.checks.find((c) => c.outcome === 'expected-divergence')!.tolerance).toMatchObject({
      kind: 'expected-divergence',
      role: 'activations',
      atol: 2e-2,
      rtol: 1e-2,
    });
    expect(back.summary.byStatus['expected-divergence']).toBe(1);
    expect(back.summary.byStatus['unexpected-match']).toBe(1);
    expect(back.summary.exitCode).toBe(1); // the unexpected match fails the run
  });

  test('report.md: counted apart from passes in the summary line, own icon and legend entry, listed with the reason', () => {
    const md = renderMarkdown(report);
    const first = md.split('\n')[0];
    expect(first).toContain('3 results: 1 pass, 1 expected divergence, 1 unexpected match');
    expect(md).toContain('🔸 expected divergence');
    expect(md).toMatch(/\| `block\/inference` \| 🔸 2\.93 stage5 \|/);
    expect(md).toContain('### Expected divergence (1)');
    expect(md).toContain('measured tf32: 2.93 abs &lt;stage 5&gt;');
    // Not among the failures; the unexpected match is.
    const notPassing = md.slice(md.indexOf('### Not passing'), md.indexOf('### Expected divergence'));
    expect(notPassing).toContain('unexpected-match');
    expect(notPassing).not.toContain('block/inference');
    expect(md).toContain(
      '| resnet50-training | activations | tf32-gpu | expected divergence (fails within atol 0.02, rtol 0.01) |',
    );
  });

  test('report.html: its own mark, class and filter, and the reason', () => {
    const html = renderHtml(report);
    expect(html).toContain('class="st-expected-divergence" data-status="expected-divergence"');
    expect(html).toContain('value="expected-divergence" checked> ≈ expected divergence (1)');
    expect(html).toContain('<strong>expected divergence</strong>');
    expect(html).toContain('measured tf32: 2.93 abs &lt;stage 5&gt; &amp; &quot;decorrelates&quot;');
    expect(html).toContain('class="st-unexpected-match"');
  });

  test('junit.xml: expected divergence is <skipped type="expected-divergence"> with the reason; unexpected match a failure', () => {
    const root = parseXml(renderJunit(report));
    const suite = childrenNamed(root, 'testsuite')[0];
    expect([suite.attrs.tests, suite.attrs.failures, suite.attrs.errors, suite.attrs.skipped]).toEqual([
      '3',
      '1',
      '0',
      '1',
    ]);
    const byName = Object.fromEntries(childrenNamed(suite, 'testcase').map((c) => [c.attrs.name, c]));
    const skipped = childrenNamed(byName['block/inference'], 'skipped')[0];
    expect(skipped.attrs.type).toBe('expected-divergence');
    expect(skipped.attrs.message).toMatch(/^expected divergence: /);
    expect(skipped.attrs.message).toContain(DIVERGENCE_REASON);
    expect(childrenNamed(byName['block/inference'], 'system-out')[0].text).toContain('XDIV intermediates/stage5_layer');
    expect(childrenNamed(byName['block/training'], 'failure')[0].attrs.type).toBe('unexpected-match');
    expect(childrenNamed(byName['resnet50/b1'], 'skipped')).toHaveLength(0);
  });

  test('a schema-1 report.json is still read: tolerance names split into (class, role), maxUlp dropped, counts completed', () => {
    const v1 = JSON.parse(renderJson(sampleReport())) as Record<string, any>;
    v1.schemaVersion = 1;
    for (const r of v1.results) {
      if (r.tolerance)
        r.tolerance = {
          caseClass: 'resnet50-training-logits',
          profile: 'fp32-cpu',
          atol: 1.5e-3,
          rtol: 1e-5,
          maxUlp: null,
          reason: 'old',
        };
      for (const c of r.checks)
        if (c.tolerance)
          c.tolerance = {
            caseClass: 'block-inference',
            profile: 'fp32-cpu',
            atol: 1e-8,
            rtol: 1e-5,
            maxUlp: null,
            reason: 'old',
          };
    }
    delete v1.summary.byStatus['expected-divergence'];
    const back = parseReport(JSON.stringify(v1), 'old.json');
    expect(back.schemaVersion).toBe(REPORT_SCHEMA_VERSION); // upgraded in memory to the current version
    const withTol = back.results.find((r) => r.tolerance)!;
    expect(withTol.tolerance).toEqual({
      caseClass: 'resnet50-training',
      role: 'logits',
      kind: 'tolerance',
      profile: 'fp32-cpu',
      atol: 1.5e-3,
      rtol: 1e-5,
      reason: 'old',
    });
    expect(withTol.checks[0].tolerance).toMatchObject({
      caseClass: 'block-inference',
      role: 'output',
      kind: 'tolerance',
    });
    expect(back.summary.byStatus['expected-divergence']).toBe(0);
    expect(() => renderMarkdown(back)).not.toThrow();
  });
});

describe('baselines and compare', () => {
  function withStatus(
    report: ConformanceReport,
    c: string,
    status: CaseResult['status'],
    reason = `now ${status}`,
  ): ConformanceReport {
    const r = structuredClone(report);
    const x = r.results.find((y) => y.case === c)!;
    x.status = status;
    x.reason = reason;
    for (const a of r.adapters) a.counts = countsFor(r.results, a.id);
    r.summary = summarize(r.results, r.adapters);
    return r;
  }
  const old = divergenceReport();

  test('an expected divergence is not a regression; expected-divergence -> failure is newly failing', () => {
    const same = structuredClone(old);
    const info = applyBaseline(same, old, 'old.json', 2);
    expect([info.regressed, info.newlyFailing]).toEqual([0, 0]);
    expect(same.results.find((r) => r.case === 'block/inference')!.status).toBe('expected-divergence');

    // pass -> expected-divergence (the table now says so): not a regression.
    const now = withStatus(old, 'resnet50/b1', 'expected-divergence');
    expect(applyBaseline(now, old, 'old.json', 2).newlyFailing).toBe(0);

    for (const st of ['fail-numeric', 'fail-shape', 'unexpected-match'] as const) {
      const bad = withStatus(old, 'block/inference', st);
      const i = applyBaseline(bad, old, 'old.json', 2);
      const r = bad.results.find((x) => x.case === 'block/inference')!;
      expect([st, i.newlyFailing, r.regression?.kind, r.reason]).toEqual([
        st,
        1,
        'newly-failing',
        expect.stringContaining('baseline: expected-divergence'),
      ]);
    }
  });

  test('compare: expected-divergence -> failure is a regression, pass -> expected-divergence is not, expected-divergence -> pass is noted', () => {
    const d1 = diffReports(old, withStatus(old, 'block/inference', 'fail-numeric'), 2);
    expect(d1.regressions).toBe(1);
    expect(d1.lines.join('\n')).toContain('! tf32 × block/inference: expected-divergence → fail-numeric');
    const d2 = diffReports(old, withStatus(old, 'resnet50/b1', 'expected-divergence'), 2);
    expect([d2.regressions, d2.improvements]).toEqual([0, 0]);
    expect(d2.lines.join('\n')).toContain('~ tf32 × resnet50/b1: pass → expected-divergence');
    const d3 = diffReports(old, withStatus(old, 'block/inference', 'pass'), 2);
    expect(d3.regressions).toBe(0);
    expect(d3.lines.join('\n')).toContain('expected-divergence → pass (the expected divergence is gone');
  });
});
