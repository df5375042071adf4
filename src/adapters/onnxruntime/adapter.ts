/**
 * ONNX Runtime adapters (onnxruntime-node): the spec is exported to ONNX (src/onnx) per
 * BatchNormalization mode and run by an InferenceSession.
 *
 * Sessions (created lazily, cached until the next build): per BatchNormalization mode
 *   - a plain session: the graph with the model output only. The output a caller gets always comes
 *     from this graph, the one a user would deploy: extra graph outputs can change which nodes ONNX
 *     Runtime fuses and so the float32 rounding of the output (observed: 1.5e-8);
 *   - a capture session, only when intermediates are asked for: the same graph with every block
 *     boundary of the spec (spec.boundaries, logits included) plus anything else ever requested as
 *     extra outputs. A run fetches only the requested captures from it. A request for a capture it
 *     lacks replaces it with one that has the union.
 * So a model costs at most four exports and session creations (each costly for ResNet-50; times in
 * docs/notes/2026-11-28-performance-investigations.md), however many capture sets the
 * cases ask for; a run with captures runs the model twice (plain + capture). The exports share
 * their transposed kernels and their memory (src/onnx/exporter.ts); the time they take inside run()
 * is the adapter's own preparation (Adapter.harnessPrepMs), not inference.
 *
 * Session options are part of the result and are reported by describe().settings.
 */
import { checkInput } from '../input-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeModel, inferenceModelParamCount } from '../../onnx';
import {
  buildOnnxModel,
  ONNX_OPSET,
  ONNX_OUTPUT_NAME,
  type OnnxExportOptions,
  type OnnxModel,
} from '../../onnx/export';
import { OihwKernelMemo, OnnxExporter, ReusedModelBuffer } from '../../onnx/exporter';
import { SetupClock } from '../setup-clock';
import { checkProbeOutput, PROBE_INPUT, probeModelBytes } from '../../onnx/probe-model';
import type { ModelSpec, ModelWeights, ParamCount } from '../../model/types';
import type { Tensor } from '../../tensor';
import type { Adapter, AdapterDescription, KernelProfile, ProbeResult, RunOptions, RunResult } from '../types';
import { installCommand } from '../runtime-packages';
import { checkCudaRequirements } from './cuda-probe';
import { loadOrt, ortVersion, tryLoadOrt, type OrtModule } from './load';

type Session = import('onnxruntime-node').InferenceSession;
type SessionOptions = import('onnxruntime-node').InferenceSession.SessionOptions;

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface OnnxRuntimeOptions {
  id: string;
  executionProvider: 'cpu' | 'cuda';
  graphOptimizationLevel: GraphOptimizationLevel;
  /** CUDA only: whether TF32 is allowed in convolutions/matmuls. */
  useTf32?: boolean;
  /** Intra-op threads (default: os.availableParallelism()). */
  intraOpNumThreads?: number;
  /** CUDA device (default 0). */
  deviceId?: number;
  /**
   * Whether idle intra-op pool threads busy-wait for work (ONNX Runtime's default: yes). Default
   * false: on a machine whose cores are shared with other work, a spinning thread that loses its
   * core stalls every parallel section (ResNet-50 batch 8, 2 threads on 2 cores with one competing
   * process: 62–64% of the MatMul ceiling spinning, 95–97% not; the same on a quiet machine;
   * docs/notes/2026-11-28-performance-investigations.md).
   */
  intraOpSpinning?: boolean;
}

interface CachedSession {
  session: Session;
  /** Graph input/output names (the exported model itself is not kept: ONNX Runtime has its own copy). */
  io: Pick<OnnxModel, 'inputName' | 'outputName' | 'captureOutputs'>;
  /** Capture names this session's graph has as outputs (empty for a plain session). */
  captures: Set<string>;
}

export class OnnxRuntimeAdapter implements Adapter {
  readonly id: string;
  private readonly opts: Required<Omit<OnnxRuntimeOptions, 'useTf32'>> & { useTf32?: boolean };
  private spec: ModelSpec | undefined;
  private weights: ModelWeights | undefined;
  private exporter: OnnxExporter | undefined;
  /** Transposed Conv kernels, kept across builds (the perturbed set keeps the notebook set's kernels). */
  private readonly kernels = new OihwKernelMemo();
  /** The memory exports are written into for session creation, kept across builds. */
  private readonly modelBuffer = new ReusedModelBuffer();
  /** Keyed by `plain|<training>` and `capture|<training>`. */
  private readonly sessions = new Map<string, Promise<CachedSession>>();
  private params: ParamCount | undefined;
  /** Time inside ort.InferenceSession.create (Adapter.runtimeSetupMs). */
  private readonly setup = new SetupClock();
  /** Time exporting models for sessions (Adapter.harnessPrepMs). */
  private readonly prep = new SetupClock();

  constructor(opts: OnnxRuntimeOptions) {
    if (opts.executionProvider === 'cuda' && opts.useTf32 === undefined) {
      throw new Error(`${opts.id}: useTf32 must be set for the CUDA execution provider`);
    }
    if (opts.executionProvider === 'cpu' && opts.useTf32 !== undefined) {
      throw new Error(`${opts.id}: useTf32 only applies to the CUDA execution provider`);
    }
    const threads =
      opts.intraOpNumThreads ??
      (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
    if (!Number.isInteger(threads) || threads < 1)
      throw new Error(`${opts.id}: intraOpNumThreads must be a positive integer, got ${threads}`);
    this.id = opts.id;
    this.opts = {
      ...opts,
      intraOpNumThreads: threads,
      deviceId: opts.deviceId ?? 0,
      intraOpSpinning: opts.intraOpSpinning ?? false,
    };
  }

  private get isCuda(): boolean {
    return this.opts.executionProvider === 'cuda';
  }

  /** The onnxruntime-node session options this adapter uses (also reported by describe()). */
  sessionOptions(): SessionOptions {
    return {
      executionProviders: this.isCuda ? [{ name: 'cuda', deviceId: this.opts.deviceId }] : [{ name: 'cpu' }],
      graphOptimizationLevel: this.opts.graphOptimizationLevel,
      intraOpNumThreads: this.opts.intraOpNumThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // Session config entries (onnxruntime_session_options_config_keys.h); the Node binding flattens
      // nested keys with '.' and requires string values: session.intra_op.allow_spinning = "0" | "1".
      extra: { session: { intra_op: { allow_spinning: this.opts.intraOpSpinning ? '1' : '0' } } },
    };
  }

  /** Why TF32 cannot be set as requested in this process, or null. */
  private tf32Problem(): string | null {
    if (!this.isCuda) return null;
    const override = process.env.NVIDIA_TF32_OVERRIDE;
    if (this.opts.useTf32 && override === '0') {
      return 'NVIDIA_TF32_OVERRIDE=0 is set, which disables TF32 for the whole process';
    }
    if (!this.opts.useTf32 && override !== '0') {
      return (
        'use_tf32=0 cannot be passed per session by onnxruntime-node 1.30 (its CUDA options carry only deviceId, ' +
        'so the provider keeps its default use_tf32=1); TF32 is off only when NVIDIA_TF32_OVERRIDE=0 is set before the process starts'
      );
    }
    return null;
  }

  async probe(): Promise<ProbeResult> {
    const loaded = tryLoadOrt();
    if ('error' in loaded) {
      return {
        available: false,
        reason: loaded.error,
        fix: `${installCommand(['onnxruntime-node'])} (its CPU binaries ship in the npm package)`,
      };
    }
    if (!this.isCuda) {
      try {
        await smokeTest(loaded.ort, this.sessionOptions());
        return { available: true };
      } catch (err) {
        return {
          available: false,
          reason: `CPU session failed: ${(err as Error).message.split('\n')[0]}`,
          fix: `reinstall onnxruntime-node: ${installCommand(['onnxruntime-node'])}`,
        };
      }
    }
    const missing = checkCudaRequirements().filter((r) => !r.ok);
    const tf32 = this.tf32Problem();
    if (missing.length || tf32) {
      const reasons = missing.map((r) => `${r.what}: ${r.detail}`);
      const fixes = [...new Set(missing.map((r) => r.fix))];
      if (tf32) {
        reasons.push(tf32);
        fixes.push(
          this.opts.useTf32
            ? 'run without NVIDIA_TF32_OVERRIDE=0'
            : 'run with NVIDIA_TF32_OVERRIDE=0 in the environment (e.g. NVIDIA_TF32_OVERRIDE=0 npm test)',
        );
      }
      return { available: false, reason: `missing: ${reasons.join('; ')}`, fix: fixes.join('; ') };
    }
    try {
      await smokeTest(loaded.ort, this.sessionOptions());
      return { available: true };
    } catch (err) {
      return {
        available: false,
        reason: `CUDA session failed: ${(err as Error).message.split('\n')[0]}`,
        fix: 'check the CUDA 12 / cuDNN 9 installation against https://onnxruntime.ai/docs/execution-providers/CUDA-ExecutionProvider.html#requirements',
      };
    }
  }

  async describe(): Promise<AdapterDescription> {
    const loaded = tryLoadOrt();
    const settings: Record<string, string | number | boolean> = {
      executionProvider: this.isCuda ? 'CUDAExecutionProvider' : 'CPUExecutionProvider',
      graphOptimizationLevel: this.opts.graphOptimizationLevel,
      intraOpNumThreads: this.opts.intraOpNumThreads,
      intraOpAllowSpinning: this.opts.intraOpSpinning,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      onnxOpset: ONNX_OPSET,
      batchNormTraining: 'decomposed: ReduceMean/Sub/Mul/ReduceMean/Add/Sqrt/Div/Mul/Add',
    };
    if (this.isCuda) {
      settings.deviceId = this.opts.deviceId;
      settings.useTf32 = this.opts.useTf32!;
      settings.tf32Control = this.opts.useTf32 ? 'CUDA EP default use_tf32=1' : 'NVIDIA_TF32_OVERRIDE=0';
    }
    const notes = [
      'the spec is exported to ONNX (opset 17) per BatchNormalization mode; input and outputs NHWC, computed NCHW',
      'the output always comes from the graph without extra outputs; intermediates from the same graph with the block boundaries as extra outputs',
      'Float64Array inputs are rounded to float32 before the run',
    ];
    if (this.opts.graphOptimizationLevel !== 'disabled') {
      notes.push(
        'graph optimizations fold inference-mode BatchNormalization (and the ZeroPadding2D Pad) into the Conv weights: float32 rounding differs from Keras',
      );
    }
    if (this.opts.graphOptimizationLevel === 'all' && !this.isCuda) {
      notes.push("'all' runs the Convs in ONNX Runtime's blocked NCHWc layout with the residual Add and Relu fused in");
    }
    return {
      runtime: 'onnxruntime-node',
      version: 'ort' in loaded ? ortVersion(loaded.ort) : `unavailable (${loaded.error})`,
      device: this.isCuda ? `cuda:${this.opts.deviceId}` : 'cpu',
      precision: this.isCuda
        ? this.opts.useTf32
          ? 'float32, TF32 in Conv/Gemm (CUDA use_tf32=1)'
          : 'float32 (TF32 disabled)'
        : 'float32',
      settings,
      notes,
    };
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    loadOrt();
    const tf32 = this.tf32Problem();
    if (tf32) throw new Error(`${this.id}: ${tf32}`);
    await this.releaseSessions();
    this.spec = undefined;
    this.weights = undefined;
    this.exporter = undefined;
    this.params = undefined;
    // Export eagerly (inference mode, no captures) so that spec/weight problems surface here, and
    // count the parameters from the bytes ONNX Runtime will be given.
    const exporter = new OnnxExporter(spec, weights, {
      kernels: this.kernels,
      buffer: this.modelBuffer,
      onExport: (ms) => this.prep.add(ms),
    });
    this.params = await exporter.lend({ training: false }, async (e) =>
      inferenceModelParamCount(this.id, spec, e.bytes),
    );
    this.exporter = exporter;
    this.spec = spec;
    this.weights = weights;
  }

  private built(): { spec: ModelSpec; weights: ModelWeights; exporter: OnnxExporter } {
    if (!this.spec || !this.weights || !this.exporter)
      throw new Error(`${this.id}: build() must be called before run() or paramCount()`);
    return { spec: this.spec, weights: this.weights, exporter: this.exporter };
  }

  /** Capture names the capture session always has: every block boundary of the spec but the output itself. */
  private defaultCaptures(spec: ModelSpec): string[] {
    return spec.boundaries.map((b) => b.layer).filter((l) => l !== spec.output);
  }

  private createSession(key: string, opts: OnnxExportOptions, captures: Set<string>): Promise<CachedSession> {
    const { exporter } = this.built();
    const ort = loadOrt();
    // The bytes are lent for the creation only: InferenceSession.create copies the model.
    const entry = exporter.lend(opts, async (model) => {
      const session = await this.setup.time(() => ort.InferenceSession.create(model.bytes, this.sessionOptions()));
      return {
        session,
        io: { inputName: model.inputName, outputName: model.outputName, captureOutputs: model.captureOutputs },
        captures,
      };
    });
    this.sessions.set(key, entry);
    entry.catch(() => {
      if (this.sessions.get(key) === entry) this.sessions.delete(key);
    });
    return entry;
  }

  /** The graph without extra outputs for this BatchNormalization mode. */
  private plainSession(training: boolean): Promise<CachedSession> {
    const key = `plain|${training}`;
    const have = this.sessions.get(key);
    if (have) return have;
    return this.createSession(key, { training }, new Set());
  }

  /** The graph with the block boundaries (and every capture asked for so far) as extra outputs. */
  private async captureSession(training: boolean, capture: string[]): Promise<CachedSession> {
    const key = `capture|${training}`;
    const have = this.sessions.get(key);
    let previous = new Set<string>();
    if (have) {
      const s = await have.catch(() => undefined); // a failed creation is removed from the map; build anew
      if (s && capture.every((c) => s.captures.has(c))) return s;
      if (s) {
        previous = s.captures;
        if (this.sessions.get(key) === have) this.sessions.delete(key);
        await s.session.release().catch(() => undefined);
      }
    }
    const { spec } = this.built();
    const captures = new Set([...this.defaultCaptures(spec), ...previous, ...capture]);
    return this.createSession(key, { training, capture: [...captures] }, captures);
  }

  private checkInput(spec: ModelSpec, input: Tensor): void {
    checkInput(this.id, spec, input);
  }

  /**
   * ONNX Runtime's own profiler (`enableProfiling`) on a session of its own with the adapter's
   * options: 2 warm-up runs, then `runs` profiled ones. Node names after fusion are those of the
   * last fused Keras layer, with the layout transformer's `_nchwc` suffix (and `:<output>` on graph
   * outputs); nodes the optimizer adds (reorders) belong to no layer.
   */
  async profileKernels(input: Tensor, opts: { training: boolean; runs: number }): Promise<KernelProfile> {
    const { spec, weights } = this.built();
    this.checkInput(spec, input);
    if (!(Number.isInteger(opts.runs) && opts.runs >= 1))
      throw new Error(`${this.id}: profileKernels needs runs >= 1, got ${opts.runs}`);
    const ort = loadOrt();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resnet-conformance-ort-profile-'));
    try {
      const model = buildOnnxModel(spec, weights, { training: opts.training });
      const session = await ort.InferenceSession.create(encodeModel(model.proto), {
        ...this.sessionOptions(),
        enableProfiling: true,
        profileFilePrefix: path.join(dir, 'ort'),
      });
      const data = input.data instanceof Float32Array ? input.data : Float32Array.from(input.data);
      const feeds = { [model.inputName]: new ort.Tensor('float32', data, [...input.shape]) };
      try {
        for (let i = 0; i < 2 + opts.runs; i++) await session.run(feeds, [model.outputName]);
        session.endProfiling();
      } finally {
        await session.release();
      }
      const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
      if (!file) throw new Error(`${this.id}: ONNX Runtime wrote no profile into ${dir}`);
      const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Array<{
        cat?: string;
        name?: string;
        dur?: number;
        args?: { op_name?: string };
      }>;
      const layers = new Set(spec.layers.map((l) => l.name));
      const byNode = new Map<string, { op: string; durUs: number[] }>();
      for (const e of events) {
        if (
          e.cat !== 'Node' ||
          typeof e.name !== 'string' ||
          !e.name.endsWith('_kernel_time') ||
          typeof e.dur !== 'number'
        )
          continue;
        const node = e.name.slice(0, -'_kernel_time'.length);
        const entry = byNode.get(node) ?? { op: e.args?.op_name ?? '?', durUs: [] };
        entry.durUs.push(e.dur);
        byNode.set(node, entry);
      }
      const nodes: KernelProfile['nodes'] = [];
      for (const [node, { op, durUs }] of byNode) {
        const profiled = durUs.slice(-opts.runs).sort((a, b) => a - b); // the warm-up runs come first
        const mid = profiled.length >> 1;
        const med = profiled.length % 2 ? profiled[mid] : (profiled[mid - 1] + profiled[mid]) / 2;
        // Exporter names (src/onnx/export.ts): '<layer>', '<layer>:logits', '<layer>/nhwc', the graph output ONNX_OUTPUT_NAME.
        const base = node === ONNX_OUTPUT_NAME ? spec.output : node.split(/[:/]/)[0].replace(/_nchwc$/, '');
        nodes.push({ node, op, layer: layers.has(base) ? base : null, medianMs: med / 1000 });
      }
      return {
        source: `onnxruntime-node ${ortVersion(ort)} profiler (enableProfiling), ${this.opts.graphOptimizationLevel} optimizations`,
        runs: opts.runs,
        nodes,
      };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    const { spec } = this.built();
    this.checkInput(spec, input);
    const capture = [...new Set(opts.capture ?? [])];
    const ort = loadOrt();
    const data = input.data instanceof Float32Array ? input.data : Float32Array.from(input.data);
    const toTensor = (t: import('onnxruntime-node').Tensor): Tensor => ({
      shape: t.dims.map(Number),
      data: new Float32Array(t.data as Float32Array),
    });

    const plain = await this.plainSession(opts.training);
    const feeds = { [plain.io.inputName]: new ort.Tensor('float32', data, [...input.shape]) };
    const results = await plain.session.run(feeds, [plain.io.outputName]);
    const out = results[plain.io.outputName];
    if (!out) throw new Error(`${this.id}: session returned no output '${plain.io.outputName}'`);
    const output = toTensor(out);
    for (const t of Object.values(results)) t.dispose?.();

    const intermediates: Record<string, Tensor> = {};
    if (capture.length) {
      const cs = await this.captureSession(opts.training, capture);
      const names = capture.map((c) => cs.io.captureOutputs[c]);
      const missing = capture.filter((c, i) => names[i] === undefined);
      if (missing.length) throw new Error(`${this.id}: the capture graph has no output for ${missing.join(', ')}`);
      const got = await cs.session.run({ [cs.io.inputName]: new ort.Tensor('float32', data, [...input.shape]) }, names);
      capture.forEach((c, i) => {
        const t = got[names[i]];
        if (!t) throw new Error(`${this.id}: session returned no output '${names[i]}' (capture '${c}')`);
        intermediates[c] = toTensor(t);
      });
      for (const t of Object.values(got)) t.dispose?.();
    }
    return { output, intermediates };
  }

  /**
   * Counted in build() from the initializers of the serialized inference-mode model (the one that
   * holds every Keras weight), read back from its bytes; see src/onnx/params.ts for the mapping.
   */
  async paramCount(): Promise<ParamCount> {
    this.built();
    return { ...this.params! };
  }

  private async releaseSessions(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const p of all) {
      try {
        await (await p).session.release();
      } catch {
        // a session that failed to build has nothing to release
      }
    }
  }

  runtimeSetupMs(): number {
    return this.setup.ms;
  }

  harnessPrepMs(): number {
    return this.prep.ms;
  }

  async dispose(): Promise<void> {
    await this.releaseSessions();
    this.spec = undefined;
    this.weights = undefined;
    this.exporter = undefined;
    this.params = undefined;
    this.modelBuffer.release();
  }
}

/** Creates a session for a one-Relu model and runs it: proves the runtime and provider load. */
async function smokeTest(ort: OrtModule, options: SessionOptions): Promise<void> {
  const bytes = probeModelBytes();
  const session = await ort.InferenceSession.create(bytes, options);
  try {
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(PROBE_INPUT), [2]) });
    const y = out.y.data as Float32Array;
    checkProbeOutput(y);
  } finally {
    await session.release();
  }
}
