/**
 * The conformance runner end to end (the real CLI in a child process) on a small synthetic fixture
 * set, against deliberately faulty test adapters: every status is reported and the run completes;
 * exit codes; determinism; baselines and `compare`; shards and `merge`; interruption; the timings
 * and perf section a run records; the weight cache; the per-layer diagnosis of failing cases in every
 * format; adapter entries' processEnv in their worker.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BENCH_KIND, BENCH_SCHEMA_VERSION } from '../src/bench/schema';
import { initModelWeights } from '../src/init';
import { formatNumber } from '../src/report/format';
import { readReport } from '../src/report/read';
import { VOLATILE_KEYS, type CaseResult, type ConformanceReport } from '../src/report/schema';
import { COMPLETE_MARKER } from '../src/report/write';
import type { FixtureCase, FixtureManifest } from '../src/golden/manifest';
import { caseRows } from '../src/golden/run-case';
import { filterCases, nearMisses } from '../src/runner/case-filter';
import { prepareSharedWeights } from '../src/runner/run';
import { exitReason, HUGE_PAGES_TUNABLE, workerEnv, workerUnits } from '../src/runner/orchestrator';
import { CaseTensorCache, executeCase, type EvaluationContext } from '../src/runner/execute-case';
import { loadCaseTensors, loadManifest } from '../src/golden/load';
import { ObservedAdapter } from '../src/adapters/observed-adapter';
import { ReferenceAdapter } from '../src/adapters/reference';
import { ADAPTERS, ADAPTERS as REGISTRY, REFERENCE_PROCESS_GROUP } from '../src/adapters/registry';
import { BROWSER_PROCESS_GROUP } from '../src/adapters/browser/host';
import type { AdapterEntry } from '../src/adapters/types';
import { historicalDurations, orderByHistory, typicalDurations } from '../src/runner/schedule';
import { allPairs, parseShard, shardPairs } from '../src/runner/shard';
import {
  WEIGHT_CACHE_ENV,
  cachedInitModelWeights,
  ensureCachedWeights,
  weightCacheDir,
} from '../src/init/weight-cache';
import { convolutionalBlock, identityBlock } from '../src/model/builders';
import type { ModelWeights } from '../src/model/types';
import { runCli, type CliResult } from './helpers/cli';
import {
  DEFAULT_FAULTY_LAYER,
  DRIFT_ENV,
  ENV_CHECK_VALUE,
  ENV_CHECK_VAR,
  FAULTY_LAYER_DELTA_ENV,
  FAULTY_LAYER_ENV,
  FaultyAdapter,
} from './helpers/faulty-adapter';
import { SYNTHETIC_BLOCK_CASES, writeSyntheticFixtures } from './helpers/synthetic-fixtures';
import { parseXml } from './helpers/xml';

let tmp: string;
let fx: string;
let synthetic: FixtureManifest;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-runner-'));
  fx = path.join(tmp, 'fixtures');
  synthetic = await writeSyntheticFixtures(fx);
}, 60_000);

/** The tightest atol a run applies to the synthetic block cases on an fp64-reference adapter (caseRows, as a run resolves them). */
function tightestBlockAtol(): number {
  const blocks = synthetic.cases.filter((k) => SYNTHETIC_BLOCK_CASES.includes(k.id));
  expect(blocks).toHaveLength(SYNTHETIC_BLOCK_CASES.length);
  return Math.min(...blocks.map((k) => caseRows(k, { adapter: 'reference', profile: 'fp64-reference' }).own.atol));
}

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function out(name: string): string {
  return path.join(tmp, 'out', name);
}

function statuses(report: ConformanceReport, adapter: string): string[] {
  return SYNTHETIC_BLOCK_CASES.map(
    (c) => report.results.find((r) => r.adapter === adapter && r.case === c)?.status ?? 'missing',
  );
}

function result(report: ConformanceReport, adapter: string, c: string): CaseResult {
  const r = report.results.find((x) => x.adapter === adapter && x.case === c);
  if (!r) throw new Error(`no result ${adapter} × ${c}`);
  return r;
}

/** The report with every volatile field (times, dates, run id, worker stderr) blanked. */
function normalized(report: ConformanceReport): unknown {
  return JSON.parse(JSON.stringify(report, (k, v) => (VOLATILE_KEYS.includes(k) ? '<volatile>' : v)));
}

describe('pure helpers', () => {
  test('--shard splits adapter × case pairs deterministically, disjoint and balanced', () => {
    const pairs = allPairs(['a', 'b', 'c'], ['1', '2', '3', '4', '5']);
    const shards = [1, 2, 3, 4].map((i) => shardPairs(pairs, { index: i, count: 4 }));
    expect(
      shards
        .flat()
        .map((p) => `${p.adapter}${p.case}`)
        .sort(),
    ).toEqual(pairs.map((p) => `${p.adapter}${p.case}`).sort());
    expect(Math.max(...shards.map((s) => s.length)) - Math.min(...shards.map((s) => s.length))).toBeLessThanOrEqual(1);
    expect(shardPairs(pairs, { index: 2, count: 4 })).toEqual(shards[1]);
    expect(() => parseShard('3/2')).toThrow(/1 <= i <= n/);
    expect(() => parseShard('1-2')).toThrow(/i\/n/);
  });

  test('--cases: globs match whole ids, plain text matches substrings, no match is a usage error', () => {
    const ids = ['resnet50/batch1/inference', 'resnet50/batch4/training', 'identity/inference'];
    expect(filterCases(ids, 'resnet50/*/training')).toEqual(['resnet50/batch4/training']);
    expect(filterCases(ids, 'inference')).toEqual(['resnet50/batch1/inference', 'identity/inference']);
    expect(filterCases(ids, 'identity*,batch4')).toEqual(['resnet50/batch4/training', 'identity/inference']);
    expect(() => filterCases(ids, 'nothing*')).toThrow(/matches no case; known cases: resnet50\/batch1\/inference/);
  });

  test('run --list prints the selected ids, and the ids a glob leaves out although they hold its parts', async () => {
    const ids = [
      'resnet50/b1/inference',
      'resnet50-float64/b1/training',
      'perturbed/resnet50/b2/inference',
      'identity/x',
    ];
    expect(nearMisses(ids, 'resnet50/*')).toEqual(['resnet50-float64/b1/training', 'perturbed/resnet50/b2/inference']);
    expect(nearMisses(ids, 'resnet50')).toEqual([]); // a plain pattern matches anywhere already
    expect(nearMisses(ids, undefined)).toEqual([]);
    expect(nearMisses(ids, '*/inference')).toEqual([]);

    const r = await runCli(['run', '--list', '--cases', 'resnet50/*']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'resnet50/batch1/inference',
      'resnet50/batch1/training',
      'resnet50/batch4/inference',
      'resnet50/batch4/training',
    ]);
    expect(r.stderr).toMatch(/^4 of \d+ case\(s\) selected by --cases 'resnet50\/\*'\n/);
    expect(r.stderr).toContain('not selected, although near the pattern');
    expect(r.stderr).toContain('  resnet50-float64/batch1/training\n');
    const all = await runCli(['run', '--list', '--fixtures', fx]);
    expect(all.stdout.trim().split('\n')).toEqual(SYNTHETIC_BLOCK_CASES);
    expect(all.stderr).not.toContain('near');
  });

  test("workers start slowest-first by the last run's durations; unknown adapters first; no report: typical durations", () => {
    const jobs = ['a', 'b', 'c', 'd'].map((id) => ({ entry: { id } }));
    const ids = (js: typeof jobs) => js.map((j) => j.entry.id);
    expect(ids(orderByHistory(jobs, new Map()))).toEqual(['a', 'b', 'c', 'd']);
    expect(
      ids(
        orderByHistory(
          jobs,
          new Map([
            ['a', 10],
            ['c', 300],
            ['d', 20],
          ]),
        ),
      ),
    ).toEqual(['b', 'c', 'd', 'a']);
    // No report to learn from (fresh clone): the typical durations measured here.
    const typical = typicalDurations();
    expect(historicalDurations(path.join(tmp, 'no-such-dir'))).toEqual(typical);
    // Read from the registry entries: the slowest default adapter (tfjs-cpu on ResNet-50) starts first.
    expect(typical.get('tfjs-cpu')).toBe(Math.max(...typical.values()));
    const defaults = REGISTRY.filter((e) => e.outOfTheBox).map((entry) => ({ entry }));
    expect(orderByHistory(defaults, typical).filter((j) => typical.has(j.entry.id))[0].entry.id).toBe('tfjs-cpu');
  });

  test('worker exit reasons name the crash kind, including out of memory', () => {
    const base = { fatal: undefined, tail: '' };
    expect(exitReason({ ...base, code: null, signal: 'SIGSEGV' })).toMatch(/SIGSEGV \(segmentation fault/);
    expect(
      exitReason({
        ...base,
        code: null,
        signal: 'SIGABRT',
        tail: 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      }),
    ).toMatch(/SIGABRT \(out of memory\)/);
    expect(exitReason({ ...base, code: null, signal: 'SIGKILL' })).toMatch(/out-of-memory killer/);
    expect(exitReason({ ...base, code: 134, signal: null, tail: 'JavaScript heap out of memory' })).toMatch(
      /ran out of memory/,
    );
    expect(exitReason({ ...base, code: 1, signal: null, fatal: 'Error: boom\n    at x' })).toBe(
      'uncaught exception in the worker: Error: boom',
    );
  });
});

describe('run against faulty adapters', () => {
  const ADAPTERS = [
    'reference',
    'faulty-segv',
    'faulty-abort',
    'faulty-exit',
    'faulty-uncaught',
    'faulty-hang',
    'faulty-throw',
    'faulty-build-throw',
    'faulty-nan',
    'faulty-shape',
    'faulty-values',
    'faulty-unavailable',
  ];
  let res: CliResult;
  let report: ConformanceReport;
  const dir = () => out('faulty');

  beforeAll(async () => {
    res = await runCli([
      'run',
      '--fixtures',
      fx,
      '--adapters',
      ADAPTERS.join(','),
      '--timeout',
      '10',
      '--jobs',
      '2',
      '--out',
      dir(),
    ]);
    report = readReport(dir());
  }, 180_000);

  test('the run completes: exit 1, all four formats and the completion marker', () => {
    expect(res.code).toBe(1);
    expect(fs.readdirSync(dir()).sort()).toEqual([
      COMPLETE_MARKER,
      'junit.xml',
      'report.html',
      'report.json',
      'report.md',
    ]);
    expect(report.results).toHaveLength(ADAPTERS.length * SYNTHETIC_BLOCK_CASES.length);
    expect(report.adapters.map((a) => a.id)).toEqual(['reference', ...ADAPTERS.slice(1)]);
    // Non-TTY progress: one line per adapter.
    for (const a of ADAPTERS) expect(res.stdout).toMatch(new RegExp(`^${a}: `, 'm'));
    const junit = parseXml(fs.readFileSync(path.join(dir(), 'junit.xml'), 'utf8'));
    expect(junit.children.filter((c) => c.name === 'testsuite')).toHaveLength(ADAPTERS.length);
  });

  test('reference passes every case, with metrics, tolerance (with reason) and timings', () => {
    expect(statuses(report, 'reference')).toEqual(['pass', 'pass', 'pass', 'pass']);
    for (const c of SYNTHETIC_BLOCK_CASES) {
      const r = result(report, 'reference', c);
      expect(r.metrics).toMatchObject({ maxAbs: 0, maxRel: 0, maxUlp: 0, mismatches: 0, mismatchPct: 0 });
      expect(r.metrics!.worst).not.toBeNull();
      expect(r.tolerance).toMatchObject({ caseClass: expect.stringMatching(/^block-/), profile: 'fp64-reference' });
      expect(typeof r.tolerance!.reason).toBe('string');
      expect(r.timings!.runMs).toBeGreaterThan(0);
      expect(r.checks.map((x) => x.name)).toEqual(['output', 'check:nonnegative', 'paramCount']);
    }
    // One build per model: the second case of each model reuses it.
    expect(SYNTHETIC_BLOCK_CASES.map((c) => result(report, 'reference', c).modelReused)).toEqual([
      false,
      true,
      false,
      true,
    ]);
  });

  test('the run records its phases (parent, workers, per case) and renders them as the perf section', () => {
    const t = report.parts[0].timings!;
    expect(t.startupMs).toBeGreaterThan(0);
    expect(t.fixturesMs).toBeGreaterThan(0);
    expect(t.adaptersMs).toBeGreaterThan(0);
    expect(t.adaptersMs).toBeLessThanOrEqual(report.parts[0].durationMs);
    expect(t.reportMs).toBeGreaterThan(0);
    // One worker start-up per worker process that got going (crashed adapters start two).
    expect(t.workerStartupMs).toBeGreaterThan(0);
    expect(t.weightsMs).toBeGreaterThanOrEqual(0); // blocks are below the cache's size: nothing to prepare
    for (const c of SYNTHETIC_BLOCK_CASES) {
      const x = result(report, 'reference', c).timings!;
      expect(x.fixtureMs).toBeGreaterThanOrEqual(0);
      expect(x.initMs).toBeGreaterThanOrEqual(0);
      expect(x.initMs!).toBeLessThanOrEqual(x.buildMs);
      if (x.buildMs === 0) expect(x.initMs).toBe(0); // model reused: neither built nor initialized
    }
    const h = report.perf!.harness!;
    expect(h.missing).toEqual([]);
    expect(h.phases.reportMs).toBe(t.reportMs);
    expect(h.phases.startupMs).toBeCloseTo(t.startupMs + t.workerStartupMs, 6);
    // The worker's exit is recorded for the adapter whose time runs to it; a worker that died sent no 'done'.
    const ref = report.adapters.find((a) => a.id === 'reference')!;
    expect(ref.exitMs).toBeGreaterThan(0);
    expect(ref.exitMs!).toBeLessThan(ref.durationMs);
    expect(h.byAdapter.find((a) => a.adapter === 'reference')!.exitMs).toBe(ref.exitMs);
    expect(report.adapters.find((a) => a.id === 'faulty-segv')!.exitMs).toBe(0);
    expect(report.perf!.bench).toBeNull();
    // Without a bench, only the harness's own cost: closed, for the harness's developers.
    expect(fs.readFileSync(path.join(dir(), 'report.md'), 'utf8')).toContain('<details><summary>Harness overhead (');
    expect(fs.readFileSync(path.join(dir(), 'report.html'), 'utf8')).toContain('<section id="performance">');
  });

  test.each([
    ['faulty-segv', /SIGSEGV \(segmentation fault/],
    ['faulty-abort', /SIGABRT/],
    ['faulty-exit', /exited with code 3/],
    ['faulty-uncaught', /uncaught exception in the worker: Error: injected uncaught exception/],
  ])('%s: the crashing case is "crashed", the others still run in a fresh worker', (id, reason) => {
    expect(statuses(report, id)).toEqual(['pass', 'crashed', 'pass', 'crashed']);
    expect(result(report, id, 'identity/training').reason).toMatch(reason);
    expect(result(report, id, 'conv/training').reason).toMatch(reason);
    // The first worker died in identity/training; the second ran conv/inference and died in conv/training.
    const a = report.adapters.find((x) => x.id === id)!;
    expect(a.worker!.processes).toBe(2);
    expect(a.worker!.exits.map((e) => e.reason)).toEqual([
      expect.stringMatching(reason),
      expect.stringMatching(reason),
    ]);
  });

  test('faulty-hang: the hanging case is "timeout", the rest "skipped" with the reason', () => {
    expect(statuses(report, 'faulty-hang')).toEqual(['pass', 'timeout', 'skipped', 'skipped']);
    expect(result(report, 'faulty-hang', 'identity/training').reason).toMatch(/10 s budget/);
    expect(result(report, 'faulty-hang', 'conv/inference').reason).toMatch(
      /not run: .* ran out during case identity\/training/,
    );
  });

  test('exceptions from run() and build() are "error" with the message', () => {
    expect(statuses(report, 'faulty-throw')).toEqual(['error', 'error', 'error', 'error']);
    expect(result(report, 'faulty-throw', 'conv/inference').reason).toBe('run failed: injected run failure');
    expect(statuses(report, 'faulty-build-throw')).toEqual(['error', 'error', 'error', 'error']);
    expect(result(report, 'faulty-build-throw', 'identity/inference').reason).toBe(
      'build failed: injected build failure',
    );
  });

  test('NaN output and wrong values are "fail-numeric"; a wrong shape is "fail-shape"', () => {
    expect(statuses(report, 'faulty-nan')).toEqual(['fail-numeric', 'fail-numeric', 'fail-numeric', 'fail-numeric']);
    const nan = result(report, 'faulty-nan', 'conv/inference');
    // Said as NaN (not null), with the error over the finite elements (exact: faulty-nan wraps the reference).
    expect(nan.metrics).toMatchObject({ nanActual: 1, mismatches: 1, maxAbs: 'NaN', finite: { maxAbs: 0 } });
    expect(nan.metrics!.worst).toMatchObject({ actual: 'NaN', index: [0, 0, 0, 0] });

    expect(statuses(report, 'faulty-values')).toEqual(['fail-numeric', 'fail-numeric', 'fail-numeric', 'fail-numeric']);
    expect(result(report, 'faulty-values', 'identity/inference').metrics!.maxRel).toBeCloseTo(0.01, 6);

    expect(statuses(report, 'faulty-shape')).toEqual(['fail-shape', 'fail-shape', 'fail-shape', 'fail-shape']);
    const shape = result(report, 'faulty-shape', 'conv/inference');
    expect(shape.checks[0]).toMatchObject({
      name: 'output',
      pass: false,
      actualShape: [2, 2, 2, 5],
      expectedShape: [2, 2, 2, 6],
    });
  });

  test('an unavailable adapter is "unavailable" with reason and fix, and (requested by name) fails the run', () => {
    expect(statuses(report, 'faulty-unavailable')).toEqual([
      'unavailable',
      'unavailable',
      'unavailable',
      'unavailable',
    ]);
    const a = report.adapters.find((x) => x.id === 'faulty-unavailable')!;
    expect(a).toMatchObject({
      available: false,
      unavailableReason: 'injected: this runtime is not installed',
      fix: 'nothing to fix: a test adapter',
      explicitlyRequested: true,
    });
    expect(report.summary.requiredUnavailable).toBe(4);
  });

  test('run info: OS, CPU, Node, packages, GPU note, precision of each adapter that answered describe()', () => {
    const env = report.parts[0].environment;
    expect(env.cpu.cores).toBeGreaterThan(0);
    expect(env.node.version).toBe(process.version);
    expect(Object.keys(env.packages)).toEqual(expect.arrayContaining(['onnxruntime-node', '@tensorflow/tfjs']));
    expect(env.precision.reference).toMatchObject({ precision: expect.any(String) });
    expect(env.precision['faulty-unavailable']).toBeUndefined();
  });
});

describe('out of memory', () => {
  test('a worker that exhausts the V8 heap is "crashed" with an out-of-memory reason; the run goes on', async () => {
    const r = await runCli(['run', '--fixtures', fx, '--adapters', 'faulty-oom,reference', '--out', out('oom')], {
      NODE_OPTIONS: '--max-old-space-size=160',
    });
    expect(r.code).toBe(1);
    const report = readReport(out('oom'));
    expect(statuses(report, 'faulty-oom')).toEqual(['pass', 'crashed', 'pass', 'crashed']);
    expect(result(report, 'faulty-oom', 'identity/training').reason).toMatch(/out of memory/);
    expect(statuses(report, 'reference')).toEqual(['pass', 'pass', 'pass', 'pass']);
  }, 120_000);
});

describe('exit codes', () => {
  test('0 when everything passes', async () => {
    const r = await runCli(['run', '--fixtures', fx, '--adapters', 'reference', '--out', out('ok')]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^PASS: 4 results \(4 pass\)/m);
  }, 60_000);

  test('2 for an unknown adapter, listing the known ones', async () => {
    const r = await runCli(['run', '--fixtures', fx, '--adapters', 'reference,nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown adapter 'nope'; known adapters: reference, reference-fp32/);
  }, 30_000);

  test('2 for a bad fixture, naming the file', async () => {
    const bad = path.join(tmp, 'bad-fixtures');
    fs.cpSync(fx, bad, { recursive: true });
    fs.appendFileSync(path.join(bad, 'data', 'conv-inference', 'output.npy'), Buffer.from([0]));
    const r = await runCli(['run', '--fixtures', bad, '--adapters', 'reference', '--out', out('bad-fixture')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad fixtures: .*conv\/inference.*data\/conv-inference\/output\.npy: wrong digest/);
    expect(fs.existsSync(out('bad-fixture'))).toBe(false);
  }, 30_000);

  test('2 for an unreadable baseline, a bad --shard, a --cases pattern matching nothing', async () => {
    const missing = await runCli([
      'run',
      '--fixtures',
      fx,
      '--adapters',
      'reference',
      '--baseline',
      path.join(tmp, 'nope.json'),
    ]);
    expect([missing.code, missing.stderr]).toEqual([
      2,
      expect.stringMatching(/--baseline: report .*nope\.json: no such file/),
    ]);
    const junk = path.join(tmp, 'junk.json');
    fs.writeFileSync(junk, '{"not": "a report"}');
    const notReport = await runCli(['run', '--fixtures', fx, '--adapters', 'reference', '--baseline', junk]);
    expect([notReport.code, notReport.stderr]).toEqual([2, expect.stringMatching(/no schemaVersion/)]);
    const shard = await runCli(['run', '--fixtures', fx, '--shard', '0/2']);
    expect([shard.code, shard.stderr]).toEqual([2, expect.stringMatching(/--shard 0\/2: need 1 <= i <= n/)]);
    const cases = await runCli([
      'run',
      '--fixtures',
      fx,
      '--adapters',
      'reference',
      '--cases',
      'zzz*',
      '--out',
      out('nocases'),
    ]);
    expect([cases.code, cases.stderr]).toEqual([2, expect.stringMatching(/--cases 'zzz\*' matches no case/)]);
  }, 60_000);
});

describe('run --bench', () => {
  test('embeds the digest of a bench result in the perf section; an unreadable one is a usage error (2, no run)', async () => {
    const bench = path.join(tmp, 'bench.json');
    fs.writeFileSync(
      bench,
      JSON.stringify({
        kind: BENCH_KIND,
        schemaVersion: BENCH_SCHEMA_VERSION,
        createdAt: '2025-03-04T05:06:07.000Z',
        environment: { cpu: { model: 'Bench CPU', cores: 2 } },
        model: { flopsPerImage: 616357888 },
        ceiling: null,
        adapters: [],
      }),
    );
    const r = await runCli([
      'run',
      '--fixtures',
      fx,
      '--adapters',
      'reference',
      '--bench',
      bench,
      '--out',
      out('with-bench'),
    ]);
    expect(r.code).toBe(0);
    const rep = readReport(out('with-bench'));
    expect(rep.perf!.bench).toMatchObject({
      source: bench,
      cpu: 'Bench CPU',
      createdAt: '2025-03-04T05:06:07.000Z',
      rows: [],
    });
    expect(fs.readFileSync(path.join(out('with-bench'), 'report.md'), 'utf8')).toContain('Bench CPU');

    const missing = await runCli([
      'run',
      '--fixtures',
      fx,
      '--adapters',
      'reference',
      '--bench',
      path.join(tmp, 'nope.json'),
      '--out',
      out('bad-bench'),
    ]);
    expect([missing.code, missing.stderr]).toEqual([
      2,
      expect.stringMatching(/--bench: cannot read bench result .*nope\.json/),
    ]);
    const notBench = await runCli([
      'run',
      '--fixtures',
      fx,
      '--adapters',
      'reference',
      '--bench',
      path.join(out('with-bench'), 'report.json'),
      '--out',
      out('bad-bench'),
    ]);
    expect([notBench.code, notBench.stderr]).toEqual([2, expect.stringMatching(/is not a bench result/)]);
    expect(fs.existsSync(out('bad-bench'))).toBe(false);
  }, 60_000);
});

describe('weight cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(tmp, 'wcache-'));
  });

  function expectSameWeights(a: ModelWeights, b: ModelWeights): void {
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [layer, list] of a) {
      const other = b.get(layer)!;
      expect(other.map((w) => [w.name, w.shape, w.trainable])).toEqual(list.map((w) => [w.name, w.shape, w.trainable]));
      list.forEach((w, i) =>
        expect(
          Buffer.from(other[i].data.buffer, other[i].data.byteOffset, other[i].data.byteLength).equals(
            Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength),
          ),
        ).toBe(true),
      );
    }
  }
  const files = () => fs.readdirSync(dir).filter((f) => f.endsWith('.bin'));

  test('stores, then reads back bit-identical weights; each tensor its own array', () => {
    const spec = identityBlock(3, [4, 4, 3]);
    const first = cachedInitModelWeights(spec, { dir, minParams: 0 });
    expect(first.source).toBe('computed');
    expect(files()).toHaveLength(1);
    const second = cachedInitModelWeights(spec, { dir, minParams: 0 });
    expect(second.source).toBe('cache');
    expectSameWeights(second.weights, initModelWeights(spec));
    // Writing one tensor leaves the others alone.
    const [k0, k1] = second.weights.get('conv2d')!;
    const before = Array.from(k1.data);
    k0.data.fill(42);
    expect(Array.from(k1.data)).toEqual(before);
    // Another spec is another entry.
    expect(cachedInitModelWeights(convolutionalBlock(2, [2, 4, 6], 2), { dir, minParams: 0 }).source).toBe('computed');
    expect(files()).toHaveLength(2);
  });

  test('a corrupted or truncated entry is ignored and recomputed; small models and a disabled cache write nothing', () => {
    const spec = identityBlock(3, [4, 4, 3]);
    cachedInitModelWeights(spec, { dir, minParams: 0 });
    const file = path.join(dir, files()[0]);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3] ^= 0x40; // one bit of the last weight
    fs.writeFileSync(file, bytes);
    const again = cachedInitModelWeights(spec, { dir, minParams: 0 });
    expect(again.source).toBe('computed');
    expectSameWeights(again.weights, initModelWeights(spec));
    expect(cachedInitModelWeights(spec, { dir, minParams: 0 }).source).toBe('cache'); // rewritten
    fs.truncateSync(file, fs.statSync(file).size - 4);
    expect(cachedInitModelWeights(spec, { dir, minParams: 0 }).source).toBe('computed');

    const small = fs.mkdtempSync(path.join(tmp, 'wcache-small-'));
    expect(cachedInitModelWeights(spec, { dir: small }).source).toBe('computed'); // below CACHE_MIN_PARAMS
    expect(fs.readdirSync(small)).toEqual([]);
    expect(cachedInitModelWeights(spec, { dir: null, minParams: 0 }).source).toBe('computed');
  });

  test('ensureCachedWeights stores a missing entry once, then finds it from its header; a damaged entry is redone', () => {
    const spec = convolutionalBlock(3, [2, 4, 6], 2);
    expect(ensureCachedWeights(spec, { dir, minParams: 0 })).toBe('stored');
    expect(files()).toHaveLength(1);
    const file = path.join(dir, files()[0]);
    const mtime = fs.statSync(file).mtimeMs;
    expect(ensureCachedWeights(spec, { dir, minParams: 0 })).toBe('present');
    expect(fs.statSync(file).mtimeMs).toBe(mtime);
    const read = cachedInitModelWeights(spec, { dir, minParams: 0 });
    expect(read.source).toBe('cache'); // the stored entry passes the reader's checksum
    expectSameWeights(read.weights, initModelWeights(spec));
    fs.truncateSync(file, fs.statSync(file).size - 4);
    expect(ensureCachedWeights(spec, { dir, minParams: 0 })).toBe('stored');
    expect(cachedInitModelWeights(spec, { dir, minParams: 0 }).source).toBe('cache');
    fs.writeFileSync(file, 'RCWEIGHTS1\n\xff\xff');
    expect(ensureCachedWeights(spec, { dir, minParams: 0 })).toBe('stored');
    expect(ensureCachedWeights(spec, { dir })).toBe('not-cached'); // below CACHE_MIN_PARAMS
    expect(ensureCachedWeights(spec, { dir: null, minParams: 0 })).toBe('not-cached');
    expect(files()).toHaveLength(1);
  });

  test('a run prepares, before its workers, only the weights two or more adapter jobs build', () => {
    const k = (id: string, model: object) => ({ id, model }) as unknown as FixtureCase;
    const shared = { model: 'convolutional_block', f: 3, filters: [2, 4, 6], s: 2, inputShape: [5, 5, 3] };
    const single = { model: 'identity_block', f: 3, filters: [4, 4, 3], inputShape: [4, 4, 3] };
    const cases = [k('a/inference', shared), k('a/training', shared), k('b', single)];
    const out = prepareSharedWeights(
      [{ cases: ['a/inference', 'a/training', 'b'] }, { cases: ['a/training'] }],
      cases,
      { dir, minParams: 0 },
    );
    expect(out.map((o) => [o.jobs, o.outcome])).toEqual([
      [2, 'stored'],
      [1, 'one-job'],
    ]);
    expect(files()).toHaveLength(1);
    expect(
      prepareSharedWeights([{ cases: ['a/inference'] }, { cases: ['a/training'] }], cases, { dir, minParams: 0 })[0]
        .outcome,
    ).toBe('present');
    expect(
      prepareSharedWeights([{ cases: ['a/inference'] }, { cases: ['a/training'] }], cases, { dir })[0].outcome,
    ).toBe('not-cached');
  });

  test('entries of other initializer sources are removed; the directory comes from the environment', () => {
    const stale = path.join(dir, '0123456789abcdef-00000000000000000000000000000000.bin');
    fs.writeFileSync(stale, 'old');
    cachedInitModelWeights(identityBlock(3, [4, 4, 3]), { dir, minParams: 0 });
    expect(fs.existsSync(stale)).toBe(false);
    expect(files()).toHaveLength(1);
    expect(weightCacheDir({ [WEIGHT_CACHE_ENV]: 'off' })).toBeNull();
    expect(weightCacheDir({ [WEIGHT_CACHE_ENV]: dir })).toBe(dir);
    expect(weightCacheDir({})).toMatch(/node_modules[\\/]\.cache[\\/]resnet-conformance[\\/]weights$/);
  });
});

describe('determinism', () => {
  test('two runs give identical reports apart from times, dates and the run id', async () => {
    const args = ['run', '--fixtures', fx, '--adapters', 'reference,faulty-nan,faulty-segv,faulty-unavailable'];
    const a = await runCli([...args, '--out', out('det-a')]);
    const b = await runCli([...args, '--out', out('det-b')]);
    expect([a.code, b.code]).toEqual([1, 1]);
    const ra = readReport(out('det-a'));
    const rb = readReport(out('det-b'));
    expect(ra.createdAt).not.toBe(undefined);
    expect(normalized(ra)).toEqual(normalized(rb));
    // The volatile fields are really there (the comparison above is not vacuous).
    expect(ra.results[0].timings!.runMs).toBeGreaterThan(0);
  }, 120_000);
});

describe('baseline and compare', () => {
  const drift = (d: number) => ({ [DRIFT_ENV]: String(d) });
  const adapters = ['--adapters', 'reference,faulty-drift'];
  // Drifts inside the tightest atol of the synthetic cases' rows (outputs include exact zeros, so
  // atol alone must cover the drift), whatever the tolerance table says today.
  let atol = 0;
  let small = 0;
  let grownBy10 = 0;
  beforeAll(() => {
    atol = tightestBlockAtol();
    small = atol / 1000;
    grownBy10 = atol / 100;
  });

  test('error growth beyond the factor is "regressed"; a newly failing case is flagged; compare lists both', async () => {
    expect(atol).toBeGreaterThan(0);
    const base = await runCli(['run', '--fixtures', fx, ...adapters, '--out', out('base')], drift(small));
    expect(base.code).toBe(0);

    const grown = await runCli(
      ['run', '--fixtures', fx, ...adapters, '--baseline', out('base'), '--out', out('grown')],
      drift(grownBy10),
    );
    expect(grown.code).toBe(1);
    const g = readReport(out('grown'));
    expect(statuses(g, 'faulty-drift')).toEqual(['regressed', 'regressed', 'regressed', 'regressed']);
    expect(statuses(g, 'reference')).toEqual(['pass', 'pass', 'pass', 'pass']);
    const r = result(g, 'faulty-drift', 'identity/inference');
    expect(r.regression).toMatchObject({ kind: 'error-growth', baselineStatus: 'pass', check: 'output', factor: 2 });
    expect(r.regression!.growth).toBeCloseTo(10, 3);
    expect(g.baseline).toMatchObject({ regressed: 4, newlyFailing: 0, newPairs: 0, missingPairs: 0 });

    const tolerant = await runCli(
      [
        'run',
        '--fixtures',
        fx,
        ...adapters,
        '--baseline',
        out('base'),
        '--regression-factor',
        '20',
        '--out',
        out('tolerant'),
      ],
      drift(grownBy10),
    );
    expect(tolerant.code).toBe(0);

    const broken = await runCli(
      [
        'run',
        '--fixtures',
        fx,
        ...adapters,
        '--baseline',
        path.join(out('base'), 'report.json'),
        '--out',
        out('broken'),
      ],
      drift(0.1),
    );
    expect(broken.code).toBe(1);
    const b = readReport(out('broken'));
    expect(statuses(b, 'faulty-drift')).toEqual(['fail-numeric', 'fail-numeric', 'fail-numeric', 'fail-numeric']);
    expect(result(b, 'faulty-drift', 'conv/training').regression).toMatchObject({
      kind: 'newly-failing',
      baselineStatus: 'pass',
    });
    expect(fs.readFileSync(path.join(out('broken'), 'report.md'), 'utf8')).toContain('🆕');

    const cmp = await runCli(['compare', out('base'), out('grown')]);
    expect(cmp.code).toBe(1);
    expect(cmp.stdout).toContain(
      `! faulty-drift × identity/inference: error grew — output: max abs error ${formatNumber(r.checks[0].metrics!.maxAbs)} is 10× the baseline's`,
    );
    const cmp2 = await runCli(['compare', out('base'), out('broken')]);
    expect(cmp2.stdout).toMatch(/! faulty-drift × conv\/training: pass → fail-numeric/);
    const same = await runCli(['compare', out('base'), out('base')]);
    expect([same.code, same.stdout]).toEqual([0, expect.stringContaining('no differences')]);
  }, 180_000);
});

describe('a case that regressed but stays within tolerance', () => {
  // faulty-layer adds a constant to one layer's output: small enough that every output stays inside
  // the tightest atol of the synthetic rows, and 10× larger in the second run than in the baseline.
  let atol = 0;
  beforeAll(() => {
    atol = tightestBlockAtol();
  });
  const layerRun = (delta: number, extra: string[], dir: string) =>
    runCli(
      ['run', '--fixtures', fx, '--adapters', 'faulty-layer', '--cases', '*/inference', ...extra, '--out', out(dir)],
      {
        [FAULTY_LAYER_DELTA_ENV]: String(delta),
      },
    );

  test('is diagnosed, and report.md, junit.xml, the terminal and report.html name its layer and the baseline ratio', async () => {
    const base = await layerRun(atol / 1e6, [], 'layer-base');
    expect(base.code).toBe(0);
    const baseReport = readReport(out('layer-base'));
    // Passing cases of a run without a baseline are not diagnosed.
    expect(baseReport.results.map((r) => [r.status, r.diagnosis === undefined])).toEqual([
      ['pass', true],
      ['pass', true],
    ]);

    const grown = await layerRun(atol / 1e5, ['--baseline', out('layer-base')], 'layer-grown');
    expect(grown.code).toBe(1);
    const rep = readReport(out('layer-grown'));
    for (const r of rep.results) {
      expect(r.status).toBe('regressed');
      expect(r.diagnosisError).toBeUndefined();
      expect(r.diagnosis?.adapter).toBe('faulty-layer');
      // The reason says how it regressed without repeating the status.
      expect(r.reason).toMatch(
        /^still within tolerance, but output: max abs error \S+ is \S+× the baseline's \S+ \(factor 2\)$/,
      );
    }
    const layer = `${DEFAULT_FAULTY_LAYER} (BatchNormalization, bn 2)`;
    const md = fs.readFileSync(path.join(out('layer-grown'), 'report.md'), 'utf8');
    const section = md.slice(md.indexOf('### Per-layer diagnosis ('));
    expect(section).toMatch(/^### Per-layer diagnosis \(2\)/);
    expect(section).toContain(`\`conv/inference\` — first diverging layer: ${layer}`);
    expect(md).toMatch(/\| 📈 \S+ \(baseline \S+, \d+(\.\d+)?×\) \|/);
    expect(md).not.toMatch(/regressed: regressed/);
    const junit = parseXml(fs.readFileSync(path.join(out('layer-grown'), 'junit.xml'), 'utf8'));
    const failures = junit.children
      .find((x) => x.name === 'testsuite' && x.attrs.name === 'faulty-layer')!
      .children.filter((x) => x.name === 'testcase')
      .map((tc) => tc.children.find((x) => x.name === 'failure')!);
    expect(failures.map((f) => f.attrs.message.endsWith(`— first diverging layer: ${layer}`))).toEqual([true, true]);
    expect(grown.stdout).toContain(
      `faulty-layer × conv/inference: regressed — first diverging layer: ${layer} — still within tolerance`,
    );
    // The adapter's progress line counts as the summary line does (the baseline is applied at the end).
    expect(grown.stdout).toMatch(/^faulty-layer: 2 regressed \[/m);
    expect(grown.stdout).toMatch(/^FAIL: 2 results \(2 regressed\)/m);
    const html = fs.readFileSync(path.join(out('layer-grown'), 'report.html'), 'utf8');
    expect(html).toMatch(/<span class="small baseline">baseline \S+, \d+(\.\d+)?×<\/span>/);
    expect(html).toMatch(
      /Against the baseline: error growth in output: max abs error \S+, \d+(\.\d+)?× the baseline&apos;s \S+ \(allowed factor 2×; baseline status pass\)/,
    );
    expect(html).not.toContain('Regression against the baseline: error-growth');
  }, 180_000);
});

describe('shards and merge', () => {
  test('shards 1/2 + 2/2 merged equal the unsharded run; overlapping parts are refused', async () => {
    const args = ['run', '--fixtures', fx, '--adapters', 'reference,faulty-values,faulty-unavailable'];
    const [whole, s1, s2] = await Promise.all([
      runCli([...args, '--out', out('whole')]),
      runCli([...args, '--shard', '1/2', '--out', out('s1')]),
      runCli([...args, '--shard', '2/2', '--out', out('s2')]),
    ]);
    expect([whole.code, s1.code, s2.code]).toEqual([1, 1, 1]);
    const r1 = readReport(out('s1'));
    const r2 = readReport(out('s2'));
    expect(r1.results.length + r2.results.length).toBe(12);
    expect(Math.abs(r1.results.length - r2.results.length)).toBeLessThanOrEqual(1);

    const m = await runCli(['merge', out('s1'), out('s2'), '--out', out('merged')]);
    expect(m.code).toBe(1);
    const merged = readReport(out('merged'));
    // Which worker built the model first (modelReused) and times depend on the split; the rest must not.
    const strip = (r: ConformanceReport) =>
      r.results.map(({ part: _p, timings: _t, modelReused: _m, diagnosis, ...rest }) =>
        diagnosis ? { ...rest, diagnosis: { ...diagnosis, timingsMs: null } } : rest,
      );
    expect(strip(merged)).toEqual(strip(readReport(out('whole'))));
    expect(merged.parts.map((p) => p.options.shard)).toEqual([
      { index: 1, count: 2 },
      { index: 2, count: 2 },
    ]);
    expect(new Set(merged.results.map((r) => r.part))).toEqual(new Set([0, 1]));
    expect(merged.summary).toEqual(readReport(out('whole')).summary);

    const overlap = await runCli(['merge', out('s1'), out('s1'), '--out', out('overlap')]);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toMatch(/is in both .*s1 and .*s1: parts must be disjoint/);
  }, 120_000);
});

describe('interruption', () => {
  test('an interrupted run leaves no report that looks complete', async () => {
    const dir = out('interrupted');
    // A complete report from an earlier run in the same directory...
    const first = await runCli(['run', '--fixtures', fx, '--adapters', 'reference', '--out', dir]);
    expect(first.code).toBe(0);
    expect(fs.existsSync(path.join(dir, COMPLETE_MARKER))).toBe(true);
    // ...then a run into it that is interrupted while a worker hangs.
    // Interrupt once the run has started (its first line is printed after the SIGINT handler is
    // installed) and the worker had time to reach the hanging case.
    const r = await runCli(
      ['run', '--fixtures', fx, '--adapters', 'faulty-hang', '--timeout', '120', '--out', dir],
      {},
      (child) => {
        let sent = false;
        child.stdout!.on('data', (d: Buffer) => {
          if (!sent && d.toString().includes('resnet-conformance run')) {
            sent = true;
            setTimeout(() => child.kill('SIGINT'), 3000);
          }
        });
      },
    );
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    expect(fs.existsSync(path.join(dir, COMPLETE_MARKER))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'report.json'))).toBe(false);
    expect(() => readReport(dir)).toThrow(/no report\.json/);
  }, 60_000);
});

describe('per-layer diagnosis of failing cases', () => {
  let res: CliResult;
  let report: ConformanceReport;
  const dir = () => out('diagnosed');
  const read = (f: string) => fs.readFileSync(path.join(dir(), f), 'utf8');

  beforeAll(async () => {
    res = await runCli(['run', '--fixtures', fx, '--adapters', 'reference,faulty-layer,faulty-values', '--out', dir()]);
    report = readReport(dir());
  }, 120_000);

  test("each fail-numeric case carries a diagnosis naming exactly the broken layer, on the case's own input and mode", () => {
    expect(res.code).toBe(1);
    expect(statuses(report, 'faulty-layer')).toEqual(['fail-numeric', 'fail-numeric', 'fail-numeric', 'fail-numeric']);
    expect(report.parts[0].options.diagnose).toBe(true);
    for (const c of SYNTHETIC_BLOCK_CASES) {
      const r = result(report, 'faulty-layer', c);
      const info = report.cases.find((x) => x.id === c)!;
      expect(r.diagnosisError).toBeUndefined();
      const d = r.diagnosis!;
      expect(d).toMatchObject({
        schema: 'resnet-conformance/diagnosis',
        adapter: 'faulty-layer',
        profile: 'fp64-reference',
        training: info.training,
      });
      expect(d.input.shape).toEqual(info.inputShape);
      expect(d.firstDiverging).toMatchObject({ name: DEFAULT_FAULTY_LAYER, className: 'BatchNormalization' });
      expect(d.outOfBudget).toEqual([DEFAULT_FAULTY_LAYER]);
      // The error along depth: exact before the broken layer, non-zero from it on.
      const at = d.rows.findIndex((row) => row.name === DEFAULT_FAULTY_LAYER);
      expect(at).toBeGreaterThan(0);
      expect(d.rows.slice(0, at).map((row) => row.cumulative!.relRms)).toEqual(d.rows.slice(0, at).map(() => 0));
      expect(d.rows[at].cumulative!.relRms).toBeGreaterThan(0);
      expect(d.verdict).toContain(`first layer out of budget: ${DEFAULT_FAULTY_LAYER}`);
      expect(d.precision.text).toMatch(/float64/);
    }
  });

  test('passing cases are not diagnosed; a fault outside the layers is said to be outside the per-layer view', () => {
    for (const c of SYNTHETIC_BLOCK_CASES) {
      const r = result(report, 'reference', c);
      expect(r.status).toBe('pass');
      expect(r.diagnosis).toBeUndefined();
      expect(r.diagnosisError).toBeUndefined();
    }
    // faulty-values scales only the returned output: every layer it captures is exact.
    const v = result(report, 'faulty-values', 'conv/inference');
    expect(v.status).toBe('fail-numeric');
    expect(v.diagnosis!.firstDiverging).toBeNull();
    expect(v.diagnosis!.captureIssues.join(' ')).toMatch(
      /the output the adapter returned differs from its capture of the output layer/,
    );
  });

  test('report.md, report.html and junit.xml name the first diverging layer of each failing case', () => {
    const md = read('report.md');
    const section = md.slice(md.indexOf('### Per-layer diagnosis ('));
    expect(section).toMatch(/^### Per-layer diagnosis \(8\)/);
    for (const c of SYNTHETIC_BLOCK_CASES) {
      expect(section).toContain(
        `- **faulty-layer** × \`${c}\` — first diverging layer: ${DEFAULT_FAULTY_LAYER} (BatchNormalization, bn 2)`,
      );
    }
    const html = read('report.html');
    expect(html).toContain('<h2 id="diagnosis">');
    expect(html.match(/<section class="diagnosis">/g)).toHaveLength(SYNTHETIC_BLOCK_CASES.length);
    expect(html).toContain(`<b>First layer out of budget:</b> <code>${DEFAULT_FAULTY_LAYER}</code>`);
    const junit = parseXml(read('junit.xml'));
    const suite = junit.children.find((x) => x.name === 'testsuite' && x.attrs.name === 'faulty-layer')!;
    const failures = suite.children
      .filter((x) => x.name === 'testcase')
      .map((tc) => tc.children.find((x) => x.name === 'failure')!);
    expect(failures).toHaveLength(4);
    for (const f of failures)
      expect(f.attrs.message).toMatch(
        new RegExp(`first diverging layer: ${DEFAULT_FAULTY_LAYER} \\(BatchNormalization, bn 2\\)$`),
      );
  });

  test('another broken layer is the one named', async () => {
    const r = await runCli(
      ['run', '--fixtures', fx, '--adapters', 'faulty-layer', '--cases', '*/inference', '--out', out('diagnosed-conv')],
      { [FAULTY_LAYER_ENV]: 'conv2d_2' },
    );
    expect(r.code).toBe(1);
    const rep = readReport(out('diagnosed-conv'));
    expect(rep.results.map((x) => [x.status, x.diagnosis?.firstDiverging?.name, x.diagnosis?.outOfBudget])).toEqual([
      ['fail-numeric', 'conv2d_2', ['conv2d_2']],
      ['fail-numeric', 'conv2d_2', ['conv2d_2']],
    ]);
  }, 60_000);

  test('--no-diagnose: the same statuses, no diagnosis in any format', async () => {
    const r = await runCli([
      'run',
      '--fixtures',
      fx,
      '--adapters',
      'reference,faulty-layer',
      '--no-diagnose',
      '--out',
      out('undiagnosed'),
    ]);
    expect(r.code).toBe(1);
    const rep = readReport(out('undiagnosed'));
    expect(rep.parts[0].options.diagnose).toBe(false);
    expect(statuses(rep, 'faulty-layer')).toEqual(statuses(report, 'faulty-layer'));
    expect(rep.results.filter((x) => x.diagnosis || x.diagnosisError !== undefined)).toEqual([]);
    expect(fs.readFileSync(path.join(out('undiagnosed'), 'report.md'), 'utf8')).not.toContain('Per-layer diagnosis');
    expect(fs.readFileSync(path.join(out('undiagnosed'), 'report.html'), 'utf8')).not.toContain('id="diagnosis"');
    expect(fs.readFileSync(path.join(out('undiagnosed'), 'junit.xml'), 'utf8')).not.toContain('first diverging layer');
  }, 60_000);

  test('a diagnosis that throws, or kills its worker, is recorded as diagnosisError and changes no status', async () => {
    const r = await runCli([
      'run',
      '--fixtures',
      fx,
      '--adapters',
      'faulty-capture-throw,faulty-capture-segv',
      '--out',
      out('diagnosis-fails'),
    ]);
    expect(r.code).toBe(1);
    const rep = readReport(out('diagnosis-fails'));
    for (const id of ['faulty-capture-throw', 'faulty-capture-segv']) {
      expect(statuses(rep, id)).toEqual(['fail-numeric', 'fail-numeric', 'fail-numeric', 'fail-numeric']);
      for (const c of SYNTHETIC_BLOCK_CASES) expect(result(rep, id, c).diagnosis).toBeUndefined();
    }
    for (const c of SYNTHETIC_BLOCK_CASES) {
      expect(result(rep, 'faulty-capture-throw', c).diagnosisError).toBe(
        "adapter 'faulty-capture-throw' cannot capture every layer: injected: this runtime cannot capture intermediate layers",
      );
    }
    // The model still built (conv) is diagnosed first; the worker dies there; the rest are not run.
    expect(SYNTHETIC_BLOCK_CASES.map((c) => result(rep, 'faulty-capture-segv', c).diagnosisError)).toEqual([
      expect.stringMatching(/^not run: worker killed by SIGSEGV .* during the diagnosis of case conv\/inference$/),
      expect.stringMatching(/^not run: worker killed by SIGSEGV .* during the diagnosis of case conv\/inference$/),
      expect.stringMatching(/^worker killed by SIGSEGV .* while diagnosing this case$/),
      expect.stringMatching(/^not run: worker killed by SIGSEGV .* during the diagnosis of case conv\/inference$/),
    ]);
    expect(rep.adapters.find((a) => a.id === 'faulty-capture-segv')!.worker!.exits).toEqual([
      expect.objectContaining({
        signal: 'SIGSEGV',
        reason: expect.stringMatching(/during the diagnosis of case conv\/inference$/),
      }),
    ]);
    expect(fs.readFileSync(path.join(out('diagnosis-fails'), 'report.md'), 'utf8')).toContain(
      "— no diagnosis: adapter 'faulty-capture-throw' cannot capture every layer",
    );
  }, 60_000);
});

describe('process groups (AdapterEntry.processGroup: one worker for several adapters)', () => {
  test("a worker's environment: this process's, the entry's processEnv, and huge pages for malloc unless told otherwise", () => {
    expect(HUGE_PAGES_TUNABLE).toBe('glibc.malloc.hugetlb=1');
    const env = workerEnv({ processEnv: { NVIDIA_TF32_OVERRIDE: '0' } }, { PATH: '/bin' });
    expect(env).toEqual({ PATH: '/bin', NVIDIA_TF32_OVERRIDE: '0', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
    // Other tunables are kept; a hugetlb setting given (e.g. =0, off) is left as it is.
    expect(workerEnv({}, { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES).toBe(
      'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1',
    );
    expect(workerEnv({}, { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }).GLIBC_TUNABLES).toBe('glibc.malloc.hugetlb=0');
    expect(workerEnv({ processEnv: { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' } }, {}).GLIBC_TUNABLES).toBe(
      'glibc.malloc.hugetlb=0',
    );
  });

  test('workerUnits: members of a group (same processEnv) together where the first stands; others alone', () => {
    const job = (id: string, processGroup?: string, processEnv?: Record<string, string>) => ({
      entry: { id, processGroup, processEnv } as unknown as AdapterEntry,
      cases: ['c'],
    });
    const jobs = [job('a'), job('b1', 'g'), job('c'), job('b2', 'g'), job('e', 'g', { X: '1' }), job('b3', 'g')];
    expect(workerUnits(jobs).map((u) => u.map((j) => j.entry.id))).toEqual([['a'], ['b1', 'b2', 'b3'], ['c'], ['e']]);
    // The browser adapters are one group: one Chromium per run.
    const browser = ADAPTERS.filter((e) => e.processGroup === BROWSER_PROCESS_GROUP).map((e) => e.id);
    expect(browser).toEqual(expect.arrayContaining(['tfjs-wasm-browser', 'onnxruntime-web-wasm-browser']));
    // The reference adapters are one worker; every other node adapter keeps its own (docs/performance.md,
    // "Which adapters share a process": tfjs-core's global engine, one native library per process).
    const grouped = (g: string) => ADAPTERS.filter((e) => e.processGroup === g).map((e) => e.id);
    expect(grouped(REFERENCE_PROCESS_GROUP)).toEqual(['reference', 'reference-fp32', 'reference-tf32']);
    const groups = new Set(ADAPTERS.map((e) => e.processGroup).filter((g) => g !== undefined));
    expect([...groups].sort()).toEqual([BROWSER_PROCESS_GROUP, REFERENCE_PROCESS_GROUP].sort());
    const units = workerUnits(ADAPTERS.filter((e) => e.outOfTheBox).map((entry) => ({ entry, cases: ['c'] })));
    expect(units.map((u) => u.map((j) => j.entry.id))).toContainEqual([
      'reference',
      'reference-fp32',
      'reference-tf32',
    ]);
  });

  test('the members run one after the other in one worker; a crash of one leaves the others as they were', async () => {
    const ids = ['faulty-group-first', 'faulty-group-segv', 'faulty-group-last'];
    const dir = out('process-group');
    const r = await runCli(['run', '--fixtures', fx, '--adapters', ids.join(','), '--timeout', '60', '--out', dir]);
    expect(r.code).toBe(1);
    const rep = readReport(dir);
    const a = (id: string) => rep.adapters.find((x) => x.id === id)!;
    expect(statuses(rep, 'faulty-group-first')).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(statuses(rep, 'faulty-group-segv')).toEqual(['pass', 'crashed', 'pass', 'crashed']);
    expect(statuses(rep, 'faulty-group-last')).toEqual(['pass', 'pass', 'pass', 'pass']);
    // first and segv were described by the same process; segv's crash costs it a fresh worker (the second crash is its last case); last runs in a third.
    const pid = (id: string) => a(id).description?.settings.pid;
    expect(pid('faulty-group-first')).toEqual(expect.any(Number));
    expect(pid('faulty-group-segv')).toBe(pid('faulty-group-first'));
    expect(pid('faulty-group-last')).not.toBe(pid('faulty-group-first'));
    expect(a('faulty-group-first').worker).toMatchObject({
      processes: 1,
      exits: [
        {
          signal: 'SIGSEGV',
          reason: expect.stringMatching(/^finished; the worker later ended: .*SIGSEGV.*\(running faulty-group-segv\)$/),
        },
      ],
    });
    expect(a('faulty-group-segv').worker?.processes).toBe(2);
    expect(a('faulty-group-last').worker).toMatchObject({
      processes: 1,
      exits: [{ code: 0, signal: null, reason: 'finished' }],
    });
    for (const id of ids) expect(a(id).durationMs).toBeGreaterThan(0);
  }, 120_000);
});

describe('case tensors of a process group (CaseTensorCache: read once per worker)', () => {
  test('each load is a fresh copy; another digest for the case reads its files again', () => {
    const manifest = loadManifest(fx);
    const k = manifest.cases.find((c) => c.id === 'identity/inference')!;
    const cache = new CaseTensorCache();
    const a = cache.load(fx, k);
    expect(a).toEqual(loadCaseTensors(fx, k));
    // An adapter writing into its input (or anything) changes nothing for the next adapter.
    const before = Float64Array.from(a.input.data);
    a.input.data.fill(7);
    a.output!.data.fill(7);
    const b = cache.load(fx, k);
    expect(Float64Array.from(b.input.data)).toEqual(before);
    expect(b.output).toEqual(loadCaseTensors(fx, k).output);
    // A manifest naming other bytes for the case is not answered from the cache: its files are checked.
    const other: FixtureCase = { ...k, input: { ...k.input, sha256: '0'.repeat(64) } };
    expect(() => cache.load(fx, other)).toThrow(/wrong digest/);
  });
});

describe('one adapter.run per computation', () => {
  test('a case asking for what an earlier case ran (same model, input, mode, captures) is judged on that run', async () => {
    const manifest = loadManifest(fx);
    const k = manifest.cases.find((c) => c.id === 'identity/inference')!;
    const again: FixtureCase = { ...k, id: 'identity/inference-again' };
    const training = manifest.cases.find((c) => c.id === 'identity/training')!;
    let runs = 0;
    const adapter = new ObservedAdapter(new ReferenceAdapter({ id: 'reference', precision: 'fp64' }), (call) => {
      runs++;
      return call();
    });
    const entry = { id: 'reference', profile: 'fp64-reference' } as unknown as AdapterEntry;
    // Without reuseRuns (the pack judge's adapter reads each case's own files) every case runs.
    const plain: EvaluationContext = { fixturesDir: fx, manifest };
    await executeCase(adapter, entry, k, plain);
    expect((await executeCase(adapter, entry, again, plain)).runReusedFrom).toBeUndefined();
    expect(runs).toBe(2);
    runs = 0;
    const ctx: EvaluationContext = { fixturesDir: fx, manifest, reuseRuns: true };
    const first = await executeCase(adapter, entry, k, ctx);
    const second = await executeCase(adapter, entry, again, ctx);
    expect(runs).toBe(1);
    expect(first.runReusedFrom).toBeUndefined();
    expect(second).toMatchObject({ status: first.status, metrics: first.metrics, runReusedFrom: k.id });
    expect(second.checks).toEqual(first.checks);
    expect(second.timings?.runMs).toBe(0);
    // Another BatchNormalization mode is another computation (a planted reuse would show here).
    const t = await executeCase(adapter, entry, training, ctx);
    expect(runs).toBe(2);
    expect(t.runReusedFrom).toBeUndefined();
    // A new build forgets the runs.
    ctx.built = undefined;
    await executeCase(adapter, entry, again, ctx);
    expect(runs).toBe(3);
  });
});

describe('processEnv of an adapter entry', () => {
  test("the adapter's worker starts with it: faulty-env is available only when it sees the variable", async () => {
    // Negative control: this process does not have the variable, so the adapter refuses to run here.
    expect(process.env[ENV_CHECK_VAR]).toBeUndefined();
    const here = await new FaultyAdapter('env').probe();
    expect(here).toMatchObject({
      available: false,
      reason: expect.stringMatching(new RegExp(`${ENV_CHECK_VAR} is null in this process, not '${ENV_CHECK_VALUE}'`)),
    });

    const r = await runCli(['run', '--fixtures', fx, '--adapters', 'faulty-env', '--out', out('process-env')]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const rep = readReport(out('process-env'));
    expect(rep.adapters[0]).toMatchObject({ id: 'faulty-env', available: true });
    expect(statuses(rep, 'faulty-env')).toEqual(['pass', 'pass', 'pass', 'pass']);
  }, 60_000);
});
