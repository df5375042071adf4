/**
 * The runtime's own session/model creation (Adapter.runtimeSetupMs, src/adapters/setup-clock.ts) is
 * recorded per case apart from the build and the runs it happened in (src/runner/execute-case.ts),
 * so that a session an adapter creates on its first run is not counted as inference.
 */
import * as path from 'path';
import { ReferenceAdapter } from '../src/adapters/reference';
import { SetupClock, harnessPrepOf, runtimeSetupOf } from '../src/adapters/setup-clock';
import type { Adapter, AdapterEntry, RunOptions, RunResult } from '../src/adapters/types';
import { loadManifest } from '../src/golden/load';
import type { ModelSpec, ModelWeights } from '../src/model/types';
import { harnessBreakdown } from '../src/report/overhead';
import type { CaseResult } from '../src/report/schema';
import { casesByModel, executeCase, type EvaluationContext } from '../src/runner/execute-case';
import type { Tensor } from '../src/tensor';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

/**
 * The reference with a synthetic setup counter: every build "spends" 5 ms, the first run of each
 * BatchNormalization mode 7 ms (a session created lazily), later runs nothing. `counter` may be
 * replaced to plant a broken one.
 */
class LazySessionAdapter implements Adapter {
  readonly id = 'reference';
  private readonly inner = new ReferenceAdapter({ id: 'reference', precision: 'fp64' });
  private readonly modes = new Set<boolean>();
  total = 0;
  counter: () => number = () => this.total;

  probe() {
    return this.inner.probe();
  }
  describe() {
    return this.inner.describe();
  }
  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    this.modes.clear();
    this.total += 5;
    await this.inner.build(spec, weights);
  }
  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    if (!this.modes.has(opts.training)) {
      this.modes.add(opts.training);
      this.total += 7;
    }
    return this.inner.run(input, opts);
  }
  paramCount() {
    return this.inner.paramCount();
  }
  dispose() {
    return this.inner.dispose();
  }
  runtimeSetupMs(): number {
    return this.counter();
  }
}

/**
 * Also prepares a model of its own on the first run of each BatchNormalization mode (3 ms, as an
 * ONNX export for a lazily created session), recorded by harnessPrepMs; `prep` may be replaced.
 */
class LazyExportAdapter extends LazySessionAdapter {
  private readonly prepared = new Set<boolean>();
  prepTotal = 0;
  prep: () => number = () => this.prepTotal;

  override async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    this.prepared.clear();
    this.prepTotal += 2; // the build's own export: build time anyway, never runPrepMs
    await super.build(spec, weights);
  }
  override async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    if (!this.prepared.has(opts.training)) {
      this.prepared.add(opts.training);
      this.prepTotal += 3;
    }
    return super.run(input, opts);
  }
  harnessPrepMs(): number {
    return this.prep();
  }
}

const entry = { id: 'reference', profile: 'fp64-reference' } as unknown as AdapterEntry;

function group() {
  const manifest = loadManifest(FIXTURES);
  const g = [...casesByModel(manifest.cases).values()].find(
    (cs) => cs.length >= 2 && cs[0].model.model !== 'resnet50' && new Set(cs.map((k) => k.training)).size === 2,
  );
  if (!g) throw new Error('no small-block case group with both BatchNormalization modes in fixtures/');
  return { manifest, g };
}

describe('runtime setup in case timings', () => {
  it('the build and the first run of each mode record their setup; nothing else does', async () => {
    const { manifest, g } = group();
    const a = new LazySessionAdapter();
    const ctx: EvaluationContext = { fixturesDir: FIXTURES, manifest, reuseRuns: true };
    const seen = new Set<boolean>();
    for (const [i, k] of g.entries()) {
      const r = await executeCase(a, entry, k, ctx);
      expect(r.status).toBe('pass');
      const t = r.timings!;
      if (i === 0) expect(t.setupMs).toBe(5);
      else expect(t.setupMs).toBeUndefined(); // the build was reused: nothing built
      const first = !seen.has(k.training);
      seen.add(k.training);
      if (r.runReusedFrom === undefined) expect(t.runSetupMs).toBe(first ? 7 : 0);
    }
    expect(a.total).toBe(5 + 7 * seen.size);
  }, 60_000);

  it('an adapter without a counter records none; a broken counter is never negative or NaN', async () => {
    const { manifest, g } = group();
    const plain = new ReferenceAdapter({ id: 'reference', precision: 'fp64' });
    const r0 = await executeCase(plain, entry, g[0], { fixturesDir: FIXTURES, manifest });
    // the reference itself records its executor preparation
    expect(r0.timings!.setupMs).toBeGreaterThanOrEqual(0);
    expect(runtimeSetupOf({})).toBeUndefined();
    expect(runtimeSetupOf({ runtimeSetupMs: () => NaN })).toBeUndefined();
    expect(runtimeSetupOf({ runtimeSetupMs: () => -1 })).toBeUndefined();

    const backwards = new LazySessionAdapter();
    let v = 100;
    backwards.counter = () => (v -= 10); // planted: a counter that runs backwards
    const r = await executeCase(backwards, entry, g[0], { fixturesDir: FIXTURES, manifest });
    expect(r.timings!.setupMs).toBe(0);
    expect(r.timings!.runSetupMs ?? 0).toBe(0);

    const nan = new LazySessionAdapter();
    nan.counter = () => NaN;
    const rn = await executeCase(nan, entry, g[0], { fixturesDir: FIXTURES, manifest });
    expect(rn.timings!.setupMs).toBeUndefined();
    expect(rn.timings!.runSetupMs).toBeUndefined();
  }, 60_000);

  it("the adapter's own preparation inside runs is recorded as runPrepMs and counted as build, not inference", async () => {
    const { manifest, g } = group();
    const a = new LazyExportAdapter();
    const ctx: EvaluationContext = { fixturesDir: FIXTURES, manifest, reuseRuns: true };
    const seen = new Set<boolean>();
    const results: CaseResult[] = [];
    for (const k of g) {
      const r = await executeCase(a, entry, k, ctx);
      expect(r.status).toBe('pass');
      const first = !seen.has(k.training);
      seen.add(k.training);
      if (r.runReusedFrom === undefined) expect(r.timings!.runPrepMs).toBe(first ? 3 : 0);
      results.push(r);
    }
    const prep = results.reduce((s, r) => s + (r.timings!.runPrepMs ?? 0), 0);
    expect(prep).toBe(3 * seen.size);
    // The breakdown moves it from inference to build (synthetic report: the counters above are not real time).
    const timings = {
      buildMs: 100,
      initMs: 5,
      setupMs: 20,
      runMs: 50,
      runSetupMs: 10,
      runPrepMs: 15,
      compareMs: 1,
      totalMs: 160,
    };
    const b = harnessBreakdown({
      adapters: [{ id: 'reference', durationMs: 200 }],
      results: [{ adapter: 'reference', timings }],
      parts: [],
    });
    expect(b.phases.inferenceMs).toBe(50 - 10 - 15);
    expect(b.phases.buildMs).toBe(100 - 5 - 20 + 15);
    expect(b.phases.setupMs).toBe(20 + 10);
    expect(b.byAdapter[0]).toMatchObject({ buildMs: 100 - 20 + 15, inferenceMs: 25, setupMs: 30 });
    expect(harnessPrepOf({})).toBeUndefined();
    expect(harnessPrepOf({ harnessPrepMs: () => NaN })).toBeUndefined();
    const backwards = new LazyExportAdapter();
    let v = 100;
    backwards.prep = () => (v -= 10); // planted: a counter that runs backwards
    const r = await executeCase(backwards, entry, g[0], { fixturesDir: FIXTURES, manifest });
    expect(r.timings!.runPrepMs ?? 0).toBe(0);
    // a report claiming more preparation than the runs took never makes inference negative
    const over = harnessBreakdown({
      adapters: [{ id: 'reference', durationMs: 10 }],
      results: [{ adapter: 'reference', timings: { buildMs: 1, runMs: 2, compareMs: 0, totalMs: 3, runPrepMs: 50 } }],
      parts: [],
    });
    expect(over.phases.inferenceMs).toBe(0);
  }, 60_000);

  it('SetupClock adds what it times, also when the timed call throws, and ignores junk', async () => {
    const c = new SetupClock();
    await c.time(async () => undefined);
    const after = c.ms;
    expect(after).toBeGreaterThanOrEqual(0);
    await expect(
      c.time(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(c.ms).toBeGreaterThanOrEqual(after);
    const before = c.ms;
    c.add(NaN);
    c.add(-5);
    c.add('3' as unknown as number);
    expect(c.ms).toBe(before);
    c.add(2.5);
    expect(c.ms).toBe(before + 2.5);
    expect(c.timeSync(() => 42)).toBe(42);
  });
});
