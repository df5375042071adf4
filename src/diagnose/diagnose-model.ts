/** Convenience: build an adapter on a model with the notebook's initial weights and diagnose it. */
import type { Adapter } from '../adapters/types';
import { initModelWeights } from '../init';
import type { ModelSpec, ModelWeights } from '../model/types';
import type { Tensor } from '../tensor';
import { defaultDiagnoseInput } from './default-input';
import { diagnoseCase, type DiagnoseOptions } from './diagnose';
import type { Diagnosis } from './types';

export interface DiagnoseModelOptions extends DiagnoseOptions {
  /** Default: defaultDiagnoseInput(spec). */
  input?: Tensor;
  /** Default: initModelWeights(spec) (a golden case's own initial weights: `diagnose --case`). */
  weights?: ModelWeights;
}

/**
 * Builds `adapter` (not yet built; the caller disposes it) on `spec` with initModelWeights(spec) (or the given weights)
 * and diagnoses it. Returns the diagnosis and the build time.
 */
export async function diagnoseModel(
  adapter: Adapter,
  spec: ModelSpec,
  opts: DiagnoseModelOptions,
): Promise<{ diagnosis: Diagnosis; buildMs: number }> {
  const weights = opts.weights ?? initModelWeights(spec);
  const t = performance.now();
  await adapter.build(spec, weights);
  const buildMs = performance.now() - t;
  let input = opts.input;
  let inputSource = opts.inputSource;
  if (!input) {
    const def = defaultDiagnoseInput(spec);
    input = def.input;
    inputSource = def.source;
  }
  const diagnosis = await diagnoseCase(adapter, spec, weights, input, { ...opts, inputSource: inputSource ?? 'given' });
  return { diagnosis, buildMs };
}
