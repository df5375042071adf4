/**
 * Records of timed workloads and of the MatMul ceiling, as the bench JSON stores them
 * (src/bench/schema.ts re-exports them; see there for the file's versioning).
 */
import type { SampleSummary } from '../util/stats';
import type { Timings } from '../util/measure';
import type { NoiseBand } from './noise';

/** One timed workload: its samples and what follows from them. */
export interface LatencyRecord {
  warmupMs: number[];
  /** Every measured run, in the order measured. */
  samplesMs: number[];
  stoppedBy: Timings['stoppedBy'];
  latencyMs: SampleSummary;
  noise: NoiseBand;
}

/**
 * MatMul runs interleaved with an adapter's timed runs (blocks of adapter runs, then one product per
 * thread configuration, repeated): the ceiling under the very load the adapter saw.
 */
export interface PairedCeiling {
  /** The best paired configuration's runtime and version. */
  runtime: string;
  version: string;
  n: number;
  flops: number;
  /** Best configuration's median GFLOP/s (before any scale). */
  gflops: number;
  configs: Array<{ runtime: string; version: string; threads: number | null; samplesMs: number[]; gflops: number }>;
  /** Ceiling runtimes that could not be paired in this adapter's worker, with the reason. */
  unpaired: Array<{ runtime: string; reason: string }>;
  /**
   * Factor the paired rate was scaled by to reach the fastest runtime measured between adapters
   * (only when that runtime was not paired; 1 otherwise). Set by the parent; null in a worker's reply.
   */
  scale: number | null;
}

/** One measurement of the MatMul ceiling with one runtime configuration. */
export interface CeilingConfigResult extends LatencyRecord {
  runtime: string;
  version: string;
  /** Intra-op threads asked for (null: the runtime's default). */
  threads: number | null;
  n: number;
  flops: number;
  /** flops / median latency. */
  gflops: number;
}
