/**
 * ONNX Runtime Web adapters. The spec is exported to ONNX by the same exporter as the
 * onnxruntime-node adapters (src/onnx/export.ts, training-mode BatchNormalization as ReduceMean
 * batch statistics) and run by an onnxruntime-web InferenceSession, through a driver:
 *   - NodeOrtWebDriver: onnxruntime-web loaded in this Node process (it resolves to its wasm build);
 *   - PageOrtWebDriver (../browser/ort-page-driver.ts): the session lives in a Chromium page
 *     (wasm or webgpu execution provider), the model and tensors travel as bytes.
 *
 * Sessions per BatchNormalization mode, as in the onnxruntime-node adapter: a plain one (the model
 * output only; every output the caller gets comes from it) and, when intermediates are asked for, a
 * capture one (every block boundary plus anything asked for so far as extra outputs). The exports
 * share their transposed kernels (src/onnx/exporter.ts), and their memory where the driver keeps no
 * model bytes; the time they take inside run() is the adapter's own preparation (Adapter.harnessPrepMs).
 */
import { checkInput } from '../input-check';
import { ONNX_OPSET, type OnnxExportOptions, type OnnxModel } from '../../onnx/export';
import { OihwKernelMemo, OnnxExporter, ReusedModelBuffer, type OnnxBytes } from '../../onnx/exporter';
import { SetupClock } from '../setup-clock';
import { inferenceModelParamCount } from '../../onnx';
import type { ModelSpec, ModelWeights, ParamCount } from '../../model/types';
import { formatShape, sizeOf, type Tensor } from '../../tensor';
import type { Adapter, AdapterDescription, ProbeOptions, ProbeResult, RunOptions, RunResult } from '../types';

export type OrtWebLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** Where sessions live and run. */
export interface OrtWebDriver {
  /** Changes when the driver lost its sessions (a browser page was replaced): sessions must be created again. */
  readonly epoch: number;
  /**
   * What create() keeps of the model bytes it was given, once it has resolved: 'nothing' (it copied
   * what it needs), 'last' (only those of its latest create, until the next create has resolved,
   * e.g. to send the next model as a delta against them). The adapter then writes the models into
   * memory it reuses (alternating between two buffers for 'last'). Absent: it may keep any, and each
   * model gets memory of its own.
   */
  readonly keepsModelBytes?: 'nothing' | 'last';
  probe(): Promise<ProbeResult>;
  describe(): Promise<
    Omit<AdapterDescription, 'settings' | 'notes'> & { settings: AdapterDescription['settings']; notes: string[] }
  >;
  /** Creates the session; resolves to the milliseconds spent inside ort.InferenceSession.create, where it ran. */
  create(key: string, model: Uint8Array, level: OrtWebLevel): Promise<number>;
  run(
    key: string,
    inputName: string,
    input: { shape: number[]; data: Float32Array },
    fetches: string[],
  ): Promise<Map<string, Tensor>>;
  release(key?: string): Promise<void>;
  dispose(): Promise<void>;
}

interface Session {
  key: string;
  epoch: number;
  io: Pick<OnnxModel, 'inputName' | 'outputName' | 'captureOutputs'>;
  captures: Set<string>;
}

export class OrtWebAdapter implements Adapter {
  /** Time inside ort.InferenceSession.create, as the driver measured it (Adapter.runtimeSetupMs). */
  private readonly setup = new SetupClock();
  /** Time exporting models for sessions (Adapter.harnessPrepMs). */
  private readonly prep = new SetupClock();
  /** Transposed Conv kernels, kept across builds (the perturbed set keeps the notebook set's kernels). */
  private readonly kernels = new OihwKernelMemo();
  /** The memory exports are written into for session creation, kept across builds. */
  private readonly modelBuffer: ReusedModelBuffer;
  private exporter: OnnxExporter | undefined;
  private spec: ModelSpec | undefined;
  private weights: ModelWeights | undefined;
  private params: ParamCount | undefined;
  private readonly sessions = new Map<string, Session>();

  constructor(
    readonly id: string,
    private readonly driver: OrtWebDriver,
    private readonly level: OrtWebLevel = 'all',
  ) {
    this.modelBuffer = new ReusedModelBuffer(driver.keepsModelBytes === 'last' ? 2 : 1);
  }

  probe(_opts?: ProbeOptions): Promise<ProbeResult> {
    return this.driver.probe();
  }

  async describe(): Promise<AdapterDescription> {
    const d = await this.driver.describe();
    return {
      ...d,
      settings: {
        ...d.settings,
        graphOptimizationLevel: this.level,
        executionMode: 'sequential',
        onnxOpset: ONNX_OPSET,
        batchNormTraining: 'decomposed: ReduceMean/Sub/Mul/ReduceMean/Add/Sqrt/Div/Mul/Add',
      },
      notes: [
        ...d.notes,
        'the spec is exported to ONNX (opset 17, src/onnx/export.ts) per BatchNormalization mode; input and outputs NHWC, computed NCHW',
        'the output always comes from the graph without extra outputs; intermediates from the same graph with the block boundaries as extra outputs',
        'Float64Array inputs are rounded to float32 before the run',
      ],
    };
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    await this.releaseSessions();
    this.spec = undefined;
    this.weights = undefined;
    this.exporter = undefined;
    this.params = undefined;
    // The plain inference session is created here, so that spec/weight problems surface in build();
    // the parameters are counted from its model's bytes.
    const exporter = new OnnxExporter(spec, weights, {
      kernels: this.kernels,
      buffer: this.modelBuffer,
      onExport: (ms) => this.prep.add(ms),
    });
    this.exporter = exporter;
    this.spec = spec;
    this.weights = weights;
    try {
      await this.createSession(`plain|false`, { training: false }, new Set(), (bytes) => {
        this.params = inferenceModelParamCount(this.id, spec, bytes);
      });
    } catch (err) {
      this.spec = undefined;
      this.weights = undefined;
      this.exporter = undefined;
      this.params = undefined;
      throw err;
    }
  }

  private built(): { spec: ModelSpec; weights: ModelWeights; exporter: OnnxExporter } {
    if (!this.spec || !this.weights || !this.exporter)
      throw new Error(`${this.id}: build() must be called before run() or paramCount()`);
    return { spec: this.spec, weights: this.weights, exporter: this.exporter };
  }

  private async createSession(
    key: string,
    opts: OnnxExportOptions,
    captures: Set<string>,
    inspect?: (bytes: Uint8Array) => void,
  ): Promise<Session> {
    const { exporter } = this.built();
    this.sessions.delete(key);
    const create = async (model: OnnxBytes): Promise<Session> => {
      inspect?.(model.bytes);
      // Beyond ONNX Runtime's own time, a create is the harness's: e.g. a page driver sending the
      // model, rebuilding a delta and checking its digest (Adapter.harnessPrepMs, never inference).
      const t = performance.now();
      const createMs = await this.driver.create(key, model.bytes, this.level);
      const total = performance.now() - t;
      this.setup.add(createMs);
      this.prep.add(Math.max(0, total - (Number.isFinite(createMs) ? createMs : 0)));
      return {
        key,
        epoch: this.driver.epoch,
        io: { inputName: model.inputName, outputName: model.outputName, captureOutputs: model.captureOutputs },
        captures,
      };
    };
    // A driver that may keep any model it was given gets memory of its own for each.
    const s = this.driver.keepsModelBytes ? await exporter.lend(opts, create) : await create(exporter.export(opts));
    this.sessions.set(key, s);
    return s;
  }

  private live(key: string): Session | undefined {
    const s = this.sessions.get(key);
    return s && s.epoch === this.driver.epoch ? s : undefined;
  }

  private async plainSession(training: boolean): Promise<Session> {
    const key = `plain|${training}`;
    const have = this.live(key);
    if (have) return have;
    return this.createSession(key, { training }, new Set());
  }

  private async captureSession(training: boolean, capture: string[]): Promise<Session> {
    const key = `capture|${training}`;
    const have = this.live(key);
    if (have && capture.every((c) => have.captures.has(c))) return have;
    const { spec } = this.built();
    const captures = new Set([
      ...spec.boundaries.map((b) => b.layer).filter((l) => l !== spec.output),
      ...(have?.captures ?? []),
      ...capture,
    ]);
    if (have) await this.driver.release(key);
    return this.createSession(key, { training, capture: [...captures] }, captures);
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    const { spec } = this.built();
    checkInput(this.id, spec, input);
    if (input.data.length !== sizeOf(input.shape))
      throw new Error(`${this.id}: input has ${input.data.length} values for shape ${formatShape(input.shape)}`);
    const x = {
      shape: [...input.shape],
      data: input.data instanceof Float32Array ? input.data : Float32Array.from(input.data),
    };
    const capture = [...new Set(opts.capture ?? [])];

    const plain = await this.plainSession(opts.training);
    const got = await this.driver.run(plain.key, plain.io.inputName, x, [plain.io.outputName]);
    const output = got.get(plain.io.outputName);
    if (!output) throw new Error(`${this.id}: session returned no output '${plain.io.outputName}'`);
    const intermediates: Record<string, Tensor> = {};
    if (capture.length) {
      const cs = await this.captureSession(opts.training, capture);
      const names = capture.map((c) => cs.io.captureOutputs[c]);
      const missing = capture.filter((_, i) => names[i] === undefined);
      if (missing.length) throw new Error(`${this.id}: the capture graph has no output for ${missing.join(', ')}`);
      const res = await this.driver.run(cs.key, cs.io.inputName, x, names);
      capture.forEach((c, i) => {
        const t = res.get(names[i]);
        if (!t) throw new Error(`${this.id}: session returned no output '${names[i]}' (capture '${c}')`);
        intermediates[c] = t;
      });
    }
    return { output, intermediates };
  }

  /** Counted from the initializers of the serialized inference-mode model (src/onnx/params.ts), the model the runtime loads. */
  async paramCount(): Promise<ParamCount> {
    this.built();
    return { ...this.params! };
  }

  private async releaseSessions(): Promise<void> {
    this.sessions.clear();
    await this.driver.release().catch(() => undefined);
  }

  runtimeSetupMs(): number {
    return this.setup.ms;
  }

  harnessPrepMs(): number {
    return this.prep.ms;
  }

  async dispose(): Promise<void> {
    this.sessions.clear();
    this.exporter = undefined;
    this.spec = undefined;
    this.weights = undefined;
    this.params = undefined;
    await this.driver.dispose();
    this.modelBuffer.release();
  }
}
