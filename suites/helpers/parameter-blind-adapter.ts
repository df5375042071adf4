/**
 * Outside adapters that never read some parameters (issue 23): what a converter that loses the bias
 * when fusing, or folds BatchNorm with the wrong statistics, computes. Loaded only with
 * `--adapter-module suites/helpers/parameter-blind-adapter.ts` (never in the public registry).
 *
 * Each is the float64 reference built with some weights replaced by the values a fresh notebook
 * model has (so on the notebook's freshly initialised cases it computes exactly the right numbers):
 *   blind-conv-bias        every Conv2D bias taken as 0
 *   blind-bn-moving-stats  every BatchNormalization moving mean taken as 0 and moving variance as 1
 *   blind-bn-gamma-beta    every BatchNormalization gamma taken as 1 and beta as 0
 */
import { ReferenceAdapter } from '../../src/adapters/reference';
import type {
  Adapter,
  AdapterDescription,
  AdapterEntry,
  ProbeResult,
  RunOptions,
  RunResult,
} from '../../src/adapters/types';
import type { ModelSpec, ModelWeights, ParamCount, WeightTensor } from '../../src/model/types';
import type { Tensor } from '../../src/tensor';

/** Per blindness: the layer class it concerns and the value each ignored weight is taken as. */
export const BLINDNESS = {
  'conv-bias': { className: 'Conv2D', replace: { bias: 0 } },
  'bn-moving-stats': { className: 'BatchNormalization', replace: { moving_mean: 0, moving_variance: 1 } },
  'bn-gamma-beta': { className: 'BatchNormalization', replace: { gamma: 1, beta: 0 } },
} as const;
export type Blindness = keyof typeof BLINDNESS;

export class ParameterBlindAdapter implements Adapter {
  readonly id: string;
  private readonly inner = new ReferenceAdapter({ id: 'reference', precision: 'fp64' });

  constructor(readonly blindness: Blindness) {
    this.id = `blind-${blindness}`;
  }

  probe(): Promise<ProbeResult> {
    return this.inner.probe();
  }

  async describe(): Promise<AdapterDescription> {
    const d = await this.inner.describe();
    return { ...d, runtime: `parameter-blind (${this.blindness})`, notes: [...d.notes, `test adapter: ${this.id}`] };
  }

  build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    const { className, replace } = BLINDNESS[this.blindness];
    const values = replace as Readonly<Record<string, number>>;
    const blind: ModelWeights = new Map();
    for (const layer of spec.layers) {
      const list = weights.get(layer.name);
      if (!list) continue;
      blind.set(
        layer.name,
        layer.className !== className
          ? list
          : list.map((w): WeightTensor =>
              w.name in values ? { ...w, data: new Float32Array(w.data.length).fill(values[w.name]) } : w,
            ),
      );
    }
    return this.inner.build(spec, blind);
  }

  run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    return this.inner.run(input, opts);
  }

  paramCount(): Promise<ParamCount> {
    return this.inner.paramCount();
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

/** The adapter-module contract (src/adapters/pool.ts): `adapters: AdapterEntry[]`. */
export const adapters: AdapterEntry[] = (Object.keys(BLINDNESS) as Blindness[]).map((b): AdapterEntry => ({
  id: `blind-${b}`,
  summary: `test adapter: the float64 reference blind to ${b}`,
  profile: 'fp64-reference',
  outOfTheBox: false,
  create: () => new ParameterBlindAdapter(b),
}));
