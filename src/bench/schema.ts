/**
 * The bench JSON (`resnet-conformance bench --json out.json`), documented in docs/performance.md.
 * Bump BENCH_SCHEMA_VERSION on any change a reader could notice.
 *
 * Units: times in milliseconds, memory in MiB (2^20 bytes), throughput in GFLOP/s (10^9 FLOP/s)
 * and images/s. Every GFLOP figure follows the convention in src/bench/flops.ts.
 */
import type { AdapterDescription } from '../adapters/types';
import type { RunInfo } from '../environment/run-info';
import type { CeilingConfigResult, LatencyRecord, PairedCeiling } from '../calibration/records';
import type { CoreRoundTripSummary } from '../calibration/core-latency';

/**
 * 2: `batches[].layers` (`--layers`); paired ceilings may pair several runtimes (`pairedCeiling.configs[].runtime/version`, nullable
 * `threads`, `unpaired`, `scale`). Version 1 files are still read: comparison and rendering use only
 * fields both versions have.
 */
export type { CeilingConfigResult, LatencyRecord, PairedCeiling } from '../calibration/records';

export const BENCH_SCHEMA_VERSION = 2;
export const READABLE_BENCH_SCHEMA_VERSIONS: readonly number[] = [1, 2];
export const BENCH_KIND = 'resnet-conformance-bench';

/** Timing policy as used (after defaults). `runs` null = adaptive (minRuns/minTimeMs/budget). */
export interface BenchPolicyRecord {
  warmup: number;
  runs: number | null;
  minRuns: number;
  minTimeMs: number;
  maxRuns: number;
  budgetMs: number;
  floorRuns: number;
}

export interface BatchResult extends LatencyRecord {
  batch: number;
  /** batch / median latency. */
  imagesPerSec: number;
  /** FLOPs of one forward pass of the whole batch (headline convention). */
  flops: number;
  /** flops / median latency. */
  gflops: number;
  /** The interleaved ceiling (null when disabled or ONNX Runtime cannot load). */
  pairedCeiling: PairedCeiling | null;
  /** The ceiling efficiency is relative to: the paired one when present, else the one measured around the adapter. */
  ceilingGflops: number | null;
  ceilingBasis: 'paired' | 'bracket' | null;
  /** gflops / ceilingGflops (null without a ceiling). */
  efficiency: number | null;
  /** gflops / the best runtime's ceiling measured around the adapter (may be another runtime than the paired one). */
  efficiencyVsBracket: number | null;
  /** Kernel time by block and stage from the runtime's profiler (`--layers`; absent otherwise, null when the adapter has no profiler). */
  layers?: LayerProfileResult | null;
  /**
   * Core-to-core round trip measured after every block of runs (src/calibration/core-latency.ts): how far
   * apart the host placed the cores while this batch ran. Null on one core; absent in files written
   * before it was measured.
   */
  coreRoundTrip?: CoreRoundTripSummary | null;
  /** Peak resident set size while running this batch (warm-up included), MiB. */
  peakRssMiB: number;
  /** True when the peak covers the whole worker process (the platform cannot reset the high-water mark). */
  peakRssCumulative: boolean;
}

export interface AdapterBench {
  id: string;
  summary: string;
  profile: string;
  outOfTheBox: boolean;
  available: boolean;
  unavailableReason?: string;
  fix?: string;
  /** The worker failed (build/run threw, crashed, timed out): what happened. */
  error?: string;
  description: AdapterDescription | null;
  /** Worker process facts (null when the worker never reported). */
  process: {
    /** Process start to the worker's entry module running (Node + tsx + module loading). */
    startupMs: number;
    /** Loading the registry, spec and initializer modules. */
    importMs: number;
    probeMs: number;
    /** initModelWeights (Keras-exact initial weights). */
    initMs: number;
    /** adapter.build. */
    buildMs: number;
    /** RSS right after start-up, before any runtime is loaded. */
    baselineRssMiB: number;
    /** Peak RSS during init + build. */
    buildPeakRssMiB: number;
    /** Wall time of the whole worker as seen by the parent (fork to exit). */
    wallMs: number;
  } | null;
  /** The ceiling this adapter's efficiency is relative to (mean of the measurements just before and after it). */
  ceilingGflops: number | null;
  batches: BatchResult[];
}

/** The ceiling measured at one point of the benchmark (all configurations; value = the best median). */
export interface CeilingPoint {
  /** Measured before the adapter with this index (adapters.length = after the last adapter). */
  beforeAdapter: number;
  gflops: number;
  best: { runtime: string; threads: number | null } | null;
  configs: CeilingConfigResult[];
  /** Runtimes that could not be measured, with the reason. */
  unavailable: Array<{ runtime: string; reason: string }>;
  wallMs: number;
}

export interface CeilingRecord {
  op: string;
  n: number;
  flops: number;
  /** Median of the points' values: the machine's practical fp32 ceiling during this run. */
  gflops: number;
  /** (max − min) / median of the points: how much the machine's speed drifted during the run. */
  drift: number;
  /** Fastest runtime's MatMul ÷ ONNX Runtime's, median over the points: the factor paired ceilings are scaled by (null: not measured). */
  pairedScale: number | null;
  points: CeilingPoint[];
}

export interface BenchReport {
  kind: typeof BENCH_KIND;
  schemaVersion: number;
  tool: { name: 'resnet-conformance'; version: string };
  createdAt: string;
  durationMs: number;
  environment: RunInfo;
  options: {
    adapters: string[];
    adapterSelection: 'default' | 'all' | 'explicit';
    batches: number[];
    policy: BenchPolicyRecord;
    ceiling: boolean;
    /** Interleave MatMul runs with the adapter's runs (the paired ceiling). */
    pairedCeiling: boolean;
    ceilingN: number;
    training: false;
    /** `--layers`: profile each batch's kernels by block (adapters with a profiler). */
    layers?: boolean;
  };
  model: {
    name: string;
    inputShape: number[];
    classes: number;
    /** Per image, headline convention. */
    flopsPerImage: number;
    /** Per image: conv, dense and everything excluded from the headline. */
    flopsBreakdown: { conv: number; dense: number; other: number };
    flopConvention: string;
  };
  ceiling: CeilingRecord | null;
  adapters: AdapterBench[];
}

export class BenchReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchReadError';
  }
}

/** Parses and checks a bench JSON document (enough structure for compare and rendering). */
export function parseBench(text: string, name: string): BenchReport {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BenchReadError(`bench result ${name} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new BenchReadError(`bench result ${name}: expected a JSON object`);
  const r = raw as Record<string, unknown>;
  if (r.kind !== BENCH_KIND) {
    throw new BenchReadError(
      `${name} is not a bench result (kind ${JSON.stringify(r.kind)}, expected "${BENCH_KIND}"; conformance reports are compared with 'resnet-conformance compare')`,
    );
  }
  if (!READABLE_BENCH_SCHEMA_VERSIONS.includes(r.schemaVersion as number)) {
    throw new BenchReadError(
      `bench result ${name} has schemaVersion ${JSON.stringify(r.schemaVersion)}; this tool reads versions ${READABLE_BENCH_SCHEMA_VERSIONS.join(' and ')}`,
    );
  }
  if (!Array.isArray(r.adapters)) throw new BenchReadError(`bench result ${name}: 'adapters' must be an array`);
  (r.adapters as unknown[]).forEach((a, i) => {
    const x = a as Record<string, unknown>;
    if (typeof x?.id !== 'string' || !Array.isArray(x.batches))
      throw new BenchReadError(`bench result ${name}: adapters[${i}] needs a string id and a batches array`);
    (x.batches as unknown[]).forEach((b, j) => {
      const y = b as Record<string, unknown>;
      const lat = y?.latencyMs as Record<string, unknown> | undefined;
      if (typeof y?.batch !== 'number' || typeof lat?.median !== 'number' || !Array.isArray(y.samplesMs)) {
        throw new BenchReadError(
          `bench result ${name}: adapters[${i}].batches[${j}] needs batch, latencyMs.median and samplesMs`,
        );
      }
    });
  });
  if (
    r.ceiling !== null &&
    (typeof r.ceiling !== 'object' || typeof (r.ceiling as Record<string, unknown>).gflops !== 'number')
  ) {
    throw new BenchReadError(`bench result ${name}: 'ceiling' must be null or an object with gflops`);
  }
  return raw as BenchReport;
}

/** Kernel time of one block or stage (`--layers`, src/bench/layers.ts). */
export interface PartTime {
  /** Block label (`stage2_block1_conv`, ..., `head`) or stage (`stage1` ... `stage5`, `head`). */
  part: string;
  /** Sum of the median kernel times of the part's nodes. */
  ms: number;
  /** ms ÷ the sum over every node. */
  share: number;
  /** Headline FLOPs of the part for the whole batch (Conv2D and Dense). */
  flops: number;
  /** flops ÷ ms (null when the part has no headline FLOPs or no time). */
  gflops: number | null;
}

export interface LayerProfileResult {
  source: string;
  runs: number;
  /** Sum of every node's median kernel time (not a latency: no gaps between kernels). */
  kernelMs: number;
  blocks: PartTime[];
  stages: PartTime[];
  /** Nodes that compute no spec layer (layout reorders an optimizer added), with their time. */
  unattributed: Array<{ node: string; op: string; ms: number }>;
}
