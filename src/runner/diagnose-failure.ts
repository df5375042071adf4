/**
 * The per-layer diagnosis (src/diagnose, docs/diagnose.md) of a case that ended 'fail-numeric': which
 * layer first leaves its error budget, and which arithmetic each layer most plausibly uses. The
 * adapter's worker runs it on its own adapter, on the case's model, input and BatchNorm mode, after
 * every case of the worker has its result — so a slow or failing diagnosis can never change a status.
 *
 * Kept cheap: one captured adapter run and one fp64 reference run (no capture-effect run, no fp32
 * curve). Anything that goes wrong is returned as an error text (the report's `diagnosisError`).
 */
import { ObservedAdapter } from '../adapters/observed-adapter';
import type { Adapter, AdapterEntry, RunResult } from '../adapters/types';
import { compareArrays } from '../compare/metrics';
import type { Diagnosis } from '../diagnose/types';
import { loadTensor } from '../golden/load';
import type { FixtureCase } from '../golden/manifest';
import type { Tensor } from '../tensor';
import { formatNumber } from '../util/format';
import { caseInitialWeights, ensureBuilt, type EvaluationContext } from './execute-case';

export type FailureDiagnosis = { diagnosis: Diagnosis } | { error: string };

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * An adapter whose returned output is not its own capture of the output layer (the fault is then
 * outside what the per-layer view sees) is said so in the diagnosis, as a capture issue.
 */
function noteOutputMismatch(d: Diagnosis, run: RunResult | undefined, outputLayer: string): void {
  const captured = run?.intermediates?.[outputLayer];
  if (!run || !captured) return;
  const a = run.output;
  let issue: string | undefined;
  if (a.shape.length !== captured.shape.length || a.shape.some((x, i) => x !== captured.shape[i])) {
    issue = `the output the adapter returned has shape [${a.shape.join(',')}] but its capture of the output layer '${outputLayer}' [${captured.shape.join(',')}]`;
  } else {
    const c = compareArrays(a.data, captured.data, { atol: 0, rtol: 0 });
    if (c.maxAbs !== 0 || c.nanActual !== c.nanExpected) {
      issue =
        `the output the adapter returned differs from its capture of the output layer '${outputLayer}' (max |Δ| ${formatNumber(c.maxAbs ?? Infinity)}` +
        `${c.nanActual !== c.nanExpected ? `, NaN ${c.nanActual} vs ${c.nanExpected}` : ''}): the fault is outside the per-layer view`;
    }
  }
  if (!issue) return;
  d.verdict += d.captureIssues.length ? `; ${issue}` : `. capture: ${issue}`;
  d.captureIssues.push(issue);
}

/** Diagnoses case `k` on `adapter` (rebuilding its model if another one is built). Never throws. */
export async function diagnoseFailure(
  adapter: Adapter,
  entry: AdapterEntry,
  k: FixtureCase,
  ctx: EvaluationContext,
): Promise<FailureDiagnosis> {
  try {
    const b = await ensureBuilt(adapter, k, ctx);
    if ('error' in b) return { error: `building the model for the diagnosis failed: ${message(b.error)}` };
    const { spec } = ctx.built!;
    // The weights the adapter was built with (the weight cache makes this a file read for ResNet-50).
    const weights = caseInitialWeights(k, spec);
    const input = loadTensor(ctx.fixturesDir, k.input, `case '${k.id}' input`);
    let last: RunResult | undefined;
    const rec = new ObservedAdapter(adapter, async (call) => (last = await call()), entry.id);
    // Loaded only when a case fails: a passing run does not pay for the diagnosis modules.
    const { diagnoseCase } = require('../diagnose/diagnose') as typeof import('../diagnose/diagnose');
    const d = await diagnoseCase(rec, spec, weights, input, {
      training: k.training,
      profile: entry.profile,
      inputSource: `input of fixture case ${k.id}`,
      checkCaptureEffect: false,
      fp32Envelope: false,
    });
    noteOutputMismatch(d, last, spec.output);
    return { diagnosis: d };
  } catch (err) {
    return { error: message(err) };
  }
}
