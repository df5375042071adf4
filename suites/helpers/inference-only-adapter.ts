/**
 * Planted inference-only adapters for suites/not-applicable.test.ts (loaded only with
 * `--adapter-module suites/helpers/inference-only-adapter.ts`). Each wraps the float64 reference
 * adapter, whose inference cases pass exactly, and whose run(training=true) throws: a training
 * case that reaches it is an 'error', never a pass.
 *
 *   planted-inference-only             declares inferenceOnly: its training cases must be not-applicable
 *   planted-inference-only-undeclared  the same adapter without the declaration: its training cases
 *                                      error (what the declaration's absence looks like)
 *   planted-inference-only-unavailable declares inferenceOnly, probe unavailable: training cases
 *                                      not-applicable, inference cases unavailable
 */
import { ReferenceAdapter } from '../../src/adapters/reference';
import type { Adapter, AdapterEntry, ProbeResult, RunOptions, RunResult } from '../../src/adapters/types';
import type { Tensor } from '../../src/tensor';

export const PLANTED_REASON = 'planted: this test adapter runs inference only';

class InferenceOnlyReference extends ReferenceAdapter {
  constructor(
    id: string,
    private readonly unavailable = false,
  ) {
    super({ id, precision: 'fp64' });
  }
  override async probe(): Promise<ProbeResult> {
    return this.unavailable
      ? { available: false, reason: 'planted: unavailable', fix: 'nothing (a test adapter)' }
      : super.probe();
  }
  override async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    if (opts.training) throw new Error('planted: run(training=true) reached an inference-only adapter');
    return super.run(input, opts);
  }
}

function entry(id: string, declared: boolean, unavailable = false): AdapterEntry {
  return {
    id,
    summary: `test adapter ${id}`,
    profile: 'fp64-reference',
    outOfTheBox: false,
    ...(declared ? { inferenceOnly: PLANTED_REASON } : {}),
    create: (): Adapter => new InferenceOnlyReference(id, unavailable),
  };
}

export const adapters: AdapterEntry[] = [
  entry('planted-inference-only', true),
  entry('planted-inference-only-undeclared', false),
  entry('planted-inference-only-unavailable', true, true),
];
