/**
 * Correctness of the benchmark's arithmetic and logic: FLOP counting from the spec, statistics,
 * the noise band, the run policy, bench comparison, the harness breakdown and the perf renderers.
 * Nothing here is timed (speed targets live in `npm run bench`).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadOrt } from '../src/adapters/onnxruntime/load';
import { isBenchFile, readBenchFile } from '../src/bench/read';
import { matmulOnnx, operand, bestConfig, productEntry } from '../src/calibration/ceiling';
import { pairedCeiling } from '../src/calibration/paired';
import { blockOfLayers, layersMarkdown, layersText, profileByBlock, stageOf } from '../src/bench/layers';
import { compareBench } from '../src/bench/compare';
import { noiseProfile, parseNoiseProfile } from '../src/calibration/noise-profile';
import { gflopsPerSecond, matmulFlops, modelFlops } from '../src/bench/flops';
import {
  checkPolicy,
  timeRuns,
  timeRunsInterleaved,
  wantsMoreRuns,
  DEFAULT_RUN_POLICY,
  type RunPolicy,
} from '../src/util/measure';
import { binomialHalfCdf, medianInterval, noiseBand } from '../src/calibration/noise';
import { harnessBreakdown } from '../src/report/overhead';
import {
  benchDigest,
  perfForReport,
  perfHtml,
  perfMarkdown,
  perfSection,
  perfText,
  placementNotes,
  roundTripLine,
} from '../src/report/perf-section';
import {
  BUDGET_NS,
  BUSY_NS,
  FAR_FACTOR,
  measureRoundTrips,
  SAMPLES,
  startCoreProbe,
  summarizeRoundTrips,
  TRIPS_PER_SAMPLE,
} from '../src/calibration/core-latency';
import { applyCeiling, ceilingAround, ceilingRecord, runtimeScale } from '../src/bench/run-bench';
import {
  BENCH_KIND,
  BENCH_SCHEMA_VERSION,
  BenchReadError,
  parseBench,
  type AdapterBench,
  type BatchResult,
  type BenchReport,
  type CeilingPoint,
  type PairedCeiling,
} from '../src/bench/schema';
import { median, quantile, summarize } from '../src/util/stats';
import { compareCommand } from '../src/cli/commands/compare';
import { UsageError } from '../src/util/errors';
import { decodeModel } from '../src/onnx';
import { renderAll } from '../src/report/render';
import { writeReportDir } from '../src/report/write';
import { REPORT_SCHEMA_VERSION, emptyCounts, type ConformanceReport } from '../src/report/schema';
import { resnet50 } from '../src/model/builders';
import { runCli } from './helpers/cli';
import { ENV_CHECK_VAR } from './helpers/faulty-adapter';

// ------------------------------------------------------------------------------------------------
// FLOPs
// ------------------------------------------------------------------------------------------------

/** 2·MACs of ResNet-50 computed independently of the spec: closed-form per stage. */
function resnet50FlopsByHand(size: number, classes: number): number {
  const convOut = (n: number, k: number, s: number) => Math.floor((n - k) / s) + 1;
  let h = convOut(size + 6, 7, 2); // ZeroPadding2D(3), 7x7 stride 2 valid
  let flops = 2 * h * h * 64 * 7 * 7 * 3;
  h = convOut(h, 3, 2); // MaxPooling2D 3x3 stride 2
  let cin = 64;
  const stages = [
    [64, 256, 1, 2],
    [128, 512, 2, 3],
    [256, 1024, 2, 5],
    [512, 2048, 2, 2],
  ];
  for (const [f, f3, s, ids] of stages) {
    h = convOut(h, 1, s); // the convolutional block's 1x1 stride-s convs (main path and shortcut)
    const hw = h * h;
    flops += 2 * hw * (cin * f + 9 * f * f + f * f3 + cin * f3); // conv block: 1x1, 3x3 same, 1x1, shortcut 1x1
    flops += ids * 2 * hw * (f3 * f + 9 * f * f + f * f3); // identity blocks
    cin = f3;
  }
  h = Math.floor(h / 2); // AveragePooling2D 2x2
  return flops + 2 * h * h * cin * classes;
}

describe('FLOP count from the spec', () => {
  test('notebook ResNet-50 (64x64x3, 6 classes): 0.616 GFLOP per image, equal to the closed form', () => {
    const f = modelFlops(resnet50());
    expect(f.headline).toBe(resnet50FlopsByHand(64, 6));
    expect((f.headline / 1e9).toFixed(3)).toBe('0.616');
    expect(f.dense).toBe(2 * 2048 * 6);
    expect(f.conv + f.dense).toBe(f.headline);
    expect(f.macs * 2).toBe(f.headline);
    expect(f.inputShape).toEqual([64, 64, 3]);
  });

  test('first convolution: 2 x 32x32x64 outputs x 7x7x3 MACs', () => {
    const f = modelFlops(resnet50());
    const conv1 = f.layers.find((l) => l.className === 'Conv2D')!;
    expect(conv1.macFlops).toBe(2 * 32 * 32 * 64 * 7 * 7 * 3);
    expect(conv1.otherFlops).toBe(32 * 32 * 64); // bias
  });

  test('224x224x3, 1000 classes: the published ~3.9 GMACs of ResNet-50, and the closed form', () => {
    const f = modelFlops(resnet50({ inputShape: [224, 224, 3], classes: 1000 }));
    expect(f.headline).toBe(resnet50FlopsByHand(224, 1000));
    expect(f.macs).toBeGreaterThan(3.8e9);
    expect(f.macs).toBeLessThan(4.0e9);
  });

  test('BatchNormalization, ReLU, Add, pooling are outside the headline and under 1% of it', () => {
    const f = modelFlops(resnet50());
    expect(f.other).toBeGreaterThan(0);
    expect(f.other / f.headline).toBeLessThan(0.01);
    for (const l of f.layers) if (l.className !== 'Conv2D' && l.className !== 'Dense') expect(l.macFlops).toBe(0);
    const bn = f.layers.find((l) => l.className === 'BatchNormalization')!;
    expect(bn.otherFlops).toBe(2 * 32 * 32 * 64);
  });

  test('matmul and rate helpers', () => {
    expect(matmulFlops(2048, 2048, 2048)).toBe(2 * 2048 ** 3);
    expect(() => matmulFlops(0, 1, 1)).toThrow(/n must be a positive integer/);
    expect(gflopsPerSecond(2e9, 1000)).toBeCloseTo(2, 12);
    expect(() => gflopsPerSecond(1, 0)).toThrow(/time must be > 0/);
  });
});

// ------------------------------------------------------------------------------------------------
// Statistics and noise band
// ------------------------------------------------------------------------------------------------

describe('statistics', () => {
  test('quantiles interpolate linearly between order statistics (numpy default)', () => {
    const xs = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    expect(median(xs)).toBe(5.5);
    expect(quantile(xs, 0.9)).toBeCloseTo(9.1, 12);
    expect(quantile(xs, 0.1)).toBeCloseTo(1.9, 12);
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile(xs, 1)).toBe(10);
    expect(median([4, 1, 3])).toBe(3);
  });

  test('summarize', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.n).toBe(8);
    expect(s.mean).toBe(5);
    expect(s.stdev).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(s.median).toBe(4.5);
    expect(s.min).toBe(2);
    expect(s.max).toBe(9);
    expect(s.mad).toBe(0.5);
    expect(summarize([3]).stdev).toBe(0);
  });

  test('bad samples are rejected with a clear error', () => {
    expect(() => summarize([])).toThrow(/no samples/);
    expect(() => summarize([1, NaN])).toThrow(/sample 1 is NaN/);
    expect(() => quantile([1, 2], 1.5)).toThrow(/q must be in \[0, 1\]/);
  });
});

describe('noise band (order-statistic confidence interval of the median)', () => {
  test('binomial tail', () => {
    expect(binomialHalfCdf(5, 0)).toBeCloseTo(1 / 32, 15);
    expect(binomialHalfCdf(10, 1)).toBeCloseTo(11 / 1024, 15);
    expect(binomialHalfCdf(10, 10)).toBe(1);
    expect(binomialHalfCdf(2000, 999)).toBeGreaterThan(0.48); // no underflow for long runs
  });

  test('interval indices match the textbook table', () => {
    const seq = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    const i5 = medianInterval(seq(5));
    expect([i5.lo, i5.hi, i5.j]).toEqual([1, 5, 1]);
    expect(i5.coverage).toBeCloseTo(0.9375, 12); // below 95%: the widest interval, coverage recorded
    const i10 = medianInterval(seq(10));
    expect([i10.lo, i10.hi]).toEqual([2, 9]);
    expect(i10.coverage).toBeCloseTo(1 - 22 / 1024, 12);
    const i100 = medianInterval(seq(100));
    expect([i100.lo, i100.hi]).toEqual([40, 61]);
    expect(i100.coverage).toBeGreaterThanOrEqual(0.95);
  });

  test('relative band around the median', () => {
    const xs = [9, 10, 10, 10, 10, 10, 10, 10, 10, 12];
    const b = noiseBand(xs, 10);
    expect(b.below).toBe(0);
    expect(b.above).toBe(0);
    const c = noiseBand([8, 9, 10, 11, 12, 13], 10.5);
    expect(c.ci.lo).toBe(8);
    expect(c.ci.hi).toBe(13);
    expect(c.below).toBeCloseTo(2.5 / 10.5, 12);
    expect(() => noiseBand([1], 0)).toThrow(/median must be > 0/);
  });
});

// ------------------------------------------------------------------------------------------------
// Run policy
// ------------------------------------------------------------------------------------------------

describe('run policy', () => {
  const p: RunPolicy = { warmup: 1, minRuns: 4, minTimeMs: 100, maxRuns: 8, budgetMs: 1000, floorRuns: 2 };

  test('stopping rules', () => {
    expect(wantsMoreRuns(p, 3, 500)).toBeNull(); // fewer than minRuns, budget left
    expect(wantsMoreRuns(p, 4, 50)).toBeNull(); // enough runs, not enough time
    expect(wantsMoreRuns(p, 4, 100)).toBe('enough');
    expect(wantsMoreRuns(p, 8, 10)).toBe('max-runs');
    expect(wantsMoreRuns(p, 2, 1000)).toBe('budget'); // slow: floorRuns then stop
    expect(wantsMoreRuns(p, 1, 5000)).toBeNull(); // never below floorRuns
    expect(wantsMoreRuns({ ...p, runs: 3 }, 3, 0)).toBe('runs');
    expect(wantsMoreRuns({ ...p, runs: 3 }, 2, 1e9)).toBeNull(); // an exact count ignores the budget
  });

  test('timeRuns calls warm-up then measured runs, exact count', async () => {
    let calls = 0;
    const t = await timeRuns(
      () => {
        calls++;
      },
      { ...p, warmup: 2, runs: 3 },
    );
    expect(calls).toBe(5);
    expect(t.warmupMs).toHaveLength(2);
    expect(t.samplesMs).toHaveLength(3);
    expect(t.stoppedBy).toBe('runs');
    expect(t.samplesMs.every((x) => x >= 0)).toBe(true);
  });

  test('timeRunsInterleaved: warm-up of each, then one run of each in turn; each stops on its own policy', async () => {
    const order: string[] = [];
    const fast = () => {
      order.push('a');
    };
    const slow = () => {
      order.push('b');
      const t = performance.now();
      while (performance.now() - t < 3);
    };
    const [a, b] = await timeRunsInterleaved([fast, slow], {
      ...p,
      warmup: 1,
      minRuns: 2,
      minTimeMs: 10,
      maxRuns: 6,
      budgetMs: 1000,
      floorRuns: 1,
    });
    expect(order.slice(0, 2)).toEqual(['a', 'b']); // warm-up, in turn
    // Measured in turn while both still run; b's 10 ms take 2 or more of its 3 ms runs (more on a
    // loaded machine, where one run can take longer): the order follows from how many b ran.
    const nb = b.samplesMs.length;
    const inTurn = [...Array.from({ length: nb }, () => ['a', 'b']).flat(), ...Array<string>(6 - nb).fill('a')];
    expect(order.slice(2)).toEqual(inTurn);
    expect([a.warmupMs.length, b.warmupMs.length]).toEqual([1, 1]);
    expect(a.samplesMs).toHaveLength(6); // never 10 ms of fast runs: stops at maxRuns
    expect(a.stoppedBy).toBe('max-runs');
    expect(b.samplesMs.length).toBeGreaterThanOrEqual(2);
    expect(b.samplesMs.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(10);
    expect(b.stoppedBy).toBe(b.samplesMs.length === 6 ? 'max-runs' : 'enough');
    expect(order.filter((x) => x === 'a')).toHaveLength(7);
    const exact = await timeRunsInterleaved([fast, slow], { ...p, warmup: 0, runs: 2 });
    expect(exact.map((t) => [t.samplesMs.length, t.stoppedBy])).toEqual([
      [2, 'runs'],
      [2, 'runs'],
    ]);
  });

  test('invalid policies are rejected', () => {
    expect(() => checkPolicy({ ...DEFAULT_RUN_POLICY, warmup: -1 })).toThrow(/warmup must be a non-negative integer/);
    expect(() => checkPolicy({ ...DEFAULT_RUN_POLICY, runs: 0 })).toThrow(/runs must be an integer >= 1/);
    expect(() => checkPolicy({ ...DEFAULT_RUN_POLICY, budgetMs: 0 })).toThrow(/budgetMs > 0/);
  });
});

// ------------------------------------------------------------------------------------------------
// Ceiling workload
// ------------------------------------------------------------------------------------------------

describe('MatMul ceiling workload', () => {
  test('the ONNX model is one MatMul of n x n float32 matrices', () => {
    const m = decodeModel(matmulOnnx(64));
    expect(m.graph.node.map((n) => n.opType)).toEqual(['MatMul']);
    expect(m.graph.input.map((i) => i.type.tensorType.shape.dim.map((d) => d.dimValue))).toEqual([
      [64, 64],
      [64, 64],
    ]);
  });

  test('onnxruntime computes the product the ceiling times', async () => {
    const ort = loadOrt();
    const n = 24;
    const a = operand(n, 1);
    const b = operand(n, 2);
    const s = await ort.InferenceSession.create(matmulOnnx(n));
    const out = await s.run({ a: new ort.Tensor('float32', a, [n, n]), b: new ort.Tensor('float32', b, [n, n]) });
    const c = out.c.data as Float32Array;
    for (const [i, j] of [
      [0, 0],
      [3, 17],
      [23, 23],
    ]) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
      expect(c[i * n + j]).toBeCloseTo(sum, 3);
    }
    await s.release();
  });

  test('spot-check entries of the product are float64 dot products of the operands', () => {
    const n = 16;
    const a = operand(n, 1);
    const b = operand(n, 2);
    let want = 0;
    for (let k = 0; k < n; k++) want += a[3 * n + k] * b[k * n + 5];
    expect(productEntry(a, b, n, 3, 5)).toBe(want);
  });

  test('a process knows whether an adapter loaded TensorFlow.js into it (then tfjs-node is not paired)', () => {
    // A child process: Jest's module registry is not Node's require.cache, which is what a worker sees.
    const script =
      "require('tsx/cjs'); const p = require('./src/calibration/paired'); const a = p.tfjsLoadedInProcess(); require('@tensorflow/tfjs-core'); console.log(JSON.stringify([a, p.tfjsLoadedInProcess()]));";
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: path.resolve(__dirname, '..'),
      encoding: 'utf8',
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual([false, true]);
  });

  test('operands are deterministic, in [-1, 1], and differ by salt', () => {
    const a = operand(32, 1);
    expect(operand(32, 1)).toEqual(a);
    expect(operand(32, 2)).not.toEqual(a);
    expect(Math.max(...a)).toBeLessThanOrEqual(1);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-1);
  });
});

// ------------------------------------------------------------------------------------------------
// Synthetic bench results
// ------------------------------------------------------------------------------------------------

function batchOf(batch: number, samplesMs: number[], ceiling: number | null): BatchResult {
  const latencyMs = summarize(samplesMs);
  const flops = 616357888 * batch;
  const gflops = flops / (latencyMs.median * 1e6);
  return {
    batch,
    warmupMs: [samplesMs[0]],
    samplesMs,
    stoppedBy: 'enough',
    latencyMs,
    noise: noiseBand(samplesMs, latencyMs.median),
    imagesPerSec: batch / (latencyMs.median / 1000),
    flops,
    gflops,
    peakRssMiB: 500,
    peakRssCumulative: false,
    pairedCeiling: null,
    ceilingGflops: ceiling,
    ceilingBasis: ceiling ? 'bracket' : null,
    efficiency: ceiling ? gflops / ceiling : null,
    efficiencyVsBracket: ceiling ? gflops / ceiling : null,
  };
}

/** n samples spread ±spread around centre (deterministic). */
function around(centre: number, spread: number, n = 12): number[] {
  return Array.from({ length: n }, (_, i) => centre * (1 + spread * ((((i * 7) % n) / (n - 1)) * 2 - 1)));
}

function adapterOf(
  id: string,
  batches: BatchResult[],
  ceiling: number | null,
  extra: Partial<AdapterBench> = {},
): AdapterBench {
  return {
    id,
    summary: id,
    profile: 'fp32-cpu',
    outOfTheBox: true,
    available: true,
    description: null,
    process: null,
    ceilingGflops: ceiling,
    batches,
    ...extra,
  };
}

function point(i: number, gflops: number): CeilingPoint {
  return {
    beforeAdapter: i,
    gflops,
    best: { runtime: 'onnxruntime-node', threads: 2 },
    configs: [],
    unavailable: [],
    wallMs: 1,
  };
}

function benchOf(adapters: AdapterBench[], ceiling: number | null, drift = 0.02): BenchReport {
  return {
    kind: BENCH_KIND,
    schemaVersion: BENCH_SCHEMA_VERSION,
    tool: { name: 'resnet-conformance', version: '0.1.0' },
    createdAt: '2025-01-01T00:00:00.000Z',
    durationMs: 1,
    environment: {
      os: { platform: 'linux', release: 'x', arch: 'x64', distro: null },
      cpu: { model: 'Test <CPU> | 1', cores: 2, memoryGiB: 8 },
      node: { version: 'v20', v8: 'x' },
      git: { commit: null, dirty: null },
      packages: {},
      gpu: { devices: [], cudaVersion: null },
      precision: {},
    },
    options: {
      adapters: adapters.map((a) => a.id),
      adapterSelection: 'explicit',
      batches: [1, 8],
      policy: { ...DEFAULT_RUN_POLICY, runs: null },
      ceiling: ceiling !== null,
      pairedCeiling: false,
      ceilingN: 2048,
      training: false,
    },
    model: {
      name: 'resnet50',
      inputShape: [64, 64, 3],
      classes: 6,
      flopsPerImage: 616357888,
      flopsBreakdown: { conv: 1, dense: 1, other: 1 },
      flopConvention: 'x',
    },
    ceiling:
      ceiling === null
        ? null
        : {
            op: 'MatMul 2048x2048x2048 float32',
            n: 2048,
            flops: 2 * 2048 ** 3,
            gflops: ceiling,
            drift,
            pairedScale: null,
            points: [point(0, ceiling)],
          },
    adapters,
  };
}

describe('compareBench', () => {
  const base = benchOf(
    [adapterOf('ort', [batchOf(1, around(10, 0.02), 100), batchOf(8, around(60, 0.02), 100)], 100)],
    100,
  );

  test('the same result: nothing flagged', () => {
    const c = compareBench(base, base);
    expect(c.regressions).toBe(0);
    expect(c.improvements).toBe(0);
    expect(c.rows.map((r) => r.verdict)).toEqual(['within-noise', 'within-noise']);
    expect(c.exitCode).toBe(0);
  });

  test('30% slower with tight samples: a regression (exit 1); 30% faster: an improvement', () => {
    const slow = benchOf(
      [adapterOf('ort', [batchOf(1, around(13, 0.02), 100), batchOf(8, around(60, 0.02), 100)], 100)],
      100,
    );
    const c = compareBench(base, slow);
    expect(c.rows[0].verdict).toBe('regression');
    expect(c.rows[0].ratio).toBeCloseTo(1.3, 2);
    expect(c.rows[1].verdict).toBe('within-noise');
    expect(c.exitCode).toBe(1);
    expect(c.lines[0]).toMatch(/^! ort batch 1: regression/);
    const back = compareBench(slow, base);
    expect(back.rows[0].verdict).toBe('improvement');
    expect(back.exitCode).toBe(0);
  });

  test('a change inside the floor is not flagged, even with separate intervals', () => {
    const bit = benchOf([adapterOf('ort', [batchOf(1, around(10.6, 0.01), 100)], 100)], 100);
    const tight = benchOf([adapterOf('ort', [batchOf(1, around(10, 0.01), 100)], 100)], 100);
    const c = compareBench(tight, bit, { floor: 0.1 });
    expect(c.rows[0].verdict).toBe('within-noise');
    expect(c.rows[0].reason).toMatch(/within the \+10\.0% floor/);
    expect(compareBench(tight, bit, { floor: 0.02 }).rows[0].verdict).toBe('regression');
  });

  test('overlapping noise bands are not a regression, however large the median change', () => {
    const noisyA = benchOf([adapterOf('ort', [batchOf(1, around(10, 0.6), 100)], 100)], 100);
    const noisyB = benchOf([adapterOf('ort', [batchOf(1, around(12, 0.6), 100)], 100)], 100);
    const c = compareBench(noisyA, noisyB);
    expect(c.rows[0].ratio).toBeCloseTo(1.2, 1);
    expect(c.rows[0].verdict).toBe('within-noise');
  });

  test('a slower machine (ceiling halved) is normalized away; forced raw comparison flags it', () => {
    const halfMachine = benchOf(
      [adapterOf('ort', [batchOf(1, around(20, 0.02), 50), batchOf(8, around(120, 0.02), 50)], 50)],
      50,
    );
    const c = compareBench(base, halfMachine);
    expect(c.rows.every((r) => r.normalized)).toBe(true);
    expect(c.ceilingRatio).toBeCloseTo(0.5, 12);
    expect(c.rows.map((r) => r.verdict)).toEqual(['within-noise', 'within-noise']);
    expect(c.rows[0].normalizedRatio).toBeCloseTo(1, 2);
    expect(c.notes[0]).toMatch(/ceiling changed/);
    const raw = compareBench(base, halfMachine, { normalize: 'never' });
    expect(raw.regressions).toBe(2);
  });

  test('ceilings within their drift are not normalized', () => {
    const c = compareBench(base, benchOf(base.adapters, 104));
    expect(c.rows.some((r) => r.normalized)).toBe(false);
  });

  test('normalize "always" without ceilings is an error', () => {
    const noCeil = benchOf([adapterOf('ort', [batchOf(1, around(10, 0.02), null)], null)], null);
    expect(() => compareBench(noCeil, noCeil, { normalize: 'always' })).toThrow(
      /needs a ceiling for ort batch 1 in both/,
    );
    expect(compareBench(noCeil, noCeil).notes[0]).toMatch(/raw latencies compared/);
  });

  test('failed, unavailable and one-sided adapters', () => {
    const b = benchOf(
      [
        adapterOf('ort', [], 100, { error: 'worker killed by SIGSEGV' }),
        adapterOf('extra', [batchOf(1, around(5, 0.02), 100)], 100),
      ],
      100,
    );
    const a = benchOf(
      [
        adapterOf('ort', [batchOf(1, around(10, 0.02), 100)], 100),
        adapterOf('gone', [batchOf(1, around(10, 0.02), 100)], 100),
      ],
      100,
    );
    const c = compareBench(a, b);
    const v = Object.fromEntries(c.rows.map((r) => [r.adapter, r.verdict]));
    expect(v).toEqual({ ort: 'failed', gone: 'only-in-a', extra: 'only-in-b' });
    expect(c.exitCode).toBe(1);
    const unavailable = benchOf(
      [adapterOf('ort', [], null, { available: false, unavailableReason: 'not installed' })],
      100,
    );
    expect(compareBench(a, unavailable).rows[0].verdict).toBe('not-measured');
  });

  test('batches with paired ceilings are always compared relative to their ceilings', () => {
    const paired = (samples: number[], ceiling: number): BatchResult => ({
      ...batchOf(8, samples, ceiling),
      ceilingBasis: 'paired',
      pairedCeiling: {
        runtime: 'onnxruntime-node',
        version: '1',
        n: 2048,
        flops: 1,
        gflops: ceiling,
        configs: [],
        unpaired: [],
        scale: 1,
      },
    });
    // The machine got 40% slower during b (paired ceiling 100 -> 60) and the adapter with it: no regression.
    const a = benchOf([adapterOf('ort', [paired(around(60, 0.02), 100)], 100)], 100);
    const b = benchOf([adapterOf('ort', [paired(around(100, 0.02), 60)], 100)], 100);
    const c = compareBench(a, b);
    expect(c.rows[0].normalized).toBe(true);
    expect(c.rows[0].normalizedRatio).toBeCloseTo(1, 2);
    expect(c.rows[0].verdict).toBe('within-noise');
    // Same paired ceiling, adapter 40% slower: a regression.
    const slower = benchOf([adapterOf('ort', [paired(around(84, 0.02), 100)], 100)], 100);
    expect(compareBench(a, slower).rows[0].verdict).toBe('regression');
    expect(compareBench(a, b, { normalize: 'never' }).rows[0].verdict).toBe('regression');
  });

  test('a noise profile from repeated runs widens the band per row', () => {
    const runs = [10, 11.5, 10.4].map((m) => benchOf([adapterOf('ort', [batchOf(1, around(m, 0.01), 100)], 100)], 100));
    const profile = noiseProfile(runs, ['r1', 'r2', 'r3']);
    const raw = profile.rows.find((r) => !r.normalized)!;
    expect(raw.band).toBeCloseTo(
      around(11.5, 0.01).sort((x, y) => x - y)[6] / around(10, 0.01).sort((x, y) => x - y)[6] - 1,
      2,
    );
    expect(raw.runs).toBe(3);
    const b = benchOf([adapterOf('ort', [batchOf(1, around(12, 0.01), 100)], 100)], 100);
    expect(compareBench(runs[0], b).rows[0].verdict).toBe('regression'); // +20% > 10% floor
    const withProfile = compareBench(runs[0], b, {
      profile: { ...profile, rows: profile.rows.map((r) => ({ ...r, band: 0.25 })) },
    });
    expect(withProfile.rows[0].verdict).toBe('within-noise');
    expect(withProfile.rows[0].bandSource).toBe('profile');
    expect(withProfile.rows[0].reason).toMatch(/within the \+25\.0% band of 3 repeated runs/);
    expect(() => noiseProfile([runs[0]])).toThrow(/at least 2 bench results/);
    expect(parseNoiseProfile(JSON.stringify(profile), 'n.json').rows).toHaveLength(profile.rows.length);
    expect(() => parseNoiseProfile(JSON.stringify(runs[0]), 'x.json')).toThrow(/x\.json is not a bench noise profile/);
  });

  test('bad noise floor', () => {
    expect(() => compareBench(base, base, { floor: -1 })).toThrow(/noise floor must be/);
  });
});

describe('bench JSON', () => {
  test('round trip and rejection of other documents', () => {
    const text = JSON.stringify(benchOf([adapterOf('ort', [batchOf(1, around(10, 0.02), 100)], 100)], 100));
    expect(parseBench(text, 'a.json').adapters[0].id).toBe('ort');
    expect(() => parseBench('{', 'x.json')).toThrow(BenchReadError);
    expect(() => parseBench(JSON.stringify({ schemaVersion: 1, results: [] }), 'report.json')).toThrow(
      /not a bench result .*compare/,
    );
    expect(() => parseBench(JSON.stringify({ kind: BENCH_KIND, schemaVersion: 99, adapters: [] }), 'v.json')).toThrow(
      /schemaVersion 99/,
    );
    expect(() =>
      parseBench(
        JSON.stringify({
          kind: BENCH_KIND,
          schemaVersion: 1,
          adapters: [{ id: 'x', batches: [{ batch: 1 }] }],
          ceiling: null,
        }),
        'b.json',
      ),
    ).toThrow(/adapters\[0\]\.batches\[0\] needs/);
  });

  test('version 1 files (ONNX Runtime-only paired ceilings) are still read', () => {
    const v1 = { ...benchOf([adapterOf('ort', [batchOf(1, around(10, 0.02), 100)], 100)], 100), schemaVersion: 1 };
    expect(parseBench(JSON.stringify(v1), 'old.json').schemaVersion).toBe(1);
  });
});

describe('bench files', () => {
  test('isBenchFile tells bench results from conformance reports; readBenchFile names the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-test-'));
    try {
      const b = path.join(dir, 'b.json');
      const r = path.join(dir, 'report.json');
      fs.writeFileSync(b, JSON.stringify(benchOf([], 100)));
      fs.writeFileSync(r, JSON.stringify({ schemaVersion: 1, results: [] }));
      expect(isBenchFile(b)).toBe(true);
      expect(isBenchFile(r)).toBe(false);
      expect(isBenchFile(dir)).toBe(false);
      expect(isBenchFile(path.join(dir, 'missing.json'))).toBe(false);
      expect(readBenchFile(b).ceiling!.gflops).toBe(100);
      expect(() => readBenchFile(path.join(dir, 'missing.json'))).toThrow(/cannot read bench result .*missing\.json/);
      expect(() => readBenchFile(r)).toThrow(/report\.json is not a bench result/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compare command with bench results', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  /** Runs `compare` in-process; returns exit code and stdout/stderr. */
  async function compare(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const out = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      stdout += String(c);
      return true;
    });
    const err = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
      stderr += String(c);
      return true;
    });
    try {
      const code = await compareCommand(argv);
      return { code, stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-compare-'));
    const a = benchOf([adapterOf('ort', [batchOf(8, around(60, 0.02), 100)], 100)], 100);
    const slower = benchOf([adapterOf('ort', [batchOf(8, around(78, 0.02), 100)], 100)], 100);
    fs.writeFileSync(file('a.json'), JSON.stringify(a));
    fs.writeFileSync(file('same.json'), JSON.stringify(a));
    fs.writeFileSync(file('slower.json'), JSON.stringify(slower));
    const rep = conformanceOf([{ buildMs: 1, runMs: 8, compareMs: 1, totalMs: 10 }]);
    writeReportDir(path.join(dir, 'run'), rep.runId, rep.schemaVersion, renderAll(rep));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('two bench results are compared as bench --compare does: latency regressions beyond the noise band', async () => {
    const same = await compare(file('a.json'), file('same.json'));
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(
      /^bench compare .*a\.json → .*same\.json: 0 regression\(s\), 0 improvement\(s\), 1 within noise/,
    );
    const slower = await compare(file('a.json'), file('slower.json'));
    expect(slower.code).toBe(1);
    expect(slower.stdout).toMatch(/1 regression\(s\)/);
    expect(slower.stdout).toMatch(/ort.*batch 8.*slower: 60\.\d+ → 78\.\d+ ms/);
    // A wider floor absorbs the 30% change.
    expect((await compare(file('a.json'), file('slower.json'), '--noise-floor', '0.5')).code).toBe(0);
    const json = await compare(file('a.json'), file('slower.json'), '--json');
    const parsed = JSON.parse(json.stdout) as { kind: string; regressions: number; rows: Array<{ verdict: string }> };
    expect([json.code, parsed.kind, parsed.regressions, parsed.rows[0].verdict]).toEqual([
      1,
      'bench-comparison',
      1,
      'regression',
    ]);
  });

  test('a bench result against a conformance report is refused (exit 2); options of the other kind are usage errors', async () => {
    const mixed = await compare(file('a.json'), path.join(dir, 'run'));
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/a\.json is a bench result but .*run is not/);
    await expect(compare(file('a.json'), file('same.json'), '--regression-factor', '3')).rejects.toThrow(UsageError);
    await expect(compare(path.join(dir, 'run'), path.join(dir, 'run'), '--noise-floor', '0.2')).rejects.toThrow(
      /--noise-floor applies to bench results/,
    );
    // Two conformance reports still go the report way.
    const reports = await compare(path.join(dir, 'run'), path.join(dir, 'run'));
    expect([reports.code, reports.stdout]).toEqual([0, expect.stringContaining('no differences')]);
  });
});

describe('per-stage kernel profile (--layers)', () => {
  const spec = resnet50({});
  const flops = modelFlops(spec);
  const node = (layer: string | null, ms: number, name = layer ?? 'reorder') => ({
    node: `${name}_nchwc`,
    op: 'Conv',
    layer,
    medianMs: ms,
  });

  test('blocks follow the spec boundaries; logits holds pooling, flatten and the Dense layer', () => {
    const b = blockOfLayers(spec);
    expect(b.get('conv2d')).toBe('stage1');
    expect(b.get('max_pooling2d')).toBe('stage1');
    expect(b.get('activation_3')).toBe('stage2_block1_conv');
    expect(b.get(spec.output)).toBe('logits');
    expect(stageOf('stage3_block2_identity')).toBe('stage3');
    expect(stageOf('logits')).toBe('logits');
  });

  test('times and FLOPs add up per block and per stage; unattributed nodes are kept apart', () => {
    const r = profileByBlock(
      spec,
      flops,
      {
        source: 'test',
        runs: 5,
        nodes: [
          node('conv2d', 1),
          node('activation', 0.5),
          node('activation_3', 2),
          node(null, 0.25),
          node(spec.output, 0.25),
        ],
      },
      8,
    );
    expect(r.kernelMs).toBe(4);
    expect(r.unattributed).toEqual([{ node: 'reorder_nchwc', op: 'Conv', ms: 0.25 }]);
    const stage1 = r.stages.find((x) => x.part === 'stage1')!;
    expect(stage1.ms).toBe(1.5);
    expect(stage1.share).toBeCloseTo(1.5 / 4, 12);
    // conv1: 7x7x3 -> 64 channels at 32x32, 2 FLOP per multiply-add, batch 8.
    expect(stage1.flops).toBe(2 * 7 * 7 * 3 * 64 * 32 * 32 * 8);
    expect(stage1.gflops).toBeCloseTo(stage1.flops / 1.5e6, 6);
    expect(r.blocks.reduce((t, x) => t + x.flops, 0)).toBe(flops.headline * 8);
    expect(r.stages.map((x) => x.part)).toEqual([
      'stage1',
      'stage2',
      'stage3',
      'stage4',
      'stage5',
      'avgpool',
      'logits',
    ]);
    expect(r.stages.find((x) => x.part === 'stage3')!.gflops).toBeNull(); // no time: no rate
  });

  test('a node naming a layer the spec does not have, or a bad time, is an error naming it', () => {
    expect(() => profileByBlock(spec, flops, { source: 'p', runs: 1, nodes: [node('nope', 1)] }, 1)).toThrow(
      /node nope_nchwc names layer nope/,
    );
    expect(() => profileByBlock(spec, flops, { source: 'p', runs: 1, nodes: [node('conv2d', Number.NaN)] }, 1)).toThrow(
      /node conv2d_nchwc has time NaN/,
    );
    expect(() => profileByBlock(spec, flops, { source: 'p', runs: 1, nodes: [] }, 0)).toThrow(
      /batch must be a positive integer/,
    );
  });

  test('rendered as one row per profiled adapter x batch, nothing when no batch was profiled', () => {
    const b = batchOf(8, around(15, 0.01), 400);
    const plain = benchOf([adapterOf('ort', [b], 400)], 400);
    expect(layersText(plain)).toBeNull();
    expect(layersMarkdown(plain)).toBeNull();
    b.layers = profileByBlock(
      spec,
      flops,
      { source: 'prof X', runs: 20, nodes: [node('conv2d', 1), node('activation_3', 2)] },
      8,
    );
    const text = layersText(plain)!;
    expect(text).toMatch(/prof X, median of 20 runs/);
    expect(text.split('\n')[2]).toMatch(/adapter\s+batch\s+kernels\s+stage1\s+stage2/);
    expect(text).toMatch(/ort\s+8\s+3\.00 ms\s+1\.00 ms · \d+\s+2\.00 ms · \d+/);
    const md = layersMarkdown(plain)!;
    expect(md).toMatch(/^## Per stage/);
    expect(md).toMatch(/\| ort \| 8 \| 3\.00 ms \| 1\.00 ms · \d+ \|/);
  });
});

describe('ceiling bookkeeping', () => {
  test('each adapter gets the mean of the ceilings measured around it', () => {
    const pts = [point(0, 100), point(1, 80), point(2, 90)];
    expect(ceilingAround(pts, 0)).toBe(90);
    expect(ceilingAround(pts, 1)).toBe(85);
    const failed = { ...point(1, 0), best: null };
    expect(ceilingAround([point(0, 100), failed], 0)).toBe(100);
    expect(ceilingAround([failed], 0)).toBeNull();
  });

  test('record: median of the points and their drift', () => {
    const r = ceilingRecord([point(0, 100), point(1, 80), point(2, 90)], 2048)!;
    expect(r.gflops).toBe(90);
    expect(r.drift).toBeCloseTo(20 / 90, 12);
    expect(r.flops).toBe(2 * 2048 ** 3);
    expect(ceilingRecord([], 2048)).toBeNull();
  });

  test('runtime scale: fastest runtime over ONNX Runtime, median over the points', () => {
    const cfg = (runtime: string, gflops: number) => ({
      ...batchOf(1, [1, 2, 3], null),
      runtime,
      version: '1',
      threads: 2,
      n: 8,
      flops: 1,
      gflops,
    });
    const p = (ort: number, other: number): CeilingPoint => ({
      ...point(0, Math.max(ort, other)),
      configs: [cfg('onnxruntime-node', ort), cfg('tfjs-node', other)],
    });
    expect(runtimeScale([p(100, 120), p(100, 130), p(100, 90)])).toBeCloseTo(1.2, 12);
    expect(runtimeScale([{ ...point(0, 50), configs: [cfg('tfjs-wasm', 50)] }])).toBeNull();
  });

  test('runtime scale relative to the runtimes a batch paired: 1 when the fastest runtime was paired', () => {
    const cfg = (runtime: string, gflops: number) => ({
      ...batchOf(1, [1, 2, 3], null),
      runtime,
      version: '1',
      threads: 2,
      n: 8,
      flops: 1,
      gflops,
    });
    const p = (ort: number, other: number): CeilingPoint => ({
      ...point(0, Math.max(ort, other)),
      configs: [cfg('onnxruntime-node', ort), cfg('tfjs-node', other)],
    });
    const pts = [p(100, 120), p(100, 130), p(100, 90)];
    expect(runtimeScale(pts, ['onnxruntime-node', 'tfjs-node'])).toBe(1);
    // ONNX Runtime faster than tfjs-node at two of three points: tfjs-node alone would be scaled by the median ratio.
    expect(runtimeScale([p(100, 80), p(100, 90), p(100, 120)], ['tfjs-node'])).toBeCloseTo(100 / 90, 12);
    expect(runtimeScale(pts, ['tfjs-node'])).toBe(1);
    expect(runtimeScale(pts, ['tfjs-wasm'])).toBeNull();
  });

  const pairedOf = (configs: Array<[string, number]>): PairedCeiling => {
    const best = configs.reduce((x, y) => (y[1] > x[1] ? y : x));
    return {
      runtime: best[0],
      version: '1',
      n: 2048,
      flops: 1,
      gflops: best[1],
      unpaired: [],
      scale: null,
      configs: configs.map(([runtime, gflops]) => ({ runtime, version: '1', threads: null, samplesMs: [1], gflops })),
    };
  };

  test('a batch uses its paired ceiling (scaled to the fastest runtime it did not pair) when it has one, else the bracketing one', () => {
    const cfg = (runtime: string, gflops: number) => ({
      ...batchOf(1, [1, 2, 3], null),
      runtime,
      version: '1',
      threads: 2,
      n: 8,
      flops: 1,
      gflops,
    });
    const pts: CeilingPoint[] = [
      {
        ...point(0, 125),
        best: { runtime: 'tfjs-node', threads: null },
        configs: [cfg('onnxruntime-node', 100), cfg('tfjs-node', 125)],
      },
    ];
    const b = batchOf(8, around(50, 0.01), null);
    applyCeiling(b, 200, pts);
    expect(b.ceilingBasis).toBe('bracket');
    expect(b.efficiency).toBeCloseTo(b.gflops / 200, 12);
    // ONNX Runtime only (a TensorFlow.js adapter's worker): scaled by tfjs-node / ONNX Runtime between adapters.
    b.pairedCeiling = pairedOf([['onnxruntime-node', 100]]);
    applyCeiling(b, 200, pts);
    expect(b.ceilingBasis).toBe('paired');
    expect(b.pairedCeiling.scale).toBeCloseTo(1.25, 12);
    expect(b.ceilingGflops).toBeCloseTo(125, 12);
    expect(b.efficiency).toBeCloseTo(b.gflops / 125, 12);
    expect(b.efficiencyVsBracket).toBeCloseTo(b.gflops / 200, 12);
    // tfjs-node paired too: its own paired rate counts, nothing is extrapolated.
    b.pairedCeiling = pairedOf([
      ['onnxruntime-node', 110],
      ['tfjs-node', 105],
    ]);
    applyCeiling(b, 200, pts);
    expect(b.pairedCeiling.scale).toBe(1);
    expect(b.ceilingGflops).toBe(110);
    // No ceiling points: the paired rate as measured.
    b.pairedCeiling = pairedOf([['onnxruntime-node', 100]]);
    applyCeiling(b, null, []);
    expect(b.ceilingGflops).toBe(100);
    b.pairedCeiling = null;
    applyCeiling(b, null, []);
    expect([b.ceilingBasis, b.efficiency]).toEqual([null, null]);
  });

  test('pairedCeiling: per-configuration medians, best configuration first-class, unpaired runtimes kept', () => {
    const prod = (runtime: string, threads: number | null) => ({
      runtime,
      version: 'v',
      threads,
      n: 1000,
      run: () => undefined,
      release: () => undefined,
    });
    // 2·1000³ FLOP = 2 GFLOP: 20 ms → 100 GFLOP/s, 10 ms → 200.
    const pc = pairedCeiling(
      [prod('onnxruntime-node', 2), prod('tfjs-node', null)],
      [
        [20, 19, 21],
        [10, 30, 10],
      ],
      [{ runtime: 'x', reason: 'y' }],
    )!;
    expect(pc.configs.map((c) => Math.round(c.gflops))).toEqual([100, 200]);
    expect([pc.runtime, pc.gflops, pc.scale]).toEqual(['tfjs-node', 200, null]);
    expect(pc.unpaired).toEqual([{ runtime: 'x', reason: 'y' }]);
    expect(pairedCeiling([], [], [])).toBeNull();
  });

  test('best configuration', () => {
    const cfg = (gflops: number, threads: number) => ({
      ...batchOf(1, [1, 2, 3], null),
      runtime: 'ort',
      version: '1',
      threads,
      n: 8,
      flops: 1,
      gflops,
    });
    expect(bestConfig([cfg(50, 2), cfg(70, 1)])!.threads).toBe(1);
    expect(bestConfig([])).toBeNull();
  });
});

// ------------------------------------------------------------------------------------------------
// Harness breakdown and rendering
// ------------------------------------------------------------------------------------------------

function conformanceOf(
  timings: Array<Record<string, number>>,
  partTimings?: Record<string, number>,
  jobs = 1,
): ConformanceReport {
  const results = timings.map((t, i) => ({
    adapter: 'reference',
    case: `c${i}`,
    status: 'pass' as const,
    reason: '',
    tolerance: null,
    metrics: null,
    checks: [],
    timings: t as never,
    modelReused: false,
    regression: null,
    part: 0,
  }));
  const part = {
    runId: 'r',
    startedAt: '',
    finishedAt: '',
    durationMs: 10_000,
    options: {
      adapters: ['reference'],
      adapterSelection: 'default' as const,
      cases: null,
      shard: null,
      timeoutS: 300,
      jobs,
      regressionFactor: 2,
      baseline: null,
    },
    environment: benchOf([], null).environment,
    ...(partTimings ? { timings: partTimings } : {}),
  };
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'resnet-conformance', version: '0' },
    runId: 'r',
    createdAt: '',
    fixtures: { manifest: '', sha256: '', caseCount: 2 },
    parts: [part],
    cases: [],
    adapters: [
      {
        id: 'reference',
        summary: '',
        profile: 'fp64-reference',
        outOfTheBox: true,
        explicitlyRequested: false,
        available: true,
        description: null,
        worker: null,
        durationMs: 9000,
        counts: emptyCounts(),
        parts: [0],
      },
    ],
    results,
    baseline: null,
    summary: { total: 2, byStatus: emptyCounts(), requiredUnavailable: 0, verdict: 'pass', exitCode: 0, failures: [] },
  } as ConformanceReport;
}

describe('harness breakdown', () => {
  test('from per-case timings only: missing phases are listed, never guessed', () => {
    const r = conformanceOf([
      { buildMs: 1000, runMs: 3000, compareMs: 100, totalMs: 4200 },
      { buildMs: 0, runMs: 4000, compareMs: 200, totalMs: 4300 },
    ]);
    const h = harnessBreakdown(r, { wallMs: 10_500 });
    expect(h.phases.inferenceMs).toBe(7000);
    expect(h.phases.buildMs).toBe(1000);
    expect(h.phases.compareMs).toBe(300);
    expect(h.phases.initMs).toBeNull();
    expect(h.phases.startupMs).toBeNull();
    expect(h.totalMs).toBe(10_500);
    expect(h.overheadMs).toBe(3500);
    expect(h.overheadFraction).toBeCloseTo(1 / 3, 12);
    expect(h.missing.join('; ')).toMatch(/weight init.*parent start-up.*worker start-up.*report writing/);
    expect(h.byAdapter).toEqual([
      {
        adapter: 'reference',
        durationMs: 9000,
        buildMs: 1000,
        setupMs: 0,
        inferenceMs: 7000,
        compareMs: 300,
        outsideCasesMs: 9000 - 8500,
        cases: 2,
      },
    ]);
  });

  test('with the proposed run timings and initMs: every phase is accounted for', () => {
    const r = conformanceOf(
      [
        {
          buildMs: 1000,
          initMs: 300,
          setupMs: 0,
          fixtureMs: 50,
          runMs: 3000,
          runSetupMs: 0,
          compareMs: 100,
          totalMs: 4200,
        },
        { buildMs: 0, initMs: 0, fixtureMs: 50, runMs: 4000, runSetupMs: 0, compareMs: 200, totalMs: 4300 },
      ],
      { startupMs: 150, fixturesMs: 200, adaptersMs: 9000, workerStartupMs: 400, reportMs: 120 },
    );
    const h = harnessBreakdown(r);
    expect(h.missing).toEqual([]);
    expect(h.phases.initMs).toBe(300);
    expect(h.phases.buildMs).toBe(700); // build without init
    expect(h.phases.startupMs).toBe(550);
    expect(h.phases.fixturesMs).toBe(300);
    expect(h.phases.reportMs).toBe(120);
    // parent: start-up 150 + inside the run besides workers (10000 - 9000) + workers 9000 + report 120
    expect(h.totalMs).toBe(150 + 1000 + 9000 + 120);
    const sum = Object.values(h.phases).reduce<number>((s, v) => s + (v ?? 0), 0);
    expect(sum).toBeCloseTo(h.totalMs, 9);
  });

  test('the parent\'s weight-cache preparation (weightsMs) is weight init, not "other"', () => {
    const cases = [
      { buildMs: 1000, initMs: 70, setupMs: 0, fixtureMs: 50, runMs: 3000, compareMs: 100, totalMs: 4200 },
    ];
    const without = harnessBreakdown(
      conformanceOf(cases, { startupMs: 150, fixturesMs: 200, adaptersMs: 9000, workerStartupMs: 400, reportMs: 120 }),
    );
    const withW = harnessBreakdown(
      conformanceOf(cases, {
        startupMs: 150,
        fixturesMs: 200,
        weightsMs: 250,
        adaptersMs: 9000,
        workerStartupMs: 400,
        reportMs: 120,
      }),
    );
    expect(without.phases.initMs).toBe(70);
    expect(withW.phases.initMs).toBe(320);
    expect(withW.phases.buildMs).toBe(930); // build without the worker's init only
    expect(withW.totalMs).toBe(without.totalMs); // the part's wall already holds it
    expect(withW.phases.otherMs).toBeCloseTo(without.phases.otherMs! - 250, 9);
    expect(withW.missing).toEqual([]);
  });

  test("an adapter's probe and describe (adapters[].probeMs) is shown as part of the time outside its cases", () => {
    const r = conformanceOf([{ buildMs: 1000, runMs: 3000, compareMs: 100, totalMs: 4200 }]);
    expect(harnessBreakdown(r).byAdapter[0].probeMs).toBeUndefined(); // not recorded: never guessed
    (r.adapters[0] as { probeMs?: number }).probeMs = 1300;
    const a = harnessBreakdown(r).byAdapter[0];
    expect(a.probeMs).toBe(1300);
    expect(a.outsideCasesMs).toBe(9000 - 4200); // the probe is inside it, not subtracted again
  });

  test('runtime setup is taken out of build and inference, counted in the overhead, and reported apart', () => {
    const r = conformanceOf(
      [
        // a build whose session creation took 600 of its 1000 ms, and a run that created a session (2000 of 3000 ms)
        {
          buildMs: 1000,
          initMs: 300,
          setupMs: 600,
          fixtureMs: 50,
          runMs: 3000,
          runSetupMs: 2000,
          compareMs: 100,
          totalMs: 4200,
        },
        { buildMs: 0, initMs: 0, fixtureMs: 50, runMs: 4000, compareMs: 200, totalMs: 4300 },
      ],
      { startupMs: 150, fixturesMs: 200, adaptersMs: 9000, workerStartupMs: 400, reportMs: 120 },
    );
    const h = harnessBreakdown(r);
    expect(h.phases.setupMs).toBe(2600);
    expect(h.phases.inferenceMs).toBe(5000); // 7000 ran, 2000 of it creating a session
    expect(h.phases.buildMs).toBe(100); // 1000 - init 300 - setup 600
    expect(h.overheadMs).toBe(h.totalMs - 5000);
    expect(h.ownOverheadMs).toBe(h.overheadMs - 2600);
    expect(h.ownOverheadFraction).toBeCloseTo(h.ownOverheadMs! / h.totalMs, 12);
    expect(h.missing).toEqual([]);
    const sum = Object.values(h.phases).reduce<number>((s, v) => s + (v ?? 0), 0);
    expect(sum).toBeCloseTo(h.totalMs, 9);
    expect(h.byAdapter[0]).toMatchObject({ buildMs: 400, setupMs: 2600, inferenceMs: 5000 });
    // a recorded setup larger than the phase it happened in is capped at it (never negative build or inference)
    const capped = harnessBreakdown(
      conformanceOf([{ buildMs: 100, setupMs: 500, runMs: 50, runSetupMs: 80, compareMs: 0, totalMs: 150 }]),
    );
    expect(capped.phases.buildMs).toBe(0);
    expect(capped.phases.inferenceMs).toBe(0);
    expect(capped.phases.setupMs).toBe(150);
    // reports without it: listed as not recorded, no own-work figure
    const none = harnessBreakdown(conformanceOf([{ buildMs: 100, runMs: 50, compareMs: 0, totalMs: 150 }]));
    expect(none.phases.setupMs).toBeNull();
    expect(none.ownOverheadMs).toBeNull();
    expect(none.missing.join('; ')).toMatch(/runtime setup/);
  });

  test('parallel workers: shares are of busy time', () => {
    const r = conformanceOf([{ buildMs: 0, runMs: 5000, compareMs: 0, totalMs: 5000 }], undefined, 2);
    const h = harnessBreakdown(r, { wallMs: 6000 });
    expect(h.concurrency).toBe(2);
    expect(h.wallMs).toBe(6000);
    expect(h.totalMs).toBe(9000); // worker busy time (the adapter's durationMs), not the wall
  });
});

describe('perf section rendering', () => {
  const report = benchOf(
    [
      adapterOf('ort|<b>', [batchOf(1, around(10, 0.02), 100), batchOf(8, around(60, 0.02), 100)], 100),
      adapterOf('tfjs-node', [], null, {
        available: false,
        unavailableReason: 'not installed',
        fix: 'npm run setup:tfjs-node',
      }),
    ],
    100,
  );

  test('digest rows carry latency, throughput, efficiency and memory', () => {
    const d = benchDigest(report, 'b.json');
    expect(d.rows).toHaveLength(2);
    expect(d.rows[1].batch).toBe(8);
    expect(d.rows[1].efficiency).toBeCloseTo((616357888 * 8) / 60e6 / 100, 6);
    expect(d.notes).toEqual([
      { adapter: 'tfjs-node', status: 'unavailable', reason: 'not installed (fix: npm run setup:tfjs-node)' },
    ]);
  });

  test('Markdown and HTML escape names and contain every row', () => {
    const s = perfSection(
      { report, source: 'b.json' },
      harnessBreakdown(conformanceOf([{ buildMs: 1000, runMs: 8000, compareMs: 1000, totalMs: 10_000 }]), {
        wallMs: 10_000,
      }),
    );
    const md = perfMarkdown(s);
    expect(md).toContain('ort\\|&lt;b&gt;');
    expect(md.split('\n').filter((l) => l.startsWith('| ort'))).toHaveLength(2);
    expect(md).toContain('### Harness overhead');
    expect(md).toMatch(/inference 8\.00 s; harness overhead 2\.00 s \(20\.0%; target ≤ 20%\)/);
    const html = perfHtml(s);
    expect(html).toContain('ort|&lt;b&gt;');
    expect(html).not.toContain('<b>');
    expect(html.match(/<tr>/g)!.length).toBe(2 + 1 + 9 + 1 + 1 + 1); // bench rows + header, harness phases + header, per-adapter row + header
    expect(perfText(benchDigest(report))).toMatch(/tfjs-node: unavailable/);
    expect(perfMarkdown(perfSection(null, null))).toContain('No performance data.');
    const forReport = perfForReport(conformanceOf([{ buildMs: 1, runMs: 8, compareMs: 1, totalMs: 10 }]), {
      bench: { report, source: 'b.json' },
      external: { wallMs: 20 },
    });
    expect(forReport.bench!.source).toBe('b.json');
    expect(forReport.harness!.wallMs).toBe(20);
  });
});

describe('core placement (core-to-core round trip)', () => {
  // The measurement is tested on a fake responder and an injected clock: a real two-thread round trip
  // depends on the scheduler (on a loaded machine the responder may not run for 50 ms), so it lives in
  // the bench (`npm run bench`), not here.
  const fakeClock = (tripNs: number, stallAfter = Infinity) => {
    let t = 0n;
    let trips = 0;
    return {
      now: () => t,
      trip: () => {
        if (trips++ >= stallAfter) return false;
        t += BigInt(tripNs);
        return true;
      },
      trips: () => trips,
    };
  };

  test('a round trip is the median ns per trip over the samples', () => {
    const c = fakeClock(400);
    expect(measureRoundTrips(c.trip, c.now)).toBe(400);
    // 10 wake-up trips, then SAMPLES × TRIPS_PER_SAMPLE (20 ms budget not reached at 400 ns a trip).
    expect(c.trips()).toBe(10 + SAMPLES * TRIPS_PER_SAMPLE);
  });

  test('a slow round trip (the threads take turns on one core) stops at the time budget and still says how slow', () => {
    const c = fakeClock(25_000); // 25 µs: a scheduler time slice per trip
    const ns = measureRoundTrips(c.trip, c.now);
    expect(ns).toBe(25_000);
    expect(ns!).toBeGreaterThanOrEqual(BUSY_NS); // summarized as a busy block, not a placement
    // Stopped within the budget (plus one sample's check interval), not after SAMPLES × TRIPS_PER_SAMPLE trips.
    expect(c.trips()).toBeLessThanOrEqual(10 + Math.ceil(BUDGET_NS / 25_000) + 8);
  });

  test('a responder that stops answering gives null (during wake-up or mid-sample), never a number', () => {
    const wake = fakeClock(400, 5);
    expect(measureRoundTrips(wake.trip, wake.now)).toBeNull();
    const mid = fakeClock(400, 10 + TRIPS_PER_SAMPLE * 3 + 17);
    expect(measureRoundTrips(mid.trip, mid.now)).toBeNull();
  });

  test('one core has no probe; a started probe stops cleanly and then answers null without waiting', async () => {
    expect(startCoreProbe(1)).toBeNull();
    const probe = startCoreProbe(2);
    if (!probe) throw new Error('no probe for two cores');
    await probe.close();
    expect(probe.measure()).toBeNull(); // closed: no answer, no hang
  });

  test('blocks at FAR_FACTOR × the lowest round trip are far; the latency there and elsewhere is split', () => {
    const s = summarizeRoundTrips([90, 400, null, 110, 420], [14.5, 16.4, 15, 14.6, 16.6], 80);
    expect(FAR_FACTOR).toBe(3);
    expect(s.farBlocks).toBe(2);
    expect([s.minNs, s.maxNs, s.medianNs]).toEqual([90, 420, 255]);
    expect(s.nearMedianMs).toBeCloseTo(14.55, 9);
    expect(s.farMedianMs).toBeCloseTo(16.5, 9);
    expect([s.lowestNs, s.farMaxNs, s.busyBlocks]).toEqual([80, 420, 0]);
    // 25 µs is no placement: the two threads took turns on one core.
    const busy = summarizeRoundTrips([90, 25_000, 100], [10, 30, 10], 85);
    expect([busy.farBlocks, busy.busyBlocks, busy.farMaxNs, busy.nearMedianMs]).toEqual([0, 1, null, 10]);
    expect(BUSY_NS).toBe(20_000);
    const none = summarizeRoundTrips([null], [10], null);
    expect([none.medianNs, none.farBlocks, none.nearMedianMs, none.farMedianMs]).toEqual([null, 0, null, null]);
  });

  const withTrips = (b: BatchResult, ns: number[], ms: number[], lowest: number): BatchResult => ({
    ...b,
    coreRoundTrip: summarizeRoundTrips(ns, ms, lowest),
  });

  test('rows that ran partly far apart get a placement note in text, Markdown and HTML; others none', () => {
    const near = withTrips(batchOf(1, around(10, 0.02), 100), [90, 95], [10, 10.1], 85);
    const mixed = withTrips(batchOf(8, around(60, 0.02), 100), [88, 400, 410], [58, 66, 67], 85);
    const d = benchDigest(benchOf([adapterOf('ort', [near, mixed], 100)], 100));
    expect(d.rows.map((r) => r.cores?.farBlocks)).toEqual([0, 2]);
    expect(placementNotes(d)).toEqual([
      'ort batch 8: 2 of 3 blocks of runs with the cores far apart (core-to-core round trip up to 410 ns, lowest 85 ns): median 66.50 ms in those blocks, 58.00 ms in the others',
    ]);
    const taken = withTrips(batchOf(1, around(10, 0.02), 100), [90, 7e6], [10, 20], 85);
    expect(placementNotes(benchDigest(benchOf([adapterOf('keras', [taken], 100)], 100)))).toEqual([
      "keras batch 1: after 1 of 2 blocks the other core was taken (round trip ≥ 20 µs: the two threads could not run at once — the adapter's own leftover threads or another process)",
    ]);
    expect(perfText(d)).toContain('Core placement');
    expect(perfMarkdown(perfSection({ report: benchOf([adapterOf('ort', [near, mixed], 100)], 100) }, null))).toContain(
      '- ort batch 8: 2 of 3 blocks',
    );
    expect(perfHtml(perfSection({ report: benchOf([adapterOf('ort', [near, mixed], 100)], 100) }, null))).toContain(
      '<li>ort batch 8: 2 of 3 blocks',
    );
    expect(placementNotes(benchDigest(benchOf([adapterOf('ort', [near], 100)], 100)))).toEqual([]);
    // The range is always shown: a bench far apart throughout has no far rows, only high round trips.
    const allFar = withTrips(batchOf(8, around(66, 0.02), 100), [394, 433], [66, 67], 394);
    const farDigest = benchDigest(benchOf([adapterOf('ort', [allFar], 100)], 100));
    expect(placementNotes(farDigest)).toEqual([]);
    expect(roundTripLine(farDigest)).toBe(
      'Core-to-core round trip over the bench: 394–433 ns (a row is "far apart" at 3× the lowest; compare with another bench\'s range)',
    );
    expect(perfText(farDigest)).toContain('394–433 ns');
    expect(roundTripLine(d)).toMatch(/: 85–410 ns/);
    const older = benchDigest(benchOf([adapterOf('ort', [batchOf(1, around(10, 0.02), 100)], 100)], 100)); // older files: no field
    expect(perfText(older)).not.toContain('Core placement');
    expect(roundTripLine(older)).toBeNull();
  });

  test('compare: a flagged change that coincides with a placement change says so; the verdict stands', () => {
    const a = benchOf(
      [adapterOf('ort', [withTrips(batchOf(8, around(60, 0.02), 100), [70, 72], [60, 60], 70)], 100)],
      100,
    );
    const slowFar = benchOf(
      [adapterOf('ort', [withTrips(batchOf(8, around(75, 0.02), 100), [390, 400], [75, 75], 70)], 100)],
      100,
    );
    const slowNear = benchOf(
      [adapterOf('ort', [withTrips(batchOf(8, around(75, 0.02), 100), [71, 73], [75, 75], 70)], 100)],
      100,
    );
    const far = compareBench(a, slowFar).rows[0];
    expect(far.verdict).toBe('regression');
    expect(far.coreRoundTripNs).toEqual([71, 395]);
    expect(far.reason).toMatch(
      /cores were placed farther apart in the second result \(core-to-core round trip 71 → 395 ns\)/,
    );
    const near = compareBench(a, slowNear).rows[0];
    expect(near.verdict).toBe('regression');
    expect(near.reason).not.toMatch(/placed/);
    expect(compareBench(slowFar, a).rows[0].reason).toMatch(/closer together/);
    expect(compareBench(a, a).rows[0].reason).not.toMatch(/placed/);
    const slowBusy = benchOf(
      [adapterOf('ort', [withTrips(batchOf(8, around(75, 0.02), 100), [3e6, 4e6], [75, 75], 70)], 100)],
      100,
    );
    expect(compareBench(a, slowBusy).rows[0].reason).toMatch(/in the second result the other core was mostly taken/);
  });
});

describe('bench worker environment', () => {
  test("an adapter entry's processEnv reaches its bench worker (faulty-env is available only when it sees it)", async () => {
    expect(process.env[ENV_CHECK_VAR]).toBeUndefined();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-env-'));
    try {
      const json = path.join(dir, 'bench.json');
      const r = await runCli([
        'bench',
        '--adapters',
        'faulty-env',
        '--batch',
        '1',
        '--runs',
        '1',
        '--warmup',
        '0',
        '--no-ceiling',
        '--json-out',
        json,
      ]);
      expect([r.code, r.stderr]).toEqual([0, expect.stringContaining('faulty-env: benchmarking batch 1')]);
      const b = readBenchFile(json);
      expect(b.adapters.map((a) => [a.id, a.available, a.unavailableReason])).toEqual([
        ['faulty-env', true, undefined],
      ]);
      expect(b.adapters[0].batches.map((x) => x.samplesMs.length)).toEqual([1]);
      // One block of runs, one core-to-core round trip after it (this machine has 2 cores).
      if (os.availableParallelism() > 1)
        expect(b.adapters[0].batches[0].coreRoundTrip).toMatchObject({ samplesNs: [expect.any(Number)], farBlocks: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
