/**
 * One adapter class for every tfjs backend: builds the spec with tfjs-layers (./layers-model),
 * selects its backend (tf.setBackend + tf.ready) before every build and run, and keeps
 * training-mode BatchNormalization from leaking moving-average updates into later runs.
 */
import { SetupClock } from '../setup-clock';
import { checkInput } from '../input-check';
import { LOGITS_SUFFIX } from '../../model/builders';
import type { ModelSpec, ModelWeights, ParamCount } from '../../model/types';
import type { Tensor } from '../../tensor';
import type { Adapter, AdapterDescription, ProbeOptions, ProbeResult, RunOptions, RunResult } from '../types';
import { tfjsBackend, type TfjsBackendDef } from './backends';
import { buildCapturePlan, type CapturePlan } from './capture-plan';
import { childProbe, type ChildProbeResult } from './child-probe';
import { probeKnownCrash } from '../known-crashes';
import { buildLayersModel, countParams, layerOutputShapes, layerSummary, type TfjsLayerSummary } from './layers-model';
import { installedVersion, loadTfjs, type Tf } from './tf-loader';

type LayersModel = import('@tensorflow/tfjs').LayersModel;
type SymbolicTensor = import('@tensorflow/tfjs').SymbolicTensor;
type TfTensor = import('@tensorflow/tfjs').Tensor;

interface Built {
  spec: ModelSpec;
  model: LayersModel;
  outputs: Map<string, SymbolicTensor>;
  plans: Map<string, CapturePlan>;
}

export class TfjsAdapter implements Adapter {
  readonly id: string;
  readonly backend: TfjsBackendDef;
  private built: Built | undefined;
  /** Time building the tfjs-layers model and its weights (Adapter.runtimeSetupMs). */
  private readonly setup = new SetupClock();

  constructor(id: string) {
    this.backend = tfjsBackend(id);
    this.id = id;
  }

  /**
   * Preflight (files, environment), then the backend is loaded in a child process and runs one op;
   * that loads nothing into this process (see ./child-probe). In a process that runs this adapter
   * only (`dedicatedProcess`: runner and bench workers, forward, diagnose) the same check runs here,
   * saving a process start and a second load of tfjs.
   */
  async probe(opts: ProbeOptions = {}): Promise<ProbeResult> {
    const pre = this.backend.preflight();
    if (!pre.available) return pre;
    // A known native crash of the runtime on this CPU is found by a child process (cached per
    // machine) before the runtime is loaded here: loading it would take this process down.
    const cp = this.backend.crashProbe?.();
    const crash = cp && probeKnownCrash(cp.crash, cp.probe);
    if (crash) return crash;
    const args = this.backend.childProbe();
    if (!args) return { available: true };
    const r = opts.dedicatedProcess ? await this.probeHere() : childProbe(args);
    if (!r.ok)
      return {
        available: false,
        reason: `${this.backend.packageName} does not load: ${r.error}`,
        fix: this.backend.fix,
      };
    if (this.backend.device === 'gpu' && !r.gpu) {
      return {
        available: false,
        reason:
          'libtensorflow found no GPU device (driver, CUDA 11.2 or cuDNN 8.1 not loadable: run with TF_CPP_MIN_LOG_LEVEL=0 to see why)',
        fix: this.backend.fix,
      };
    }
    return { available: true };
  }

  /** The child probe's check, in this process (which runs this adapter only). */
  private async probeHere(): Promise<ChildProbeResult> {
    const t0 = Date.now();
    try {
      const tf = await this.activate();
      const y = tf.tidy(() => tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync());
      if (y[0] !== 4 || y[1] !== 6) throw new Error(`[1,2] + [3,4] gave [${Array.from(y).join(',')}]`);
      const b = tf.engine().registry[this.backend.backendName] as { isUsingGpuDevice?: boolean } | undefined;
      return { ok: true, gpu: Boolean(b?.isUsingGpuDevice), seconds: (Date.now() - t0) / 1000 };
    } catch (err) {
      return { ok: false, error: (err instanceof Error ? err.message : String(err)).split('\n')[0] };
    }
  }

  /** Loads tfjs and this adapter's backend package, and makes the backend current. */
  private async activate(): Promise<Tf> {
    const tf = loadTfjs();
    await this.backend.register(tf);
    if (tf.getBackend() !== this.backend.backendName) {
      const ok = await tf.setBackend(this.backend.backendName);
      if (!ok) throw new Error(`tf.setBackend('${this.backend.backendName}') failed`);
    }
    await tf.ready();
    return tf;
  }

  /** Synchronous check right before computing: another adapter in this process may have switched backends. */
  private assertBackend(tf: Tf): void {
    if (tf.getBackend() !== this.backend.backendName) {
      throw new Error(
        `${this.id}: the tfjs backend changed to '${tf.getBackend()}' while this adapter was starting a run; ` +
          'run tfjs adapters one after another, or each in its own process',
      );
    }
  }

  async describe(): Promise<AdapterDescription> {
    const tf = await this.activate();
    return {
      runtime: `TensorFlow.js (tfjs-layers, ${this.backend.backendName} backend)`,
      version: installedVersion('@tensorflow/tfjs') ?? tf.version.tfjs,
      device: this.backend.device,
      precision: this.backend.precision,
      settings: { ...(await this.backend.settings(tf)), 'tfjs-layers': tf.version_layers },
      notes: [
        ...this.backend.notes,
        'model built with tfjs-layers (tf.input, tf.layers.*, tf.model); inference with model.predict, ' +
          'training-mode BatchNormalization with model.apply(x, {training: true})',
        'training runs update the BatchNormalization moving statistics in tfjs; the adapter restores them after each run',
        `'<dense>${LOGITS_SUFFIX}' captures: the softmax Dense layer's pre-activation, computed as tf.fused.matMul(input, kernel) + bias ` +
          '(the ops tfjs-layers Dense runs before its softmax)',
      ],
    };
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    await this.dispose();
    const tf = await this.activate();
    this.assertBackend(tf);
    const { model, outputs } = this.setup.timeSync(() => buildLayersModel(tf, spec, weights));
    this.built = { spec, model, outputs, plans: new Map() };
  }

  runtimeSetupMs(): number {
    return this.setup.ms;
  }

  private requireBuilt(): Built {
    if (!this.built)
      throw new Error(`${this.id}: build() must be called before run(), paramCount() or layerOutputShapes()`);
    return this.built;
  }

  /** The built tfjs model's per-layer output shapes (without batch), by layer name. */
  layerOutputShapes(): Map<string, number[]> {
    return layerOutputShapes(this.requireBuilt().model);
  }

  /** The built tfjs model's layers in tfjs's own order, with class name, output shape and countParams(). */
  layerSummary(): TfjsLayerSummary[] {
    return layerSummary(this.requireBuilt().model);
  }

  /** Current values of every non-trainable weight (BN moving statistics), by tfjs variable name. */
  async nonTrainableValues(): Promise<Map<string, Float32Array>> {
    const b = this.requireBuilt();
    const out = new Map<string, Float32Array>();
    for (const w of b.model.nonTrainableWeights)
      out.set(w.originalName, new Float32Array((await w.read().data()) as Float32Array));
    return out;
  }

  private capturePlan(tf: Tf, b: Built, capture: string[]): CapturePlan {
    const key = capture.join('\u0000');
    const cached = b.plans.get(key);
    if (cached) return cached;
    const plan = buildCapturePlan(tf, b.spec, b.model, b.outputs, capture, this.id, b.plans.size);
    b.plans.set(key, plan);
    return plan;
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    const b = this.requireBuilt();
    checkInput(this.id, b.spec, input);
    const expected = input.shape;
    const capture = opts.capture ?? [];
    const tf = await this.activate();
    const plan = this.capturePlan(tf, b, capture);
    const x32 = input.data instanceof Float32Array ? input.data : Float32Array.from(input.data);

    this.assertBackend(tf);
    // Training-mode BatchNormalization in tfjs-layers updates moving_mean / moving_variance in place:
    // keep copies and write them back after the run so that no run changes a later one.
    const saved = opts.training ? b.model.nonTrainableWeights.map((w) => tf.clone(w.read())) : [];
    let results: TfTensor[];
    try {
      results = tf.tidy(() => {
        const x = tf.tensor(x32, expected, 'float32');
        const raw = opts.training
          ? (plan.model.apply(x, { training: true }) as TfTensor | TfTensor[])
          : (plan.model.predict(x, { batchSize: expected[0] }) as TfTensor | TfTensor[]);
        const outs = Array.isArray(raw) ? raw : [raw];
        const logits = plan.logits.map((c) => {
          const dense = b.model.getLayer(c.dense);
          const kernel = dense.weights.find((w) => w.originalName.endsWith('/kernel'))!.read();
          const bias = dense.weights.find((w) => w.originalName.endsWith('/bias'))!.read();
          return tf.add(
            tf.fused.matMul({
              a: outs[c.inputIndex] as import('@tensorflow/tfjs').Tensor2D,
              b: kernel as import('@tensorflow/tfjs').Tensor2D,
            }),
            bias,
          );
        });
        return [...outs, ...logits];
      });
    } finally {
      if (opts.training) {
        b.model.nonTrainableWeights.forEach((w, i) => w.write(saved[i]));
        tf.dispose(saved);
      }
    }
    try {
      const data = await Promise.all(results.map(async (t) => new Float32Array((await t.data()) as Float32Array)));
      const toTensor = (i: number): Tensor => ({ shape: [...results[i].shape], data: data[i] });
      const intermediates: Record<string, Tensor> = {};
      for (const name of capture) {
        const k = plan.logits.findIndex((c) => c.name === name);
        intermediates[name] = toTensor(k >= 0 ? 1 + plan.extraLayers.length + k : plan.layerIndex.get(name)!);
      }
      return { output: toTensor(0), intermediates };
    } finally {
      tf.dispose(results);
    }
  }

  async paramCount(): Promise<ParamCount> {
    return countParams(this.requireBuilt().model);
  }

  async dispose(): Promise<void> {
    const b = this.built;
    this.built = undefined;
    if (b) b.model.dispose();
  }
}
