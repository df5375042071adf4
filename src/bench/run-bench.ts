/**
 * One benchmark run: every selected adapter in its own worker process, one after the other (never
 * two at once: they would compete for the same cores), with the MatMul ceiling measured in its own
 * worker before the first adapter, between adapters and after the last one. Each adapter's
 * efficiency is relative to the mean of the two ceiling measurements around it, so a machine that
 * gets busier or quieter during the run shifts both numerator and denominator.
 */
import type { AdapterCommandSource } from '../adapters/pool';
import type { AdapterEntry } from '../adapters/types';
import { collectRunInfo, toolVersion } from '../environment/run-info';
import { resnet50 } from '../model/builders';
import { CEILING_POLICY, DEFAULT_CEILING_N, bestConfig, type CeilingRuntime } from '../calibration/ceiling';
import { summarizeRoundTrips } from '../calibration/core-latency';
import { FLOP_CONVENTION, matmulFlops, modelFlops } from './flops';
import { checkPolicy, type RunPolicy } from '../util/measure';
import type { BenchJob } from './protocol';
import type { AdapterBench, BatchResult, BenchReport, CeilingPoint, CeilingRecord } from './schema';
import { BENCH_KIND, BENCH_SCHEMA_VERSION } from './schema';
import { runWorker } from './spawn';
import { median } from '../util/stats';

export const DEFAULT_BATCHES = [1, 8];
export const DEFAULT_INPUT_SHAPE: [number, number, number] = [64, 64, 3];
export const DEFAULT_CLASSES = 6;

export interface BenchOptions {
  adapters: AdapterEntry[];
  selection: 'default' | 'all' | 'explicit';
  /** `--adapter-module` files the adapters may come from, for the workers. */
  adapterModules?: string[];
  /** `--adapter-command` programs the adapters may come from, for the workers. */
  adapterCommands?: AdapterCommandSource[];
  batches: number[];
  policy: RunPolicy;
  /** Measure the MatMul ceiling (default true). */
  ceiling: boolean;
  /** Also interleave MatMul runs with each adapter's runs (default true; needs ceiling). */
  pairedCeiling: boolean;
  /** Profile each batch's kernels by block (`--layers`). */
  layers?: boolean;
  ceilingN?: number;
  ceilingRuntimes: CeilingRuntime[];
  /** Per worker process. */
  timeoutS: number;
  verbose?: boolean;
  log?: (line: string) => void;
}

function checkOptions(o: BenchOptions): void {
  if (o.adapters.length === 0) throw new Error('bench: no adapters selected');
  if (o.batches.length === 0 || o.batches.some((b) => !(Number.isInteger(b) && b >= 1))) {
    throw new Error(`bench: batch sizes must be positive integers, got ${o.batches.join(',')}`);
  }
  checkPolicy(o.policy);
  if (!(o.timeoutS > 0)) throw new Error(`bench: timeout must be > 0 s, got ${o.timeoutS}`);
}

async function ceilingPoint(o: BenchOptions, index: number, n: number): Promise<CeilingPoint> {
  const job: BenchJob = {
    kind: 'ceiling',
    ceiling: { runtimes: o.ceilingRuntimes, n, policy: CEILING_POLICY, wasmFallback: true },
  };
  const w = await runWorker(job, { timeoutMs: o.timeoutS * 1000, verbose: o.verbose, label: 'ceiling' });
  const point: CeilingPoint = {
    beforeAdapter: index,
    gflops: 0,
    best: null,
    configs: [],
    unavailable: [],
    wallMs: w.wallMs,
  };
  if (!w.result || w.result.kind !== 'ceiling') {
    point.unavailable.push({ runtime: 'all', reason: w.failure ?? 'no result' });
    return point;
  }
  point.configs = w.result.configs;
  point.unavailable = w.result.unavailable;
  const best = bestConfig(point.configs);
  if (best) {
    point.gflops = best.gflops;
    point.best = { runtime: best.runtime, threads: best.threads };
  }
  return point;
}

function ceilingLine(p: CeilingPoint): string {
  if (!p.best) return `ceiling: unavailable (${p.unavailable.map((u) => `${u.runtime}: ${u.reason}`).join('; ')})`;
  const cfgs = p.configs
    .map((c) => `${c.runtime}${c.threads === null ? '' : ` ${c.threads}T`} ${c.gflops.toFixed(1)}`)
    .join(', ');
  const missing = p.unavailable.length
    ? `; not measured: ${p.unavailable.map((u) => `${u.runtime} (${u.reason})`).join(', ')}`
    : '';
  return `ceiling: ${p.gflops.toFixed(1)} GFLOP/s (${cfgs})${missing}`;
}

export function ceilingRecord(points: CeilingPoint[], n: number, scale: number | null = null): CeilingRecord | null {
  const good = points.filter((p) => p.best);
  if (good.length === 0) return null;
  const values = good.map((p) => p.gflops);
  const med = median(values);
  return {
    op: `MatMul ${n}x${n}x${n} float32`,
    n,
    flops: matmulFlops(n, n, n),
    gflops: med,
    drift: (Math.max(...values) - Math.min(...values)) / med,
    pairedScale: scale,
    points,
  };
}

/**
 * How much faster the fastest runtime's MatMul is than the best of `paired` runtimes (by default ONNX
 * Runtime, the runtime every paired ceiling has): the median over the ceiling points of best / best
 * configuration of a paired runtime; 1 when a paired runtime was the fastest. Null when no point
 * measured any of them.
 */
export function runtimeScale(
  points: readonly CeilingPoint[],
  paired: readonly string[] = ['onnxruntime-node'],
): number | null {
  const ratios: number[] = [];
  for (const p of points) {
    const rates = p.configs.filter((c) => paired.includes(c.runtime)).map((c) => c.gflops);
    if (p.best && rates.length) ratios.push(p.gflops / Math.max(...rates));
  }
  return ratios.length ? median(ratios) : null;
}

/**
 * Fills a batch's ceiling and efficiency: the paired ceiling (MatMul interleaved with the batch's own
 * runs) when there is one, else the ceiling measured around the adapter. A paired ceiling is scaled
 * to the fastest runtime between adapters only by the ratio to the runtimes it actually paired
 * (1 when the fastest runtime was among them).
 */
export function applyCeiling(b: BatchResult, bracket: number | null, points: readonly CeilingPoint[]): void {
  let paired: number | null = null;
  if (b.pairedCeiling) {
    const runtimes = [...new Set((b.pairedCeiling.configs ?? []).map((c) => c.runtime ?? 'onnxruntime-node'))];
    const scale = runtimeScale(points, runtimes.length ? runtimes : ['onnxruntime-node']) ?? 1;
    b.pairedCeiling.scale = scale;
    paired = b.pairedCeiling.gflops * scale;
  }
  b.ceilingGflops = paired ?? bracket;
  b.ceilingBasis = paired !== null ? 'paired' : bracket !== null ? 'bracket' : null;
  b.efficiency = b.ceilingGflops ? b.gflops / b.ceilingGflops : null;
  b.efficiencyVsBracket = bracket ? b.gflops / bracket : null;
}

/** The ceiling for adapter i: mean of the good points measured just before and just after it. */
export function ceilingAround(points: readonly CeilingPoint[], i: number): number | null {
  const near = points
    .filter((p) => p.best && (p.beforeAdapter === i || p.beforeAdapter === i + 1))
    .map((p) => p.gflops);
  return near.length ? near.reduce((a, b) => a + b, 0) / near.length : null;
}

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  checkOptions(o);
  const log = o.log ?? (() => undefined);
  const t0 = performance.now();
  const createdAt = new Date().toISOString();
  const spec = resnet50({ inputShape: DEFAULT_INPUT_SHAPE, classes: DEFAULT_CLASSES });
  const flops = modelFlops(spec);
  const n = o.ceilingN ?? DEFAULT_CEILING_N;
  const points: CeilingPoint[] = [];
  const adapters: AdapterBench[] = [];

  for (let i = 0; i < o.adapters.length; i++) {
    const entry = o.adapters[i];
    if (o.ceiling) {
      const p = await ceilingPoint(o, i, n);
      points.push(p);
      log(ceilingLine(p));
    }
    log(`${entry.id}: benchmarking batch ${o.batches.join(', ')} ...`);
    const job: BenchJob = {
      kind: 'adapter',
      adapter: entry.id,
      adapterModules: o.adapterModules ?? [],
      adapterCommands: o.adapterCommands ?? [],
      batches: o.batches,
      policy: o.policy,
      model: { inputShape: DEFAULT_INPUT_SHAPE, classes: DEFAULT_CLASSES },
      pairedCeilingN: o.ceiling && o.pairedCeiling ? n : null,
      pairedRuntimes: o.ceilingRuntimes.filter((r) => r === 'tfjs-node'),
      layers: o.layers ?? false,
    };
    const w = await runWorker(job, {
      timeoutMs: o.timeoutS * 1000,
      verbose: o.verbose,
      label: entry.id,
      onProgress: (t) => log(`  ${entry.id} ${t}`),
      env: entry.processEnv,
    });
    const a: AdapterBench = {
      id: entry.id,
      summary: entry.summary,
      profile: entry.profile,
      outOfTheBox: entry.outOfTheBox,
      available: false,
      description: null,
      process: null,
      ceilingGflops: null,
      batches: [],
    };
    if (w.result && w.result.kind === 'adapter') {
      const r = w.result;
      a.available = r.available;
      if (r.unavailableReason !== undefined) a.unavailableReason = r.unavailableReason;
      if (r.fix !== undefined) a.fix = r.fix;
      if (r.error !== undefined) a.error = r.error;
      a.description = r.description;
      a.process = { ...r.process, wallMs: w.wallMs };
      a.batches = r.batches.map((b) => ({
        ...b,
        ceilingGflops: null,
        ceilingBasis: null,
        efficiency: null,
        efficiencyVsBracket: null,
      }));
      if (r.layersProblem) log(`  ${entry.id}: no per-stage profile — ${r.layersProblem}`);
      if (r.pairedCeilingProblem) log(`  ${entry.id}: no paired ceiling — ${r.pairedCeilingProblem}`);
    } else {
      a.available = true; // it got far enough to be run; the failure is the result
      a.error = w.failure ?? 'no result';
    }
    if (!a.available) log(`  ${entry.id}: unavailable — ${a.unavailableReason}${a.fix ? ` (fix: ${a.fix})` : ''}`);
    if (a.error) log(`  ${entry.id}: error — ${a.error.split('\n')[0]}`);
    adapters.push(a);
  }
  if (o.ceiling) {
    const p = await ceilingPoint(o, o.adapters.length, n);
    points.push(p);
    log(ceilingLine(p));
  }
  // Far-apart cores are judged against the lowest core-to-core round trip of the whole bench.
  const trips = adapters
    .flatMap((a) => a.batches.flatMap((b) => b.coreRoundTrip?.samplesNs ?? []))
    .filter((v): v is number => v !== null && v > 0);
  const lowestTrip = trips.length ? Math.min(...trips) : null;
  for (const a of adapters) {
    for (const b of a.batches)
      if (b.coreRoundTrip)
        b.coreRoundTrip = summarizeRoundTrips(b.coreRoundTrip.samplesNs, b.coreRoundTrip.blockMedianMs, lowestTrip);
  }
  const scale = runtimeScale(points);
  adapters.forEach((a, i) => {
    a.ceilingGflops = ceilingAround(points, i);
    for (const b of a.batches) applyCeiling(b, a.ceilingGflops, points);
  });

  return {
    kind: BENCH_KIND,
    schemaVersion: BENCH_SCHEMA_VERSION,
    tool: { name: 'resnet-conformance', version: toolVersion() },
    createdAt,
    durationMs: performance.now() - t0,
    environment: collectRunInfo(Object.fromEntries(adapters.map((a) => [a.id, a.description]))),
    options: {
      adapters: o.adapters.map((e) => e.id),
      adapterSelection: o.selection,
      batches: [...o.batches],
      policy: {
        warmup: o.policy.warmup,
        runs: o.policy.runs ?? null,
        minRuns: o.policy.minRuns,
        minTimeMs: o.policy.minTimeMs,
        maxRuns: o.policy.maxRuns,
        budgetMs: o.policy.budgetMs,
        floorRuns: o.policy.floorRuns,
      },
      ceiling: o.ceiling,
      pairedCeiling: o.ceiling && o.pairedCeiling,
      ceilingN: n,
      training: false,
      layers: o.layers ?? false,
    },
    model: {
      name: spec.model,
      inputShape: [...DEFAULT_INPUT_SHAPE],
      classes: DEFAULT_CLASSES,
      flopsPerImage: flops.headline,
      flopsBreakdown: { conv: flops.conv, dense: flops.dense, other: flops.other },
      flopConvention: FLOP_CONVENTION,
    },
    ceiling: o.ceiling ? ceilingRecord(points, n, scale) : null,
    adapters,
  };
}
