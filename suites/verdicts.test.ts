/**
 * No false verdict (issue 24, items 1-6): non-finite probabilities and weights; incomplete or mixed
 * shard sets at merge; unique run ids and the lock on a report folder; a throwing parameter count;
 * non-finite metrics said as NaN/Inf with the error over the finite elements; `compare` across
 * different fixture manifests. Each test plants the defect and shows it caught.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ReferenceAdapter } from '../src/adapters/reference';
import type { Adapter, AdapterEntry, RunOptions, RunResult } from '../src/adapters/types';
import { compareArrays } from '../src/compare/metrics';
import { formatMetrics } from '../src/golden/run-case';
import { loadManifest } from '../src/golden/load';
import { importKerasModel, importKerasModelBytes, ModelImportError } from '../src/import';
import { predictOnAdapter } from '../src/import/predict';
import { mapWeights, type StoredWeight } from '../src/import/weights';
import { makeRunId, printSummary } from '../src/cli/commands/run';
import { parseReport, readReport } from '../src/report/read';
import { renderAll } from '../src/report/render';
import { renderHtml } from '../src/report/html';
import { renderJunit } from '../src/report/junit';
import {
  CASE_STATUSES,
  FAILING_STATUSES,
  REPORT_SCHEMA_VERSION,
  STATUS_TABLE,
  statusInfo,
  statusRank,
  type CaseResult,
  type ConformanceReport,
} from '../src/report/schema';
import { acquireOutDirLock, OUT_DIR_LOCK, OutDirBusyError } from '../src/report/write';
import { diffReports } from '../src/runner/regression';
import { executeCase, type EvaluationContext } from '../src/runner/execute-case';
import { mergeReports, MergeError } from '../src/runner/merge';
import { countsFor, summarize } from '../src/runner/summary';
import { WEIGHT_CACHE_ENV } from '../src/init/weight-cache';
import type { ParamCount } from '../src/model/types';
import type { Tensor } from '../src/tensor';
import { runCli } from './helpers/cli';
import { sampleReport } from './helpers/sample-report';
import { writeSyntheticFixtures } from './helpers/synthetic-fixtures';

const PRETRAINED = path.join(__dirname, '..', 'fixtures', 'pretrained');
const BLOCK_H5 = path.join(PRETRAINED, 'blocks', 'convolutional_block.h5');

let tmp: string;
let fx: string;
const savedCache = process.env[WEIGHT_CACHE_ENV];
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-verdicts-'));
  fx = path.join(tmp, 'fixtures');
  process.env[WEIGHT_CACHE_ENV] = path.join(tmp, 'weight-cache');
  await writeSyntheticFixtures(fx);
}, 60_000);
afterAll(() => {
  if (savedCache === undefined) delete process.env[WEIGHT_CACHE_ENV];
  else process.env[WEIGHT_CACHE_ENV] = savedCache;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The float64 reference, with one planted defect. */
class Planted extends ReferenceAdapter {
  constructor(private readonly defect: 'paramCount-throws' | 'nan-output' | 'inf-output') {
    super({ precision: 'fp64' });
  }
  override async paramCount(): Promise<ParamCount> {
    if (this.defect === 'paramCount-throws') throw new Error('paramCount not supported by this runtime build');
    return super.paramCount();
  }
  override async run(x: Tensor, opts: RunOptions): Promise<RunResult> {
    const r = await super.run(x, opts);
    if (this.defect === 'paramCount-throws') return r;
    const data = Float64Array.from(r.output.data);
    data[1] = this.defect === 'nan-output' ? NaN : Infinity;
    return { ...r, output: { shape: r.output.shape, data } };
  }
}
function entryOf(id: string, create: () => Adapter): AdapterEntry {
  return { id, summary: `planted ${id}`, profile: 'fp64-reference', outOfTheBox: false, create };
}

async function evaluateOn(adapter: Adapter, id: string, caseId: string): Promise<CaseResult> {
  const manifest = loadManifest(fx);
  const ctx: EvaluationContext = { fixturesDir: fx, manifest };
  const k = manifest.cases.find((c) => c.id === caseId)!;
  try {
    return await executeCase(
      adapter,
      entryOf(id, () => adapter),
      k,
      ctx,
    );
  } finally {
    await adapter.dispose();
  }
}

describe('1. non-finite probabilities and weights', () => {
  test('an adapter returning NaN probabilities is an adapter error naming the image and the count', async () => {
    const m = await importKerasModel(BLOCK_H5);
    const [h, w, c] = m.spec.layers[0].outputShape;
    const x = (v: number): Tensor => ({ shape: [1, h, w, c], data: new Float32Array(h * w * c).fill(v) });
    const entry = entryOf('planted-nan', () => new Planted('nan-output'));
    const r = await predictOnAdapter(entry, m, [x(0.25), x(0.5)], (i) => ['a.png', 'b.jpg'][i]);
    expect(r.error).toBeDefined();
    const per = r.rows.length ? r.rows[0].length : 0;
    expect(r.error).toMatch(/non-finite/);
    expect(r.error).toContain(`a.png: 1 NaN of ${per}`);
    expect(r.error).toContain(`b.jpg: 1 NaN of ${per}`);
    const inf = await predictOnAdapter(
      entryOf('planted-inf', () => new Planted('inf-output')),
      m,
      [x(0.25)],
    );
    expect(inf.error).toMatch(/input 0: 1 Inf of \d+/);
    // The untouched reference: no error.
    const ok = await predictOnAdapter(
      entryOf('ref', () => new Planted('paramCount-throws')),
      m,
      [x(0.25)],
    );
    expect(ok.error).toBeUndefined();
  });

  test('a NaN or Inf weight is refused, naming the layer and the weight (mapWeights and a patched .h5)', async () => {
    const m = await importKerasModel(BLOCK_H5);
    const toFile = new Map(m.spec.layers.map((l) => [l.name, l.name]));
    const stored = (): Map<string, StoredWeight[]> =>
      new Map(
        [...m.weights].map(([k, ws]) => [
          k,
          ws.map((wt) => ({
            storedName: `${k}/${wt.name}:0`,
            array: { shape: [...wt.shape], dtype: 'float32', data: Float32Array.from(wt.data) },
          })),
        ]),
      );
    const s = stored();
    (s.get('conv2d_1')![0].array.data as Float32Array)[5] = NaN;
    (s.get('conv2d_1')![0].array.data as Float32Array)[7] = -Infinity;
    expect(() => mapWeights(m.spec, toFile, s, 'x.h5')).toThrow(
      "x.h5: layer 'conv2d_1' (Conv2D): weight 'kernel' holds 2 non-finite value(s) (1 NaN, 1 Inf; the first at [0, 0, 1, 1]: NaN)",
    );
    // The same in a file Keras wrote: the first value of batch_normalization_1's beta overwritten with NaN bytes.
    const bytes = new Uint8Array(fs.readFileSync(BLOCK_H5));
    const beta = m.weights.get('batch_normalization_1')!.find((t) => t.name === 'beta')!;
    const at = Buffer.from(bytes).indexOf(Buffer.from(beta.data.buffer, beta.data.byteOffset, beta.data.byteLength));
    expect(at).toBeGreaterThan(0);
    new DataView(bytes.buffer).setFloat32(at, NaN, true);
    let err: unknown;
    try {
      await importKerasModelBytes(bytes, 'nan.h5');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelImportError);
    expect((err as Error).message).toBe(
      "nan.h5: layer 'batch_normalization_1' (BatchNormalization): weight 'beta' holds 1 non-finite value(s) (1 NaN, 0 Inf; the first at [0]: NaN)",
    );
  });
});

/** sampleReport's results dealt into `n` shards of one run (pair k to shard k mod n + 1). */
function shardsOf(n: number, extra: Partial<ConformanceReport['parts'][0]['options']> = {}): ConformanceReport[] {
  const whole = sampleReport();
  return Array.from({ length: n }, (_, s) => {
    const r = sampleReport();
    r.results = whole.results.filter((_, k) => k % n === s);
    r.runId = `20250101T00000${s}Z-0${s}-shard${s + 1}of${n}`;
    r.parts = [
      {
        ...r.parts[0],
        runId: r.runId,
        startedAt: `2025-01-01T00:00:0${s}.000Z`,
        finishedAt: `2025-01-01T00:01:0${s}.000Z`,
        durationMs: 60_000,
        options: { ...r.parts[0].options, shard: { index: s + 1, count: n }, ...extra },
      },
    ];
    for (const a of r.adapters) a.counts = countsFor(r.results, a.id);
    r.summary = summarize(r.results, r.adapters);
    return r;
  });
}

describe('2. merge of an incomplete or mixed shard set', () => {
  test('shards 1/3 and 2/3 without 3/3 are refused, naming the missing shard', () => {
    const [a, b] = shardsOf(3);
    expect(() => mergeReports([a, b], ['s1', 's2'])).toThrow(MergeError);
    expect(() => mergeReports([a, b], ['s1', 's2'])).toThrow(/shard 3\/3 is missing/);
  });

  test('mixed sets are refused: different n, different case filters, baseline in one part only', () => {
    const [a3] = shardsOf(3);
    const [, b2] = shardsOf(2);
    // Only the pairs 1/3 does not have (shards of different n overlap otherwise, which is refused first).
    const inA = new Set(a3.results.map((r) => `${r.adapter} ${r.case}`));
    b2.results = b2.results.filter((r) => !inA.has(`${r.adapter} ${r.case}`));
    expect(() => mergeReports([a3, b2], ['a', 'b'])).toThrow(/are of different counts: 1\/3 \(a\), 2\/2 \(b\)/);
    const [c1] = shardsOf(2);
    const [, c2] = shardsOf(2, { cases: 'block/*' });
    expect(() => mergeReports([c1, c2], ['c1', 'c2'])).toThrow(/--cases/);
    const [d1, d2] = shardsOf(2);
    d2.baseline = null;
    expect(() => mergeReports([d1, d2], ['d1', 'd2'])).toThrow(/baseline/);
  });

  test('--allow-partial merges them and marks the report partial in every format; never a pass', () => {
    const [a, b] = shardsOf(3);
    // Passing shards: a partial merge still must not pass.
    for (const r of [a, b]) {
      r.results = r.results.map((x) => ({ ...x, status: 'pass' as const, regression: null }));
      r.baseline = null;
      r.adapters = r.adapters.map((ad) => ({ ...ad, explicitlyRequested: false, counts: countsFor(r.results, ad.id) }));
      r.summary = summarize(r.results, r.adapters);
      expect(r.summary.verdict).toBe('pass');
    }
    const m = mergeReports([a, b], ['s1', 's2'], { allowPartial: true });
    // The same partial report merged with the missing shard is whole again.
    const [, , c] = shardsOf(3);
    c.baseline = null;
    expect(mergeReports([m, c]).partial).toBeUndefined();
    expect(m.partial?.reasons.join('; ')).toMatch(/shard 3\/3 is missing/);
    expect(m.summary.verdict).toBe('fail');
    expect(m.summary.exitCode).toBe(1);
    expect(m.summary.failures.join('\n')).toMatch(/partial/i);
    const files = renderAll(m);
    expect(JSON.parse(files['report.json']).partial.reasons[0]).toMatch(/shard 3\/3 is missing/);
    expect(files['report.md']).toMatch(/PARTIAL/);
    expect(files['report.md']).toMatch(/shard 3\/3 is missing/);
    expect(files['report.html']).toMatch(/PARTIAL/);
    expect(files['report.html']).toMatch(/shard 3\/3 is missing/);
    expect(files['junit.xml']).toMatch(/PARTIAL/);
    expect(files['junit.xml']).toMatch(/shard 3\/3 is missing/);
    const lines: string[] = [];
    printSummary(m, 'out', (s) => lines.push(s));
    expect(lines.join('\n')).toMatch(/FAIL \(PARTIAL\)/);
    expect(lines.join('\n')).toMatch(/shard 3\/3 is missing/);
  });

  test('a complete set merges; its run id and duration are the whole run, not shard 1', () => {
    const [a, b, c] = shardsOf(3);
    const m = mergeReports([a, b, c]);
    expect(m.partial).toBeUndefined();
    expect(m.results).toHaveLength(sampleReport().results.length);
    expect(m.runId).not.toContain(a.runId);
    expect(m.runId).not.toMatch(/shard/);
    expect(mergeReports([c, a, b]).runId).toBe(m.runId);
    const lines: string[] = [];
    printSummary(m, 'out', (s) => lines.push(s));
    // Shards started at :00, :01, :02 and finished at 1:00, 1:01, 1:02: the whole took 62 s.
    expect(lines.join('\n')).toMatch(/ in 62\.0 s/);
  });

  test('merge CLI: refused (exit 2) without --allow-partial, partial (exit 1) with it', async () => {
    const [a, b] = shardsOf(3);
    const fa = path.join(tmp, 'shard-a.json');
    const fb = path.join(tmp, 'shard-b.json');
    fs.writeFileSync(fa, JSON.stringify(a));
    fs.writeFileSync(fb, JSON.stringify(b));
    const refused = await runCli(['merge', fa, fb, '--out', path.join(tmp, 'merged-refused')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/shard 3\/3 is missing.*--allow-partial/s);
    expect(fs.existsSync(path.join(tmp, 'merged-refused', 'report.json'))).toBe(false);
    const partial = await runCli(['merge', fa, fb, '--allow-partial', '--out', path.join(tmp, 'merged-partial')]);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toMatch(/PARTIAL/);
    expect(readReport(path.join(tmp, 'merged-partial')).partial?.reasons[0]).toMatch(/shard 3\/3 is missing/);
  }, 60_000);
});

describe('3. run ids and the report folder lock', () => {
  test('two runs started in the same millisecond get different run ids', () => {
    const d = new Date('2025-01-31T12:05:01.123Z');
    const ids = new Set(Array.from({ length: 50 }, () => makeRunId(d, null)));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^20250131T120501Z-[0-9a-f]{6,}$/);
    expect(makeRunId(d, { index: 2, count: 4 })).toMatch(/^20250131T120501Z-[0-9a-f]{6,}-shard2of4$/);
  });

  test('a folder another live process is writing is refused, naming it; a stale lock of a dead process is taken over', () => {
    const dir = path.join(tmp, 'locked');
    const release = acquireOutDirLock(dir, 'run-a');
    expect(() => acquireOutDirLock(dir, 'run-b')).toThrow(OutDirBusyError);
    expect(() => acquireOutDirLock(dir, 'run-b')).toThrow(new RegExp(`run-a.*pid ${process.pid}`));
    release();
    expect(fs.existsSync(path.join(dir, OUT_DIR_LOCK))).toBe(false);
    // A lock left by a process that is gone.
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
    fs.writeFileSync(
      path.join(dir, OUT_DIR_LOCK),
      JSON.stringify({ pid: dead, host: os.hostname(), runId: 'run-dead', startedAt: '2025-01-01T00:00:00Z' }),
    );
    const notes: string[] = [];
    const release2 = acquireOutDirLock(dir, 'run-c', (s) => notes.push(s));
    expect(notes.join('\n')).toMatch(new RegExp(`stale lock .*run-dead.*pid ${dead}`));
    expect(JSON.parse(fs.readFileSync(path.join(dir, OUT_DIR_LOCK), 'utf8'))).toMatchObject({
      pid: process.pid,
      runId: 'run-c',
    });
    release2();
  });

  test("run --out into a folder another run is writing exits 2 and leaves that run's files alone", async () => {
    const dir = path.join(tmp, 'busy');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'report.json'), 'the other run is writing this');
    fs.writeFileSync(
      path.join(dir, OUT_DIR_LOCK),
      JSON.stringify({
        pid: process.pid,
        host: os.hostname(),
        runId: 'other-run',
        startedAt: new Date().toISOString(),
      }),
    );
    const r = await runCli([
      'run',
      '--fixtures',
      fx,
      '--adapters',
      'reference',
      '--cases',
      'identity/inference',
      '--out',
      dir,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`other-run.*pid ${process.pid}`));
    expect(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')).toBe('the other run is writing this');
    fs.rmSync(path.join(dir, OUT_DIR_LOCK));
    const ok = await runCli([
      'run',
      '--fixtures',
      fx,
      '--adapters',
      'reference',
      '--cases',
      'identity/inference',
      '--out',
      dir,
    ]);
    expect(ok.code).toBe(0);
    expect(fs.existsSync(path.join(dir, OUT_DIR_LOCK))).toBe(false);
    expect(readReport(dir).summary.verdict).toBe('pass');
  }, 60_000);
});

describe('4. a parameter count that throws', () => {
  test('outputs exact, paramCount() throws: status error with the message (not fail-shape)', async () => {
    const r = await evaluateOn(new Planted('paramCount-throws'), 'planted-pc', 'identity/inference');
    expect(r.checks.find((c) => c.name === 'output')?.pass).toBe(true);
    expect(r.status).toBe('error');
    expect(r.reason).toContain('paramCount not supported by this runtime build');
  });
});

describe('5. non-finite metrics are said as NaN / Inf, with the error over the finite elements', () => {
  test('compareArrays: maxAbs NaN / Infinity, and finite: the error over the finite elements', () => {
    const tol = { atol: 1e-3, rtol: 0 };
    const nan = compareArrays(Float64Array.of(NaN, 1, 2), Float64Array.of(0, 1, 2.5), tol);
    expect(nan.maxAbs).toBe('NaN');
    expect(nan.maxRel).toBe('NaN');
    expect(nan.worst?.absErr).toBe('NaN');
    expect(nan.finite).toEqual({ n: 2, maxAbs: 0.5, maxRel: 0.2, maxUlp: expect.any(Number) });
    const inf = compareArrays(Float64Array.of(Infinity, 1), Float64Array.of(0, 1.25), tol);
    expect(inf.maxAbs).toBe('Infinity');
    expect(inf.finite).toMatchObject({ n: 1, maxAbs: 0.25 });
    const fine = compareArrays(Float64Array.of(1, 2), Float64Array.of(1, 2.5), tol);
    expect(fine.maxAbs).toBe(0.5);
    expect(fine.finite).toBeUndefined();
    expect(formatMetrics(nan)).toMatch(/maxAbs NaN/);
    expect(formatMetrics(nan)).toMatch(/over the 2 finite elements: maxAbs 0\.5/);
    expect(formatMetrics(nan)).not.toMatch(/null/);
  });

  test('a case with a NaN output: report metrics and reason say NaN and give the finite error; JSON keeps them', async () => {
    const r = await evaluateOn(new Planted('nan-output'), 'planted-nan', 'identity/inference');
    expect(r.status).toBe('fail-numeric');
    const out = r.checks.find((c) => c.name === 'output')!;
    expect(out.metrics?.maxAbs).toBe('NaN');
    expect(out.metrics?.finite?.maxAbs).toBe(0);
    expect(r.reason).toMatch(/maxAbs NaN/);
    expect(r.reason).not.toMatch(/null/);
    const back = JSON.parse(JSON.stringify(r)) as CaseResult;
    expect(back.checks.find((c) => c.name === 'output')!.metrics).toEqual(out.metrics);
    const report = sampleReport();
    report.results[0] = { ...r, adapter: 'alpha', case: 'resnet50/b1', part: 0 };
    const files = renderAll(report);
    expect(files['report.md']).toMatch(/NaN/);
    expect(files['junit.xml']).toMatch(/maxAbs NaN/);
    expect(files['junit.xml']).toMatch(/finite elements/);
  });

  test('older reports (schema 2, null = infinite or undefined) are still read and rendered', () => {
    const old = JSON.parse(JSON.stringify(sampleReport())) as Record<string, unknown>;
    old.schemaVersion = 2;
    const r = parseReport(JSON.stringify(old), 'old.json');
    expect(r.schemaVersion).toBe(REPORT_SCHEMA_VERSION);
    expect(r.results[3].checks.find((c) => c.name === 'output')!.metrics!.maxAbs).toBeNull();
    expect(() => renderAll(r)).not.toThrow();
  });
});

describe('6. compare across different fixture manifests', () => {
  test('warns, naming the cases that differ, were added or were removed', async () => {
    const a = sampleReport();
    const b = sampleReport();
    for (const r of [a, b]) r.cases.forEach((c) => (c.fixtureSha256 = `${c.id}`.padEnd(64, '0')));
    b.fixtures = { ...b.fixtures, sha256: 'b'.repeat(64) };
    b.cases[1] = { ...b.cases[1], fixtureSha256: 'f'.repeat(64) };
    b.cases[2] = { ...b.cases[2], id: 'block/new' };
    const d = diffReports(a, b, 2);
    expect(d.fixtureWarning).toMatch(/different fixture manifests/);
    expect(d.fixtureWarning).toMatch(/changed: block\/inference/);
    expect(d.fixtureWarning).toMatch(/only in the first: block\/training/);
    expect(d.fixtureWarning).toMatch(/only in the second: block\/new/);
    expect(diffReports(a, a, 2).fixtureWarning).toBeUndefined();
    const fa = path.join(tmp, 'cmp-a.json');
    const fb = path.join(tmp, 'cmp-b.json');
    fs.writeFileSync(fa, JSON.stringify(a));
    fs.writeFileSync(fb, JSON.stringify(b));
    const r = await runCli(['compare', fa, fb]);
    expect(r.stderr).toMatch(/warning: .*different fixture manifests.*changed: block\/inference/s);
  }, 60_000);

  test("the run records each case's fixture digest (what compare names the differing cases by)", async () => {
    const dir = path.join(tmp, 'digest-run');
    const r = await runCli(['run', '--fixtures', fx, '--adapters', 'reference', '--cases', 'identity/*', '--out', dir]);
    expect(r.code).toBe(0);
    const rep = readReport(dir);
    expect(rep.cases.map((c) => c.fixtureSha256)).toEqual([
      expect.stringMatching(/^[0-9a-f]{64}$/),
      expect.stringMatching(/^[0-9a-f]{64}$/),
    ]);
    expect(rep.cases[0].fixtureSha256).not.toBe(rep.cases[1].fixtureSha256);
  }, 60_000);
});

describe('the one status table', () => {
  test('the lists are derived from it: display order, run-failing, passing, within, comparison precedence', () => {
    expect(CASE_STATUSES).toEqual(Object.keys(STATUS_TABLE));
    expect(FAILING_STATUSES).toEqual([
      'regressed',
      'unexpected-match',
      'unexplained',
      'fail-numeric',
      'fail-shape',
      'error',
      'crashed',
      'timeout',
    ]);
    // a known divergence and a grown error are not failures of the case; nothing not run is a pass
    expect(CASE_STATUSES.filter((s) => statusInfo(s).passing)).toEqual(['pass', 'expected-divergence', 'regressed']);
    expect(CASE_STATUSES.filter((s) => statusInfo(s).passing && !statusInfo(s).within)).toEqual([
      'expected-divergence',
    ]);
    expect(['unavailable', 'skipped'].map((s) => statusRank(s as never))).toEqual([2, 2]);
    for (const s of FAILING_STATUSES.filter((x) => x !== 'regressed')) expect([s, statusRank(s)]).toEqual([s, 3]);
    for (const s of CASE_STATUSES) expect(statusInfo(s).description.length).toBeGreaterThan(20);
  });
});

/** The float64 reference with a planted error: +delta on one output element. */
class Shifted extends ReferenceAdapter {
  constructor(
    private readonly index: number,
    private readonly delta: number,
  ) {
    super({ precision: 'fp64' });
  }
  override async run(x: Tensor, opts: RunOptions): Promise<RunResult> {
    const r = await super.run(x, opts);
    const data = Float64Array.from(r.output.data);
    data[this.index] += this.delta;
    return { ...r, output: { shape: r.output.shape, data } };
  }
}

describe('the tolerance a comparison would have needed', () => {
  test('a planted error of 1e-3 on one element: report metrics hold delta - rtol*|expected| at the row rtol, and the failure says "needs atol"', async () => {
    const manifest = loadManifest(fx);
    const k = manifest.cases.find((c) => c.caseClass === 'block-inference' && c.expected.output && !c.weights)!;
    const delta = 1e-3;
    const r = await evaluateOn(new Shifted(3, delta), 'planted-shift', k.id);
    expect(r.status).toBe('fail-numeric');
    const out = r.checks.find((c) => c.name === 'output')!;
    const w = out.metrics!.worst!;
    expect(w.flatIndex).toBe(3);
    const rtol = out.tolerance!.rtol;
    const expected = w.expected as number;
    const need = out.metrics!.neededTolerance!;
    expect(need.rtol).toBe(rtol);
    // the reference is exact to ~1e-15 elsewhere: the planted element decides
    expect(need.atol as number).toBeCloseTo(delta - rtol * Math.abs(expected), 12);
    expect(r.reason).toMatch(/needs atol 9\.\d+e-4 at rtol 1\.000e-5/);
    // the passing checks carry it too (0 or a float64 rounding)
    for (const c of r.checks.filter((x) => x.pass && x.metrics))
      expect(c.metrics!.neededTolerance!.atol).toBeLessThan(1e-9);
  }, 120_000);

  test('HTML and JUnit show it for a check that has it', () => {
    const report = sampleReport();
    const failing = report.results.find((x) => x.checks.some((c) => !c.pass && c.metrics))!;
    const check = failing.checks.find((c) => !c.pass && c.metrics)!;
    check.metrics!.neededTolerance = { atol: 2.5e-4, rtol: 1e-5 };
    expect(renderHtml(report)).toContain('needs atol 2.500e-4 at rtol 1.000e-5');
    expect(renderJunit(report)).toContain('needs atol 2.500e-4 at rtol 1.000e-5');
  });
});
