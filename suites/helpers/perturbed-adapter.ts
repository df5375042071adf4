/**
 * TEST-ONLY adapter (not in the registry): runs a model layer by layer with the diagnosis's layer
 * evaluator in a chosen arithmetic — per layer if wanted — and can break ONE layer on purpose:
 *   add                 adds a constant to every element of that layer's output (downstream layers
 *                       consume the perturbed values, as in a real kernel bug)
 *   same-padding-before Conv2D 'same' with the extra padding row/column placed before (top/left,
 *                       ONNX SAME_LOWER / Caffe-style) instead of after (TensorFlow, SAME_UPPER)
 * It exists to prove the diagnosis names exactly the layer that was broken, and recognizes
 * mixed-precision execution (e.g. bf16 in some layers).
 */
import type { Adapter, AdapterDescription, ProbeResult, RunOptions, RunResult } from '../../src/adapters/types';
import { countParams, validateWeights } from '../../src/adapters/reference/weights';
import { LOGITS_SUFFIX } from '../../src/model/builders';
import { samePadding } from '../../src/model/shapes';
import type { DenseSpec, LayerSpec, ModelSpec, ModelWeights, ParamCount } from '../../src/model/types';
import type { Tensor } from '../../src/tensor';
import { ARITHMETIC_LABEL, mapRound, storageRounder, type Arithmetic } from '../../src/diagnose/formats';
import { hasLogitsStep, LayerEvaluator, type LayerInput } from '../../src/diagnose/layer-eval';

export type Perturbation =
  { kind: 'add'; layer: string; value: number } | { kind: 'same-padding-before'; layer: string };

export interface PerturbedAdapterOptions {
  id?: string;
  /** Arithmetic of every layer not listed in layerArithmetic (default fp32). */
  arithmetic?: Arithmetic;
  /** Per-layer arithmetic, e.g. { conv2d_2: 'bf16' }. */
  layerArithmetic?: Record<string, Arithmetic>;
  perturb?: Perturbation;
}

export class PerturbedAdapter implements Adapter {
  readonly id: string;
  private spec: ModelSpec | undefined;
  private weights: ModelWeights | undefined;
  private evaluator: LayerEvaluator | undefined;

  constructor(private readonly opts: PerturbedAdapterOptions = {}) {
    this.id = opts.id ?? `perturbed${opts.perturb ? `(${opts.perturb.kind}@${opts.perturb.layer})` : ''}`;
  }

  async probe(): Promise<ProbeResult> {
    return { available: true };
  }

  async describe(): Promise<AdapterDescription> {
    return {
      runtime: 'resnet-conformance test-only perturbed adapter',
      version: '0',
      device: 'cpu',
      precision: ARITHMETIC_LABEL[this.opts.arithmetic ?? 'fp32'],
      settings: {
        perturb: this.opts.perturb ? JSON.stringify(this.opts.perturb) : 'none',
        layerArithmetic: JSON.stringify(this.opts.layerArithmetic ?? {}),
      },
      notes: ['test-only: deliberately wrong in one layer'],
    };
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    validateWeights(spec, weights);
    const byName = new Map(spec.layers.map((l) => [l.name, l]));
    for (const name of Object.keys(this.opts.layerArithmetic ?? {})) {
      if (!byName.has(name))
        throw new Error(`${this.id}: layerArithmetic names '${name}', which is not a layer of ${spec.model}`);
    }
    const p = this.opts.perturb;
    if (p) {
      const l = byName.get(p.layer);
      if (!l || l.className === 'InputLayer')
        throw new Error(`${this.id}: cannot perturb '${p.layer}': no such layer in ${spec.model}`);
      if (p.kind === 'same-padding-before') {
        if (l.className !== 'Conv2D' || l.padding !== 'same')
          throw new Error(`${this.id}: '${p.layer}' is not a Conv2D with 'same' padding`);
        const src = byName.get(l.inbound[0])!;
        const [h, w] = src.outputShape;
        const [t, b] = samePadding(h, l.kernelSize[0], l.strides[0]);
        const [le, r] = samePadding(w, l.kernelSize[1], l.strides[1]);
        if (t === b && le === r)
          throw new Error(
            `${this.id}: '${p.layer}' pads evenly (${t},${b})x(${le},${r}); moving the extra padding changes nothing`,
          );
      }
    }
    this.spec = spec;
    this.weights = weights;
    this.evaluator = new LayerEvaluator(spec, weights);
  }

  private arithmeticOf(l: LayerSpec): Arithmetic {
    return this.opts.layerArithmetic?.[l.name] ?? this.opts.arithmetic ?? 'fp32';
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    const spec = this.spec;
    const ev = this.evaluator;
    if (!spec || !ev) throw new Error(`${this.id}: build() must be called before run()`);
    const n = input.shape[0];
    const wanted = new Set(opts.capture ?? []);
    const known = new Set(spec.layers.map((l) => l.name));
    for (const l of spec.layers) if (hasLogitsStep(l)) known.add(`${l.name}${LOGITS_SUFFIX}`);
    for (const c of wanted)
      if (!known.has(c)) throw new Error(`${this.id}: cannot capture '${c}': no such layer in ${spec.model}`);
    const bufs = new Map<string, LayerInput>();
    const captured: Record<string, Tensor> = {};
    const base = this.opts.arithmetic ?? 'fp32';
    const store = (a: Arithmetic, d: Float64Array): Float64Array => (a === 'fp64' ? d : mapRound(d, storageRounder(a)));
    const emit = (name: string, shape: number[], data: Float64Array): void => {
      if (wanted.has(name)) captured[name] = { shape, data: base === 'fp64' ? data.slice() : Float32Array.from(data) };
    };
    const p = this.opts.perturb;
    for (const l of spec.layers) {
      const a = this.arithmeticOf(l);
      const shape = [n, ...l.outputShape];
      let out: Float64Array;
      if (l.className === 'InputLayer') {
        out = store(base, Float64Array.from(input.data));
      } else {
        const ins = l.inbound.map((s) => bufs.get(s)!);
        if (hasLogitsStep(l)) {
          const logits = ev.linear(l, ins[0], a);
          emit(`${l.name}${LOGITS_SUFFIX}`, [n, (l as DenseSpec).units], logits);
          out = ev.softmax(l, { shape: [n, l.units], data: logits }, a);
        } else {
          const side = p?.kind === 'same-padding-before' && p.layer === l.name ? 'before' : 'tf';
          out = ev.evaluate(l, ins, opts.training, a, { samePadding: side });
        }
        if (p?.kind === 'add' && p.layer === l.name) {
          // A new buffer: the evaluated output may be the input buffer itself (Flatten).
          const v = p.value;
          out = store(
            a,
            out.map((x) => x + v),
          );
        }
      }
      bufs.set(l.name, { shape, data: out });
      emit(l.name, shape, out);
    }
    const o = bufs.get(spec.output)!;
    return {
      output: { shape: o.shape, data: base === 'fp64' ? o.data.slice() : Float32Array.from(o.data) },
      intermediates: captured,
    };
  }

  async paramCount(): Promise<ParamCount> {
    if (!this.spec || !this.weights) throw new Error(`${this.id}: build() must be called first`);
    return countParams(this.spec, this.weights);
  }

  async dispose(): Promise<void> {
    this.spec = undefined;
    this.weights = undefined;
    this.evaluator = undefined;
  }
}
