/**
 * Runs a ModelSpec layer by layer on float64 NHWC buffers, emulating the requested precision: every
 * layer is evaluated by the layer interpreter (./interpreter.ts), the executor only orders the layers,
 * prepares each layer's weights once and releases buffers after their last use.
 */
import { LOGITS_SUFFIX } from '../../model/builders';
import type { LayerSpec, ModelSpec, ModelWeights } from '../../model/types';
import {
  evaluateLayer,
  prepareLayer,
  type LayerEvaluation,
  type LayerMode,
  type LayerOverride,
  type PreparedLayer,
} from './interpreter';
import { Float64Pool, withPool } from './buffers';
import type { Arithmetic, ReferencePrecision } from './precision';
import { validateWeights } from './weights';

export interface ExecutorOptions {
  precision: ReferencePrecision;
  /** Conv2D/Dense layers whose matmul operands are rounded to TF32 (precision 'tf32' only). */
  tf32Layers: ReadonlySet<string>;
  /** Per-layer replacement evaluations (see LayerOverride); none by default. */
  override?: LayerOverride;
}

/** Captured and output buffers of one run, float64, batch first. */
export interface ExecutionResult {
  output: Float64Array;
  outputShape: number[];
  captured: Map<string, { shape: number[]; data: Float64Array }>;
}

export class ReferenceExecutor {
  private readonly layers: LayerSpec[];
  private readonly index = new Map<string, number>();
  /** Per layer index: its weights prepared for the arithmetic it runs in. */
  private readonly prepared: PreparedLayer[];
  /** Per layer index: the override's evaluation, when it replaces evaluateLayer for that layer. */
  private readonly overridden: (LayerEvaluation | undefined)[];
  /** Per layer index: earlier layers whose buffers are no longer needed once it has run. */
  private readonly releaseAfter: number[][];
  /**
   * Released layer outputs, reused as later outputs (a new buffer costs page faults). Only without
   * an override: an override may keep what it returns, so its buffers are never known to be free.
   */
  private readonly pool: Float64Pool | undefined;

  constructor(
    readonly spec: ModelSpec,
    weights: ModelWeights,
    readonly opts: ExecutorOptions,
  ) {
    validateWeights(spec, weights);
    this.layers = spec.layers;
    this.layers.forEach((l, i) => {
      if (this.index.has(l.name)) throw new Error(`${spec.model}: duplicate layer name '${l.name}'`);
      for (const src of l.inbound) {
        if (!this.index.has(src))
          throw new Error(`${spec.model}: layer '${l.name}' uses '${src}', which is not created before it`);
      }
      this.index.set(l.name, i);
    });
    if (!this.index.has(spec.output))
      throw new Error(`${spec.model}: output layer '${spec.output}' is not in the spec`);
    if (this.layers[0]?.className !== 'InputLayer' || this.layers[0].name !== spec.input) {
      throw new Error(`${spec.model}: the first layer must be the input layer '${spec.input}'`);
    }
    for (const name of opts.tf32Layers) {
      const l = this.layers[this.index.get(name) ?? -1];
      if (!l) throw new Error(`tf32Layers: no layer named '${name}' in ${spec.model}`);
      if (l.className !== 'Conv2D' && l.className !== 'Dense') {
        throw new Error(`tf32Layers: '${name}' is a ${l.className}; only Conv2D and Dense layers have TF32 matmuls`);
      }
    }
    if (opts.tf32Layers.size > 0 && opts.precision !== 'tf32') {
      throw new Error(`tf32Layers only applies to precision 'tf32' (precision is '${opts.precision}')`);
    }
    const override = opts.override;
    // Without an override nothing here modifies a prepared kernel, so kernels may be shared with
    // other executors (./kernel-cache.ts); an override gets kernels of its own.
    const share = override === undefined;
    this.prepared = this.layers.map((l) => prepareLayer(l, weights, this.arithmeticOf(l), { share }));
    this.overridden = this.layers.map((l, i) =>
      override && i > 0 ? override(l, { spec, weights, prepared: this.prepared[i] }) : undefined,
    );
    this.pool = this.overridden.some((o) => o !== undefined) ? undefined : new Float64Pool();
    const lastUse = this.layers.map(() => -1);
    this.layers.forEach((l, i) => {
      for (const src of l.inbound) lastUse[this.index.get(src)!] = i;
    });
    this.releaseAfter = this.layers.map(() => []);
    lastUse.forEach((user, j) => {
      if (user >= 0) this.releaseAfter[user].push(j);
    });
  }

  /** Names accepted by `capture`: every layer, plus `<dense>:logits` for Dense layers. */
  captureNames(): string[] {
    const names = this.layers.map((l) => l.name);
    for (const l of this.layers) if (l.className === 'Dense') names.push(`${l.name}${LOGITS_SUFFIX}`);
    return names;
  }

  private checkCapture(capture: readonly string[]): void {
    for (const name of capture) {
      if (this.index.has(name)) continue;
      if (name.endsWith(LOGITS_SUFFIX)) {
        const base = name.slice(0, -LOGITS_SUFFIX.length);
        const l = this.layers[this.index.get(base) ?? -1];
        if (l?.className === 'Dense') continue;
        throw new Error(`capture '${name}': '${base}' is not a Dense layer of ${this.spec.model}, so it has no logits`);
      }
      throw new Error(
        `capture '${name}': no such layer in ${this.spec.model} (${this.layers.length} layers from '${this.spec.input}' to '${this.spec.output}'; Dense logits are '<dense>${LOGITS_SUFFIX}')`,
      );
    }
  }

  /** Precision tf32 runs its TF32 layers in the tf32 arithmetic and the rest in fp32. */
  private arithmeticOf(l: LayerSpec): Arithmetic {
    if (this.opts.precision === 'tf32') return this.opts.tf32Layers.has(l.name) ? 'tf32' : 'fp32';
    return this.opts.precision;
  }

  /**
   * Runs the model on `input` (NHWC float64, batch `n`, already rounded to the precision's format).
   * `training` selects batch statistics in every BatchNormalization layer.
   */
  run(input: Float64Array, n: number, training: boolean, capture: readonly string[] = []): ExecutionResult {
    return withPool(this.pool, () => this.runLayers(input, n, training, capture));
  }

  private runLayers(input: Float64Array, n: number, training: boolean, capture: readonly string[]): ExecutionResult {
    this.checkCapture(capture);
    const wanted = new Set(capture);
    const keep = new Set<string>([...capture, this.spec.output]);
    const bufs: (Float64Array | undefined)[] = this.layers.map(() => undefined);
    const captured = new Map<string, { shape: number[]; data: Float64Array }>();
    const shapeOf = (l: LayerSpec): number[] => [n, ...l.outputShape];
    // Every buffer the executor feeds a layer is one it stored itself (the input comes rounded).
    const mode: LayerMode = { training, inputsStored: true };

    this.layers.forEach((l, i) => {
      const ins = l.inbound.map((src) => {
        const j = this.index.get(src)!;
        const b = bufs[j];
        if (!b) throw new Error(`internal: buffer of '${src}' was released before '${l.name}' used it`);
        return { data: b, shape: shapeOf(this.layers[j]) };
      });
      let out: Float64Array;
      if (i === 0) {
        out = input;
      } else {
        const own = this.overridden[i];
        let res;
        try {
          res = own ? own(ins, mode) : evaluateLayer(l, ins, this.prepared[i], mode);
        } catch (err) {
          // Name the layer: a kernel's own message ("add: operands have ...") does not.
          const msg = err instanceof Error ? err.message : String(err);
          throw new Error(msg.includes(`'${l.name}'`) ? msg : `layer '${l.name}' (${l.className}): ${msg}`);
        }
        out = res.output;
        const logitsName = `${l.name}${LOGITS_SUFFIX}`;
        if (res.logits && wanted.has(logitsName))
          captured.set(logitsName, { shape: [n, res.logits.length / n], data: res.logits });
      }
      bufs[i] = out;
      if (wanted.has(l.name)) captured.set(l.name, { shape: shapeOf(l), data: out });
      for (const j of this.releaseAfter[i]) {
        if (keep.has(this.layers[j].name)) continue;
        const b = bufs[j];
        bufs[j] = undefined;
        // Recycled only when nothing can still see it: not the caller's input, not another layer's
        // buffer too (Flatten passes its input on), not captured (logits).
        if (this.pool && b && b !== input && !bufs.includes(b) && ![...captured.values()].some((c) => c.data === b))
          this.pool.give(b);
      }
    });
    const outLayer = this.layers[this.index.get(this.spec.output)!];
    return { output: bufs[this.index.get(this.spec.output)!]!, outputShape: shapeOf(outLayer), captured };
  }
}
