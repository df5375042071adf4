/**
 * A mutant as an adapter: the float32 reference adapter (`reference-fp32`) with the mutant's
 * per-layer override on its targets, running the mutant's rewired graph when it has one. Nothing
 * else differs, so any failure it gets is the mutant's defect.
 */
import { ReferenceAdapter } from '../adapters/reference';
import type { Adapter, AdapterDescription, AdapterEntry, ProbeResult, RunOptions, RunResult } from '../adapters/types';
import type { ModelSpec, ModelWeights, ParamCount } from '../model/types';
import type { Tensor } from '../tensor';
import { mutantAdapterId, type Mutant } from './bank';

export class MutantAdapter implements Adapter {
  readonly id: string;
  private inner: ReferenceAdapter | undefined;
  /** The layers the built model's mutation touches. */
  touched: string[] = [];

  constructor(readonly mutant: Mutant) {
    this.id = mutantAdapterId(mutant);
  }

  async probe(): Promise<ProbeResult> {
    return { available: true };
  }

  async describe(): Promise<AdapterDescription> {
    return {
      runtime: `resnet-conformance mutant ${this.mutant.id}`,
      version: '0',
      device: 'cpu',
      precision: 'float32 (reference-fp32) with one deliberate defect',
      settings: { mutant: this.mutant.id, kind: this.mutant.kind },
      notes: [this.mutant.title, 'src/mutants/bank.ts; docs/mutants.md'],
    };
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    const m = this.mutant;
    const targets = m.targets(spec);
    const set = new Set(targets);
    const evaluate = m.evaluate;
    const inner = new ReferenceAdapter({
      id: this.id,
      precision: 'fp32',
      override: evaluate ? (l, ctx) => (set.has(l.name) ? evaluate(l, ctx) : undefined) : undefined,
    });
    await inner.build(m.rewire && targets.length ? m.rewire(spec, targets) : spec, weights);
    this.inner = inner;
    this.touched = targets;
  }

  private built(): ReferenceAdapter {
    if (!this.inner) throw new Error(`${this.id}: build() must be called before run()`);
    return this.inner;
  }

  run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    return this.built().run(input, opts);
  }

  paramCount(): Promise<ParamCount> {
    return this.built().paramCount();
  }

  async dispose(): Promise<void> {
    await this.inner?.dispose();
    this.inner = undefined;
  }
}

export function mutantEntry(m: Mutant): AdapterEntry {
  return {
    id: mutantAdapterId(m),
    summary: `${m.kind === 'control' ? 'negative control' : 'mutant'}: ${m.title}`,
    profile: m.profile ?? 'fp32-cpu',
    outOfTheBox: false,
    create: () => new MutantAdapter(m),
  };
}
