import type { ModelSpec, ModelWeights, ParamCount } from '../model/types';
import type { Tensor } from '../tensor';
import type { KnownCrashReport } from './known-crashes';

export interface ProbeResult {
  available: boolean;
  /** Why it cannot run here (when unavailable). */
  reason?: string;
  /** The command or step that makes it available. */
  fix?: string;
  /**
   * The runtime dies of a known native crash on this CPU (./known-crashes.ts): not run here; its
   * cases are 'crashed' with this cause and the workaround (`fix`), never passed.
   */
  knownCrash?: KnownCrashReport;
}

export interface ProbeOptions {
  /**
   * This process runs this adapter only (a runner or bench worker, a one-adapter CLI command): the
   * probe may load the runtime here instead of in a short-lived child process, since loading it is
   * what the process does next anyway.
   */
  dedicatedProcess?: boolean;
}

export interface AdapterDescription {
  runtime: string;
  version: string;
  device: string;
  /** Arithmetic the runtime uses, e.g. "float64", "float32", "TF32 in conv layers". */
  precision: string;
  /** Settings that are part of the result (graph optimization level, threads, TF32, SIMD...). */
  settings: Record<string, string | number | boolean>;
  notes: string[];
}

export interface RunOptions {
  /** BatchNormalization mode for every BN layer (Keras: model(x, training=...)). */
  training: boolean;
  /** Layer names whose outputs should be returned as well. */
  capture?: string[];
}

export interface RunResult {
  output: Tensor;
  /** Captured layer outputs, by layer name (NHWC, batch first). */
  intermediates: Record<string, Tensor>;
}

/** Per-node times from a runtime's own profiler (the optional `profileKernels` capability). */
export interface KernelProfile {
  /** Which profiler measured it. */
  source: string;
  /** Profiled runs after warm-up; each node's time is its median over them. */
  runs: number;
  /** Every profiled node: the runtime's name and op, the spec layer it computes (a fused node: its last layer; null: none). */
  nodes: Array<{ node: string; op: string; layer: string | null; medianMs: number }>;
}

/** The one contract every runtime implements. */
export interface Adapter {
  readonly id: string;
  probe(opts?: ProbeOptions): Promise<ProbeResult>;
  describe(): Promise<AdapterDescription>;
  build(spec: ModelSpec, weights: ModelWeights): Promise<void>;
  run(input: Tensor, opts: RunOptions): Promise<RunResult>;
  /** Parameter count as the runtime itself reports it, mapped to Keras's accounting. */
  paramCount(): Promise<ParamCount>;
  dispose(): Promise<void>;
  /**
   * Optional: per-node kernel times of `runs` forward passes of the built model on `input` (after
   * warm-up), from the runtime's own profiler — never from a session the other methods use.
   */
  profileKernels?(input: Tensor, opts: { training: boolean; runs: number }): Promise<KernelProfile>;
  /**
   * Optional: milliseconds this instance has spent so far inside its runtime's own model or session
   * creation (cumulative; ./setup-clock.ts). The runner splits it out of build and run times, so that a
   * session created on a first run is not counted as inference, nor the runtime's own setup as the
   * harness's. Adapters without it have their whole build counted as build and their runs as inference.
   */
  runtimeSetupMs?(): number;
  /**
   * Optional: milliseconds this instance has spent so far on its own preparation of models for its
   * runtime (cumulative), e.g. exporting and serializing an ONNX model for a session. Such work in
   * build() is build time anyway; the runner records the part spent inside run() (an export for a
   * session created on a first run) as runPrepMs, the harness's own build work, not inference.
   * Never overlaps runtimeSetupMs.
   */
  harnessPrepMs?(): number;
}

/**
 * Precision profile: the column of the tolerance table an adapter's results are judged by.
 * 'webgl-f16': float16 storage of every intermediate (tfjs webgl with WEBGL_FORCE_F16_TEXTURES), known-lossy.
 */
export type PrecisionProfile = 'fp64-reference' | 'fp32-cpu' | 'tf32-gpu' | 'webgl-f16';

/**
 * Where an adapter's runtime executes: 'node' in the Node.js process that runs the adapter (a
 * runner or bench worker, or the CLI); 'browser' in a page of the headless Chromium host
 * (src/adapters/browser); 'python' in a Python interpreter the adapter starts (the `keras`
 * subprocess, the stdio-protocol programs of clients/python); 'child' in another process of its
 * own (the Dawn adapter, an `--adapter-command` program).
 */
export const ADAPTER_HOSTS = ['node', 'browser', 'python', 'child'] as const;
export type AdapterHost = (typeof ADAPTER_HOSTS)[number];

export interface AdapterEntry {
  id: string;
  /** One line for `resnet-conformance adapters`. */
  summary: string;
  profile: PrecisionProfile;
  /** Runs on a fresh machine after `npm ci` with nothing else installed. */
  outOfTheBox: boolean;
  /** Where its runtime executes (absent: 'node'). Every registry entry states it. */
  host?: AdapterHost;
  /**
   * How long this adapter typically takes in the default run (the default cases), in ms: the
   * runner starts the slowest workers first when no earlier report says otherwise
   * (src/runner/schedule.ts). Only the order matters; absent: unknown (started first).
   */
  typicalDurationMs?: number;
  /**
   * Environment this adapter's process must start with (set before its runtime loads, e.g.
   * NVIDIA_TF32_OVERRIDE=0). The runner and the bench fork the adapter's worker with it.
   */
  processEnv?: Record<string, string>;
  /**
   * Why the adapter-parameterized Jest suites run this adapter only when CONFORMANCE_ADAPTERS names
   * it (e.g. minutes of software-GPU time, or a runtime Jest's vm cannot load); elsewhere it is one
   * skipped test carrying this reason. The conformance run is not affected.
   */
  suiteOptIn?: string;
  /**
   * Its runtime can die of a native crash (a signal) that would end the process it runs in: commands
   * that otherwise run adapters inside their own process (forward, diagnose, classify, evaluate) run
   * it in a child process instead (src/adapters/isolated). The runner and the bench always do.
   */
  isolate?: boolean;
  /**
   * The npm packages its runtime needs (optional peer dependencies, pinned in package.json
   * peerDependencies to the versions the tolerances were measured on; ./runtime-packages.ts). When one
   * is missing the adapter is unavailable with the `npm install` that enables it.
   */
  packages?: readonly string[];
  /**
   * Adapters of one process group run one after the other in one runner worker instead of one
   * worker each, to share what the process sets up once: the browser adapters (BROWSER_PROCESS_GROUP,
   * src/adapters/browser/host.ts) share one Chromium launch; the reference adapters
   * (REFERENCE_PROCESS_GROUP, ./registry.ts) one start-up, weight-cache read and compiled code. Each
   * keeps its own budget, results and worker record; a worker that dies is replaced for the adapters
   * not finished yet. Who may share a process: docs/performance.md, "Which adapters share a process".
   */
  processGroup?: string;
  /**
   * The runtime runs inference only (e.g. a converted .tflite model: BatchNormalization folded into
   * constants, no batch statistics): why, in one sentence. Its training-mode cases are
   * 'not-applicable' with this reason — never run, never a pass, counted apart — and run() refuses
   * training=true.
   */
  inferenceOnly?: string;
  create(): Adapter;
}
