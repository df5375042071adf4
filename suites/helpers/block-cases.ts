/**
 * The block golden cases (everything but ResNet-50) grouped by model and weights, and one model's cases run
 * through the normal comparison path (runFixtureCase, the adapter's profile column): what the
 * browser and Dawn suites run for every adapter.
 */
import type { Adapter, PrecisionProfile } from '../../src/adapters/types';
import { knownDefectFor, resolveTolerance } from '../../src/compare/tolerances';
import { loadCaseTensors, loadManifest } from '../../src/golden/load';
import type { FixtureCase } from '../../src/golden/manifest';
import { FIXTURES_DIR } from '../../src/golden/paths';
import { describeFailures, runFixtureCase } from '../../src/golden/run-case';
import { builtKeyOf, caseInitialWeights } from '../../src/runner/execute-case';
import { formatNumber } from '../../src/util/format';
import { buildModel } from '../../src/model/model-args';

export function blockCasesByModel(): Map<string, FixtureCase[]> {
  const byModel = new Map<string, FixtureCase[]>();
  for (const k of loadManifest().cases.filter((c) => c.model.model !== 'resnet50'))
    byModel.set(builtKeyOf(k), [...(byModel.get(builtKeyOf(k)) ?? []), k]);
  return byModel;
}

/**
 * Builds the cases' model in `adapter` and runs each case, judged for adapter `id` (its profile's
 * rows, and its entries in src/compare/tolerances/known-defects.ts); returns the problems (failures,
 * including an unexpected match of a known defect; a case diverging without, or not diverging
 * despite, a KNOWN_DEFECTS entry) and the measured error of every comparison.
 */
export async function runBlockCases(
  adapter: Adapter,
  id: string,
  profile: PrecisionProfile,
  cases: FixtureCase[],
): Promise<{ problems: string[]; measured: string[]; comparisons: number[] }> {
  const spec = buildModel(cases[0].model, { bnEpsilon: cases[0].weights?.bnEpsilon });
  await adapter.build(spec, caseInitialWeights(cases[0], spec));
  const problems: string[] = [];
  const measured: string[] = [];
  const comparisons: number[] = [];
  for (const k of cases) {
    const run = await runFixtureCase(adapter, k, loadCaseTensors(FIXTURES_DIR, k), (key) =>
      resolveTolerance(key.caseClass, key.role, profile, { adapter: id, caseId: k.id }),
    );
    const failures = describeFailures(run);
    if (failures.length > 0) problems.push(`${k.id}:\n    ${failures.join('\n    ')}`);
    const diverged = run.comparisons.some((c) => c.verdict === 'expected-divergence');
    if (diverged !== (knownDefectFor(id, k.id) !== undefined))
      problems.push(`${k.id}: ${diverged ? 'diverges without' : 'does not diverge despite'} a KNOWN_DEFECTS entry`);
    comparisons.push(run.comparisons.length);
    for (const c of run.comparisons)
      measured.push(`${k.id} ${c.tensor}: max abs ${formatNumber(c.result?.maxAbs)} (${c.verdict})`);
  }
  return { problems, measured, comparisons };
}
