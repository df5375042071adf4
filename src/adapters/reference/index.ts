/**
 * The reference adapter: a pure TypeScript implementation of the notebook's layers.
 * It is the oracle other runtimes are measured against (fp64), a float32 CPU model (fp32)
 * and an emulator of NVIDIA TF32 convolutions (tf32) that explains GPU deviations.
 */
import { SetupClock } from '../setup-clock';
import { checkInput } from '../input-check';
import * as fs from 'fs';
import * as path from 'path';
import type { ModelSpec, ModelWeights, ParamCount } from '../../model/types';
import type { Tensor } from '../../tensor';
import type { Adapter, AdapterDescription, ProbeResult, RunOptions, RunResult } from '../types';
import { ReferenceExecutor } from './executor';
import type { LayerOverride } from './interpreter';
import { isReferencePrecision, roundFloat32InPlace, type ReferencePrecision } from './precision';
import { countParams } from './weights';

export type { Arithmetic, ReferencePrecision } from './precision';
export {
  ARITHMETICS,
  REFERENCE_PRECISIONS,
  isArithmetic,
  isReferencePrecision,
  roundToTf32,
  tf32Bits,
} from './precision';
export { evaluateLayer, prepareLayer } from './interpreter';
export type { LayerEvaluation, LayerInput, LayerMode, LayerOutput, LayerOverride, PreparedLayer } from './interpreter';

export interface ReferenceOptions {
  /** Adapter id (default `reference`, `reference-fp32` or `reference-tf32` by precision). */
  id?: string;
  precision: ReferencePrecision;
  /**
   * precision 'tf32' only: the Conv2D/Dense layers whose operands are rounded to TF32.
   * Default: every Conv2D and Dense layer of the model.
   */
  tf32Layers?: string[];
  /** Per-layer replacement evaluations (src/mutants: one deliberate defect each); none by default. */
  override?: LayerOverride;
}

const DEFAULT_IDS: Record<ReferencePrecision, string> = {
  fp64: 'reference',
  fp32: 'reference-fp32',
  tf32: 'reference-tf32',
};

const PRECISION_TEXT: Record<ReferencePrecision, string> = {
  fp64: 'float64 throughout',
  fp32: 'float32 tensors (every op correctly rounded from a float64 computation)',
  tf32: 'float32 tensors, TF32 operands (10-bit mantissa, round to nearest even) in the selected Conv2D/Dense matmuls, float64 accumulation',
};

/** Version of this package, from the nearest package.json named resnet-conformance. */
function packageVersion(): string {
  let dir = __dirname;
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'resnet-conformance' && pkg.version) return pkg.version;
    }
    const up = path.dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

export class ReferenceAdapter implements Adapter {
  readonly id: string;
  readonly precision: ReferencePrecision;
  private readonly requestedTf32Layers: string[] | undefined;
  private readonly override: LayerOverride | undefined;
  private spec: ModelSpec | undefined;
  private weights: ModelWeights | undefined;
  private executor: ReferenceExecutor | undefined;
  /** Time preparing the executor (kernels packed, weights converted): this runtime's own setup (Adapter.runtimeSetupMs). */
  private readonly setup = new SetupClock();

  constructor(opts: ReferenceOptions) {
    if (!isReferencePrecision(opts.precision)) {
      throw new Error(`ReferenceAdapter: precision must be fp64, fp32 or tf32, got '${String(opts.precision)}'`);
    }
    if (opts.tf32Layers !== undefined && opts.precision !== 'tf32') {
      throw new Error(
        `ReferenceAdapter: tf32Layers only applies to precision 'tf32' (precision is '${opts.precision}')`,
      );
    }
    this.precision = opts.precision;
    this.id = opts.id ?? DEFAULT_IDS[opts.precision];
    this.requestedTf32Layers = opts.tf32Layers ? [...opts.tf32Layers] : undefined;
    this.override = opts.override;
  }

  async probe(): Promise<ProbeResult> {
    return { available: true };
  }

  /** The TF32 layers in effect (after build, the default resolves to the model's Conv2D/Dense layers). */
  tf32Layers(): string[] {
    if (this.precision !== 'tf32') return [];
    if (this.requestedTf32Layers) return [...this.requestedTf32Layers];
    if (!this.spec) return [];
    return this.spec.layers.filter((l) => l.className === 'Conv2D' || l.className === 'Dense').map((l) => l.name);
  }

  async describe(): Promise<AdapterDescription> {
    let tf32Text = 'none';
    if (this.precision === 'tf32') {
      tf32Text = this.requestedTf32Layers ? this.requestedTf32Layers.join(',') : 'all Conv2D and Dense';
    }
    return {
      runtime: 'resnet-conformance reference',
      version: packageVersion(),
      device: 'cpu',
      precision: PRECISION_TEXT[this.precision],
      settings: { precision: this.precision, tf32Layers: tf32Text },
      notes: [
        'NHWC direct convolution, float64 accumulation in (ky, kx, ci) order; 1x1 stride-1 convolutions as a GEMM',
        'BatchNormalization training=true uses two-pass batch mean and biased variance; moving statistics are never updated',
      ],
    };
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    const tf32 = new Set(
      this.precision === 'tf32'
        ? (this.requestedTf32Layers ??
            spec.layers.filter((l) => l.className === 'Conv2D' || l.className === 'Dense').map((l) => l.name))
        : [],
    );
    this.executor = this.setup.timeSync(
      () =>
        new ReferenceExecutor(spec, weights, {
          precision: this.precision,
          tf32Layers: tf32,
          override: this.override,
        }),
    );
    this.spec = spec;
    this.weights = weights;
  }

  runtimeSetupMs(): number {
    return this.setup.ms;
  }

  private built(): { spec: ModelSpec; weights: ModelWeights; executor: ReferenceExecutor } {
    if (!this.spec || !this.weights || !this.executor)
      throw new Error(`${this.id}: build() must be called before run() or paramCount()`);
    return { spec: this.spec, weights: this.weights, executor: this.executor };
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    const { spec, executor } = this.built();
    checkInput(this.id, spec, input);
    const n = input.shape[0];
    if (!(input.data instanceof Float32Array) && !(input.data instanceof Float64Array)) {
      throw new Error(`${this.id}: input data must be a Float32Array or Float64Array`);
    }
    if (typeof opts.training !== 'boolean') throw new Error(`${this.id}: run option 'training' must be true or false`);
    const x = Float64Array.from(input.data);
    if (this.precision !== 'fp64') roundFloat32InPlace(x);
    const res = executor.run(x, n, opts.training, opts.capture ?? []);

    const seen = new Set<Float64Array>();
    const convert = (shape: number[], data: Float64Array): Tensor => {
      if (this.precision !== 'fp64') return { shape, data: Float32Array.from(data) };
      const own = seen.has(data) ? data.slice() : data;
      seen.add(data);
      return { shape, data: own };
    };
    const output = convert(res.outputShape, res.output);
    const intermediates: Record<string, Tensor> = {};
    for (const [name, t] of res.captured) intermediates[name] = convert(t.shape, t.data);
    return { output, intermediates };
  }

  async paramCount(): Promise<ParamCount> {
    const { spec, weights } = this.built();
    return countParams(spec, weights);
  }

  async dispose(): Promise<void> {
    this.spec = undefined;
    this.weights = undefined;
    this.executor = undefined;
  }
}
