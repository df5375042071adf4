/** Messages between the bench and its worker processes (child_process IPC). */
import type { AdapterCommandSource } from '../adapters/pool';
import type { AdapterDescription } from '../adapters/types';
import type { CeilingJob, CeilingOutcome, CeilingRuntime } from '../calibration/ceiling';
import type { RunPolicy } from '../util/measure';
import type { AdapterBench, BatchResult } from './schema';

export type BenchJob =
  | {
      kind: 'adapter';
      adapter: string;
      /** `--adapter-module` files (absolute) the adapter may come from (src/adapters/pool.ts); never the environment. */
      adapterModules: string[];
      /** `--adapter-command` programs (ids resolved), started by the worker like the parent named them. */
      adapterCommands: AdapterCommandSource[];
      batches: number[];
      policy: RunPolicy;
      model: { inputShape: [number, number, number]; classes: number };
      /** Interleave MatMul runs of this size (null: no paired ceiling). */
      pairedCeilingN: number | null;
      /** Ceiling runtimes to pair besides ONNX Runtime (src/calibration/paired.ts). */
      pairedRuntimes: CeilingRuntime[];
      /** Profile each batch's kernels by block after timing it (adapters with Adapter.profileKernels). */
      layers: boolean;
    }
  | { kind: 'ceiling'; ceiling: CeilingJob };

/** A batch as the worker measures it (efficiency needs the ceiling, which the parent knows). */
export type AdapterBatchResult = Omit<
  BatchResult,
  'efficiency' | 'efficiencyVsBracket' | 'ceilingGflops' | 'ceilingBasis'
>;

export interface AdapterJobResult {
  kind: 'adapter';
  available: boolean;
  unavailableReason?: string;
  fix?: string;
  error?: string;
  description: AdapterDescription | null;
  process: Omit<NonNullable<AdapterBench['process']>, 'wallMs'>;
  batches: AdapterBatchResult[];
  /** Why `--layers` gave nothing for this adapter. */
  layersProblem?: string;
  /** Why the paired ceiling is missing although it was asked for. */
  pairedCeilingProblem?: string;
}

export type JobResult = AdapterJobResult | ({ kind: 'ceiling' } & CeilingOutcome);

export type WorkerReply =
  { type: 'progress'; text: string } | { type: 'result'; result: JobResult } | { type: 'fatal'; error: string };
